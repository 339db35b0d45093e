import ObjectStore
@testable import S3API
import SigV4
import XCTest

final class S3ErrorTests: XCTestCase {
    /// Every code has the status AWS documents for it, and a message.
    func testEveryCodeHasStatusAndMessage() {
        let expected: [S3ErrorCode: Int] = [
            .accessDenied: 403, .accessForbidden: 403, .badRequest: 400, .malformedACLError: 400, .malformedPOSTRequest: 400, .invalidPolicyDocument: 400, .noSuchCORSConfiguration: 404,
            .unresolvableGrantByEmailAddress: 400, .unexpectedContent: 400, .authorizationHeaderMalformed: 400, .authorizationQueryParametersError: 400, .badDigest: 400, .bucketAlreadyExists: 409,
            .bucketAlreadyOwnedByYou: 409, .bucketNotEmpty: 409, .entityTooLarge: 400, .entityTooSmall: 400, .invalidPart: 400, .invalidPartNumber: 400, .invalidPartOrder: 400, .noSuchUpload: 404, .illegalLocationConstraint: 400,
            .incompleteBody: 400, .insufficientStorage: 507, .internalError: 500, .invalidAccessKeyId: 403,
            .invalidArgument: 400, .invalidBucketName: 400, .invalidDigest: 400, .invalidRange: 416,
            .invalidRequest: 400, .invalidURI: 400, .keyTooLong: 400, .malformedXML: 400, .methodNotAllowed: 405,
            .missingContentLength: 411, .noSuchBucket: 404, .noSuchKey: 404, .noSuchVersion: 404,
            .notImplemented: 501, .notModified: 304, .preconditionFailed: 412, .requestTimeTooSkewed: 403,
            .signatureDoesNotMatch: 403, .slowDown: 503, .xAmzContentSHA256Mismatch: 400,
        ]
        XCTAssertEqual(Set(S3ErrorCode.allCases), Set(expected.keys), "table and test list differ")
        for code in S3ErrorCode.allCases {
            XCTAssertEqual(code.status, expected[code], "\(code)")
            XCTAssertFalse(code.defaultMessage.isEmpty, "\(code)")
        }
    }

    func testDomainErrorsMapToS3Codes() {
        XCTAssertEqual(S3Error.from(ObjectStoreError.noSuchKey).code, .noSuchKey)
        XCTAssertEqual(S3Error.from(ObjectStoreError.storageFull).code, .insufficientStorage)
        XCTAssertEqual(S3Error.from(ObjectStoreError.keyTooLong(maxBytes: 503)).code, .keyTooLong)
        XCTAssertEqual(S3Error.from(ObjectStoreError.slowDown(target: "t")).code, .slowDown)
        XCTAssertEqual(S3Error.from(SigV4Error.requestTimeTooSkewed).code, .requestTimeTooSkewed)
        XCTAssertEqual(S3Error.from(SigV4Error.signatureDoesNotMatch(canonicalRequest: "c", stringToSign: "s")).code, .signatureDoesNotMatch)
        struct Unknown: Error {}
        let mapped = S3Error.from(Unknown())
        XCTAssertEqual(mapped.code, .internalError)
        XCTAssertFalse(mapped.message.contains("Unknown"), "internals must not leak into messages")
        XCTAssertEqual(S3Error.from(ObjectStoreError.storage("mdb_put: secret detail")).message, S3ErrorCode.internalError.defaultMessage)
    }

    func testErrorDocument() {
        let response = S3Response.error(S3Error(.noSuchKey, details: [("Key", "a<b")]), resource: "/b/a%3Cb", requestId: "RID")
        XCTAssertEqual(response.status.code, 404)
        guard case .bytes(let buffer) = response.body else { return XCTFail("no body") }
        let text = String(buffer: buffer)
        XCTAssertTrue(text.contains("<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&lt;b</Key><Resource>/b/a%3Cb</Resource><RequestId>RID</RequestId></Error>"), text)
        XCTAssertEqual(response.headers[.contentType], "application/xml")
    }
}
