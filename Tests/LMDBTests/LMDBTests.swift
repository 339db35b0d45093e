import Foundation
import LMDB
import XCTest

/// A test error that jobs throw on purpose.
struct Planned: Error, Equatable {
    let tag: Int
}

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

/// memcmp order with "shorter prefix first": what LMDB's default comparator does. Written out
/// by hand instead of relying on any library ordering.
func byteOrderLess(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var i = 0
    while i < a.count && i < b.count {
        if a[i] != b[i] { return a[i] < b[i] }
        i += 1
    }
    return a.count < b.count
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// The type of the file system holding `path` (its longest mount point prefix in /proc/mounts).
func fileSystemType(of path: String) -> String? {
    guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return nil }
    var best: (point: String, type: String)?
    for line in mounts.split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count >= 3 else { continue }
        let point = String(fields[1])
        let covers = path == point || path.hasPrefix(point == "/" ? "/" : point + "/")
        if covers && point.count >= (best?.point.count ?? -1) { best = (point, String(fields[2])) }
    }
    return best?.type
}

/// Named flags set from any thread, polled by the test.
final class Flags: @unchecked Sendable {
    private let lock = NSLock()
    private var names: Set<String> = []

    func set(_ name: String) { lock.withLock { _ = names.insert(name) } }

    func waitFor(_ name: String) async throws {
        let deadline = Date().addingTimeInterval(10)
        while !lock.withLock({ names.contains(name) }) {
            guard Date() < deadline else { throw Planned(tag: -1) }
            try await Task.sleep(nanoseconds: 1_000_000)
        }
    }
}

