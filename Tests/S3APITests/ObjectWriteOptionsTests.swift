import ObjectStore
@testable import S3API
import XCTest

/// The one parser of write options, over a POST form's fields (headers go through the same
/// code and are covered by the conformance suite).
final class ObjectWriteOptionsTests: XCTestCase {
    private func parse(_ fields: [String: String]) throws -> ObjectWriteOptions {
        try ObjectWriteOptions(.form(fields), ownerId: "owner", bucketOwnerId: "bucket-owner") { _, _ in
            XCTFail("a form carries no grants")
            return .allUsers
        }
    }

    func testFormFieldsBecomeMetadataAndCannedACL() throws {
        let options = try parse(["content-type": "image/png", "cache-control": "max-age=60", "x-amz-meta-camera": "x100",
                                 "acl": "public-read", "x-amz-grant-read": "uri=x", "key": "k"])
        XCTAssertEqual(options.metadata.contentType, "image/png")
        XCTAssertEqual(options.metadata.contentHeaders, ["cache-control": "max-age=60"])
        XCTAssertEqual(options.metadata.user, ["camera": "x100"])
        XCTAssertEqual(options.acl, AccessControlList.canned("public-read", ownerId: "owner", bucketOwnerId: "bucket-owner"))
    }

    func testFormMetadataHasPutObjectsSizeLimit() throws {
        // 2048 bytes of names and values is the most allowed.
        let name = "x-amz-meta-" + String(repeating: "n", count: 24)
        XCTAssertNoThrow(try parse([name: String(repeating: "v", count: 2048 - 24)]))
        XCTAssertThrowsError(try parse([name: String(repeating: "v", count: 2049 - 24)])) { error in
            XCTAssertEqual((error as? S3Error)?.code, .invalidArgument)
        }
    }

    func testContentEncodingKeptAsSentLessAWSChunked() throws {
        for (sent, kept) in [("gzip, br", "gzip, br"), ("x-Custom ;q=1", "x-Custom ;q=1"), ("aws-chunked", nil),
                             ("aws-chunked, gzip, br", "gzip, br"), ("gzip,AWS-CHUNKED", "gzip")] {
            XCTAssertEqual(try parse(["content-encoding": sent]).metadata.contentHeaders["content-encoding"], kept, sent)
        }
    }

    func testEncodedWordMetadataIsStoredDecoded() throws {
        let options = try parse(["x-amz-meta-title": "=?UTF-8?B?aMOpbGxv?=", "x-amz-meta-raw": "héllo", "x-amz-meta-plain": "=?x"])
        XCTAssertEqual(options.metadata.user, ["title": "héllo", "raw": "héllo", "plain": "=?x"])
    }

    func testInvalidCannedACL() {
        XCTAssertThrowsError(try parse(["acl": "everyone"])) { error in
            XCTAssertEqual((error as? S3Error)?.code, .invalidArgument)
        }
    }
}
