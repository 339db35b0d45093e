import Digests
public import Foundation
import LMDB

/// One object body being written: bytes are cut into chunks as they arrive and written to
/// LMDB in batches, under a staging record; ``commit(metadata:checksum:ownerId:condition:)``
/// publishes the object in one transaction. Until then no reader can see it, and if the upload
/// is discarded (or the process dies) its chunks are removed.
///
/// Used by one task at a time; not thread-safe.
public final class LMDBObjectUpload: ObjectUpload, @unchecked Sendable {
    let store: LMDBObjectStore
    public let bucket: BucketRecord
    public let key: String
    let blobId: UInt64
    private let chunkSize: Int
    /// Full chunks are written once this many are pending, bounding memory per upload.
    private let flushChunks: Int
    private var current: [UInt8]
    private var pending: [[UInt8]] = []
    private var chunksWritten: UInt32 = 0
    private var staged = false
    private var done = false
    /// A batch failed to reach the store: the body has a gap, so it can never be committed.
    private var failed = false
    /// The batch being written while the next one fills: at most one, so memory stays bounded
    /// at two batches per upload, and receiving overlaps with the write queue's work.
    private var inFlight: Task<Void, any Error>?
    private let md5 = Digest(.md5)
    /// Bytes received so far.
    public private(set) var size: UInt64 = 0

    init(store: LMDBObjectStore, bucket: BucketRecord, key: String, chunkSize: Int = LMDBObjectStore.chunkSize, flushChunks: Int = 4) {
        self.store = store
        self.bucket = bucket
        self.key = key
        self.blobId = store.allocateBlobId()
        self.chunkSize = chunkSize
        self.flushChunks = flushChunks
        self.current = []
    }

    deinit {
        if staged && !done {
            // Not committed and not discarded (e.g. the task was cancelled): clean up in the
            // background, after a batch still being written has landed.
            let (store, blob, count, inFlight) = (store, blobId, chunksWritten, inFlight)
            Task {
                _ = try? await inFlight?.value
                try? await store.removeStaged(blob: blob, chunks: count)
            }
        }
    }

    /// Appends body bytes (copied). Call ``flushIfNeeded()`` afterwards to bound memory.
    public func append(_ bytes: UnsafeRawBufferPointer) {
        md5.update(bytes)
        size += UInt64(bytes.count)
        var rest = bytes[...]
        while !rest.isEmpty {
            let take = min(chunkSize - current.count, rest.count)
            if current.count + take > current.capacity {
                // A small body gets a small buffer; once a body outgrows it, every chunk is
                // allocated at full size at once (growing by doubling copies it again and again).
                let firstBuffer = size == UInt64(bytes.count) && current.isEmpty
                current.reserveCapacity(firstBuffer ? min(chunkSize, max(take, 4096)) : chunkSize)
            }
            current.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest.prefix(take)))
            rest = rest.dropFirst(take)
            if current.count == chunkSize {
                pending.append(current)
                current = []
            }
        }
    }

    /// Starts writing pending full chunks when enough have gathered; waits only for the batch
    /// before (an error writing that one is thrown here, or by the commit).
    public func flushIfNeeded() async throws {
        guard pending.count >= flushChunks, !failed else { return }
        try await landInFlight()
        let chunks = pending
        pending = []
        let (db, stagingDb, blob, first) = (store.chunks, store.staging, blobId, chunksWritten)
        // Counted now: the next batch and the commit number their chunks after these. Every
        // batch writes the staging record with its chunks, so none lands without one.
        chunksWritten += UInt32(chunks.count)
        staged = true
        let store = store
        inFlight = Task {
            try await store.write { txn in
                try txn.put(stagingDb, key: blob.bigEndianBytes, value: UInt64(Date().timeIntervalSince1970).bigEndianBytes)
                for (i, chunk) in chunks.enumerated() {
                    try txn.put(db, key: LMDBObjectStore.chunkKey(blob: blob, index: first + UInt32(i)), value: chunk)
                }
            }
        }
    }

    /// Returns once every batch started so far is in the store (staged, not yet published).
    public func waitForFlushes() async throws { try await landInFlight() }

    /// Waits for the batch in flight, if any; marks the upload failed if it did not land.
    private func landInFlight() async throws {
        guard let task = inFlight else { return }
        inFlight = nil
        do {
            try await task.value
        } catch {
            failed = true
            throw error
        }
    }

    /// The MD5 of everything appended; finalizes the digest, so call once.
    public func finishDigest() -> [UInt8] { md5.finalize() }

    /// Publishes the object atomically and durably, replacing any previous version.
    /// - Parameter md5: the value returned by ``finishDigest()``.
    /// - Returns: the new record and the one it replaced, if any.
    public func commit(md5: [UInt8], metadata: ObjectMetadata, checksum: StoredChecksum?, ownerId: String,
                       condition: WriteCondition = .none, lastModified: Date = Date(),
                       acl: AccessControlList? = nil, event: EventContext? = nil) async throws -> (record: ObjectRecord, replaced: ObjectRecord?) {
        let (chunks, chunkCount) = takeRemainingChunks()
        var record = ObjectRecord(
            size: size, etag: Hex.encode(md5), lastModified: lastModified, metadata: metadata, checksum: checksum,
            ownerId: ownerId, blobId: blobId, chunkSize: UInt32(chunkSize), chunkCount: chunkCount)
        record.acl = acl
        let (bucket, key, published) = (bucket, key, record)
        let replaced = try await finishCommit(chunks: chunks) { store, txn in
            try store.publish(txn, bucket: bucket, key: key, record: published, condition: condition, event: event)
        }
        return (published, replaced)
    }

    /// Moves the buffered tail into the list of chunks still to write; returns them and the
    /// blob's final chunk count.
    func takeRemainingChunks() -> (chunks: [[UInt8]], chunkCount: UInt32) {
        precondition(!done, "commit after commit/discard")
        if !current.isEmpty { pending.append(current); current = [] }
        let chunks = pending
        pending = []
        return (chunks, chunksWritten + UInt32(chunks.count))
    }

    /// Writes the last `chunks` and runs `publish` in the same transaction, ending staging.
    /// On failure everything written for this body is freed.
    func finishCommit<T: Sendable>(chunks: [[UInt8]], publish: @escaping @Sendable (LMDBObjectStore, Transaction) throws -> T) async throws -> T {
        do {
            try await landInFlight()
        } catch {
            await discard()
            throw error
        }
        let (store, blob, first, staged) = (store, blobId, chunksWritten, staged)
        if failed {
            await discard()
            throw ObjectStoreError.storage("an earlier write of this body failed")
        }
        do {
            let result = try await store.write { txn -> T in
                let result = try publish(store, txn)
                try store.raiseBlobMark(txn, above: blob)
                for (i, chunk) in chunks.enumerated() {
                    try txn.put(store.chunks, key: LMDBObjectStore.chunkKey(blob: blob, index: first + UInt32(i)), value: chunk)
                }
                if staged { try txn.delete(store.staging, key: blob.bigEndianBytes) }
                return result
            }
            done = true
            return result
        } catch {
            await discard()
            throw error
        }
    }

    /// Abandons the upload and frees whatever was written.
    public func discard() async {
        guard !done else { return }
        done = true
        pending = []
        current = []
        // A batch still being written must land before its chunks can be removed.
        _ = try? await landInFlight()
        if staged {
            try? await store.removeStaged(blob: blobId, chunks: chunksWritten)
        }
    }
}

