import Foundation
import ObjectStore
@testable import S3API
import XCTest

/// The access each operation declares, from example requests: every ``Endpoint`` case is
/// routed to at least once, so a new case fails here until its authorization is stated.
final class AuthorizationTests: XCTestCase {
    private struct Example {
        var method: String
        var bucket: String?
        var key: String?
        var query = ""
        var copy = false
        var expected: Authorization
    }

    private static let examples: [Example] = [
        Example(method: "GET", bucket: nil, key: nil, expected: .authenticatedUser),
        Example(method: "PUT", bucket: "b", key: nil, expected: .authenticatedUser),
        Example(method: "DELETE", bucket: "b", key: nil, expected: .bucketOwner),
        Example(method: "HEAD", bucket: "b", key: nil, expected: .bucket(.read)),
        Example(method: "GET", bucket: "b", key: nil, query: "location", expected: .bucketOwner),
        Example(method: "GET", bucket: "b", key: nil, query: "versioning", expected: .bucketOwner),
        Example(method: "GET", bucket: "b", key: nil, expected: .bucket(.read)),
        Example(method: "GET", bucket: "b", key: nil, query: "list-type=2", expected: .bucket(.read)),
        Example(method: "GET", bucket: "b", key: nil, query: "versions", expected: .bucket(.read)),
        Example(method: "POST", bucket: "b", key: nil, query: "delete", expected: .bucket(.write)),
        Example(method: "PUT", bucket: "b", key: "k", expected: .bucket(.write)),
        Example(method: "PUT", bucket: "b", key: "k", copy: true, expected: .bucket(.write)),
        Example(method: "GET", bucket: "b", key: "k", expected: .object(.read)),
        Example(method: "HEAD", bucket: "b", key: "k", expected: .object(.read)),
        Example(method: "DELETE", bucket: "b", key: "k", expected: .bucket(.write)),
        Example(method: "POST", bucket: "b", key: "k", query: "uploads", expected: .bucket(.write)),
        Example(method: "PUT", bucket: "b", key: "k", query: "partNumber=1&uploadId=x", expected: .bucket(.write)),
        Example(method: "PUT", bucket: "b", key: "k", query: "partNumber=1&uploadId=x", copy: true, expected: .bucket(.write)),
        Example(method: "POST", bucket: "b", key: "k", query: "uploadId=x", expected: .bucket(.write)),
        Example(method: "DELETE", bucket: "b", key: "k", query: "uploadId=x", expected: .bucket(.write)),
        Example(method: "GET", bucket: "b", key: "k", query: "uploadId=x", expected: .bucket(.write)),
        Example(method: "GET", bucket: "b", key: nil, query: "uploads", expected: .bucket(.read)),
        Example(method: "GET", bucket: "b", key: nil, query: "acl", expected: .bucket(.readACP)),
        Example(method: "PUT", bucket: "b", key: nil, query: "acl", expected: .bucket(.writeACP)),
        Example(method: "GET", bucket: "b", key: "k", query: "acl", expected: .object(.readACP)),
        Example(method: "PUT", bucket: "b", key: "k", query: "acl", expected: .object(.writeACP)),
        Example(method: "GET", bucket: "b", key: "k", query: "attributes", expected: .object(.read)),
        Example(method: "GET", bucket: "b", key: nil, query: "cors", expected: .bucketOwner),
        Example(method: "PUT", bucket: "b", key: nil, query: "cors", expected: .bucketOwner),
        Example(method: "DELETE", bucket: "b", key: nil, query: "cors", expected: .bucketOwner),
        Example(method: "GET", bucket: "b", key: nil, query: "notification", expected: .bucketOwner),
        Example(method: "PUT", bucket: "b", key: nil, query: "notification", expected: .bucketOwner),
        Example(method: "OPTIONS", bucket: "b", key: "k", expected: .none),
        Example(method: "OPTIONS", bucket: "b", key: nil, expected: .none),
        Example(method: "POST", bucket: "b", key: nil, expected: .none),
        Example(method: "GET", bucket: "b", key: nil, query: "policy", expected: .bucketOwner),
        Example(method: "PUT", bucket: "b", key: "k", query: "tagging", expected: .bucketOwner),
    ]

    /// A distinct number per case. Exhaustive, no `default:`: a new case does not compile
    /// until numbered here, and the test then fails until an example routes to it.
    private static func caseNumber(_ endpoint: Endpoint) -> Int {
        switch endpoint {
        case .listBuckets: 0
        case .createBucket: 1
        case .deleteBucket: 2
        case .headBucket: 3
        case .getBucketLocation: 4
        case .getBucketVersioning: 5
        case .listObjects: 6
        case .listObjectsV2: 7
        case .listObjectVersions: 8
        case .deleteObjects: 9
        case .putObject: 10
        case .copyObject: 11
        case .getObject: 12
        case .headObject: 13
        case .deleteObject: 14
        case .createMultipartUpload: 15
        case .uploadPart: 16
        case .uploadPartCopy: 17
        case .completeMultipartUpload: 18
        case .abortMultipartUpload: 19
        case .listParts: 20
        case .listMultipartUploads: 21
        case .getBucketACL: 22
        case .putBucketACL: 23
        case .getObjectACL: 24
        case .putObjectACL: 25
        case .getBucketCORS: 26
        case .putBucketCORS: 27
        case .deleteBucketCORS: 28
        case .getBucketNotification: 29
        case .putBucketNotification: 30
        case .preflight: 31
        case .postObject: 32
        case .notImplemented: 33
        case .getObjectAttributes: 34
        }
    }
    private static let caseCount = 35

    func testEveryEndpointDeclaresTheAccessS3Requires() throws {
        var covered = Set<Int>()
        for example in Self.examples {
            let endpoint = try Endpoint.from(method: example.method, bucket: example.bucket, key: example.key,
                                             query: QueryParameters(raw: example.query), hasCopySource: example.copy)
            XCTAssertEqual(endpoint.authorization, example.expected, "\(example.method) \(example.bucket ?? "")/\(example.key ?? "")?\(example.query) → \(endpoint)")
            covered.insert(Self.caseNumber(endpoint))
        }
        XCTAssertEqual(covered, Set(0..<Self.caseCount), "every Endpoint case needs an example")
    }

    func testNotImplementedWithoutBucketNeedsNoCheck() {
        XCTAssertEqual(Endpoint.notImplemented(operation: "X", bucket: nil).authorization, .none)
    }

    /// `x-amz-expected-bucket-owner`: absent or the owner's canonical id proceeds, anything
    /// else (an AWS account id included) is AccessDenied.
    func testExpectedBucketOwner() {
        let bucket = BucketRecord(name: "b", id: 1, ownerId: String(repeating: "a", count: 64), created: Date(), region: "us-east-1")
        XCTAssertNoThrow(try S3Server.checkOwner(of: bucket, expected: nil))
        XCTAssertNoThrow(try S3Server.checkOwner(of: bucket, expected: bucket.ownerId))
        for wrong in ["111122223333", "", String(repeating: "b", count: 64)] {
            XCTAssertThrowsError(try S3Server.checkOwner(of: bucket, expected: wrong), wrong) { error in
                XCTAssertEqual((error as? S3Error)?.code, .accessDenied)
            }
        }
    }
}
