import SigV4
import XCTest

final class ParseAuthorizationTests: XCTestCase {
    let expected = SigV4Authorization(
        accessKey: "AKIAIOSFODNN7EXAMPLE", date: "20130524", region: "us-east-1", service: "s3",
        signedHeaders: ["host", "range", "x-amz-date"],
        signature: "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024")
    let credential = "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
    let signedHeaders = "SignedHeaders=host;range;x-amz-date"
    let signature = "Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"

    func testDocumentedForm() throws {
        XCTAssertEqual(
            try SigV4.parseAuthorization("AWS4-HMAC-SHA256 \(credential), \(signedHeaders), \(signature)"), expected)
        XCTAssertEqual(expected.scope, "20130524/us-east-1/s3/aws4_request")
    }

    func testNoSpacesAfterCommas() throws {
        XCTAssertEqual(
            try SigV4.parseAuthorization("AWS4-HMAC-SHA256 \(credential),\(signedHeaders),\(signature)"), expected)
    }

    func testExtraWhitespaceAndOtherOrder() throws {
        XCTAssertEqual(
            try SigV4.parseAuthorization(
                "  AWS4-HMAC-SHA256   \(signature) ,\t\(credential) ,  \(signedHeaders)  "), expected)
    }

    func testAccessKeyWithUnusualCharacters() throws {
        let parsed = try SigV4.parseAuthorization(
            "AWS4-HMAC-SHA256 Credential=minio+admin=x/20130524/eu-west-1/s3/aws4_request, SignedHeaders=host, \(signature)")
        XCTAssertEqual(parsed.accessKey, "minio+admin=x")
        XCTAssertEqual(parsed.region, "eu-west-1")
        XCTAssertEqual(parsed.signedHeaders, ["host"])
    }

    func testUnsupportedAlgorithms() {
        for header in [
            "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
            "AWS4-ECDSA-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/s3/aws4_request, SignedHeaders=host, \(signature)",
            "aws4-hmac-sha256 \(credential), \(signedHeaders), \(signature)",
            "Bearer abc",
        ] {
            XCTAssertThrowsError(try SigV4.parseAuthorization(header), header) { error in
                XCTAssertEqual(error as? SigV4Error, .unsupportedAlgorithm, header)
            }
        }
    }

    func testMalformed() {
        let cases: [String] = [
            "",
            "   ",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 \(credential), \(signedHeaders)",  // no Signature
            "AWS4-HMAC-SHA256 \(credential), \(signature)",  // no SignedHeaders
            "AWS4-HMAC-SHA256 \(signedHeaders), \(signature)",  // no Credential
            "AWS4-HMAC-SHA256 \(credential) \(signedHeaders), \(signature)",  // missing comma
            "AWS4-HMAC-SHA256 \(credential), \(credential), \(signedHeaders), \(signature)",
            "AWS4-HMAC-SHA256 \(credential), \(signedHeaders), \(signature), Foo=bar",
            "AWS4-HMAC-SHA256 \(credential), \(signedHeaders), \(signature),",
            // Credential shape.
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3, \(signedHeaders), \(signature)",
            "AWS4-HMAC-SHA256 Credential=AKIA/EXAMPLE/20130524/us-east-1/s3/aws4_request, \(signedHeaders), \(signature)",
            "AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request, \(signedHeaders), \(signature)",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_requests, \(signedHeaders), \(signature)",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2013052/us-east-1/s3/aws4_request, \(signedHeaders), \(signature)",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2013-05-24/us-east-1/s3/aws4_request, \(signedHeaders), \(signature)",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524//s3/aws4_request, \(signedHeaders), \(signature)",
            // SignedHeaders must be lowercase, sorted, without repeats or empty entries.
            "AWS4-HMAC-SHA256 \(credential), SignedHeaders=Host;range;x-amz-date, \(signature)",
            "AWS4-HMAC-SHA256 \(credential), SignedHeaders=range;host;x-amz-date, \(signature)",
            "AWS4-HMAC-SHA256 \(credential), SignedHeaders=host;host;x-amz-date, \(signature)",
            "AWS4-HMAC-SHA256 \(credential), SignedHeaders=host;;x-amz-date, \(signature)",
            "AWS4-HMAC-SHA256 \(credential), SignedHeaders=, \(signature)",
            "AWS4-HMAC-SHA256 \(credential), SignedHeaders=host x-amz-date, \(signature)",
            // Signature must be 64 hex digits.
            "AWS4-HMAC-SHA256 \(credential), \(signedHeaders), Signature=",
            "AWS4-HMAC-SHA256 \(credential), \(signedHeaders), Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f102",
            "AWS4-HMAC-SHA256 \(credential), \(signedHeaders), Signature=ge5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
        ]
        for header in cases {
            XCTAssertThrowsError(try SigV4.parseAuthorization(header), header) { error in
                guard case .malformedAuthorization = error as? SigV4Error else {
                    return XCTFail("\(header): expected malformedAuthorization, got \(error)")
                }
            }
        }
    }
}
