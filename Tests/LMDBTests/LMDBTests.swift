import Foundation
import LMDB
import XCTest

/// A test error that jobs throw on purpose.
private struct Planned: Error, Equatable {
    let tag: Int
}

/// Deterministic pseudo-random numbers (SplitMix64), so failures reproduce.
private struct SplitMix64: RandomNumberGenerator {
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
private func byteOrderLess(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var i = 0
    while i < a.count && i < b.count {
        if a[i] != b[i] { return a[i] < b[i] }
        i += 1
    }
    return a.count < b.count
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// The type of the file system holding `path` (its longest mount point prefix in /proc/mounts).
private func fileSystemType(of path: String) -> String? {
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
private final class Flags: @unchecked Sendable {
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
    private func makeDirectory() -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("shoebox-lmdbtests-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Waits until the object behind `probe` has been deallocated (the writer thread lets go of
    /// its queue asynchronously after `shutdown()`).
    private func waitForRelease(_ probe: () -> AnyObject?, file: StaticString = #filePath, line: UInt = #line) async {
        let deadline = Date().addingTimeInterval(10)
        while probe() != nil && Date() < deadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTAssertNil(probe(), "object still alive 10 s after release", file: file, line: line)
    }

    /// Runs `body` with a fresh environment (database "t") and its write queue, shuts the
    /// queue down, waits until both are released, and reopens the environment so the caller
    /// checks what reached the disk.
    private func writeThenReopen(mapSize: Int, _ body: (Environment, Database, WriteQueue) async throws -> Void) async throws -> (Environment, Database) {
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

    // MARK: - WriteQueue

    func testFailingJobRollsBackAloneWithinItsBatch() async throws {
        let env = try Environment(path: makeDirectory(), mapSize: 16 << 20)
        let db = try env.openDatabase("t")
        let queue = WriteQueue(environment: env)
        defer { queue.shutdown() }
        try await queue.write { txn in try txn.put(db, key: bytes("pre"), value: bytes("kept")) }
        let batchesBefore = queue.committedBatches
        let jobsBefore = queue.committedJobs

        // Hold the writer thread in a job so that the next two queue up behind it and run as
        // one batch.
        let gate = DispatchSemaphore(value: 0)
        let progress = Flags()
        let blocker = Task {
            try await queue.write { txn in
                progress.set("blocker running")
                gate.wait()
                try txn.put(db, key: bytes("blocker"), value: bytes("b"))
            }
        }
        // The blocker's batch has started: everything queued from now on waits for the next one.
        try await progress.waitFor("blocker running")
        let failing = Task {
            progress.set("failing submitted")
            return try await queue.write { txn -> Int in
                try txn.put(db, key: bytes("a"), value: bytes("from failing job"))
                try txn.put(db, key: bytes("pre"), value: bytes("overwritten by failing job"))
                _ = try txn.delete(db, key: bytes("blocker"))
                throw Planned(tag: 7)
            }
        }
        try await progress.waitFor("failing submitted")
        try await Task.sleep(nanoseconds: 50_000_000)  // from submitted to queued
        let succeeding = Task {
            progress.set("good submitted")
            return try await queue.write { txn -> [UInt8]? in
                try txn.put(db, key: bytes("b"), value: bytes("from good job"))
                // What the failing job wrote (earlier in the same batch) must be gone already.
                return try txn.get(db, key: bytes("a"))
            }
        }
        try await progress.waitFor("good submitted")
        try await Task.sleep(nanoseconds: 50_000_000)
        gate.signal()

        try await blocker.value
        do {
            _ = try await failing.value
            XCTFail("the failing job must rethrow its error")
        } catch {
            XCTAssertEqual(error as? Planned, Planned(tag: 7))
        }
        let seenByGoodJob = try await succeeding.value
        XCTAssertNil(seenByGoodJob, "a rolled-back job's writes are invisible to the next job of the batch")

        XCTAssertEqual(queue.committedJobs - jobsBefore, 3)
        XCTAssertEqual(queue.committedBatches - batchesBefore, 2, "blocker alone, then the two queued jobs together")

        try env.read { txn in
            XCTAssertNil(try txn.get(db, key: bytes("a")))
            XCTAssertEqual(try txn.get(db, key: bytes("pre")), bytes("kept"))
            XCTAssertEqual(try txn.get(db, key: bytes("blocker")), bytes("b"), "the failing job's delete is rolled back")
            XCTAssertEqual(try txn.get(db, key: bytes("b")), bytes("from good job"))
        }
    }

    func testManyConcurrentWritersShareCommits() async throws {
        let env = try Environment(path: makeDirectory(), mapSize: 64 << 20)
        let db = try env.openDatabase("t")
        let queue = WriteQueue(environment: env)
        defer { queue.shutdown() }
        let count = 500

        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for i in 0..<count {
                group.addTask {
                    let returned = try await queue.write { txn -> Int in
                        try txn.put(db, key: bytes(String(format: "key-%04d", i)), value: bytes("value-\(i)"))
                        return i * 3
                    }
                    return (i, returned)
                }
            }
            var all: [(Int, Int)] = []
            for try await r in group { all.append(r) }
            return all
        }
        XCTAssertEqual(results.count, count)
        for (i, returned) in results { XCTAssertEqual(returned, i * 3, "each caller gets its own job's result") }

        try env.read { txn in
            for i in 0..<count {
                XCTAssertEqual(try txn.get(db, key: bytes(String(format: "key-%04d", i))), bytes("value-\(i)"))
            }
        }
        XCTAssertEqual(queue.committedJobs, count)
        XCTAssertGreaterThan(queue.committedBatches, 0)
        XCTAssertLessThan(queue.committedBatches, queue.committedJobs, "group commit: some batch held several jobs")
    }

    /// Large commits get their pages pushed to disk early, small ones are left alone, and the
    /// data of both reads back after the queue and environment are gone.
    func testLargeCommitsStartWritebackSmallOnesDoNot() async throws {
        let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        let (env, db) = try await writeThenReopen(mapSize: 64 << 20) { _, db, queue in
            for i in 0..<20 {
                try await queue.write { txn in try txn.put(db, key: bytes("small-\(i)"), value: bytes("v\(i)")) }
            }
            XCTAssertEqual(queue.writebackCalls, 0, "small commits must not wake the writeback thread")
            try await queue.write { txn in try txn.put(db, key: bytes("big-a"), value: Array(big[..<(2 << 20)])) }
            try await queue.write { txn in try txn.put(db, key: bytes("big-b"), value: big) }
            let deadline = Date().addingTimeInterval(10)
            while queue.writebackCalls < 2 && Date() < deadline { try await Task.sleep(nanoseconds: 1_000_000) }
            XCTAssertGreaterThanOrEqual(queue.writebackCalls, 2, "each large commit gets at least one writeback call")
        }
        try env.read { txn in
            XCTAssertEqual(try txn.get(db, key: bytes("big-a")), Array(big[..<(2 << 20)]))
            XCTAssertEqual(try txn.get(db, key: bytes("big-b")), big)
            XCTAssertEqual(try txn.get(db, key: bytes("small-19")), bytes("v19"))
        }
    }

    /// Once committed, the pages of large values (object chunks) leave the page cache and the
    /// pages of small values stay; both read back intact.
    func testLargeValuesLeaveThePageCacheOnceCommitted() async throws {
        // On a disk-backed file system: /tmp may be tmpfs, whose pages never leave memory.
        var path = makeDirectory()
        if fileSystemType(of: path) == "tmpfs" {
            path = FileManager.default.currentDirectoryPath + "/.build/lmdbtests-\(UUID().uuidString)"
            addTeardownBlock { [path] in try? FileManager.default.removeItem(atPath: path) }
        }
        try XCTSkipIf(fileSystemType(of: path) == "tmpfs", "no disk-backed directory to test in")
        let env = try Environment(path: path, mapSize: 64 << 20)
        let db = try env.openDatabase("t")
        let queue = WriteQueue(environment: env)
        defer { queue.shutdown() }
        let big = (0..<(16 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 9) }
        let edge = Array(big[..<Transaction.largeValueSize])
        let belowEdge = Array(big[..<(Transaction.largeValueSize - 1)])
        try await queue.write { txn in
            try txn.put(db, key: bytes("big"), value: big)
            try txn.put(db, key: bytes("edge"), value: edge)
            try txn.put(db, key: bytes("below"), value: belowEdge)
            try txn.put(db, key: bytes("small"), value: bytes("tiny"))
        }
        // A large value fills overflow pages of its own, the first starting with a 16-byte header.
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        func pages(_ count: Int) -> Int { (16 + count + page - 1) / page * page }
        let expected = pages(big.count) + pages(edge.count)
        // Generous: on a machine busy writing back other data, the drop after the commit waited
        // over 10 s once.
        let deadline = Date().addingTimeInterval(60)
        while queue.droppedBytes < expected && Date() < deadline { try await Task.sleep(nanoseconds: 1_000_000) }
        XCTAssertEqual(queue.droppedBytes, expected, "exactly the pages of the values of at least largeValueSize bytes")

        /// How many of the pages under `value` are in the page cache (mincore does not fault them in).
        func residentPages(_ value: UnsafeRawBufferPointer) -> (resident: Int, total: Int) {
            let start = Int(bitPattern: value.baseAddress!) / page * page
            let end = (Int(bitPattern: value.baseAddress!) + value.count + page - 1) / page * page
            var vector = [UInt8](repeating: 0, count: (end - start) / page)
            XCTAssertEqual(mincore(UnsafeMutableRawPointer(bitPattern: start), end - start, &vector), 0)
            return (vector.filter { $0 & 1 != 0 }.count, vector.count)
        }
        try env.read { txn in
            // The kernel drops only whole folios inside the range, and a large folio can hold
            // the value's first or last pages together with a neighbour's: those may stay.
            let bigPages = residentPages(try XCTUnwrap(try bytes("big").withUnsafeBytes { try txn.get(db, key: $0) }))
            XCTAssertLessThanOrEqual(bigPages.resident, bigPages.total / 4, "\(bigPages.resident) of \(bigPages.total) pages still cached")
            let belowPages = residentPages(try XCTUnwrap(try bytes("below").withUnsafeBytes { try txn.get(db, key: $0) }))
            XCTAssertEqual(belowPages.resident, belowPages.total, "a value under the threshold stays cached")
            let smallPages = residentPages(try XCTUnwrap(try bytes("small").withUnsafeBytes { try txn.get(db, key: $0) }))
            XCTAssertEqual(smallPages.resident, smallPages.total, "small values and the tree stay cached")
            XCTAssertEqual(try txn.get(db, key: bytes("big")), big)
            XCTAssertEqual(try txn.get(db, key: bytes("edge")), edge)
            XCTAssertEqual(try txn.get(db, key: bytes("below")), belowEdge)
        }
    }

    func testWriteQueueDataSurvivesReopen() async throws {
        let (env, db) = try await writeThenReopen(mapSize: 16 << 20) { _, db, queue in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<50 {
                    group.addTask {
                        try await queue.write { txn in try txn.put(db, key: bytes("k\(i)"), value: bytes("v\(i)")) }
                    }
                }
                try await group.waitForAll()
            }
            try await queue.write { txn in _ = try txn.delete(db, key: bytes("k0")) }
            queue.shutdown()
            // After shutdown, new writes are refused.
            do {
                try await queue.write { txn in try txn.put(db, key: bytes("late"), value: bytes("x")) }
                XCTFail("write after shutdown must fail")
            } catch {
                XCTAssertEqual((error as? LMDBError)?.code, 9)
            }
        }
        try env.read { txn in
            XCTAssertNil(try txn.get(db, key: bytes("k0")))
            XCTAssertNil(try txn.get(db, key: bytes("late")))
            for i in 1..<50 {
                XCTAssertEqual(try txn.get(db, key: bytes("k\(i)")), bytes("v\(i)"))
            }
        }
    }

    /// A queue that is shut down and released at once must not crash. Regression test: an
    /// earlier WriteQueue started its thread with `Thread { [unowned self] in self.loop() }`;
    /// a queue released before that thread got to run crashed the process ("Attempted to read an
    /// unowned reference but object ... was already destroyed"). Runs the reproduction in a
    /// child process so that a crash does not take the whole test run down.
    func testWriteQueueReleasedRightAfterCreation() throws {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["LMDBTests.LMDBTests/testHelperReleaseWriteQueuesImmediately"]
        var environment = ProcessInfo.processInfo.environment
        environment["SHOEBOX_WRITEQUEUE_REPRO"] = "1"
        environment["SWIFT_BACKTRACE"] = "enable=no"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertTrue(text.contains("testHelperReleaseWriteQueuesImmediately"), "the child did not run the helper:\n\(text)")
        let crashLine = text.split(separator: "\n").first { $0.contains("Fatal error") } ?? ""
        XCTAssertEqual(process.terminationReason, .exit, "child process killed by signal \(process.terminationStatus): \(crashLine)")
        XCTAssertEqual(process.terminationStatus, 0, "child exit status: \(crashLine)")
    }

    /// Does nothing unless run as the child of ``testWriteQueueReleasedRightAfterCreation()``.
    func testHelperReleaseWriteQueuesImmediately() throws {
        guard ProcessInfo.processInfo.environment["SHOEBOX_WRITEQUEUE_REPRO"] == "1" else { return }
        let env = try Environment(path: makeDirectory(), mapSize: 1 << 20)
        for _ in 0..<200 {
            let queue = WriteQueue(environment: env)
            queue.shutdown()
        }
        // Give the threads time to start and read their reference to the queue.
        Thread.sleep(forTimeInterval: 1)
    }

    func testMapFullIsOutOfSpaceAndEnvironmentRecovers() async throws {
        let env = try Environment(path: makeDirectory(), mapSize: 1 << 20)
        let db = try env.openDatabase("t")
        let queue = WriteQueue(environment: env)
        defer { queue.shutdown() }

        func value(_ i: Int, size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ i &* 31) } }
        let bigSize = 32 << 10
        var stored: [Int] = []
        var failure: (any Error)?
        for i in 0..<200 {
            do {
                let v = value(i, size: bigSize)
                try await queue.write { txn in try txn.put(db, key: bytes("big-\(i)"), value: v) }
                stored.append(i)
            } catch {
                failure = error
                break
            }
        }
        // 1 MiB holds at most 32 values of 32 KiB, minus pages for the tree and the meta pages.
        XCTAssertGreaterThan(stored.count, 5)
        XCTAssertLessThan(stored.count, 32)
        let lmdbError = try XCTUnwrap(failure as? LMDBError, "expected an LMDBError, got \(String(describing: failure))")
        XCTAssertTrue(lmdbError.isOutOfSpace, "\(lmdbError)")

        // Reads still work and see every committed value.
        try env.read { txn in
            for i in stored { XCTAssertEqual(try txn.get(db, key: bytes("big-\(i)")), value(i, size: bigSize)) }
            XCTAssertNil(try txn.get(db, key: bytes("big-\(stored.count)")))
        }
        // A small write still fits.
        try await queue.write { txn in try txn.put(db, key: bytes("small"), value: bytes("fits")) }
        XCTAssertEqual(try env.read { txn in try txn.get(db, key: bytes("small")) }, bytes("fits"))

        // Freeing space makes room for a big value again (pages are reused after later commits).
        let freed = Array(stored.prefix(3))
        try await queue.write { txn in
            for i in freed { XCTAssertTrue(try txn.delete(db, key: bytes("big-\(i)"))) }
        }
        try await queue.write { txn in try txn.put(db, key: bytes("tick"), value: [1]) }
        let again = value(999, size: bigSize)
        try await queue.write { txn in try txn.put(db, key: bytes("big-again"), value: again) }
        try env.read { txn in
            XCTAssertEqual(try txn.get(db, key: bytes("big-again")), again)
            for i in stored.dropFirst(3) { XCTAssertEqual(try txn.get(db, key: bytes("big-\(i)")), value(i, size: bigSize)) }
        }
    }
}
