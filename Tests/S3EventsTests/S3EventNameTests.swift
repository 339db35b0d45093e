import Foundation
import S3Events
import XCTest

final class S3EventNameTests: XCTestCase {
    /// Names as AWS writes them in messages and in notification configurations.
    func testNamesAndKinds() {
        XCTAssertEqual(S3EventName.objectCreatedPut.rawValue, "ObjectCreated:Put")
        XCTAssertEqual(S3EventName.objectCreatedCompleteMultipartUpload.rawValue, "ObjectCreated:CompleteMultipartUpload")
        XCTAssertEqual(S3EventName.objectRemovedDelete.kind, .removed)
        XCTAssertEqual(S3EventName.objectCreatedCopy.kind, .created)
        XCTAssertEqual(S3EventName.kind(of: "ObjectRemoved:DeleteMarkerCreated"), .removed)
        XCTAssertEqual(S3EventName.kind(of: "ObjectCreated:Post"), .created)
        XCTAssertNil(S3EventName.kind(of: "ObjectRestore:Completed"))
        XCTAssertNil(S3EventName.kind(of: "ObjectCreatedPut"))
        XCTAssertEqual(S3EventName.configurationNames, [
            "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
            "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete",
        ])
    }

    /// A configured type selects its own event and, with `*`, its whole family only.
    func testPatternSelection() {
        XCTAssertTrue(S3EventName.objectCreatedPut.isSelected(by: "s3:ObjectCreated:*"))
        XCTAssertTrue(S3EventName.objectCreatedPut.isSelected(by: "s3:ObjectCreated:Put"))
        XCTAssertFalse(S3EventName.objectCreatedPut.isSelected(by: "s3:ObjectCreated:Post"))
        XCTAssertFalse(S3EventName.objectCreatedPut.isSelected(by: "s3:ObjectRemoved:*"))
        XCTAssertFalse(S3EventName.objectRemovedDelete.isSelected(by: "ObjectRemoved:Delete"))
        XCTAssertTrue(S3EventName.objectRemovedDelete.isSelected(by: "s3:ObjectRemoved:*"))
    }

    /// The one builder of object event records writes what AWS's format says.
    func testObjectRecordBuilder() throws {
        let time = Date(timeIntervalSince1970: 1_795_000_000.123)
        let record = S3EventRecord.object(
            .objectCreatedPost, time: time, region: "us-east-1", principalId: "anonymous", sourceIP: "127.0.0.1",
            requestId: "R1", hostId: "H1", configurationId: "c1", bucket: "photos", bucketOwner: "o1",
            key: "a b/ü.jpg", size: 3, eTag: "e", sequencer: "0000000000000001", contentType: "image/jpeg",
            userMetadata: ["x": "y"])
        XCTAssertEqual(record.eventName, "ObjectCreated:Post")
        XCTAssertEqual(record.s3.object.key, "a+b/%C3%BC.jpg")
        XCTAssertEqual(record.s3.bucket.arn, "arn:aws:s3:::photos")
        XCTAssertEqual(record.s3.bucket.ownerIdentity.principalId, "o1")
        XCTAssertEqual(record.s3.configurationId, "c1")
        XCTAssertEqual(record.eventTime, "2026-11-18T11:06:40.123Z")
        XCTAssertEqual(record.userIdentity.principalId, "anonymous")
        XCTAssertEqual(record.responseElements.requestId, "R1")
        let json = String(decoding: S3EventMessage(records: [record]).json(), as: UTF8.self)
        XCTAssertTrue(json.contains("\"userMetadata\":{\"x\":\"y\"}"), json)
    }
}
