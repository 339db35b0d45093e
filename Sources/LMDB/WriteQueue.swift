import CLMDB
import Foundation

/// Runs every write transaction of an ``Environment`` on one dedicated thread, with group commit.
///
/// LMDB allows one write transaction at a time and binds it to the thread that began it, so
/// writers from many Swift tasks are funnelled here. Jobs that arrive while a commit is in
/// progress are gathered into the next batch: each job runs in its own nested transaction (so
/// one failing job rolls back alone), then the batch commits once, durably. A job's caller is
/// resumed only after that commit returns, so a result means the change is on disk.
public final class WriteQueue: @unchecked Sendable {
    /// The state shared with the writer thread. The thread holds the core, not the queue, so
    /// dropping the queue stops the thread (deinit calls shutdown) instead of crashing it.
    private final class Core: @unchecked Sendable {
        struct Job {
            let run: (Transaction) throws -> Void
            let complete: (Result<Void, any Error>) -> Void
        }

        let environment: Environment
        /// Started on the first large commit; used and stopped only by the writer thread.
        var writeback: WritebackPump?
        let condition = NSCondition()
        var pending: [Job] = []
        var stopping = false
        let maxBatch: Int
        var committedBatches = 0
        var committedJobs = 0
        var writebackCalls = 0
        var droppedBytes = 0

        init(environment: Environment, maxBatch: Int) {
            self.environment = environment
            self.maxBatch = maxBatch
        }

        func loop() {
            while true {
                condition.lock()
                while pending.isEmpty && !stopping { condition.wait() }
                if pending.isEmpty && stopping {
                    condition.unlock()
                    writeback?.stop()
                    return
                }
                let take = min(pending.count, maxBatch)
                let batch = Array(pending.prefix(take))
                pending.removeFirst(take)
                condition.unlock()
                runBatch(batch)
            }
        }

        /// Runs `batch` in one transaction without nesting. Returns false, having changed
        /// nothing, when a job threw (the caller then replays with nested transactions).
        func runOptimistically(_ batch: [Job]) -> Bool {
            let txn: Transaction
            do {
                txn = try Transaction(environment: environment, parent: nil, readOnly: false)
            } catch {
                batch.forEach { $0.complete(.failure(error)) }
                return true
            }
            do {
                for job in batch { try job.run(txn) }
            } catch {
                txn.abort()
                if batch.count == 1 {
                    batch[0].complete(.failure(error))
                    return true
                }
                return false
            }
            do {
                try commit(txn)
            } catch {
                batch.forEach { $0.complete(.failure(error)) }
                return true
            }
            count(batch)
            batch.forEach { $0.complete(.success(())) }
            dropLargeValues(of: txn)
            return true
        }

        /// Commits durably; a large commit has its pages pushed to disk while LMDB copies them.
        func commit(_ txn: Transaction) throws {
            guard txn.bytesStored >= WritebackPump.threshold else { return try txn.commit() }
            if writeback == nil, let fd = environment.dataFileDescriptor {
                writeback = WritebackPump(fd: fd) { [weak self] in self?.condition.withLock { self?.writebackCalls += 1 } }
            }
            guard let writeback else { return try txn.commit() }
            writeback.begin()
            defer { writeback.end() }
            try txn.commit()
        }

        func count(_ batch: [Job]) {
            condition.withLock {
                committedBatches += 1
                committedJobs += batch.count
            }
        }

        /// After a durable commit, once its callers are resumed: drops the pages of its large
        /// values from the page cache (see ``Environment/dropFromPageCache(_:)``).
        func dropLargeValues(of txn: Transaction) {
            guard !txn.largeValues.isEmpty else { return }
            let dropped = environment.dropFromPageCache(txn.largeValues)
            condition.withLock { droppedBytes += dropped }
        }

        func runBatch(_ batch: [Job]) {
            // Fast path: every job straight in one transaction. Nested transactions cost a
            // large allocation each in LMDB, and jobs rarely fail; when one does, the whole
            // attempt is thrown away and the batch replayed with one nested transaction per
            // job, so only the failing job is rolled back. Jobs only touch the transaction,
            // so running one twice is harmless.
            if runOptimistically(batch) { return }
            let parent: Transaction
            do {
                parent = try Transaction(environment: environment, parent: nil, readOnly: false)
            } catch {
                batch.forEach { $0.complete(.failure(error)) }
                return
            }
            var results: [Result<Void, any Error>] = []
            results.reserveCapacity(batch.count)
            for job in batch {
                do {
                    let child = try parent.child(environment: environment)
                    do {
                        try job.run(child)
                        try child.commit()
                        results.append(.success(()))
                    } catch {
                        child.abort()
                        results.append(.failure(error))
                    }
                } catch {
                    results.append(.failure(error))
                }
            }
            do {
                try commit(parent)
                count(batch)
                for (job, result) in zip(batch, results) { job.complete(result) }
                dropLargeValues(of: parent)
            } catch {
                // Nothing of this batch reached the disk: every job fails, even those that ran.
                for (job, result) in zip(batch, results) {
                    if case .failure = result { job.complete(result) } else { job.complete(.failure(error)) }
                }
            }
        }
    }

