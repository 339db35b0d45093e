import Digests
import XCTest

/// RFC 2047 encoded words as S3 user metadata uses them.
final class EncodedWordsTests: XCTestCase {
    func testDecodesBAndQWords() {
        XCTAssertEqual(EncodedWords.decode("=?UTF-8?B?aMOpbGxv?="), "héllo")
        XCTAssertEqual(EncodedWords.decode("=?utf-8?b?aMOpbGxv?="), "héllo")
        XCTAssertEqual(EncodedWords.decode("=?UTF-8?Q?h=C3=A9llo_w?="), "héllo w")
        // Whitespace between adjacent words is dropped (RFC 2047 section 6.2).
        XCTAssertEqual(EncodedWords.decode("=?UTF-8?B?aMOp?= =?UTF-8?B?bGxv?="), "héllo")
    }

    func testLeavesOtherValuesAlone() {
        XCTAssertNil(EncodedWords.decode("plain"))
        XCTAssertNil(EncodedWords.decode(""))
        XCTAssertNil(EncodedWords.decode("before =?UTF-8?B?aMOpbGxv?="))
        XCTAssertNil(EncodedWords.decode("=?ISO-2022-JP?B?aMOpbGxv?="))
        XCTAssertNil(EncodedWords.decode("=?UTF-8?X?abc?="))
        XCTAssertNil(EncodedWords.decode("=?UTF-8?Q?bad=Z?="))
        XCTAssertNil(EncodedWords.decode("=?UTF-8?B?/w==?="))  // not UTF-8
    }

    func testEncodesOnlyWhatHTTPCannotCarry() {
        XCTAssertEqual(EncodedWords.encodeIfNeeded("Value With Spaces\t-"), "Value With Spaces\t-")
        XCTAssertEqual(EncodedWords.encodeIfNeeded("héllo"), "=?UTF-8?B?aMOpbGxv?=")
        XCTAssertEqual(EncodedWords.decode(EncodedWords.encodeIfNeeded("✓ ok")), "✓ ok")
    }
}