final class LMDBTests: XCTestCase {
    /// A fresh directory for one test, removed when the test ends.
    func makeDirectory() -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("shoebox-lmdbtests-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Waits until the object behind `probe` has been deallocated (the writer thread lets go of
    /// its queue asynchronously after `shutdown()`).
    func waitForRelease(_ probe: () -> AnyObject?, file: StaticString = #filePath, line: UInt = #line) async {
        let deadline = Date().addingTimeInterval(10)
        while probe() != nil && Date() < deadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTAssertNil(probe(), "object still alive 10 s after release", file: file, line: line)
    }

    /// Runs `body` with a fresh environment (database "t") and its write queue, shuts the
    /// queue down, waits until both are released, and reopens the environment so the caller
    /// checks what reached the disk.
    func writeThenReopen(mapSize: Int, _ body: (Environment, Database, WriteQueue) async throws -> Void) async throws -> (Environment, Database) {
        let path = makeDirectory()
        weak var probe: Environment?
        do {
            let env = try Environment(path: path, mapSize: mapSize)
            probe = env
            let queue = WriteQueue(environment: env)
            try await body(env, try env.openDatabase("t"), queue)
            queue.shutdown()
        }
        await waitForRelease { probe }
        let env = try Environment(path: path, mapSize: mapSize)
        return (env, try env.openDatabase("t"))
    }

    // MARK: - Basic operations

    func testPutGetDeleteRoundTrip() throws {
        let env = try Environment(path: makeDirectory(), mapSize: 16 << 20)
        let db = try env.openDatabase("t")
        let other = try env.openDatabase("other")

        let binaryKey: [UInt8] = [0x00, 0xFF, 0x00, 0x7F]
        let binaryValue: [UInt8] = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let reserved: [UInt8] = (0..<300).map { UInt8(truncatingIfNeeded: 255 - $0) }
        try env.writeSynchronously { txn in
            try txn.put(db, key: bytes("k1"), value: bytes("v1"))
            try txn.put(db, key: binaryKey, value: binaryValue)
            try txn.put(db, key: bytes("empty"), value: [])
            try txn.putReserved(db, key: bytes("reserved"), size: reserved.count) { buffer in
                buffer.copyBytes(from: reserved)
            }
            try txn.put(other, key: bytes("k1"), value: bytes("other-v1"))
        }

        try env.read { txn in
            XCTAssertTrue(txn.isReadOnly)
            XCTAssertEqual(try txn.get(db, key: bytes("k1")), bytes("v1"))
            XCTAssertEqual(try txn.get(db, key: binaryKey), binaryValue)
            XCTAssertEqual(try txn.get(db, key: bytes("empty")), [])
            XCTAssertEqual(try txn.get(db, key: bytes("reserved")), reserved)
            XCTAssertNil(try txn.get(db, key: bytes("k2")))
            XCTAssertNil(try txn.get(db, key: bytes("k")), "a prefix of a key is not the key")
            // Databases are separate namespaces.
            XCTAssertEqual(try txn.get(other, key: bytes("k1")), bytes("other-v1"))
            XCTAssertNil(try txn.get(other, key: binaryKey))
        }

        // noOverwrite refuses an existing key and leaves the value alone.
        XCTAssertThrowsError(try env.writeSynchronously { txn in
            try txn.put(db, key: bytes("k1"), value: bytes("changed"), noOverwrite: true)
        }) { error in
            XCTAssertEqual(error as? LMDBError, .keyExists)
        }
        try env.writeSynchronously { txn in
            try txn.put(db, key: bytes("k3"), value: bytes("v3"), noOverwrite: true)
            try txn.put(db, key: bytes("k1"), value: bytes("v1b"))  // plain put overwrites
        }
        try env.read { txn in
            XCTAssertEqual(try txn.get(db, key: bytes("k1")), bytes("v1b"))
            XCTAssertEqual(try txn.get(db, key: bytes("k3")), bytes("v3"))
        }

        // A body that throws commits nothing.
        XCTAssertThrowsError(try env.writeSynchronously { txn in
            try txn.put(db, key: bytes("ghost"), value: bytes("x"))
            _ = try txn.delete(db, key: bytes("k1"))
            throw Planned(tag: 1)
        }) { error in
            XCTAssertEqual(error as? Planned, Planned(tag: 1))
        }
        try env.read { txn in
            XCTAssertNil(try txn.get(db, key: bytes("ghost")))
            XCTAssertEqual(try txn.get(db, key: bytes("k1")), bytes("v1b"))
        }

        // delete reports whether the key was there.
        let (first, second) = try env.writeSynchronously { txn in
            (try txn.delete(db, key: bytes("k1")), try txn.delete(db, key: bytes("k1")))
        }
        XCTAssertTrue(first)
        XCTAssertFalse(second)
        XCTAssertFalse(try env.writeSynchronously { txn in try txn.delete(db, key: bytes("never")) })
        try env.read { txn in
            XCTAssertNil(try txn.get(db, key: bytes("k1")))
            XCTAssertEqual(try txn.get(db, key: bytes("k3")), bytes("v3"))
            XCTAssertEqual(try txn.get(other, key: bytes("k1")), bytes("other-v1"), "delete in one db leaves the other")
        }
    }

    func testKeySizeLimits() throws {
        let env = try Environment(path: makeDirectory(), mapSize: 16 << 20)
        let db = try env.openDatabase("t")
        // LMDB's default build: 511 bytes.
        XCTAssertEqual(env.maxKeySize, 511)
        let longest = [UInt8](repeating: 0x61, count: env.maxKeySize)
        try env.writeSynchronously { txn in try txn.put(db, key: longest, value: bytes("ok")) }
        XCTAssertEqual(try env.read { txn in try txn.get(db, key: longest) }, bytes("ok"))

        XCTAssertThrowsError(try env.writeSynchronously { txn in
            try txn.put(db, key: longest + [0x61], value: bytes("too long"))
        }) { error in
            XCTAssertEqual(error as? LMDBError, .badValueSize)
        }
        XCTAssertThrowsError(try env.writeSynchronously { txn in
            try txn.put(db, key: [], value: bytes("empty key"))
        }) { error in
            XCTAssertEqual(error as? LMDBError, .badValueSize)
        }
    }

    func testErrorClassification() {
        XCTAssertTrue(LMDBError.mapFull.isOutOfSpace)
        XCTAssertTrue(LMDBError(code: 28).isOutOfSpace, "ENOSPC")
        XCTAssertFalse(LMDBError.notFound.isOutOfSpace)
        XCTAssertFalse(LMDBError.keyExists.isOutOfSpace)
        XCTAssertFalse(LMDBError(code: 9).isOutOfSpace)
        // Codes from lmdb.h.
        XCTAssertEqual(LMDBError.mapFull.code, -30792)
        XCTAssertEqual(LMDBError.notFound.code, -30798)
        XCTAssertEqual(LMDBError.keyExists.code, -30799)
        XCTAssertEqual(LMDBError.badValueSize.code, -30781)
        XCTAssertTrue(LMDBError.mapFull.description.contains("MDB_MAP_FULL"), LMDBError.mapFull.description)
    }

    // MARK: - Cursor

    func testCursorOrderIsByteOrder() throws {
        let env = try Environment(path: makeDirectory(), mapSize: 16 << 20)
        let db = try env.openDatabase("t")
        var rng = SplitMix64(state: 42)
        // Bytes chosen around the interesting boundaries (0x00, ASCII/high bit, 0xFF).
        let alphabet: [UInt8] = [0x00, 0x01, 0x2F, 0x30, 0x61, 0x7F, 0x80, 0xC3, 0xFE, 0xFF]
        var keySet = Set<[UInt8]>()
        // Keys that are prefixes of each other.
        for k: [UInt8] in [[0x61], [0x61, 0x00], [0x61, 0x00, 0x00], [0x61, 0x62], [0x61, 0xFF], [0xFF], [0xFF, 0xFF], [0x00]] {
            keySet.insert(k)
        }
        while keySet.count < 400 {
            let length = Int.random(in: 1...10, using: &rng)
            keySet.insert((0..<length).map { _ in
                Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            })
        }
        var insertOrder = Array(keySet)
        insertOrder.shuffle(using: &rng)
        try env.writeSynchronously { txn in
            for (i, key) in insertOrder.enumerated() { try txn.put(db, key: key, value: [UInt8(i & 0xFF)] + key) }
        }
        let expected = keySet.sorted(by: byteOrderLess)

        try env.read { txn in
            let cursor = try txn.cursor(db)
            // Forward walk.
            var forward: [[UInt8]] = []
            var entry = try cursor.first()
            while let e = entry {
                forward.append(Array(e.key))
                XCTAssertEqual(Array(e.value.dropFirst()), Array(e.key), "value belongs to its key")
                entry = try cursor.next()
            }
            XCTAssertEqual(forward, expected)

            // Backward walk from the last entry.
            var backward: [[UInt8]] = []
            entry = try cursor.last()
            XCTAssertEqual(entry.map { Array($0.key) }, expected.last)
            while let e = entry {
                backward.append(Array(e.key))
                entry = try cursor.previous()
            }
            XCTAssertEqual(backward, expected.reversed())

            // seek(atOrAfter:) lands on the first key >= probe.
            var probes: [[UInt8]] = [[], [0x00], [0x61], [0x61, 0x00, 0x00, 0x00], [0xFF, 0xFF], [0xFF, 0xFF, 0xFF], [0x80]]
            probes += expected.prefix(20)
            for _ in 0..<200 {
                let length = Int.random(in: 1...6, using: &rng)
                probes.append((0..<length).map { _ in alphabet.randomElement(using: &rng)! })
            }
            for probe in probes where !probe.isEmpty {
                let want = expected.first { !byteOrderLess($0, probe) }
                let got = try cursor.seek(atOrAfter: probe).map { Array($0.key) }
                XCTAssertEqual(got, want, "seek(atOrAfter: \(probe))")
                // next() continues from the sought position.
                if let want, let index = expected.firstIndex(of: want) {
                    let after = try cursor.next().map { Array($0.key) }
                    XCTAssertEqual(after, index + 1 < expected.count ? expected[index + 1] : nil)
                }
            }
        }

        // deleteCurrent removes exactly the entries under the cursor.
        let doomed = Set(expected.filter { $0.first == 0x61 })
        XCTAssertFalse(doomed.isEmpty)
        try env.writeSynchronously { txn in
            let cursor = try txn.cursor(db)
            var entry = try cursor.seek(atOrAfter: [0x61])
            while let e = entry, e.key.first == 0x61 {
                try cursor.deleteCurrent()
                entry = try cursor.seek(atOrAfter: [0x61])
            }
        }
        let remaining: [[UInt8]] = try env.read { txn in
            let cursor = try txn.cursor(db)
            var out: [[UInt8]] = []
            var entry = try cursor.first()
            while let e = entry { out.append(Array(e.key)); entry = try cursor.next() }
            return out
        }
        XCTAssertEqual(remaining, expected.filter { !doomed.contains($0) })
    }

    func testEmptyDatabaseCursor() throws {
        let env = try Environment(path: makeDirectory(), mapSize: 16 << 20)
        let db = try env.openDatabase("empty")
        try env.read { txn in
            let cursor = try txn.cursor(db)
            XCTAssertNil(try cursor.first())
            XCTAssertNil(try cursor.last())
            XCTAssertNil(try cursor.seek(atOrAfter: [0x00]))
        }
    }

    // MARK: - Snapshots

    func testReadSnapshotIsIsolatedFromLaterCommits() async throws {
        let env = try Environment(path: makeDirectory(), mapSize: 16 << 20)
        let db = try env.openDatabase("t")
        let queue = WriteQueue(environment: env)
        defer { queue.shutdown() }
        try await queue.write { txn in try txn.put(db, key: bytes("k"), value: bytes("old")) }

        let snapshot = try env.beginRead()
        // Commit a change while the snapshot is open; the await may move this task to another
        // thread, which MDB_NOTLS allows.
        try await queue.write { txn in
            try txn.put(db, key: bytes("k"), value: bytes("new"))
            try txn.put(db, key: bytes("added"), value: bytes("x"))
        }
        XCTAssertEqual(try snapshot.get(db, key: bytes("k")), bytes("old"))
        XCTAssertNil(try snapshot.get(db, key: bytes("added")))
        snapshot.abort()
        try env.read { txn in
            XCTAssertEqual(try txn.get(db, key: bytes("k")), bytes("new"))
            XCTAssertEqual(try txn.get(db, key: bytes("added")), bytes("x"))
        }
    }
}
