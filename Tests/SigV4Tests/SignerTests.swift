import Digests
import Foundation
import SigV4
import XCTest

/// `SigV4Signer` against the documented S3 examples, and round trips through the server's verifiers.
final class SignerTests: XCTestCase {
    typealias Example = S3ExamplesTests
    let signer = SigV4Signer(accessKey: Example.accessKey, secretKey: Example.secretKey, region: "us-east-1")

    /// The documented Authorization value, with the separators `sign` writes.
    func documented(_ header: String) -> String { header.replacingOccurrences(of: ",", with: ", ") }

    func testGetObjectExample() throws {
        let signature = signer.sign(method: "GET", host: Example.host, rawPath: "/test.txt", headers: [("Range", "bytes=0-9")],
                                    payloadHash: Example.empty, amzDate: Example.amzDate)
        XCTAssertEqual(signature.authorization, documented(Example.getObjectAuthorization))
        XCTAssertEqual(signature.amzDate, Example.amzDate)
        XCTAssertEqual(signature.payloadHash, Example.empty)
    }

    func testListObjectsExample() throws {
        // "GET Bucket (List Objects)": GET /?max-keys=2&prefix=J
        let signature = signer.sign(method: "GET", host: Example.host, rawPath: "/", rawQuery: "max-keys=2&prefix=J",
                                    payloadHash: Example.empty, amzDate: Example.amzDate)
        XCTAssertEqual(signature.authorization, documented(Example.authz(
            "host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")))
    }

    func testAuthorizationHeaderMatchesAWSTestSuite() throws {
        let iam = SigV4Signer(accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                              region: "us-east-1", service: "service")
        let request = SigV4Request(method: "GET", rawPath: "/", rawQuery: "Param2=value2&Param1=value1",
                                   headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")])
        XCTAssertEqual(
            iam.authorization(for: request, signedHeaders: ["host", "x-amz-date"], payloadHash: Example.empty, amzDate: "20150830T123600Z"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
                + "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    /// The direct canonical request of plain paths must sign exactly as the general path.
    func testFastPathAgreesWithGeneralPath() throws {
        for rawPath in ["/bucket", "/obj-4096/00000042", "/b/put-1a2b/3-17", "/b/_bench-ready/list/1000x0"] {
            let fast = signer.sign(method: "PUT", host: "127.0.0.1:9000", rawPath: rawPath, amzDate: "20250101T000000Z")
            let request = SigV4Request(method: "PUT", rawPath: rawPath, rawQuery: "", headers: [
                ("host", "127.0.0.1:9000"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"), ("x-amz-date", "20250101T000000Z")])
            let general = signer.authorization(for: request, signedHeaders: ["host", "x-amz-content-sha256", "x-amz-date"],
                                               payloadHash: "UNSIGNED-PAYLOAD", amzDate: "20250101T000000Z")
            XCTAssertEqual(fast.authorization, general, rawPath)
        }
    }

    func testSignedRequestsVerify() throws {
        let now = Date()
        for (rawPath, rawQuery, headers) in [
            ("/b/k", "", [(name: String, value: String)]()),
            ("/b/a%20b/%C3%BC", "list-type=2&prefix=a%20b&continuation-token=x%2By", [("Content-Type", "image/png")]),
            ("", "", []),
        ] {
            let signature = signer.sign(method: "GET", host: "127.0.0.1:9000", rawPath: rawPath, rawQuery: rawQuery, headers: headers,
                                        payloadHash: SigV4.emptyPayloadSHA256)
            let request = SigV4Request(method: "GET", rawPath: rawPath, rawQuery: rawQuery,
                                       headers: [("Host", "127.0.0.1:9000")] + headers.map { ($0.name, $0.value) }
                                           + signature.headers.map { ($0.name, $0.value) })
            let authorization = try SigV4.parseAuthorization(signature.authorization)
            XCTAssertNoThrow(try SigV4.verify(request, authorization: authorization, secretKey: Example.secretKey, now: now))
            XCTAssertThrowsError(try SigV4.verify(request, authorization: authorization, secretKey: "wrong", now: now))
        }
    }

    func testPresignedURLVerifies() throws {
        let now = Date()
        let url = signer.presignedURL(method: "PUT", base: "http://127.0.0.1:9000", host: "127.0.0.1:9000", rawPath: "/b/a%20b.jpg",
                                      headers: [("Content-Type", "image/jpeg")], expires: 300, now: now)
        XCTAssertTrue(url.hasPrefix("http://127.0.0.1:9000/b/a%20b.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="))
        let rawQuery = String(url[url.index(after: url.firstIndex(of: "?")!)...])
        let query = rawQuery.split(separator: "&").map { part -> (name: String, value: String) in
            let pieces = part.split(separator: "=", maxSplits: 1).map(String.init)
            return (pieces[0], PercentEncoding.decode(pieces[1])!)
        }
        let request = SigV4Request(method: "PUT", rawPath: "/b/a%20b.jpg", rawQuery: rawQuery,
                                   headers: [("Host", "127.0.0.1:9000"), ("Content-Type", "image/jpeg")])
        let authorization = try Presigned.verifyV4(request, query: query, secretKey: Example.secretKey, now: now)
        XCTAssertEqual(authorization.signedHeaders, ["content-type", "host"])
        XCTAssertThrowsError(try Presigned.verifyV4(request, query: query, secretKey: Example.secretKey, now: now + 301))
        let tampered = SigV4Request(method: "PUT", rawPath: "/b/other.jpg", rawQuery: rawQuery, headers: request.headers)
        XCTAssertThrowsError(try Presigned.verifyV4(tampered, query: query, secretKey: Example.secretKey, now: now))
    }
}

extension SignerTests {
    func testPostFieldsPassTheServerChecks() throws {
        let now = Date()
        let fields = signer.postFields(bucket: "b", key: "g/a.jpg", keyPrefix: "g/", contentTypePrefix: "image/", maxSize: 1000,
                                       fields: [(name: "Content-Type", value: "image/jpeg")], expires: 60, now: now)
        let byName = Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        let policy = try XCTUnwrap(byName["policy"])
        let credential = try XCTUnwrap(byName["x-amz-credential"]).split(separator: "/").map(String.init)
        XCTAssertEqual(byName["x-amz-signature"], Presigned.postPolicyV4Signature(
            policy: policy, secretKey: Example.secretKey, date: credential[1], region: credential[2]))
        var checked = Dictionary(fields.filter { $0.name != "policy" && $0.name != "x-amz-signature" }
            .map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        checked["bucket"] = "b"
        XCTAssertEqual(try PostPolicy.parse(base64: policy).check(fields: checked, now: now), 1...1000)
        XCTAssertThrowsError(try PostPolicy.parse(base64: policy).check(fields: checked, now: now + 61))
    }
}
