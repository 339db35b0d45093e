import Foundation
import LMDB

extension LMDBObjectStore {
    /// Creates a bucket owned by `ownerId`.
    /// - Throws: `.invalidBucketName`, `.bucketAlreadyOwnedByYou`, `.bucketAlreadyExists`.
    @discardableResult
    public func createBucket(name: String, ownerId: String, region: String, acl: AccessControlList? = nil) async throws -> BucketRecord {
        guard BucketRecord.isValidName(name) else { throw ObjectStoreError.invalidBucketName }
        let (buckets, meta) = (buckets, meta)
        return try await write { txn in
            if let existing = try txn.get(buckets, key: Array(name.utf8)) {
                let record = try existing.withUnsafeBytes { try BucketRecord(name: name, decoding: $0) }
                throw record.ownerId == ownerId ? ObjectStoreError.bucketAlreadyOwnedByYou : ObjectStoreError.bucketAlreadyExists
            }
            let counterKey = Array("nextBucketId".utf8)
            let id = try txn.get(meta, key: counterKey).map { bytes in bytes.withUnsafeBytes { UInt64(bigEndianBytes: $0) } } ?? 1
            try txn.put(meta, key: counterKey, value: (id + 1).bigEndianBytes)
            var record = BucketRecord(name: name, id: id, ownerId: ownerId, created: Date(), region: region)
            record.acl = acl
            try txn.put(buckets, key: Array(name.utf8), value: record.encoded())
            return record
        }
    }

    /// The bucket named `name`, or nil.
    public func bucket(named name: String) throws -> BucketRecord? {
        try read { txn in try Self.bucket(txn, buckets, name: name) }
    }

    static func bucket(_ txn: Transaction, _ buckets: Database, name: String) throws -> BucketRecord? {
        let key = Array(name.utf8)
        guard let bytes = try key.withUnsafeBytes({ try txn.get(buckets, key: $0) }) else { return nil }
        return try BucketRecord(name: name, decoding: bytes)
    }

    /// All buckets, in name order (optionally only those of one owner).
    public func listBuckets(ownerId: String? = nil) throws -> [BucketRecord] {
        try read { txn in
            let cursor = try txn.cursor(buckets)
            var result: [BucketRecord] = []
            var entry = try cursor.first()
            while let e = entry {
                let record = try BucketRecord(name: String(decoding: e.key, as: UTF8.self), decoding: e.value)
                if ownerId == nil || record.ownerId == ownerId { result.append(record) }
                entry = try cursor.next()
            }
            return result
        }
    }

    /// Changes a bucket's record (ACL, CORS) in one durable transaction.
    /// - Throws: `.noSuchBucket`, or what `change` throws.
    @discardableResult
    public func updateBucket(name: String, _ change: @escaping @Sendable (inout BucketRecord) throws -> Void) async throws -> BucketRecord {
        try await write { [self] txn in
            guard var record = try Self.bucket(txn, buckets, name: name) else { throw ObjectStoreError.noSuchBucket }
            try change(&record)
            try txn.put(buckets, key: Array(name.utf8), value: record.encoded())
            return record
        }
    }

    /// Deletes an empty bucket.
    /// - Throws: `.noSuchBucket`, `.bucketNotEmpty`.
    public func deleteBucket(name: String) async throws {
        try await write { [self] txn in
            guard let record = try Self.bucket(txn, buckets, name: name) else { throw ObjectStoreError.noSuchBucket }
            let prefix = record.id.bigEndianBytes
            if let first = try txn.cursor(objects).seek(atOrAfter: prefix), first.key.starts(with: prefix) {
                throw ObjectStoreError.bucketNotEmpty
            }
            // As AWS: incomplete multipart uploads do not keep a bucket alive; they are freed.
            try removeUploads(txn, bucketId: record.id)
            try txn.delete(buckets, key: Array(name.utf8))
        }
    }
}
