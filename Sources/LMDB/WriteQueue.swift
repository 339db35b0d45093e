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
        let condition = NSCondition()
        var pending: [Job] = []
        var stopping = false
        let maxBatch: Int
        var committedBatches = 0
        var committedJobs = 0

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
                try txn.commit()
            } catch {
                batch.forEach { $0.complete(.failure(error)) }
                return true
            }
            condition.lock()
            committedBatches += 1
            committedJobs += batch.count
            condition.unlock()
            batch.forEach { $0.complete(.success(())) }
            return true
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
                try parent.commit()
                condition.lock()
                committedBatches += 1
                committedJobs += batch.count
                condition.unlock()
                for (job, result) in zip(batch, results) { job.complete(result) }
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

/// Holds a job's result between the writer thread and the resumed caller.
/// Only the writer thread writes it, and it is read after the commit completes.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
