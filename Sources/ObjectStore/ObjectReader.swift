import LMDB

/// A consistent snapshot of one object for streaming its body.
///
/// Holds an LMDB read transaction: chunks stay readable (even if the object is overwritten or
/// deleted meanwhile) until ``close()``. Chunk buffers point into the memory map: no copy.
/// Used by one task at a time.
public final class ObjectReader: @unchecked Sendable {
    private let txn: Transaction
    private let chunks: Database
    public let bucket: BucketRecord
    public let key: String
    public let record: ObjectRecord

    init(txn: Transaction, chunks: Database, bucket: BucketRecord, key: String, record: ObjectRecord) {
        self.txn = txn
        self.chunks = chunks
        self.bucket = bucket
        self.key = key
        self.record = record
    }

    deinit { txn.abort() }

    /// The bytes of chunk `index`, valid until ``close()``.
    public func chunk(_ index: UInt32) throws -> UnsafeRawBufferPointer {
        let key = ObjectStore.chunkKey(blob: record.blobId, index: index)
        guard let bytes = try key.withUnsafeBytes({ try txn.get(chunks, key: $0) }) else {
            throw ObjectStoreError.storage("missing chunk \(index) of blob \(record.blobId)")
        }
        return bytes
    }

    /// Visits the bytes in `range` (offsets into the body) chunk by chunk, in order.
    public func forEachSlice(in range: Range<UInt64>, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !range.isEmpty else { return }
        let size = UInt64(record.chunkSize)
        var offset = range.lowerBound
        while offset < range.upperBound {
            let index = offset / size
            let bytes = try chunk(UInt32(index))
            let start = Int(offset - index * size)
            let end = Int(min(UInt64(bytes.count), range.upperBound - index * size))
            try body(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            offset = index * size + UInt64(end)
        }
    }

    /// Ends the snapshot. Buffers from ``chunk(_:)`` are invalid afterwards.
    public func close() { txn.abort() }
}

extension ObjectStore {
    /// Opens `key` in bucket `bucketName` for reading.
    /// - Throws: `.noSuchBucket`, `.noSuchKey`.
    public func openObject(bucket bucketName: String, key: String) throws -> ObjectReader {
        let txn = try environment.beginRead()
        do {
            guard let bucket = try Self.bucket(txn, buckets, name: bucketName) else { throw ObjectStoreError.noSuchBucket }
            guard let record = try Self.object(txn, objects, bucketId: bucket.id, key: key) else { throw ObjectStoreError.noSuchKey }
            return ObjectReader(txn: txn, chunks: chunks, bucket: bucket, key: key, record: record)
        } catch let error as LMDBError {
            txn.abort()
            throw Self.map(error)
        } catch {
            txn.abort()
            throw error
        }
    }

    /// The record of `key`, or nil.
    public func object(bucket: BucketRecord, key: String) throws -> ObjectRecord? {
        try read { txn in try Self.object(txn, objects, bucketId: bucket.id, key: key) }
    }

    static func object(_ txn: Transaction, _ objects: Database, bucketId: UInt64, key: String) throws -> ObjectRecord? {
        let objKey = objectKey(bucketId: bucketId, key: key)
        return try objKey.withUnsafeBytes { try txn.get(objects, key: $0) }.map { try ObjectRecord(decoding: $0) }
    }

    /// Deletes `key`; returns the record removed, or nil when there was none (not an error in S3).
    @discardableResult
    public func deleteObject(bucket: BucketRecord, key: String) async throws -> ObjectRecord? {
        try await deleteObjects(bucket: bucket, keys: [key])[0].get()
    }

    /// Deletes several keys in one durable commit; one result per key, in order.
    public func deleteObjects(bucket: BucketRecord, keys: [String]) async throws -> [Result<ObjectRecord?, ObjectStoreError>] {
        try await write { [self] txn in
            guard let current = try Self.bucket(txn, buckets, name: bucket.name), current.id == bucket.id else {
                throw ObjectStoreError.noSuchBucket
            }
            return try keys.map { key -> Result<ObjectRecord?, ObjectStoreError> in
                if key.isEmpty || key.utf8.count > maxKeyLength { return .failure(.keyTooLong) }
                let objKey = Self.objectKey(bucketId: bucket.id, key: key)
                guard let existing = try objKey.withUnsafeBytes({ try txn.get(objects, key: $0) }).map({ try ObjectRecord(decoding: $0) }) else {
                    return .success(nil)
                }
                try Self.deleteChunks(txn, chunks, blob: existing.blobId, count: existing.chunkCount)
                try txn.delete(objects, key: objKey)
                return .success(existing)
            }
        }
    }
}
