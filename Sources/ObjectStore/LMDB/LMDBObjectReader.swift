import LMDB
#if canImport(Glibc)
import Glibc
#endif

/// A consistent snapshot of one object for streaming its body.
///
/// Holds an LMDB read transaction: chunks stay readable (even if the object is overwritten or
/// deleted meanwhile) until ``close()``. Chunk buffers point into the memory map: no copy.
/// Used by one task at a time.
public final class LMDBObjectReader: ObjectReader, @unchecked Sendable {
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

    /// Whether reading the body may wait for the disk: chunks of a body this large are dropped
    /// from the page cache once written (see ``Transaction/largeValueSize``), so the first
    /// read after an upload comes from disk. ``isCached(at:end:)`` tells whether a slice is.
    public var mayReadFromDisk: Bool { record.size >= UInt64(Transaction.largeValueSize) }

    /// The bytes of chunk `index` of a single-piece object, valid until ``close()``.
    public func chunk(_ index: UInt32) throws -> UnsafeRawBufferPointer {
        try chunk(blob: record.blobId, index: index)
    }

    private func chunk(blob: UInt64, index: UInt32) throws -> UnsafeRawBufferPointer {
        let key = LMDBObjectStore.chunkKey(blob: blob, index: index)
        guard let bytes = try key.withUnsafeBytes({ try txn.get(chunks, key: $0) }) else {
            throw ObjectStoreError.storage("missing chunk \(index) of blob \(blob)")
        }
        return bytes
    }

    /// The body offset where each part starts (multipart objects), for locating offsets.
    private lazy var partStarts: [UInt64] = {
        var starts: [UInt64] = []
        var offset: UInt64 = 0
        for part in record.parts {
            starts.append(offset)
            offset += part.size
        }
        return starts
    }()

    /// The longest run of stored bytes that starts at body `offset` and ends before `end`:
    /// a slice of one chunk, pointing into the map (no copy), valid until ``close()``.
    /// For a body that may not be cached, the kernel is first asked to fetch what follows.
    public func slice(at offset: UInt64, end: UInt64) throws -> UnsafeRawBufferPointer {
        if mayReadFromDisk { readAhead(at: offset, end: end) }
        return try locate(at: offset, end: end)
    }

    /// How far ahead of a read the disk is asked to fetch a body that may not be cached.
    static let readAheadWindow: UInt64 = 4 << 20
    /// Where the last read-ahead request ended.
    private var readAheadEnd: UInt64 = 0

    /// Asks the kernel to start reading from disk, without waiting, the stored bytes from
    /// `offset` up to ``readAheadWindow`` past it (within `end`) that it has not been asked for
    /// yet. Without this, copying a body out of the map faults its pages in a little at a time
    /// (the kernel's read-around of a fault), at about a fifth of the speed measured in
    /// bench/README.md.
    private func readAhead(at offset: UInt64, end: UInt64) {
        let target = min(end, offset + Self.readAheadWindow)
        var next = max(offset, readAheadEnd)
        while next < target, let bytes = try? locate(at: next, end: target) {
            #if canImport(Glibc)
            let start = UInt(bitPattern: bytes.baseAddress) & ~UInt(Self.pageSize - 1)
            let stop = UInt(bitPattern: bytes.baseAddress) + UInt(bytes.count)
            if let pointer = UnsafeMutableRawPointer(bitPattern: start) { _ = madvise(pointer, Int(stop - start), MADV_WILLNEED) }
            #endif
            next += UInt64(bytes.count)
        }
        readAheadEnd = max(readAheadEnd, next)
    }

