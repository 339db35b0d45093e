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
        var writer = XMLWriter()
        writer.leaf("Key", ifXML10: "tab\there")
        writer.leaf("Key", ifXML10: "ctl\u{1}key")
        XCTAssertTrue(writer.text.hasSuffix("<Key>tab&#9;here</Key>"), "a control character XML 1.0 cannot carry leaves the element out")
        let doc = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key><VersionId>null</VersionId></Object></Delete>"
        let root = XMLElement.parse(Data(doc.utf8))
        XCTAssertEqual(root?.name, "Delete")
        XCTAssertEqual(root?.children("Object").compactMap { $0.child("Key")?.text }, ["a&b", "c"])
        XCTAssertEqual(root?.children("Object").last?.child("VersionId")?.text, "null")
        XCTAssertNil(XMLElement.parse(Data("<Delete><Object>".utf8)))
    }
}