extension LMDBObjectStore {
    /// Starts writing a new body for `key` in `bucket`.
    /// - Throws: `.keyTooLong` / `.invalidKey` before anything is written.
    public func beginUpload(bucket: BucketRecord, key: String) throws -> any ObjectUpload {
        try startUpload(bucket: bucket, key: key)
    }

    /// ``beginUpload(bucket:key:)`` with the concrete type, for tests of this backend.
    func startUpload(bucket: BucketRecord, key: String) throws -> LMDBObjectUpload {
        try validate(key: key)
        return LMDBObjectUpload(store: self, bucket: bucket, key: key)
    }

    /// Within a write transaction: checks the bucket and `condition`, stores `record` under
    /// `key` and frees the body of the version it replaces.
    func publish(_ txn: Transaction, bucket: BucketRecord, key: String, record: ObjectRecord,
                 condition: WriteCondition, event: EventContext? = nil) throws -> ObjectRecord? {
        guard let current = try Self.bucket(txn, buckets, name: bucket.name), current.id == bucket.id else {
            throw ObjectStoreError.noSuchBucket
        }
        let objKey = Self.objectKey(bucketId: bucket.id, key: key)
        let existing = try objKey.withUnsafeBytes { try txn.get(objects, key: $0) }.map { try ObjectRecord(decoding: $0) }
        try condition.check(currentETag: existing?.etag)
        if let existing { try freeBody(txn, of: existing, keeping: record) }
        try txn.put(objects, key: objKey, value: record.encoded())
        try enqueueEvents(txn, bucket: current, key: key, record: record, context: event)
        return existing
    }

    /// Frees the blobs of `record` that `keeping` (its replacement, if any) does not use.
    func freeBody(_ txn: Transaction, of record: ObjectRecord, keeping: ObjectRecord? = nil) throws {
        let kept = Set((keeping?.blobs ?? []).map(\.blob))
        for (blob, count) in record.blobs where !kept.contains(blob) {
            try Self.deleteChunks(txn, chunks, blob: blob, count: count)
        }
    }

    func removeStaged(blob: UInt64, chunks count: UInt32) async throws {
        let (chunks, staging) = (chunks, staging)
        try await write { txn in
            try Self.deleteChunks(txn, chunks, blob: blob, count: count)
            try txn.delete(staging, key: blob.bigEndianBytes)
        }
    }
}
