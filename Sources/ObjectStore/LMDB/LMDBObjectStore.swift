import Foundation
import LMDB
public import Logging
import Synchronization

/// The embedded ``ObjectStore``: buckets, objects and their bodies, all in one LMDB environment.
///
/// Layout (named databases):
/// - `meta`: store-wide values (format version, next bucket id).
/// - `buckets`: bucket name → ``BucketRecord``.
/// - `objects`: bucket id (8 bytes BE) ‖ UTF-8 key → ``ObjectRecord``; byte order is S3 list order.
/// - `chunks`: blob id (8 bytes BE) ‖ chunk index (4 bytes BE) → body bytes.
/// - `staging`: blob id → start time, for bodies being written in several transactions; what is
///   left here at start-up belongs to an upload that never completed and is removed.
/// - `uploads`: multipart upload id (16 bytes) → ``MultipartUploadRecord``.
/// - `uploadIndex`: bucket id ‖ key ‖ 0x00 ‖ initiated (8 bytes BE) ‖ upload id → empty, for
///   ListMultipartUploads in key order.
/// - `parts`: upload id ‖ part number (4 bytes BE) → ``PartRecord``; part bodies are blobs.
/// - `outbox`: notification events waiting for delivery (see EventOutbox.swift).
///
/// Every change goes through one ``WriteQueue`` and is durable when the call returns.
public final class LMDBObjectStore: ObjectStore {
    /// The format of the store as a whole; bumped when the layout changes incompatibly.
    static let storeFormatVersion: UInt8 = 1
    /// Body chunk size for new objects.
    public static let chunkSize = 1 << 20

    let environment: Environment
    let writer: WriteQueue
    let meta: Database
    let buckets: Database
    let objects: Database
    let chunks: Database
    let staging: Database
    let uploads: Database
    let uploadIndex: Database
    let parts: Database
    let outbox: Database
    /// Notification targets by id, with their outbox limits.
    public let eventTargets: [String: Int]
    private let nextBlob: Atomic<UInt64>
    let logger: Logger

    /// The longest object key (UTF-8 bytes) this store indexes: LMDB's default key limit (511)
    /// minus the 8-byte bucket id prefix. AWS allows 1,024; longer keys get KeyTooLongError.
    public static let maxKeyBytes = 503
    public var maxKeyLength: Int { min(Self.maxKeyBytes, environment.maxKeySize - 8) }

    /// Opens or creates the store in `directory`.
    /// - Parameter mapSize: the most bytes the store may hold (LMDB map size).
    public init(directory: String, mapSize: Int, eventTargets: [String: Int] = [:], logger: Logger = Logger(label: "shoebox.store")) throws {
        self.eventTargets = eventTargets
        self.logger = logger
        let env = try Environment(path: directory, mapSize: mapSize)
        environment = env
        meta = try env.openDatabase("meta")
        buckets = try env.openDatabase("buckets")
        objects = try env.openDatabase("objects")
        chunks = try env.openDatabase("chunks")
        staging = try env.openDatabase("staging")
        uploads = try env.openDatabase("uploads")
        uploadIndex = try env.openDatabase("uploadIndex")
        parts = try env.openDatabase("parts")
        outbox = try env.openDatabase("outbox")
        let (meta, chunks, staging) = (meta, chunks, staging)
        let next = try env.writeSynchronously { txn -> UInt64 in
            if let version = try txn.get(meta, key: Array("format".utf8)) {
                guard version == [Self.storeFormatVersion] else { throw ObjectStoreError.corruptRecord }
            } else {
                try txn.put(meta, key: Array("format".utf8), value: [Self.storeFormatVersion])
            }
            // Remove bodies of uploads interrupted by a crash: they were never published.
            var orphans: [UInt64] = []
            let stagingCursor = try txn.cursor(staging)
            var entry = try stagingCursor.first()
            while let e = entry {
                orphans.append(UInt64(bigEndianBytes: e.key))
                entry = try stagingCursor.next()
            }
            for blob in orphans {
                try Self.deleteChunks(txn, chunks, blob: blob, count: nil)
                try txn.delete(staging, key: blob.bigEndianBytes)
            }
            if !orphans.isEmpty { logger.info("removed \(orphans.count) interrupted upload(s)") }
            // Blob ids only grow: start above the highest blob that has chunks and above every
            // blob ever published (an empty body has no chunks but is still referenced).
            let last = try txn.cursor(chunks).last()
            let aboveChunks = last.map { UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: $0.key[0..<8])) + 1 } ?? 1
            let mark = try txn.get(meta, key: Self.blobMarkKey).map { $0.withUnsafeBytes { UInt64(bigEndianBytes: $0) } } ?? 1
            return max(aboveChunks, mark)
        }
        nextBlob = Atomic(next)
        writer = WriteQueue(environment: env)
    }

    /// Stops the writer after the queued writes.
    public func close() {
        writer.shutdown()
    }

    static let blobMarkKey = Array("nextBlobId".utf8)

    /// Within a write transaction: records that blob ids up to `blob` are in use.
    func raiseBlobMark(_ txn: Transaction, above blob: UInt64) throws {
        let current = try txn.get(meta, key: Self.blobMarkKey).map { $0.withUnsafeBytes { UInt64(bigEndianBytes: $0) } } ?? 1
        if blob + 1 > current { try txn.put(meta, key: Self.blobMarkKey, value: (blob + 1).bigEndianBytes) }
    }

    func allocateBlobId() -> UInt64 {
        nextBlob.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    // MARK: keys

    static func objectKey(bucketId: UInt64, key: String) -> [UInt8] {
        var k = bucketId.bigEndianBytes
        k.append(contentsOf: key.utf8)
        return k
    }

    static func chunkKey(blob: UInt64, index: UInt32) -> [UInt8] {
        blob.bigEndianBytes + index.bigEndianBytes
    }

    /// Deletes the chunks of `blob`: exactly `count` of them, or all that exist when nil.
    static func deleteChunks(_ txn: Transaction, _ chunks: Database, blob: UInt64, count: UInt32?) throws {
        if let count {
            for i in 0..<count { try txn.delete(chunks, key: chunkKey(blob: blob, index: i)) }
            return
        }
        let cursor = try txn.cursor(chunks)
        let prefix = blob.bigEndianBytes
        var entry = try cursor.seek(atOrAfter: prefix)
        while let e = entry, e.key.count >= 8, e.key.prefix(8).elementsEqual(prefix) {
            try cursor.deleteCurrent()
            // After a delete, MDB_GET_CURRENT semantics vary; re-seek from the prefix.
            entry = try cursor.seek(atOrAfter: prefix)
        }
    }

    /// Runs a write job, mapping LMDB's out-of-space errors to ``ObjectStoreError/storageFull``.
    func write<T: Sendable>(_ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        do {
            return try await writer.write(body)
        } catch let error as LMDBError {
            throw Self.map(error)
        }
    }

    /// Runs a read, mapping LMDB errors.
    func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        do {
            return try environment.read(body)
        } catch let error as LMDBError {
            throw Self.map(error)
        }
    }

    static func map(_ error: LMDBError) -> ObjectStoreError {
        if error.isOutOfSpace { return .storageFull }
        if error == .badValueSize { return .keyTooLong(maxBytes: maxKeyBytes) }
        return .storage(error.description)
    }
}
