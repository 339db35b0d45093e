import Foundation
import SigV4
import XCTest

/// How `Presigned` refuses expiry values: `X-Amz-Expires` not a number is a malformed query
/// (400); negative or over a week is AccessDenied (403, issue 17); 0 and any URL past its
/// time have expired (403); a SigV2 `Expires` that is missing or not a time is AccessDenied (403).
/// Each is checked before the signature, so the signatures here need not be valid.
final class PresignedExpiryTests: XCTestCase {
    let now = referenceDate("20260101T120000Z")
    let request = SigV4Request(method: "GET", rawPath: "/b/k", rawQuery: "", headers: [("Host", "127.0.0.1:9000")])

    private func v4Query(expires: String, signedAt: String = "20260101T115959Z") -> [(name: String, value: String)] {
        [("X-Amz-Algorithm", SigV4.algorithm), ("X-Amz-Credential", "AK/20260101/us-east-1/s3/aws4_request"),
         ("X-Amz-Date", signedAt), ("X-Amz-Expires", expires), ("X-Amz-SignedHeaders", "host"),
         ("X-Amz-Signature", String(repeating: "0", count: 64))]
    }

    private func v4Error(_ expires: String) -> SigV4Error? {
        do {
            _ = try Presigned.verifyV4(request, query: v4Query(expires: expires), secretKey: "s", now: now)
            return nil
        } catch { return error }
    }

    func testV4ExpiresRange() {
        XCTAssertEqual(v4Error("soon"), .malformedQueryAuthorization("X-Amz-Expires should be a number"))
        XCTAssertEqual(v4Error("-5"), .queryAccessDenied("X-Amz-Expires must be non-negative"))
        XCTAssertEqual(v4Error("604801"), .queryAccessDenied(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"))
        XCTAssertEqual(v4Error("0"), .expired(expires: referenceDate("20260101T115959Z"), xAmzExpires: 0))
        // In range and in time, only the (dummy) signature is wrong.
        for expires in ["1", "604800"] {
            guard case .signatureDoesNotMatch = v4Error(expires) else { return XCTFail(expires) }
        }
    }

    private func v2Error(_ query: [(name: String, value: String)]) -> SigV4Error? {
        do {
            try Presigned.verifyV2(method: "GET", rawPath: "/b/k", query: [("AWSAccessKeyId", "AK")] + query,
                                   headers: request.headers, secretKey: "s", now: now)
            return nil
        } catch { return error }
    }

    func testV2Expires() {
        let signature = ("Signature", "c2lnbmF0dXJl")
        XCTAssertEqual(v2Error([("Expires", "soon"), signature]),
                       .queryAccessDenied("Invalid date (should be seconds since epoch): soon"))
        XCTAssertEqual(v2Error([signature]),
                       .queryAccessDenied("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"))
        let past = String(Int(now.timeIntervalSince1970) - 1)
        XCTAssertEqual(v2Error([("Expires", past), signature]), .expired(expires: now - 1, xAmzExpires: nil))
        let future = String(Int(now.timeIntervalSince1970) + 60)
        guard case .signatureDoesNotMatch = v2Error([("Expires", future), signature]) else { return XCTFail() }
    }
}
