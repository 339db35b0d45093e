@testable import Thumbnails
import XCTest

/// The ThumbHash encoder against values worked out by hand from the reference algorithm.
final class ThumbHashTests: XCTestCase {
    func testOpaqueRedSquare() {
        let rgba = [UInt8](repeating: 0, count: 10 * 10 * 4).enumerated().map { $0.offset % 4 == 0 || $0.offset % 4 == 3 ? 255 : 0 }
        let hash = ThumbHash.encode(width: 10, height: 10, rgba: rgba.map(UInt8.init))
        // l = 1/3, p = 1/2, q = 1, no variation: header24 = 21 | 47 << 6 | 63 << 12;
        // header16 = lx 7, portrait, scales 0; then 27 + 5 + 5 AC nibbles in 19 bytes (their
        // values are rounding noise normalised, as in the reference: a zero scale mutes them).
        XCTAssertEqual(Array(hash.prefix(5)), [0xD5, 0xFB, 0x03, 0x07, 0x00])
        XCTAssertEqual(hash.count, 24)
    }

    func testLandscapeWithAlphaSetsItsFlags() {
        // 20x10, left half opaque white, right half fully transparent.
        var rgba = [UInt8]()
        for _ in 0..<10 { for x in 0..<20 { rgba += x < 10 ? [255, 255, 255, 255] : [0, 0, 0, 0] } }
        let hash = ThumbHash.encode(width: 20, height: 10, rgba: rgba)
        XCTAssertEqual(hash[2] & 0x80, 0x80, "hasAlpha")
        XCTAssertEqual(hash[4] & 0x80, 0x80, "landscape")
        XCTAssertEqual(hash[3] & 7, 3, "ly = round(5 * 10 / 20)")
        XCTAssertEqual(hash[5] & 15, 8, "alpha DC: half covered, round(15 * 0.5)")
        // Luminance varies left to right only, so the first AC term (cx = 1) is extreme.
        XCTAssertNotEqual(hash[6] & 15, 8)
    }
}
