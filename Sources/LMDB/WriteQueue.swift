import Foundation

/// Runs every write transaction of an ``Environment`` on one dedicated thread, with group commit.
///
/// LMDB allows one write transaction at a time and binds it to the thread that began it, so
/// writers from many Swift tasks are funnelled here. Jobs that arrive while a commit is in
/// progress are gathered into the next batch: each job runs in its own nested transaction (so
/// one failing job rolls back alone), then the batch commits once, durably. A job's caller is
/// resumed only after that commit returns, so a result means the change is on disk.
public final class WriteQueue: @unchecked Sendable {
    private struct Job {
        let run: (Transaction) throws -> Void
        let complete: (Result<Void, any Error>) -> Void
    }

    private let environment: Environment
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var stopping = false
    private var thread: Thread?
    private let maxBatch: Int

    /// Counters for tests and metrics: batches committed and jobs run.
    public private(set) var committedBatches = 0
    public private(set) var committedJobs = 0

    /// - Parameter maxBatch: the most jobs that share one commit.
    public init(environment: Environment, maxBatch: Int = 512) {
        self.environment = environment
        self.maxBatch = maxBatch
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "lmdb-writer"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Runs `body` inside a write transaction and returns once its batch is durably committed.
    /// If `body` throws, its changes are rolled back and the error is rethrown; other jobs of
    /// the batch are unaffected.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let box = ResultBox<T>()
            let job = Job(
                run: { txn in box.value = try body(txn) },
                complete: { result in
                    switch result {
                    case .success: continuation.resume(returning: box.value!)
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                }
            )
            condition.lock()
            if stopping {
                condition.unlock()
                continuation.resume(throwing: LMDBError(code: 9 /* EBADF: queue stopped */))
                return
            }
            pending.append(job)
            condition.signal()
            condition.unlock()
        }
    }

    /// Finishes the jobs already queued, then stops the writer thread.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
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

    private func runBatch(_ batch: [Job]) {
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
            committedBatches += 1
            committedJobs += batch.count
            for (job, result) in zip(batch, results) { job.complete(result) }
        } catch {
            // Nothing of this batch reached the disk: every job fails, even those that ran.
            for (job, result) in zip(batch, results) {
                if case .failure = result { job.complete(result) } else { job.complete(.failure(error)) }
            }
        }
    }
}

/// Holds a job's result between the writer thread and the resumed caller.
/// Only the writer thread writes it, and it is read after the commit completes.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