    private let core: Core

    /// Counters for tests and metrics: batches committed and jobs run.
    public var committedBatches: Int { core.condition.withLock { core.committedBatches } }
    public var committedJobs: Int { core.condition.withLock { core.committedJobs } }
    /// How many times large commits had their pages pushed to disk early (see ``WritebackPump``).
    public var writebackCalls: Int { core.condition.withLock { core.writebackCalls } }
    /// Bytes of committed large values whose pages were dropped from the page cache.
    public var droppedBytes: Int { core.condition.withLock { core.droppedBytes } }

    /// - Parameter maxBatch: the most jobs that share one commit.
    public init(environment: Environment, maxBatch: Int = 512) {
        let core = Core(environment: environment, maxBatch: maxBatch)
        self.core = core
        let thread = Thread { core.loop() }
        thread.name = "lmdb-writer"
        thread.stackSize = 8 << 20
        thread.start()
    }

    deinit {
        shutdown()
    }

    /// Runs `body` inside a write transaction and returns once its batch is durably committed.
    /// If `body` throws, its changes are rolled back and the error is rethrown; other jobs of
    /// the batch are unaffected.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let box = ResultBox<T>()
            let job = Core.Job(
                run: { txn in box.value = try body(txn) },
                complete: { result in
                    switch result {
                    case .success: continuation.resume(returning: box.value!)
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                }
            )
            core.condition.lock()
            if core.stopping {
                core.condition.unlock()
                continuation.resume(throwing: LMDBError(code: 9 /* EBADF: queue stopped */))
                return
            }
            core.pending.append(job)
            core.condition.signal()
            core.condition.unlock()
        }
    }

    /// Finishes the jobs already queued, then stops the writer thread.
    public func shutdown() {
        core.condition.lock()
        core.stopping = true
        core.condition.signal()
        core.condition.unlock()
    }
}

/// Overlaps a large commit's copy into the page cache with its write to disk.
///
/// LMDB's commit first copies every dirty page into the page cache (one writev) and only then
/// calls fdatasync. Below the kernel's background-writeback threshold nothing is written until
/// that fdatasync, so for a commit of many megabytes the disk idles while the writer thread
/// copies, then the writer idles while the disk writes. While such a commit runs, this thread
/// asks the kernel every millisecond to start writing out whatever is dirty
/// (sync_file_range(SYNC_FILE_RANGE_WRITE) starts writeback and does not wait for it), so the
/// fdatasync finds most pages already on their way. Durability is unchanged: LMDB still
/// fdatasyncs the data before it writes the meta page, and again after.
final class WritebackPump: @unchecked Sendable {
    /// Commits storing less than this are left alone: a thread wake-up would cost more than it saves.
    static let threshold = 1 << 20
    private let fd: Int32
    private let condition = NSCondition()
    private var active = false
    /// A commit began that the thread has not yet made a call for: even a commit that ends
    /// before the thread wakes gets one (harmless: by then its pages are clean or on their way).
    private var unserved = false
    private var stopping = false
    private var exited = false
    /// Called after each sync_file_range (for tests).
    private let onCall: @Sendable () -> Void

    init(fd: Int32, onCall: @escaping @Sendable () -> Void) {
        self.fd = fd
        self.onCall = onCall
        let thread = Thread { [self] in loop() }
        thread.name = "lmdb-writeback"
        thread.start()
    }

    func begin() {
        condition.withLock {
            active = true
            unserved = true
        }
        condition.broadcast()
    }

    func end() {
        condition.withLock { active = false }
    }

    /// Stops the thread and returns once it has made its last call (the descriptor may be
    /// closed right after).
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !exited { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while true {
            while !active && !unserved && !stopping { condition.wait() }
            if stopping { break }
            unserved = false
            condition.unlock()
            _ = sync_file_range(fd, 0, 0, UInt32(SHOEBOX_SYNC_FILE_RANGE_WRITE))
            onCall()
            usleep(1000)
            condition.lock()
        }
        exited = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Holds a job's result between the writer thread and the resumed caller.
/// Only the writer thread writes it, and it is read after the commit completes.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
