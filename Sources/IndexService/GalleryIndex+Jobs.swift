import Foundation
import LMDB

/// The durable queue of the thumbnail pipeline (the `jobs` database) and the recording of
/// its results.
extension GalleryIndex {
    /// Within a write transaction: `job` becomes the pending work for `key`, replacing any.
    func enqueue(_ txn: Transaction, key: String, _ job: DerivativeJob) throws {
        try txn.put(jobs, key: Array(key.utf8), value: Self.encode(job))
    }

    /// Up to `limit` pending jobs, in key order, skipping the keys in `excluding` (being worked on).
    public func pendingJobs(excluding: Set<String>, limit: Int) throws -> [(key: String, job: DerivativeJob)] {
        guard limit > 0 else { return [] }
        return try environment.read { txn in
            let cursor = try txn.cursor(jobs)
            var result: [(key: String, job: DerivativeJob)] = []
            var entry = try cursor.first()
            while let e = entry, result.count < limit {
                let key = String(decoding: e.key, as: UTF8.self)
                if !excluding.contains(key) { result.append((key, try Self.decode(DerivativeJob.self, e.value))) }
                entry = try cursor.next()
            }
            return result
        }
    }

    /// How many jobs are pending (the queue depth metric).
    public func pendingJobCount() throws -> Int {
        try environment.read { txn in try txn.count(jobs) }
    }

    /// Records what the pipeline made of version `derived.etag` of `key`, and retires `job`
    /// unless a newer one replaced it meanwhile. A result for a version the index no longer
    /// holds (overwritten or removed meanwhile) is dropped: the newer job takes over.
    public func complete(_ job: DerivativeJob, key: String, derived: DerivedImage?) async throws {
        try await writer.write { [self] txn in
            if let derived, var image = try record(txn, key: key), !image.deleted, image.etag == derived.etag {
                image.derived = derived
                try txn.put(images, key: Array(key.utf8), value: Self.encode(image))
            }
            let stored = try Array(key.utf8).withUnsafeBytes { try txn.get(jobs, key: $0) }.map { try Self.decode(DerivativeJob.self, $0) }
            if stored == job { _ = try txn.delete(jobs, key: Array(key.utf8)) }
        }
    }

    /// Queues derivatives for every image that has none for its current version and no job:
    /// run when the pipeline starts, so images indexed before it existed get them too.
    /// - Returns: how many jobs were queued.
    @discardableResult
    public func enqueueMissingDerivatives() async throws -> Int {
        try await writer.write { [self] txn in
            var missing: [ImageRecord] = []
            let cursor = try txn.cursor(images)
            var entry = try cursor.first()
            while let e = entry {
                let image = try Self.decode(ImageRecord.self, e.value)
                if !image.deleted, image.currentDerived == nil,
                   try Array(image.key.utf8).withUnsafeBytes({ try txn.get(jobs, key: $0) }) == nil {
                    missing.append(image)
                }
                entry = try cursor.next()
            }
            for image in missing { try enqueue(txn, key: image.key, DerivativeJob(kind: .make, etag: image.etag)) }
            return missing.count
        }
    }
}
