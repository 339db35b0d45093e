import Foundation
import Thumbnails
import XCTest

/// Derivatives of good inputs: sizes, formats, orientation, colour, no metadata.
final class ThumbnailerTests: FixtureTestCase {
    /// Checks one file's derivatives: WebP thumbnail and progressive JPEG preview of the expected
    /// sizes (decoded back with vips), the original's size, no EXIF; returns the preview's path.
    @discardableResult
    func assertDerivatives(of file: String, width: Int, height: Int, preview: (Int, Int), thumbnail: (Int, Int),
                           file line: UInt = #line) throws -> String {
        let derivatives = try Thumbnailer().derivatives(ofFile: file)
        XCTAssertEqual(derivatives.width, width, "original width", line: line)
        XCTAssertEqual(derivatives.height, height, "original height", line: line)

        XCTAssertEqual(Array(derivatives.preview.prefix(3)), [0xFF, 0xD8, 0xFF], "JPEG magic", line: line)
        XCTAssertTrue(containsMarker(derivatives.preview, 0xC2), "progressive JPEG (SOF2)", line: line)
        XCTAssertEqual(Array(derivatives.thumbnail.prefix(4)), Array("RIFF".utf8), "WebP magic", line: line)
        XCTAssertEqual(Array(derivatives.thumbnail[8..<12]), Array("WEBP".utf8), "WebP magic", line: line)
        for bytes in [derivatives.preview, derivatives.thumbnail] {
            XCTAssertNil(Data(bytes).range(of: Data("Exif".utf8)), "no EXIF in derivatives", line: line)
            XCTAssertNil(Data(bytes).range(of: Data("EXIF".utf8)), "no EXIF chunk in derivatives", line: line)
        }

        let name = URL(fileURLWithPath: file).lastPathComponent
        let previewFile = try fixtures.write(derivatives.preview, as: "\(name).preview.jpg")
        let thumbnailFile = try fixtures.write(derivatives.thumbnail, as: "\(name).thumb.webp")
        XCTAssertEqual(try fixtures.field("vips-loader", of: previewFile), "jpegload", line: line)
        XCTAssertEqual(try fixtures.field("vips-loader", of: thumbnailFile), "webpload", line: line)
        XCTAssertEqual(try fixtures.field("width", of: previewFile), "\(preview.0)", "preview width", line: line)
        XCTAssertEqual(try fixtures.field("height", of: previewFile), "\(preview.1)", "preview height", line: line)
        XCTAssertEqual(try fixtures.field("width", of: thumbnailFile), "\(thumbnail.0)", "thumbnail width", line: line)
        XCTAssertEqual(try fixtures.field("height", of: thumbnailFile), "\(thumbnail.1)", "thumbnail height", line: line)
        XCTAssertTrue(try fixtures.field("interpretation", of: previewFile).lowercased().contains("srgb"), line: line)
        XCTAssertFalse(try Data(base64Encoded: XCTUnwrap(derivatives.placeholder)).map(\.isEmpty) ?? true,
                       "placeholder is base64", line: line)
        return previewFile
    }

    /// Whether a JPEG has a marker FF `code` (SOF2 = C2: progressive).
    func containsMarker(_ jpeg: [UInt8], _ code: UInt8) -> Bool {
        zip(jpeg, jpeg.dropFirst()).contains { $0 == 0xFF && $1 == code }
    }

    func testExifOrientation6ComesOutUpright() throws {
        // Stored 400x300, blue with a red square at the stored top-left; orientation 6 means
        // "rotate 90 degrees clockwise to show", so upright it is 300x400 with red top-right.
        let blue = try fixtures.solid("blue", width: 400, height: 300, rgb: [0, 0, 255])
        let red = try fixtures.solid("red", width: 100, height: 100, rgb: [255, 0, 0])
        let stored = try fixtures.insert(red, into: blue, x: 0, y: 0, as: "stored")
        let tagged = try fixtures.withMetadata(stored, ["orientation": 6], as: "tagged")
        let jpeg = try fixtures.save(tagged, as: "portrait.jpg")
        XCTAssertEqual(try fixtures.field("orientation", of: jpeg), "6", "the fixture carries EXIF orientation 6")
        XCTAssertEqual(try fixtures.field("width", of: jpeg), "400")

        let preview = try assertDerivatives(of: jpeg, width: 300, height: 400, preview: (300, 400), thumbnail: (270, 360))
        let topRight = try fixtures.pixel(preview, x: 250, y: 50)
        let topLeft = try fixtures.pixel(preview, x: 50, y: 50)
        let bottomRight = try fixtures.pixel(preview, x: 250, y: 350)
        XCTAssertGreaterThan(topRight[0], 200, "red lands top-right: \(topRight)")
        XCTAssertLessThan(topRight[2], 60, "red lands top-right: \(topRight)")
        XCTAssertGreaterThan(topLeft[2], 200, "blue top-left: \(topLeft)")
        XCTAssertGreaterThan(bottomRight[2], 200, "blue bottom-right: \(bottomRight)")
    }

