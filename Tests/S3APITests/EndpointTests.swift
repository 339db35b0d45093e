@testable import S3API
import XCTest

/// Routing table from the AWS API reference request syntax of each operation.
final class EndpointTests: XCTestCase {
    private func route(_ method: String, _ bucket: String?, _ key: String?, _ query: String = "", copy: Bool = false) throws -> Endpoint {
        try Endpoint.from(method: method, bucket: bucket, key: key, query: QueryParameters(raw: query), hasCopySource: copy)
    }

    func testServiceAndBucketOperations() throws {
        XCTAssertEqual(try route("GET", nil, nil), .listBuckets)
        XCTAssertEqual(try route("PUT", "b", nil), .createBucket(bucket: "b"))
        XCTAssertEqual(try route("PUT", "b", ""), .createBucket(bucket: "b"))
        XCTAssertEqual(try route("DELETE", "b", nil), .deleteBucket(bucket: "b"))
        XCTAssertEqual(try route("HEAD", "b", nil), .headBucket(bucket: "b"))
        XCTAssertEqual(try route("GET", "b", nil, "location"), .getBucketLocation(bucket: "b"))
        XCTAssertEqual(try route("GET", "b", nil, "versioning"), .getBucketVersioning(bucket: "b"))
        XCTAssertEqual(try route("GET", "b", nil, "list-type=2&prefix=J&max-keys=2"), .listObjectsV2(bucket: "b"))
        XCTAssertEqual(try route("GET", "b", nil, "prefix=J&marker=x"), .listObjects(bucket: "b"))
        XCTAssertEqual(try route("GET", "b", nil, "versions&prefix=a"), .listObjectVersions(bucket: "b"))
        XCTAssertEqual(try route("POST", "b", nil, "delete"), .deleteObjects(bucket: "b"))
    }

    func testObjectOperations() throws {
        XCTAssertEqual(try route("PUT", "b", "a/b c"), .putObject(bucket: "b", key: "a/b c"))
        XCTAssertEqual(try route("PUT", "b", "k", copy: true), .copyObject(bucket: "b", key: "k"))
        XCTAssertEqual(try route("GET", "b", "k", "response-content-type=text%2Fplain"), .getObject(bucket: "b", key: "k"))
        XCTAssertEqual(try route("HEAD", "b", "k"), .headObject(bucket: "b", key: "k"))
        XCTAssertEqual(try route("DELETE", "b", "k"), .deleteObject(bucket: "b", key: "k"))
        XCTAssertEqual(try route("DELETE", "b", "k", "versionId=null"), .deleteObject(bucket: "b", key: "k"))
    }

    func testMultipartOperations() throws {
        XCTAssertEqual(try route("POST", "b", "k", "uploads"), .createMultipartUpload(bucket: "b", key: "k"))
        XCTAssertEqual(try route("PUT", "b", "k", "partNumber=1&uploadId=x"), .uploadPart(bucket: "b", key: "k"))
        XCTAssertEqual(try route("PUT", "b", "k", "partNumber=1&uploadId=x", copy: true), .uploadPartCopy(bucket: "b", key: "k"))
        XCTAssertEqual(try route("POST", "b", "k", "uploadId=x"), .completeMultipartUpload(bucket: "b", key: "k"))
        XCTAssertEqual(try route("DELETE", "b", "k", "uploadId=x"), .abortMultipartUpload(bucket: "b", key: "k"))
        XCTAssertEqual(try route("GET", "b", "k", "uploadId=x&max-parts=2"), .listParts(bucket: "b", key: "k"))
        XCTAssertEqual(try route("GET", "b", nil, "uploads&prefix=a"), .listMultipartUploads(bucket: "b"))
        XCTAssertEqual(try route("GET", "b", "k", "partNumber=2"), .getObject(bucket: "b", key: "k"))
        XCTAssertThrowsError(try route("PUT", "b", "k", "uploadId=x"))
    }

    func testUnimplementedSubresourcesAreNotMistakenForOtherOperations() throws {
        XCTAssertEqual(try route("GET", "b", nil, "policy"), .notImplemented(operation: "GetBucketPolicy", bucket: "b"))
        XCTAssertEqual(try route("PUT", "b", nil, "tagging"), .notImplemented(operation: "PutBucketTagging", bucket: "b"))
        XCTAssertEqual(try route("GET", "b", "k", "versionId=3"), .notImplemented(operation: "Getobject versions", bucket: "b"))
        XCTAssertEqual(try route("GET", "b", "k", "attributes"), .getObjectAttributes(bucket: "b", key: "k"))
        XCTAssertEqual(try route("GET", "b", "k", "attributes&versionId=null"), .getObjectAttributes(bucket: "b", key: "k"))
        XCTAssertEqual(try route("GET", "b", "k", "attributes&versionId=3"), .notImplemented(operation: "GetObjectAttributes", bucket: "b"))
        XCTAssertEqual(try route("PUT", "b", "k", "attributes"), .notImplemented(operation: "PutObjectAttributes", bucket: "b"))
        XCTAssertThrowsError(try route("PATCH", "b", "k"))
    }

    func testBrowserAccessOperations() throws {
        XCTAssertEqual(try route("GET", "b", nil, "acl"), .getBucketACL(bucket: "b"))
        XCTAssertEqual(try route("PUT", "b", nil, "acl"), .putBucketACL(bucket: "b"))
        XCTAssertEqual(try route("GET", "b", "k", "acl"), .getObjectACL(bucket: "b", key: "k"))
        XCTAssertEqual(try route("PUT", "b", "k", "acl"), .putObjectACL(bucket: "b", key: "k"))
        XCTAssertEqual(try route("GET", "b", nil, "cors"), .getBucketCORS(bucket: "b"))
        XCTAssertEqual(try route("PUT", "b", nil, "cors"), .putBucketCORS(bucket: "b"))
        XCTAssertEqual(try route("DELETE", "b", nil, "cors"), .deleteBucketCORS(bucket: "b"))
        XCTAssertEqual(try route("OPTIONS", "b", "k", "X-Amz-Signature=abc"), .preflight(bucket: "b", key: "k"))
        XCTAssertEqual(try route("POST", "b", nil), .postObject(bucket: "b"))
        XCTAssertEqual(try route("GET", "b", nil, "notification"), .getBucketNotification(bucket: "b"))
        XCTAssertEqual(try route("PUT", "b", nil, "notification"), .putBucketNotification(bucket: "b"))
    }

    func testQueryDecoding() {
        let q = QueryParameters(raw: "prefix=a%20b%2Bc&delimiter=%2F&acl&x=1+2")
        XCTAssertEqual(q["prefix"], "a b+c")
        XCTAssertEqual(q["delimiter"], "/")
        XCTAssertTrue(q.has("acl"))
        XCTAssertEqual(q["acl"], "")
        XCTAssertEqual(q["x"], "1 2")
    }
}
