import Digests
import Foundation
import LMDB
@testable import ObjectStore
import XCTest

/// Deterministic pseudo-random numbers (SplitMix64), so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` pseudo-random bytes from `seed`.
func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(state: seed)
    var out = [UInt8](repeating: 0, count: count)
    var i = 0
    while i < count {
        var word = rng.next()
        for _ in 0..<8 where i < count {
            out[i] = UInt8(truncatingIfNeeded: word)
            word >>= 8
            i += 1
        }
    }
    return out
}

/// MD5 hex computed in one shot, independently of the streaming digest in `LMDBObjectUpload`.
func md5Hex(_ bytes: [UInt8]) -> String { Hex.encode(Digest.md5(bytes)) }

/// memcmp order with "shorter prefix first", written out by hand.
func byteOrderLess(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var i = 0
    while i < a.count && i < b.count {
        if a[i] != b[i] { return a[i] < b[i] }
        i += 1
    }
    return a.count < b.count
}

let mib = 1 << 20

struct ReadBackError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension XCTestCase {
    /// A fresh directory for one test, removed when the test ends.
    func makeDirectory() -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("shoebox-storetests-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Opens a store in `directory`; closes its writer when the test ends.
    func openStore(_ directory: String, mapSize: Int = 1 << 30) throws -> LMDBObjectStore {
        let store = try LMDBObjectStore(directory: directory, mapSize: mapSize)
        addTeardownBlock { store.close() }
        return store
    }

    /// Closes `store`, drops it and waits until its LMDB environment is really closed, so the
    /// directory can be opened again in this process.
    func closeAndRelease(_ store: inout LMDBObjectStore?, file: StaticString = #filePath, line: UInt = #line) async {
        weak let environment = store?.environment
        // Make sure the writer thread is running before the store goes (an earlier WriteQueue
        // crashed when released before its thread started; see
        // LMDBTests.testWriteQueueReleasedRightAfterCreation).
        _ = try? await store?.write { _ in }
        store?.close()
        store = nil
        let deadline = Date().addingTimeInterval(10)
        while environment != nil && Date() < deadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTAssertNil(environment, "environment still open 10 s after close", file: file, line: line)
    }

    /// Polls `condition` for up to 10 seconds.
    func eventually(_ message: String, file: StaticString = #filePath, line: UInt = #line,
                    _ condition: () throws -> Bool) async rethrows {
        let deadline = Date().addingTimeInterval(10)
        while try !condition() && Date() < deadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTAssertTrue(try condition(), message, file: file, line: line)
    }
}

/// Now, in whole milliseconds: the precision records keep. The upload helper uses it so that
/// the record `commit` returns can be compared with the stored one (see
/// `ObjectTests.testCommitReturnsTheStoredRecord` for what happens with a finer date).
func wholeMillisecondsNow() -> Date {
    Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
}

extension LMDBObjectStore {
    /// Uploads `body` the way the HTTP layer does: in pieces, flushing after each.
    @discardableResult
    func putObject(bucket: BucketRecord, key: String, body: [UInt8], pieceSize: Int = 100_003,
                   metadata: ObjectMetadata = ObjectMetadata(), checksum: StoredChecksum? = nil,
                   ownerId: String = "owner-1", condition: WriteCondition = .none,
                   lastModified: Date = wholeMillisecondsNow()) async throws -> (record: ObjectRecord, replaced: ObjectRecord?) {
        let upload = try startUpload(bucket: bucket, key: key)
        var offset = 0
        while offset < body.count {
            let end = min(offset + pieceSize, body.count)
            body[offset..<end].withUnsafeBytes { upload.append($0) }
            try await upload.flushIfNeeded()
            offset = end
        }
        XCTAssertEqual(upload.size, UInt64(body.count))
        let md5 = upload.finishDigest()
        return try await upload.commit(md5: md5, metadata: metadata, checksum: checksum, ownerId: ownerId,
                                       condition: condition, lastModified: lastModified)
    }

