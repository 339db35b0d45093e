import Foundation
import SigV4
import XCTest

/// Failure paths and edge cases of `SigV4.verify`, built on the documented S3
/// "GET object" example (signature f0e8bdb8..., see S3ExamplesTests).
final class VerifyTests: XCTestCase {
    typealias Example = S3ExamplesTests
    let request = Example.getObject
    let secret = Example.secretKey
    let requestTime = referenceDate(Example.amzDate)
    var authorization: SigV4Authorization {
        try! SigV4.parseAuthorization(Example.getObjectAuthorization)
    }

    private func assertThrows(
        _ expected: SigV4Error, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? SigV4Error, expected, file: file, line: line)
        }
    }

    func testAcceptsSkewUpToFifteenMinutesEitherWay() throws {
        for offset in [-900.0, -1, 0, 1, 900] {
            XCTAssertNoThrow(
                try SigV4.verify(
                    request, authorization: authorization, secretKey: secret,
                    now: requestTime.addingTimeInterval(offset)), "offset \(offset)")
        }
    }

    func testRejectsRequestFromTheFuture() {
        // Server clock 901 s behind the request time.
        assertThrows(.requestTimeTooSkewed) {
            _ = try SigV4.verify(
                request, authorization: authorization, secretKey: secret, now: requestTime.addingTimeInterval(-901))
        }
    }

    func testRejectsRequestFromThePast() {
        assertThrows(.requestTimeTooSkewed) {
            _ = try SigV4.verify(
                request, authorization: authorization, secretKey: secret, now: requestTime.addingTimeInterval(901))
        }
        assertThrows(.requestTimeTooSkewed) {
            _ = try SigV4.verify(
                request, authorization: authorization, secretKey: secret, now: requestTime.addingTimeInterval(86_400))
        }
    }

    func testCustomMaxSkew() {
        XCTAssertNoThrow(
            try SigV4.verify(
                request, authorization: authorization, secretKey: secret, now: requestTime.addingTimeInterval(60),
                maxSkew: 60))
        assertThrows(.requestTimeTooSkewed) {
            _ = try SigV4.verify(
                request, authorization: authorization, secretKey: secret, now: requestTime.addingTimeInterval(61),
                maxSkew: 60)
        }
    }

    func testWrongSecretReportsCanonicalRequestAndStringToSign() {
        assertThrows(
            .signatureDoesNotMatch(
                canonicalRequest: Example.getObjectCanonical, stringToSign: Example.getObjectStringToSign)
        ) {
            _ = try SigV4.verify(
                request, authorization: authorization, secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ",
                now: requestTime)
        }
    }

    func testTamperedRequestsFail() {
        // Each tampered request must fail with its own canonical request (which contains
        // the tampered part) and a string to sign different from the documented one.
        let tampered: [(SigV4Request, String)] = [
            (request.replacing("Range", with: "bytes=0-10"), "range:bytes=0-10"),
            (request.replacing("Host", with: "otherbucket.s3.amazonaws.com"), "host:otherbucket.s3.amazonaws.com"),
            (request.replacing("x-amz-content-sha256", with: "UNSIGNED-PAYLOAD"), "\nUNSIGNED-PAYLOAD"),
            (SigV4Request(method: "PUT", rawPath: "/test.txt", rawQuery: "", headers: request.headers), "PUT\n"),
            (SigV4Request(method: "GET", rawPath: "/test.txt2", rawQuery: "", headers: request.headers), "/test.txt2\n"),
            (SigV4Request(method: "GET", rawPath: "/test.txt", rawQuery: "acl", headers: request.headers), "\nacl=\n"),
            // A repeated signed header changes its canonical value.
            (request.adding("Range", "bytes=20-30"), "range:bytes=0-9,bytes=20-30\n"),
        ]
        for (candidate, fragment) in tampered {
            XCTAssertThrowsError(
                try SigV4.verify(candidate, authorization: authorization, secretKey: secret, now: requestTime),
                fragment
            ) { error in
                guard case .signatureDoesNotMatch(let canonical, let stringToSign) = error as? SigV4Error else {
                    return XCTFail("\(fragment): \(error)")
                }
                XCTAssertEqual(
                    canonical,
                    SigV4.canonicalRequest(
                        candidate, signedHeaders: ["host", "range", "x-amz-content-sha256", "x-amz-date"],
                        payloadHash: candidate.firstHeader("x-amz-content-sha256") ?? Example.empty))
                XCTAssertTrue(canonical.contains(fragment), "\(fragment) not in \(canonical)")
                XCTAssertNotEqual(stringToSign, Example.getObjectStringToSign)
            }
        }
        // Removing a signed header is reported as such.
        assertThrows(.missingSignedHeader("x-amz-content-sha256")) {
            _ = try SigV4.verify(
                request.removing("x-amz-content-sha256"), authorization: authorization, secretKey: secret,
                now: requestTime)
        }
        // Adding an unsigned header does not matter.
        XCTAssertNoThrow(
            try SigV4.verify(
                request.adding("User-Agent", "test"), authorization: authorization, secretKey: secret, now: requestTime))
    }

    func testWrongSignatureValue() {
        var forged = authorization
        forged.signature = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb40"
        assertThrows(
            .signatureDoesNotMatch(
                canonicalRequest: Example.getObjectCanonical, stringToSign: Example.getObjectStringToSign)
        ) {
            _ = try SigV4.verify(request, authorization: forged, secretKey: secret, now: requestTime)
        }
    }

    func testMissingXAmzContentSHA256DefaultsToEmptyHashAndExplicitOverride() throws {
        // Same request without the header, signed without it: the empty-payload hash is used.
        let bare = request.removing("x-amz-content-sha256")
        let auth = try SigV4.parseAuthorization(
            SigV4.authorizationHeader(
                for: bare, accessKey: Example.accessKey, secretKey: secret, amzDate: Example.amzDate,
                region: "us-east-1", signedHeaders: ["host", "range", "x-amz-date"],
                payloadHash: Example.empty))
        let context = try SigV4.verify(bare, authorization: auth, secretKey: secret, now: requestTime)
        XCTAssertEqual(context.payloadHash, Example.empty)
        // An explicit payloadHash that differs from what was signed fails.
        XCTAssertThrowsError(
            try SigV4.verify(
                bare, authorization: auth, secretKey: secret, now: requestTime, payloadHash: "UNSIGNED-PAYLOAD"))
    }

    func testHostMustBeSigned() throws {
        // Correctly signed over everything but host: still refused.
        let auth = try SigV4.parseAuthorization(
            SigV4.authorizationHeader(
                for: request, accessKey: Example.accessKey, secretKey: secret, amzDate: Example.amzDate,
                region: "us-east-1", signedHeaders: ["range", "x-amz-content-sha256", "x-amz-date"],
                payloadHash: Example.empty))
        assertThrows(.missingSignedHeader("host")) {
            _ = try SigV4.verify(request, authorization: auth, secretKey: secret, now: requestTime)
        }
    }

    func testDateHeaderMustBeSigned() throws {
        let auth = try SigV4.parseAuthorization(
            SigV4.authorizationHeader(
                for: request, accessKey: Example.accessKey, secretKey: secret, amzDate: Example.amzDate,
                region: "us-east-1", signedHeaders: ["host", "range", "x-amz-content-sha256"],
                payloadHash: Example.empty))
        assertThrows(.missingSignedHeader("x-amz-date")) {
            _ = try SigV4.verify(request, authorization: auth, secretKey: secret, now: requestTime)
        }
    }

    func testSignedHeaderAbsentFromRequest() {
        assertThrows(.missingSignedHeader("range")) {
            _ = try SigV4.verify(
                request.removing("range"), authorization: authorization, secretKey: secret, now: requestTime)
        }
        assertThrows(.missingSignedHeader("host")) {
            _ = try SigV4.verify(
                request.removing("host"), authorization: authorization, secretKey: secret, now: requestTime)
        }
    }

    func testMissingDate() {
        assertThrows(.missingDate) {
            _ = try SigV4.verify(
                request.removing("x-amz-date"), authorization: authorization, secretKey: secret, now: requestTime)
        }
    }

    func testMalformedDate() {
        for value in ["2013-05-24T00:00:00Z", "Fri, 24 May 2013 00:00:00 GMT", "", "20130524T000000"] {
            assertThrows(.malformedDate) {
                _ = try SigV4.verify(
                    request.replacing("x-amz-date", with: value), authorization: authorization, secretKey: secret,
                    now: requestTime)
            }
        }
        // Date header fallback that does not parse.
        assertThrows(.malformedDate) {
            _ = try SigV4.verify(
                request.removing("x-amz-date").adding("Date", "yesterday"), authorization: authorization,
                secretKey: secret, now: requestTime)
        }
    }

    func testCredentialDateMustMatchRequestDate() throws {
        var auth = authorization
        auth.date = "20130523"
        XCTAssertThrowsError(try SigV4.verify(request, authorization: auth, secretKey: secret, now: requestTime)) {
            error in
            guard case .malformedAuthorization = error as? SigV4Error else { return XCTFail("\(error)") }
        }
    }

    func testDateHeaderFallback() throws {
        // Expected values computed independently (Python hmac/hashlib) following the
        // SigV4 rules: with no x-amz-date, the Date header gives the time and the
        // string to sign carries it in ISO 8601 basic format.
        let dated = SigV4Request(
            method: "GET", rawPath: "/bucket/key%20x", rawQuery: "acl",
            headers: [
                ("Host", "localhost:9000"), ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ])
        let auth = try SigV4.parseAuthorization(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=date;host;x-amz-content-sha256, Signature=0f4f5fa5c5225fb7b0ffd718d7d55b5cc4cc4e1597f081f74e35b0d841915889")
        let context = try SigV4.verify(dated, authorization: auth, secretKey: secret, now: requestTime)
        XCTAssertEqual(context.amzDate, "20130524T000000Z")
        XCTAssertEqual(context.payloadHash, "UNSIGNED-PAYLOAD")

        // The Date header must then be signed.
        let unsignedDate = try SigV4.parseAuthorization(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256, Signature=0f4f5fa5c5225fb7b0ffd718d7d55b5cc4cc4e1597f081f74e35b0d841915889")
        assertThrows(.missingSignedHeader("date")) {
            _ = try SigV4.verify(dated, authorization: unsignedDate, secretKey: secret, now: requestTime)
        }
        // And the skew applies to it.
        assertThrows(.requestTimeTooSkewed) {
            _ = try SigV4.verify(
                dated, authorization: auth, secretKey: secret, now: requestTime.addingTimeInterval(3600))
        }
    }

    func testHeaderNameCaseAndValueWhitespaceDoNotMatter() throws {
        let reshaped = SigV4Request(
            method: "GET", rawPath: "/test.txt", rawQuery: "",
            headers: [
                ("X-AMZ-DATE", " 20130524T000000Z "), ("range", "  bytes=0-9"), ("HOST", Example.host + "\t"),
                ("X-Amz-Content-Sha256", Example.empty),
            ])
        let context = try SigV4.verify(reshaped, authorization: authorization, secretKey: secret, now: requestTime)
        XCTAssertEqual(context.seedSignature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    func testRoundTripWithSigningHelper() throws {
        // A realistic aws-cli style request: path-style key with spaces and unicode,
        // list query with encoding-type, x-amz-meta header with inner spaces.
        let rawPath = "/photos/summer%20trip/%C3%A9t%C3%A9+1.jpg"
        let req = SigV4Request(
            method: "PUT", rawPath: rawPath, rawQuery: "x-id=PutObject",
            headers: [
                ("Host", "127.0.0.1:9000"), ("X-Amz-Date", "20260101T120000Z"),
                ("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"), ("X-Amz-Meta-Note", "a  b"),
                ("Content-Length", "5"),
            ])
        let header = SigV4.authorizationHeader(
            for: req, accessKey: "shoebox", secretKey: "s3cr3t", amzDate: "20260101T120000Z", region: "us-east-1",
            signedHeaders: ["host", "x-amz-content-sha256", "x-amz-date", "x-amz-meta-note"],
            payloadHash: "UNSIGNED-PAYLOAD")
        let auth = try SigV4.parseAuthorization(header)
        let now = referenceDate("20260101T120500Z")
        let context = try SigV4.verify(req, authorization: auth, secretKey: "s3cr3t", now: now)
        XCTAssertEqual(context.scope, "20260101/us-east-1/s3/aws4_request")
        XCTAssertEqual(
            SigV4.canonicalURI(rawPath), "/photos/summer%20trip/%C3%A9t%C3%A9%2B1.jpg")
        assertThrows(.missingSignedHeader("x-amz-meta-note")) {
            _ = try SigV4.verify(
                req.removing("x-amz-meta-note"), authorization: auth, secretKey: "s3cr3t", now: now)
        }
    }
}