    func testCMYKJPEGBecomesSRGB() throws {
        let rgb = try fixtures.textured("cmyk-source", width: 800, height: 600)
        let jpeg = try fixtures.save(rgb, as: "cmyk.jpg")
        let cmyk = try fixtures.path("cmyk-out.jpg")
        try fixtures.run("vips", "colourspace", jpeg, cmyk, "cmyk")
        XCTAssertTrue(try fixtures.field("interpretation", of: cmyk).lowercased().contains("cmyk"), "the fixture is CMYK")
        XCTAssertEqual(try fixtures.field("bands", of: cmyk), "4")
        let preview = try assertDerivatives(of: cmyk, width: 800, height: 600, preview: (800, 600), thumbnail: (360, 270))
        XCTAssertEqual(try fixtures.field("bands", of: preview), "3")
    }

    func testSixteenBitPNG() throws {
        let rgb = try fixtures.textured("deep-source", width: 1000, height: 2000)
        let wide = fixtures.path("deep-wide.v")
        try fixtures.run("vips", "linear", rgb, wide, "257", "0")
        let ushort = fixtures.path("deep-ushort.v")
        try fixtures.run("vips", "cast", wide, ushort, "ushort")
        let png = try fixtures.save(ushort, as: "deep.png", "[bitdepth=16]")
        XCTAssertTrue(try fixtures.field("format", of: png).lowercased().contains("ushort"), "the fixture is 16-bit")
        try assertDerivatives(of: png, width: 1000, height: 2000, preview: (720, 1440), thumbnail: (180, 360))
    }

    func testHEIC() throws {
        let heic = try fixtures.save(try fixtures.textured("heic-source", width: 1600, height: 1200), as: "photo.heic")
        XCTAssertEqual(try fixtures.field("vips-loader", of: heic), "heifload")
        try assertDerivatives(of: heic, width: 1600, height: 1200, preview: (1440, 1080), thumbnail: (360, 270))
    }

    func testWebPAndTIFF() throws {
        let source = try fixtures.textured("webp-source", width: 500, height: 200)
        try assertDerivatives(of: try fixtures.save(source, as: "photo.webp"), width: 500, height: 200,
                              preview: (500, 200), thumbnail: (360, 144))
        try assertDerivatives(of: try fixtures.save(source, as: "photo.tif"), width: 500, height: 200,
                              preview: (500, 200), thumbnail: (360, 144))
    }

    func testAnimatedGIFGivesItsFirstFrame() throws {
        // Three 200x100 frames, red, green, blue, stacked as vips keeps pages.
        let red = try fixtures.solid("f-red", width: 200, height: 100, rgb: [255, 0, 0])
        let green = try fixtures.solid("f-green", width: 200, height: 100, rgb: [0, 255, 0])
        let blue = try fixtures.solid("f-blue", width: 200, height: 100, rgb: [0, 0, 255])
        let base = try fixtures.solid("f-base", width: 200, height: 300, rgb: [0, 0, 0])
        let stacked = try fixtures.insert(blue, into: try fixtures.insert(green, into: try fixtures.insert(red, into: base, x: 0, y: 0, as: "s1"),
                                                                          x: 0, y: 100, as: "s2"), x: 0, y: 200, as: "s3")
        let gif = try fixtures.save(try fixtures.withMetadata(stacked, ["page-height": 100], as: "pages"), as: "anim.gif")
        XCTAssertEqual(try fixtures.field("n-pages", of: gif), "3", "the fixture is animated")
        let preview = try assertDerivatives(of: gif, width: 200, height: 100, preview: (200, 100), thumbnail: (200, 100))
        let pixel = try fixtures.pixel(preview, x: 100, y: 50)
        XCTAssertGreaterThan(pixel[0], 200, "first frame (red): \(pixel)")
        XCTAssertLessThan(pixel[1], 60, "first frame (red): \(pixel)")
    }

    func testParallelCallsAgree() throws {
        let jpeg = try fixtures.save(try fixtures.textured("parallel", width: 3000, height: 2000), as: "parallel.jpg")
        let thumbnailer = Thumbnailer()
        let results = ResultBox(count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            results.set(index, Result { try thumbnailer.derivatives(ofFile: jpeg) })
        }
        let all = try results.values.map { try XCTUnwrap($0).get() }
        XCTAssertEqual(Set(all.map(\.preview)).count, 1, "same preview from every thread")
        XCTAssertEqual(Set(all.map(\.placeholder)).count, 1)
        XCTAssertEqual(all[0].width, 3000)
    }
}
