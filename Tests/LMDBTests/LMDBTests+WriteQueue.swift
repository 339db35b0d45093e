import Foundation
import LMDB
import XCTest

extension LMDBTests {
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
