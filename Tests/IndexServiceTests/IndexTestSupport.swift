import Foundation
import IndexService
import S3Events
import XCTest

// MARK: - helpers

/// A fixed epoch (2023-11-14T22:13:20Z) so times are whole milliseconds and clearly in the past.
let epoch = Date(timeIntervalSince1970: 1_700_000_000)

/// `epoch` plus `ms` milliseconds.
func at(_ ms: Int) -> Date { epoch.addingTimeInterval(Double(ms) / 1000) }

/// One event record as the S3 server sends it. `key` is the *decoded* key unless `rawKey`
/// is given (then it is put into the message verbatim).
func eventRecord(key: String, eventName: String = "ObjectCreated:Put", sequencer: String, size: UInt64? = 100,
                 eTag: String? = "0123456789abcdef0123456789abcdef", eventTime: Date = epoch,
                 contentType: String? = "image/jpeg", userMetadata: [String: String]? = nil, rawKey: String? = nil) -> S3EventRecord {
    let removal = eventName.hasPrefix("ObjectRemoved:")
    let object = S3EventRecord.Object(
        key: rawKey ?? S3EventRecord.encodeKey(key),
        size: removal ? nil : size, eTag: removal ? nil : eTag, sequencer: sequencer,
        contentType: removal ? nil : contentType, userMetadata: removal ? nil : userMetadata)
    return S3EventRecord(
        awsRegion: "us-east-1", eventTime: eventTime, eventName: eventName, principalId: "root",
        sourceIPAddress: "127.0.0.1", requestId: "REQ", hostId: "HOST",
        s3: .init(configurationId: "gallery-index",
                  bucket: .init(name: "gallery", ownerIdentity: .init(principalId: "root"), arn: "arn:aws:s3:::gallery"),
                  object: object))
}

func created(_ key: String, seq: String, at time: Date = epoch, size: UInt64 = 100, eTag: String = "etag-1",
             contentType: String = "image/jpeg", metadata: [String: String]? = nil) -> S3EventRecord {
    eventRecord(key: key, sequencer: seq, size: size, eTag: eTag, eventTime: time, contentType: contentType, userMetadata: metadata)
}

func removed(_ key: String, seq: String, at time: Date = epoch) -> S3EventRecord {
    eventRecord(key: key, eventName: "ObjectRemoved:Delete", sequencer: seq, eventTime: time)
}

func message(_ records: S3EventRecord...) -> S3EventMessage { S3EventMessage(records: records) }

/// A 20-digit hex sequencer (as the server emits) for a number.
func seq(_ n: Int) -> String {
    let hex = String(n, radix: 16, uppercase: true)
    return String(repeating: "0", count: 20 - hex.count) + hex
}

func assertSameTime(_ a: Date?, _ b: Date, file: StaticString = #filePath, line: UInt = #line) {
    guard let a else { return XCTFail("no date", file: file, line: line) }
    XCTAssertEqual(a.timeIntervalSince1970, b.timeIntervalSince1970, accuracy: 0.0005, file: file, line: line)
}

/// A fresh GalleryIndex in a temp directory for each test, removed afterwards.
class IndexTestCase: XCTestCase {
    var directory: URL!
    var index: GalleryIndex!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gallery-index-tests-\(UUID().uuidString)")
        index = try GalleryIndex(directory: directory.path, mapSize: 64 << 20)
    }

    override func tearDownWithError() throws {
        index = nil
        try? FileManager.default.removeItem(at: directory)
    }

    /// Every image of a gallery, following cursors with the given page size.
    func allImages(_ gallery: String, limit: Int = 100) throws -> [ImageRecord] {
        var out: [ImageRecord] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try index.images(gallery: gallery, limit: limit, cursor: cursor)
            XCTAssertLessThanOrEqual(page.images.count, limit)
            out += page.images
            cursor = page.next
            pages += 1
            if pages > 10_000 { XCTFail("cursor loop"); break }
        } while cursor != nil
        return out
    }

    func keys(_ gallery: String) throws -> [String] { try allImages(gallery).map(\.key) }

    func gallery(_ name: String) throws -> GallerySummary? { try index.listGalleries().first { $0.name == name } }

    @discardableResult
    func apply(_ records: S3EventRecord...) async throws -> (applied: Int, ignored: Int) {
        try await index.apply(S3EventMessage(records: records))
    }
}

/// A small deterministic generator (SplitMix64) for reproducible shuffles.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
