import Foundation
import S3Events
import XCTest

final class S3EventMessageTests: XCTestCase {
    /// The documented AWS example message decodes, and re-encodes to the same values.
    func testDecodesTheAWSExample() throws {
        let json = """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
          "eventTime":"2026-11-22T10:00:00.000Z","eventName":"ObjectCreated:Put",
          "userIdentity":{"principalId":"AIDAJDPLRKLG7UEXAMPLE"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},
          "responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
          "s3":{"s3SchemaVersion":"1.0","configurationId":"gallery-index",
            "bucket":{"name":"photos","ownerIdentity":{"principalId":"A3NL1KOZZKExample"},"arn":"arn:aws:s3:::photos"},
            "object":{"key":"summer/red+flower.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0055AED6DCD90281E5"}}}]}
        """
        let message = try S3EventMessage.decode(Data(json.utf8))
        let record = try XCTUnwrap(message.records.first)
        XCTAssertEqual(record.eventName, "ObjectCreated:Put")
        XCTAssertEqual(record.responseElements.requestId, "C3D13FE58DE4C810")
        XCTAssertEqual(record.s3.object.size, 1024)
        XCTAssertEqual(S3EventRecord.decodeKey(record.s3.object.key), "summer/red flower.jpg")
        let again = try S3EventMessage.decode(Data(message.json()))
        XCTAssertEqual(again, message)
        let text = String(decoding: message.json(), as: UTF8.self)
        XCTAssertTrue(text.contains("\"x-amz-request-id\":\"C3D13FE58DE4C810\""), text)
        XCTAssertTrue(text.hasPrefix("{\"Records\":[{"), text)
    }

    func testKeyEncodingIsFormURLEncoding() {
        XCTAssertEqual(S3EventRecord.encodeKey("summer/red flower.jpg"), "summer/red+flower.jpg")
        XCTAssertEqual(S3EventRecord.encodeKey("a+b"), "a%2Bb")
        XCTAssertEqual(S3EventRecord.encodeKey("ü/😀"), "%C3%BC/%F0%9F%98%80")
        for key in ["a b+c/%41/ü/..", "plus+sign", "100% real", "x%2Fy"] {
            XCTAssertEqual(S3EventRecord.decodeKey(S3EventRecord.encodeKey(key)), key)
        }
        // Tolerant decoding: an encoded slash, and a stray percent kept literally.
        XCTAssertEqual(S3EventRecord.decodeKey("a%2Fb"), "a/b")
        XCTAssertEqual(S3EventRecord.decodeKey("50%+off"), "50% off")
    }

    func testSequencerOrderPadsOnTheRight() {
        XCTAssertTrue(S3EventRecord.sequencerPrecedes("0055AED6DCD90281E5", "0055AED6DCD90281E6"))
        // Shorter strings are padded with zeros on the right before comparing.
        XCTAssertTrue(S3EventRecord.sequencerPrecedes("0055AED6DCD90281E5", "0055AED6DCD90281E501"))
        XCTAssertFalse(S3EventRecord.sequencerPrecedes("0055AED6DCD90281E500", "0055AED6DCD90281E5"))
        XCTAssertFalse(S3EventRecord.sequencerPrecedes("0000000000000002", "0000000000000001"))
    }
}
