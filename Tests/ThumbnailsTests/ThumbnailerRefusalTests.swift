import Foundation
import Thumbnails
import XCTest

/// Bad inputs end as Unprocessable with a reason, before decoding where the header tells.
final class ThumbnailerRefusalTests: FixtureTestCase {
    /// Asserts the file is refused with a reason containing `words`.
    func assertRefused(_ file: String, _ words: String, limits: ThumbnailLimits = .init(), line: UInt = #line) {
        XCTAssertThrowsError(try Thumbnailer(limits: limits).derivatives(ofFile: file), line: line) { error in
            guard let refusal = error as? Unprocessable else { return XCTFail("not Unprocessable: \(error)", line: line) }
            XCTAssertTrue(refusal.reason.contains(words), "reason \"\(refusal.reason)\" names \(words)", line: line)
        }
    }

    func testTruncatedJPEG() throws {
        let jpeg = try fixtures.save(try fixtures.textured("whole", width: 1200, height: 900), as: "whole.jpg")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: jpeg))
        XCTAssertNoThrow(try Thumbnailer().derivatives(ofFile: jpeg), "the whole file is fine")
        let cut = try fixtures.write(Array(bytes.prefix(bytes.count / 2)), as: "cut.jpg")
        assertRefused(cut, "cannot decode")
    }

    func testRandomBytesAndText() throws {
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        assertRefused(try fixtures.write(noise, as: "noise.jpg"), "not an image")
        assertRefused(try fixtures.write(Array("hello, not a picture\n".utf8), as: "text.png"), "not an image")
        assertRefused(fixtures.path("missing.jpg"), "not an image")
    }

    func testOtherFormatsVipsReadsAreRefused() throws {
        let svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#
        assertRefused(try fixtures.write(Array(svg.utf8), as: "drawing.svg"), "unsupported format")
    }

    func testPixelBombIsRefusedFromItsHeader() throws {
        // 20000x20000 of one grey: a few hundred KB of PNG that would decode to 400 MP.
        let black = fixtures.path("bomb.v")
        try fixtures.run("vips", "black", black, "20000", "20000")
        let png = try fixtures.save(black, as: "bomb.png", "[compression=9]")
        assertRefused(png, "over the limit")
        // The limit is the configured one: a small image over a small limit is refused too.
        var limits = ThumbnailLimits()
        limits.maxPixels = 10_000
        let small = try fixtures.save(try fixtures.solid("small", width: 200, height: 100, rgb: [9, 9, 9]), as: "small.png")
        assertRefused(small, "over the limit", limits: limits)
        XCTAssertNoThrow(try Thumbnailer().derivatives(ofFile: small))
    }

    func testThousandFrameGIF() throws {
        let frame = try fixtures.solid("frame", width: 16, height: 16, rgb: [200, 30, 30])
        let tall = fixtures.path("tall.v")
        try fixtures.run("vips", "replicate", frame, tall, "1", "1000")
        let gif = try fixtures.save(try fixtures.withMetadata(tall, ["page-height": 16], as: "frames"), as: "frames.gif")
        XCTAssertEqual(try fixtures.field("n-pages", of: gif), "1000", "the fixture has 1000 frames")
        assertRefused(gif, "1000 frames")
    }
}