    private func locate(at offset: UInt64, end: UInt64) throws -> UnsafeRawBufferPointer {
        guard offset < end && end <= record.size else {
            throw ObjectStoreError.storage("range \(offset)..<\(end) outside a body of \(record.size) bytes")
        }
        let chunkSize = UInt64(record.chunkSize)
        var blob = record.blobId
        var local = offset
        var localEnd = end
        if !record.parts.isEmpty {
            // The last part starting at or before `offset`.
            var lo = 0, hi = partStarts.count - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if partStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
            }
            blob = record.parts[lo].blobId
            local = offset - partStarts[lo]
            localEnd = min(end - partStarts[lo], record.parts[lo].size)
        }
        let index = local / chunkSize
        let bytes = try chunk(blob: blob, index: UInt32(index))
        let start = Int(local - index * chunkSize)
        let stop = Int(min(UInt64(bytes.count), localEnd - index * chunkSize))
        guard start < stop else { throw ObjectStoreError.storage("short chunk \(index) of blob \(blob)") }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<stop])
    }

    /// Tells the kernel this process is done with `slice` (from ``slice(at:end:)``): its pages
    /// stay in the page cache but leave this process's resident set, so streaming a large
    /// object does not grow RSS by the object's size. Call only after the bytes were copied.
    public func release(_ slice: UnsafeRawBufferPointer) {
        #if canImport(Glibc)
        guard let base = slice.baseAddress, slice.count >= Self.pageSize else { return }
        // Only whole pages inside the slice: neighbouring values are left alone.
        let start = (UInt(bitPattern: base) + UInt(Self.pageSize) - 1) & ~UInt(Self.pageSize - 1)
        let end = (UInt(bitPattern: base) + UInt(slice.count)) & ~UInt(Self.pageSize - 1)
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, Int(end - start), MADV_DONTNEED)
        #endif
    }

    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Whether the slice that ``slice(at:end:)`` returns for these arguments is all in the page
    /// cache now, so reading it will not wait for the disk (`mincore`, which faults nothing in).
    /// Always true for bodies that are never dropped from the cache.
    public func isCached(at offset: UInt64, end: UInt64) -> Bool {
        guard mayReadFromDisk else { return true }
        #if canImport(Glibc)
        guard let bytes = try? locate(at: offset, end: end), let base = bytes.baseAddress else { return false }
        let start = UInt(bitPattern: base) & ~UInt(Self.pageSize - 1)
        let length = Int(UInt(bitPattern: base) + UInt(bytes.count) - start)
        let pages = (length + Self.pageSize - 1) / Self.pageSize
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: pages) { vector in
            guard let pointer = UnsafeMutableRawPointer(bitPattern: start),
                  mincore(pointer, length, vector.baseAddress) == 0 else { return false }
            return vector.allSatisfy { $0 & 1 != 0 }
        }
        #else
        return false
        #endif
    }

    /// Ends the snapshot. Buffers from ``chunk(_:)`` are invalid afterwards.
    public func close() { txn.abort() }
}

extension LMDBObjectStore {
    /// Opens `key` in bucket `bucketName` for reading.
    /// - Throws: `.noSuchBucket`, `.noSuchKey`.
    public func openObject(bucket bucketName: String, key: String) throws -> any ObjectReader {
        let txn = try environment.beginRead()
        do {
            guard let bucket = try Self.bucket(txn, buckets, name: bucketName) else { throw ObjectStoreError.noSuchBucket }
            guard let record = try Self.object(txn, objects, bucketId: bucket.id, key: key) else { throw ObjectStoreError.noSuchKey }
            return LMDBObjectReader(txn: txn, chunks: chunks, bucket: bucket, key: key, record: record)
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

    /// Changes an object's record (its ACL) in one durable transaction, keeping its body.
    /// - Throws: `.noSuchBucket`, `.noSuchKey`, or what `change` throws.
    public func updateObject(bucket: BucketRecord, key: String, _ change: @escaping @Sendable (inout ObjectRecord) throws -> Void) async throws {
        try await write { [self] txn in
            guard let current = try Self.bucket(txn, buckets, name: bucket.name), current.id == bucket.id else {
                throw ObjectStoreError.noSuchBucket
            }
            guard var record = try Self.object(txn, objects, bucketId: bucket.id, key: key) else { throw ObjectStoreError.noSuchKey }
            let blobs = record.blobs.map(\.blob)
            try change(&record)
            precondition(record.blobs.map(\.blob) == blobs, "updateObject must not change the body")
            try txn.put(objects, key: Self.objectKey(bucketId: bucket.id, key: key), value: record.encoded())
        }
    }

    /// Deletes several keys in one durable commit; one result per key, in order.
    public func deleteObjects(bucket: BucketRecord, keys: [String], event: EventContext? = nil) async throws -> [Result<ObjectRecord?, ObjectStoreError>] {
        try await write { [self] txn in
            guard let current = try Self.bucket(txn, buckets, name: bucket.name), current.id == bucket.id else {
                throw ObjectStoreError.noSuchBucket
            }
            return try keys.map { key -> Result<ObjectRecord?, ObjectStoreError> in
                if let error = keyError(key) { return .failure(error) }
                let objKey = Self.objectKey(bucketId: bucket.id, key: key)
                guard let existing = try objKey.withUnsafeBytes({ try txn.get(objects, key: $0) }).map({ try ObjectRecord(decoding: $0) }) else {
                    return .success(nil)
                }
                try freeBody(txn, of: existing)
                try txn.delete(objects, key: objKey)
                try enqueueEvents(txn, bucket: current, key: key, record: nil, context: event)
                return .success(existing)
            }
        }
    }
}
