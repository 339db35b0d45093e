@testable import IndexService
import XCTest

/// The naming rules of galleries and files (docs/index-api.md).
final class NameRulesTests: XCTestCase {
    func testGalleryOfAKeyIsItsFirstSegment() {
        XCTAssertEqual(GalleryIndex.gallery(of: "summer/a.jpg"), "summer")
        XCTAssertEqual(GalleryIndex.gallery(of: "summer/2026/a.jpg"), "summer")
        // Split on the '/' scalar: a name starting with a combining mark stays in its gallery.
        XCTAssertEqual(GalleryIndex.gallery(of: "summer/\u{301}accent.jpg"), "summer")
        XCTAssertNil(GalleryIndex.gallery(of: "no-gallery.jpg"))
        XCTAssertNil(GalleryIndex.gallery(of: "/leading-slash.jpg"))
    }

    func testGalleryNames() {
        for good in ["summer", "a", "2026-fair", String(repeating: "a", count: 63)] {
            XCTAssertTrue(IndexServer.isValidGallery(good), good)
        }
        for bad in ["", "Summer", "-x", "a_b", "a b", "été", String(repeating: "a", count: 64)] {
            XCTAssertFalse(IndexServer.isValidGallery(bad), bad)
        }
    }

    func testFileNames() {
        for good in ["a.jpg", "red flower+1.png", "été.png", String(repeating: "x", count: 200)] {
            XCTAssertTrue(IndexServer.isValidFilename(good), good)
        }
        for bad in ["", ".", "..", "a/b.jpg", "a\\b.jpg", "tab\there", String(repeating: "x", count: 201)] {
            XCTAssertFalse(IndexServer.isValidFilename(bad), bad)
        }
    }

    func testEndpointSplit() {
        XCTAssertEqual(IndexServer.split("http://127.0.0.1:9000").base, "http://127.0.0.1:9000")
        XCTAssertEqual(IndexServer.split("http://127.0.0.1:9000/").host, "127.0.0.1:9000")
        XCTAssertEqual(IndexServer.split("https://s3.example.com/prefix").base, "https://s3.example.com")
    }
}
