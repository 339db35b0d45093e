import Digests
import Foundation
import XCTest

/// `AMZDate`, `HTTPDate` and `ISO8601Date` against RFC 7231 / AWS examples, Foundation's
/// formatters, round trips and invalid input.
final class DateFormatTests: XCTestCase {
    /// The instant of `yyyyMMdd'T'HHmmss'Z'` from Foundation's Gregorian calendar,
    /// independently of `AMZDate`.
    func referenceDate(_ amzDate: String) -> Date {
        let digits = amzDate.filter(\.isNumber).map { Int(String($0))! }
        func number(_ range: Range<Int>) -> Int { digits[range].reduce(0) { $0 * 10 + $1 } }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: number(0..<4), month: number(4..<6), day: number(6..<8),
                                                  hour: number(8..<10), minute: number(10..<12), second: number(12..<14)))!
    }

    func testAMZDate() {
        let date = referenceDate("20130524T000000Z")
        XCTAssertEqual(AMZDate.parse("20130524T000000Z"), date)
        XCTAssertEqual(AMZDate.format(date), "20130524T000000Z")
        for sample in ["20240229T235959Z", "19700101T000000Z", "20991231T120000Z", "20000301T010203Z", "19691231T235959Z"] {
            let reference = referenceDate(sample)
            XCTAssertEqual(AMZDate.parse(sample), reference, sample)
            XCTAssertEqual(AMZDate.format(reference), sample)
        }
        XCTAssertEqual(AMZDate.format(Date(timeIntervalSince1970: 1_369_353_600.999)), "20130524T000000Z")
        for bad in [
            "", "20130524", "20130524T000000", "2013-05-24T00:00:00Z", "20130230T000000Z", "20231301T000000Z",
            "20130524T240000Z", "20130524T006000Z", "2013O524T000000Z", "20130524t000000z",
        ] {
            XCTAssertNil(AMZDate.parse(bad), bad)
        }
        let now = AMZDate.now()
        XCTAssertNotNil(AMZDate.parse(now))
        XCTAssertLessThanOrEqual(abs(AMZDate.parse(now)!.timeIntervalSinceNow), 2)
    }

    func testHTTPDates() {
        let date = Date(timeIntervalSince1970: 1_445_412_480.25)  // 2015-10-21T07:28:00.250Z, a Wednesday
        XCTAssertEqual(HTTPDate.rfc1123(date), "Wed, 21 Oct 2015 07:28:00 GMT")
        XCTAssertEqual(ISO8601Date.format(date), "2015-10-21T07:28:00.250Z")
        XCTAssertEqual(ISO8601Date.formatSeconds(date), "2015-10-21T07:28:00Z")
        XCTAssertEqual(ISO8601Date.formatSeconds(Date(timeIntervalSince1970: 1_445_412_480.9996)), "2015-10-21T07:28:00Z")
        XCTAssertEqual(HTTPDate.rfc1123(Date(timeIntervalSince1970: 951_782_400)), "Tue, 29 Feb 2000 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.parse("Wed, 21 Oct 2015 07:28:00 GMT")?.timeIntervalSince1970, 1_445_412_480)
        XCTAssertEqual(HTTPDate.parse("2015-10-21T07:28:00.000Z")?.timeIntervalSince1970, 1_445_412_480)
        XCTAssertNil(HTTPDate.parse("yesterday"))
    }

    func testRFC7231Examples() {
        // RFC 7231 section 7.1.1.1: the same instant in the three formats a recipient must accept.
        let expected = referenceDate("19941106T084937Z")
        XCTAssertEqual(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"), expected)
        XCTAssertEqual(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT"), expected)
        XCTAssertEqual(HTTPDate.parse("Sun Nov  6 08:49:37 1994"), expected)
        XCTAssertEqual(HTTPDate.parse("  Sun, 06 Nov 1994 08:49:37 GMT "), expected)
        XCTAssertEqual(HTTPDate.parse("20130524T000000Z"), referenceDate("20130524T000000Z"))
        XCTAssertEqual(HTTPDate.rfc1123(expected), "Sun, 06 Nov 1994 08:49:37 GMT")
        // RFC 850 two-digit years: not more than 50 years ahead.
        XCTAssertEqual(HTTPDate.parse("Monday, 01-Jan-01 00:00:00 GMT"), referenceDate("20010101T000000Z"))
        for bad in ["Sun, 06 Nov 1994 08:49:37 PST", "Sunday, 06-Foo-94 08:49:37 GMT", "Sun Nov 31 08:49:37 1994",
                    "Sun Nov  6 08:49 1994", "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun, 06 Nov 1994"] {
            XCTAssertNil(HTTPDate.parse(bad), bad)
        }
    }

    func testRFC1123OnlyForSignedDateHeader() {
        let date = referenceDate("20130524T000000Z")
        XCTAssertEqual(HTTPDate.parseRFC1123("Fri, 24 May 2013 00:00:00 GMT"), date)
        XCTAssertEqual(HTTPDate.parseRFC1123("24 May 2013 00:00:00 GMT"), date)
        XCTAssertEqual(HTTPDate.parseRFC1123("Fri, 24 May 2013 00:00:00 +0000"), date)
        // botocore's Date header (Python's email.utils.formatdate), and other RFC 5322 offsets.
        XCTAssertEqual(HTTPDate.parseRFC1123("Fri, 24 May 2013 00:00:00 -0000"), date)
        XCTAssertEqual(HTTPDate.parseRFC1123("Fri, 24 May 2013 01:30:00 +0130"), date)
        XCTAssertEqual(HTTPDate.parseRFC1123("Thu, 23 May 2013 19:00:00 -0500"), date)
        XCTAssertEqual(HTTPDate.parseRFC1123("Thu, 29 Feb 2024 23:59:59 GMT"), referenceDate("20240229T235959Z"))
        XCTAssertEqual(HTTPDate.parseRFC1123("Sun, 6 Nov 1994 08:49:37 GMT"), referenceDate("19941106T084937Z"))
        for bad in [
            "", "Fri, 24 May 2013", "Fri, 24 Foo 2013 00:00:00 GMT", "Fri, 24 May 2013 00:00:00 PST",
            "Fri, 31 Jun 2013 00:00:00 GMT", "Fri, 24 May 13 00:00:00 GMT", "Friday, 24-May-13 00:00:00 GMT",
            "Fri, 24 May 2013 0:00:00 GMT", "Sun Nov  6 08:49:37 1994", "Fri, 24 May 2013 00:00:00 +2400",
            "Fri, 24 May 2013 00:00:00 +0060", "Fri, 24 May 2013 00:00:00 0000", "Fri, 24 May 2013 00:00:00 +000",
        ] {
            XCTAssertNil(HTTPDate.parseRFC1123(bad), bad)
        }
    }

    func testRFC1123AgreesWithDateFormatter() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var state: UInt64 = 7
        for _ in 0..<2000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            // 1970 to 2100, to the second.
            let date = Date(timeIntervalSince1970: TimeInterval((state >> 33) % 4_102_444_800))
            let text = HTTPDate.rfc1123(date)
            XCTAssertEqual(text, formatter.string(from: date))
            XCTAssertEqual(HTTPDate.parse(text), date)
            XCTAssertEqual(AMZDate.parse(AMZDate.format(date)), date)
            XCTAssertEqual(ISO8601Date.parse(ISO8601Date.format(date)), date)
        }
    }

    func testCachedDateHeaderIsTheCurrentSecond() {
        // Formatted once per second: it must still be now, to the second, every time.
        for _ in 0..<3 {
            let before = Date().timeIntervalSince1970.rounded(.down)
            let header = HTTPDate.now()
            let after = Date().timeIntervalSince1970.rounded(.down)
            let candidates = Set([before, after].map { HTTPDate.rfc1123(Date(timeIntervalSince1970: $0)) })
            XCTAssertTrue(candidates.contains(header), "\(header) not in \(candidates)")
            Thread.sleep(forTimeInterval: 0.6)
        }
    }

    func testISO8601() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = Date(timeIntervalSince1970: 1_445_412_480.25)
        XCTAssertEqual(ISO8601Date.format(date), formatter.string(from: date))
        XCTAssertEqual(ISO8601Date.parse("2015-10-21T07:28:00.250Z"), date)
        XCTAssertEqual(ISO8601Date.parse("2015-10-21T07:28:00Z"), Date(timeIntervalSince1970: 1_445_412_480))
        XCTAssertEqual(ISO8601Date.parse("2015-10-21T09:28:00+02:00"), Date(timeIntervalSince1970: 1_445_412_480))
        XCTAssertEqual(ISO8601Date.parse("2015-10-21T06:28:00-0100"), Date(timeIntervalSince1970: 1_445_412_480))
        XCTAssertEqual(ISO8601Date.parse("2015-10-21T07:28:00.5Z"), Date(timeIntervalSince1970: 1_445_412_480.5))
        for bad in ["", "2015-10-21", "2015-10-21T07:28:00", "2015-10-21 07:28:00Z", "2015-02-30T07:28:00Z",
                    "2015-10-21T07:28:00.Z", "2015-10-21T07:28:00ZZ", "2015-10-21T07:28:00+2"] {
            XCTAssertNil(ISO8601Date.parse(bad), bad)
        }
    }
}
