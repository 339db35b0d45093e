import Digests
import XCTest

/// RFC 3986 / AWS `UriEncode` rules, S3 listing and event-key encodings, strict and lenient decoding.
final class PercentEncodingTests: XCTestCase {
    func testURIEncode() {
        XCTAssertEqual(PercentEncoding.uriEncode("a b/c~d"), "a%20b%2Fc~d")
        XCTAssertEqual(PercentEncoding.uriEncode("a b/c~d", encodeSlash: false), "a%20b/c~d")
        XCTAssertEqual(PercentEncoding.uriEncode("ñ"), "%C3%B1")
        XCTAssertEqual(PercentEncoding.uriEncode("*"), "%2A")
        // AWS UriEncode: only A-Z a-z 0-9 - _ . ~ stay; reserved and sub-delims are escaped, uppercase.
        XCTAssertEqual(PercentEncoding.uriEncode("AZaz09-_.~"), "AZaz09-_.~")
        XCTAssertEqual(PercentEncoding.uriEncode("!$&'()+,;=:@?#[]%"), "%21%24%26%27%28%29%2B%2C%3B%3D%3A%40%3F%23%5B%5D%25")
        XCTAssertEqual(PercentEncoding.uriEncode(""), "")
        XCTAssertEqual(PercentEncoding.uriEncode(bytes: [0x00, 0x7F, 0xFF, UInt8(ascii: "/")]), "%00%7F%FF%2F")
    }

    func testListingEncodingMatchesAWS() {
        XCTAssertEqual(PercentEncoding.uriEncode("a b+c/%41/ü/..", encodeSlash: false), "a%20b%2Bc/%2541/%C3%BC/..")
        XCTAssertEqual(PercentEncoding.uriEncode("A-z_0.9~", encodeSlash: false), "A-z_0.9~")
    }

    func testFormEncodeAsS3Events() {
        XCTAssertEqual(PercentEncoding.formEncode("a b/c*d+e=ü"), "a+b/c*d%2Be%3D%C3%BC")
    }

    func testStrictDecode() {
        XCTAssertNil(PercentEncoding.decode("%zz"))
        XCTAssertNil(PercentEncoding.decode("%ff"))  // not UTF-8
        XCTAssertNil(PercentEncoding.decode("%4"))
        XCTAssertEqual(PercentEncoding.decode("%C3%BC"), "ü")
        XCTAssertEqual(PercentEncoding.decode("%c3%bc"), "ü")
        XCTAssertEqual(PercentEncoding.decode("a+b"), "a+b")
        XCTAssertEqual(PercentEncoding.decode("a+b%2B", plusAsSpace: true), "a b+")
        XCTAssertEqual(PercentEncoding.decode("plain/key"[...]), "plain/key")
    }

    func testLenientDecode() {
        func decode(_ s: String, plus: Bool = false) -> [UInt8] { PercentEncoding.decodeLeniently(s.utf8, plusAsSpace: plus) }
        XCTAssertEqual(decode("%41%2f"), Array("A/".utf8))
        XCTAssertEqual(decode("%zz%4"), Array("%zz%4".utf8))  // malformed escapes kept literally
        XCTAssertEqual(decode("%ff"), [0xFF])
        XCTAssertEqual(decode("a+b"), Array("a+b".utf8))
        XCTAssertEqual(decode("a+b", plus: true), Array("a b".utf8))
    }

    func testRoundTrips() {
        var state: UInt64 = 11
        for _ in 0..<500 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let scalars = (0..<Int(state >> 60)).map { i in Unicode.Scalar(UInt32(32 + (state >> UInt64(i * 3)) % 400))! }
            let text = String(String.UnicodeScalarView(scalars))
            XCTAssertEqual(PercentEncoding.decode(PercentEncoding.uriEncode(text)), text)
            XCTAssertEqual(PercentEncoding.decode(PercentEncoding.uriEncode(text, encodeSlash: false)), text)
            XCTAssertEqual(PercentEncoding.decode(PercentEncoding.formEncode(text), plusAsSpace: true), text)
        }
    }
}
