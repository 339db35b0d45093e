import Foundation
@testable import S3API
import XCTest

final class RangeAndDateTests: XCTestCase {
    func testSingleRanges() throws {
        XCTAssertEqual(try S3Server.parseRange("bytes=0-9", size: 100), 0..<10)
        XCTAssertEqual(try S3Server.parseRange("bytes=5-", size: 10), 5..<10)
        XCTAssertEqual(try S3Server.parseRange("bytes=-3", size: 10), 7..<10)
        XCTAssertEqual(try S3Server.parseRange("bytes=-30", size: 10), 0..<10)
        XCTAssertEqual(try S3Server.parseRange("bytes=8-100", size: 10), 8..<10)
        // Not a usable single range: serve the whole object, as RFC 9110 says.
        XCTAssertNil(try S3Server.parseRange("bytes=0-1,4-5", size: 10))
        XCTAssertNil(try S3Server.parseRange("items=0-1", size: 10))
        XCTAssertNil(try S3Server.parseRange("bytes=5-2", size: 10))
    }

    func testUnsatisfiableRanges() {
        for header in ["bytes=10-", "bytes=1000-2000", "bytes=-0"] {
            XCTAssertThrowsError(try S3Server.parseRange(header, size: 10)) { error in
                XCTAssertEqual((error as? S3Error)?.code, .invalidRange, header)
            }
        }
        XCTAssertThrowsError(try S3Server.parseRange("bytes=0-", size: 0))
    }

    func testHTTPDates() {
        let date = Date(timeIntervalSince1970: 1_445_412_480.25)  // 2015-10-21T07:28:00.250Z, a Wednesday
        XCTAssertEqual(HTTPDate.rfc1123(date), "Wed, 21 Oct 2015 07:28:00 GMT")
        XCTAssertEqual(HTTPDate.iso8601(date), "2015-10-21T07:28:00.250Z")
        XCTAssertEqual(HTTPDate.rfc1123(Date(timeIntervalSince1970: 951_782_400)), "Tue, 29 Feb 2000 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.parse("Wed, 21 Oct 2015 07:28:00 GMT")?.timeIntervalSince1970, 1_445_412_480)
        XCTAssertEqual(HTTPDate.parse("2015-10-21T07:28:00.000Z")?.timeIntervalSince1970, 1_445_412_480)
        XCTAssertNil(HTTPDate.parse("yesterday"))
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
            XCTAssertEqual(HTTPDate.rfc1123(date), formatter.string(from: date))
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

    func testRequestIdsAreUniqueUppercaseHex() {
        let ids = (0..<50_000).map { _ in S3Server.newRequestId() }
        XCTAssertEqual(Set(ids).count, ids.count)
        for id in ids.prefix(1000) {
            XCTAssertEqual(id.utf8.count, 16)
            XCTAssertTrue(id.utf8.allSatisfy { (48...57).contains($0) || (65...70).contains($0) }, id)
        }
        // Scrambled, not a visible counter: consecutive ids differ in many digits.
        let differing = zip(ids[0].utf8, ids[1].utf8).filter { $0 != $1 }.count
        XCTAssertGreaterThan(differing, 4)
    }

    func testXMLEscapingAndParsing() {
        XCTAssertEqual(XMLWriter.escape("a&b<c>\"d'\t"), "a&amp;b&lt;c&gt;&quot;d&apos;&#9;")
        let doc = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key><VersionId>null</VersionId></Object></Delete>"
        let root = XMLElement.parse(Data(doc.utf8))
        XCTAssertEqual(root?.name, "Delete")
        XCTAssertEqual(root?.children("Object").compactMap { $0.child("Key")?.text }, ["a&b", "c"])
        XCTAssertEqual(root?.children("Object").last?.child("VersionId")?.text, "null")
        XCTAssertNil(XMLElement.parse(Data("<Delete><Object>".utf8)))
    }
}
