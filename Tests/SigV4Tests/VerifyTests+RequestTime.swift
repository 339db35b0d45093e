import Foundation
import SigV4
import XCTest

/// Where `SigV4.verify` takes the request time from: `x-amz-date`, else a signed `Date`
/// in any RFC 5322 form (botocore writes `-0000`), and never a `Date` beside `x-amz-date`.
extension VerifyTests {
    private func signed(_ headers: [(name: String, value: String)], signing names: [String]) throws
        -> (SigV4Request, SigV4Authorization) {
        let request = SigV4Request(method: "GET", rawPath: "/bucket/key", rawQuery: "",
                                   headers: [("Host", "localhost:9000"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")] + headers)
        let header = SigV4.authorizationHeader(
            for: request, accessKey: Example.accessKey, secretKey: secret, amzDate: Example.amzDate, region: "us-east-1",
            signedHeaders: names, payloadHash: "UNSIGNED-PAYLOAD")
        return (request, try SigV4.parseAuthorization(header))
    }

    func testDateHeaderWithNumericZone() throws {
        for value in ["Fri, 24 May 2013 00:00:00 -0000", "Thu, 23 May 2013 20:00:00 -0400"] {
            let (request, auth) = try signed([("Date", value)], signing: ["date", "host", "x-amz-content-sha256"])
            let context = try SigV4.verify(request, authorization: auth, secretKey: secret, now: requestTime)
            XCTAssertEqual(context.amzDate, Example.amzDate, value)
        }
    }

    func testXAmzDateWinsOverDate() throws {
        // Both signed: the request time is x-amz-date's, an hour-old Date does not matter.
        let both: [(name: String, value: String)] = [("x-amz-date", Example.amzDate), ("Date", "Thu, 23 May 2013 23:00:00 GMT")]
        let (request, auth) = try signed(both, signing: ["date", "host", "x-amz-content-sha256", "x-amz-date"])
        XCTAssertEqual(try SigV4.verify(request, authorization: auth, secretKey: secret, now: requestTime).amzDate,
                       Example.amzDate)
        // Date unsigned beside a signed x-amz-date: accepted too.
        let (plain, plainAuth) = try signed(both, signing: ["host", "x-amz-content-sha256", "x-amz-date"])
        XCTAssertNoThrow(try SigV4.verify(plain, authorization: plainAuth, secretKey: secret, now: requestTime))
        // Date signed but x-amz-date not: x-amz-date is the request time, so it must be signed.
        let (dateOnly, dateOnlyAuth) = try signed(both, signing: ["date", "host", "x-amz-content-sha256"])
        XCTAssertThrowsError(try SigV4.verify(dateOnly, authorization: dateOnlyAuth, secretKey: secret, now: requestTime)) {
            XCTAssertEqual($0 as? SigV4Error, .missingSignedHeader("x-amz-date"))
        }
    }
}