    /// The bytes of `range` (default: the whole body), read through `LMDBObjectReader.forEachSlice`.
    func readBody(bucket: String, key: String, range: Range<UInt64>? = nil) throws -> [UInt8] {
        let reader = try openObject(bucket: bucket, key: key)
        defer { reader.close() }
        var out: [UInt8] = []
        let range = range ?? 0..<reader.record.size
        try reader.forEachSlice(in: range) { slice in
            // Guards so that a reader that stops advancing fails the test instead of hanging it.
            if slice.isEmpty { throw ReadBackError("forEachSlice handed out an empty slice after \(out.count) bytes") }
            out.append(contentsOf: slice)
            if out.count > range.count { throw ReadBackError("forEachSlice visited more than \(range.count) bytes") }
        }
        return out
    }

    /// Every entry of the `chunks` database: blob id, chunk index and size.
    func chunkEntries() throws -> [(blob: UInt64, index: UInt32, size: Int)] {
        try environment.read { txn in
            let cursor = try txn.cursor(chunks)
            var out: [(blob: UInt64, index: UInt32, size: Int)] = []
            var entry = try cursor.first()
            while let e = entry {
                XCTAssertEqual(e.key.count, 12, "chunk keys are blob (8) ‖ index (4)")
                let k = Array(e.key)
                let blob = k[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let index = k[8..<12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                out.append((blob, index, e.value.count))
                entry = try cursor.next()
            }
            return out
        }
    }

    func chunkCount(blob: UInt64) throws -> Int { try chunkEntries().filter { $0.blob == blob }.count }

    /// The blob ids in the `staging` database.
    func stagedBlobs() throws -> [UInt64] {
        try environment.read { txn in
            let cursor = try txn.cursor(staging)
            var out: [UInt64] = []
            var entry = try cursor.first()
            while let e = entry {
                out.append(Array(e.key).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
                entry = try cursor.next()
            }
            return out
        }
    }

    /// Walks every page of a listing, following `nextAfter`.
    func listAll(bucket: BucketRecord, prefix: String = "", delimiter: String? = nil, after: String? = nil,
                 maxKeys: Int, file: StaticString = #filePath, line: UInt = #line) throws -> (items: [ListItem], pages: Int) {
        var items: [ListItem] = []
        var marker = after
        var pages = 0
        while true {
            let page = try list(bucket: bucket, query: ListQuery(prefix: prefix, delimiter: delimiter, after: marker, maxKeys: maxKeys))
            pages += 1
            XCTAssertLessThanOrEqual(page.items.count, maxKeys, "page larger than maxKeys", file: file, line: line)
            items += page.items
            guard page.isTruncated else { break }
            XCTAssertEqual(page.items.count, maxKeys, "a truncated page is full", file: file, line: line)
            guard let next = page.nextAfter else {
                XCTFail("truncated page without nextAfter", file: file, line: line)
                break
            }
            // Each page must move forward, or the walk would never end.
            if let marker, !byteOrderLess(Array(marker.utf8), Array(next.utf8)) {
                XCTFail("nextAfter \(Entry.object(next)) does not move past the previous marker \(Entry.object(marker))", file: file, line: line)
                break
            }
            marker = next
            if pages > 100_000 {
                XCTFail("listing does not end", file: file, line: line)
                break
            }
        }
        return (items, pages)
    }
}

/// A listing entry reduced to what the reference model predicts: kind and UTF-8 bytes
/// (bytes, not `String`, because `String ==` treats canonically equivalent keys as equal).
struct Entry: Hashable, CustomStringConvertible {
    let isPrefix: Bool
    let bytes: [UInt8]

    init(isPrefix: Bool, bytes: [UInt8]) {
        self.isPrefix = isPrefix
        self.bytes = bytes
    }

    init(_ item: ListItem) {
        switch item {
        case .object(let key, _): self.init(isPrefix: false, bytes: Array(key.utf8))
        case .commonPrefix(let prefix): self.init(isPrefix: true, bytes: Array(prefix.utf8))
        }
    }

    static func object(_ key: String) -> Entry { Entry(isPrefix: false, bytes: Array(key.utf8)) }
    static func prefix(_ prefix: String) -> Entry { Entry(isPrefix: true, bytes: Array(prefix.utf8)) }

    var description: String {
        let text = String(decoding: bytes, as: UTF8.self).unicodeScalars.map { $0.isASCII ? String($0) : $0.escaped(asASCII: true) }.joined()
        return (isPrefix ? "P:" : "K:") + text
    }
}
