public import Foundation

/// The storage seam: everything the S3 API needs from a backend (buckets, object records,
/// bodies written with staging and published atomically, ranged reads from a snapshot,
/// listing, multipart uploads) and the event outbox the delivery service drains.
///
/// Every change is durable when its call returns, and a change and the events it causes are
/// stored together or not at all. ``LMDBObjectStore`` is the embedded backend; a backend is
/// added by conforming to this protocol (and ``ObjectReader``/``ObjectUpload``), without
/// touching the API layer. Errors are ``ObjectStoreError``s.
public protocol ObjectStore: EventOutbox, AnyObject {
    /// The longest object key (UTF-8 bytes) this store can index.
    var maxKeyLength: Int { get }
    /// Stops background work after the queued writes.
    func close()

    // MARK: buckets

    /// Creates a bucket owned by `ownerId`.
    /// - Throws: `.invalidBucketName`, `.bucketAlreadyOwnedByYou`, `.bucketAlreadyExists`.
    @discardableResult
    func createBucket(name: String, ownerId: String, region: String, acl: AccessControlList?) async throws -> BucketRecord
    /// The bucket named `name`, or nil.
    func bucket(named name: String) throws -> BucketRecord?
    /// Buckets in name order, only those of `ownerId` when given.
    func listBuckets(ownerId: String?) throws -> [BucketRecord]
    /// Changes a bucket's record (ACL, CORS, notifications) in one durable transaction.
    @discardableResult
    func updateBucket(name: String, _ change: @escaping @Sendable (inout BucketRecord) throws -> Void) async throws -> BucketRecord
    /// Deletes an empty bucket (and frees its incomplete multipart uploads).
    func deleteBucket(name: String) async throws

    // MARK: objects

    /// A consistent snapshot of `key` for reading its body. - Throws: `.noSuchBucket`, `.noSuchKey`.
    func openObject(bucket: String, key: String) throws -> any ObjectReader
    /// The record of `key`, or nil.
    func object(bucket: BucketRecord, key: String) throws -> ObjectRecord?
    /// Changes an object's record (its ACL) durably, keeping its body.
    func updateObject(bucket: BucketRecord, key: String, _ change: @escaping @Sendable (inout ObjectRecord) throws -> Void) async throws
    /// Deletes several keys in one durable change; one result per key, in order (nil: there was none).
    func deleteObjects(bucket: BucketRecord, keys: [String], event: EventContext?) async throws -> [Result<ObjectRecord?, ObjectStoreError>]
    /// Starts writing a new body for `key`. - Throws: `.keyTooLong` / `.invalidKey` before anything is written.
    func beginUpload(bucket: BucketRecord, key: String) throws -> any ObjectUpload
    /// One page of keys in S3 list order.
    func list(bucket: BucketRecord, query: ListQuery) throws -> ListPage

    // MARK: multipart

    /// Starts a multipart upload of `key`.
    func createMultipartUpload(bucket: BucketRecord, key: String, ownerId: String, metadata: ObjectMetadata,
                               checksumAlgorithm: ChecksumAlgorithm?, checksumType: ChecksumType?,
                               acl: AccessControlList?) async throws -> MultipartUploadRecord
    /// The upload `uploadId` of `key`. - Throws: `.noSuchUpload`.
    func multipartUpload(bucket: BucketRecord, key: String, uploadId: String) throws -> MultipartUploadRecord
    /// Starts writing the body of a part; ``ObjectUpload/commitPart(md5:upload:partNumber:checksum:)`` stores it.
    func beginPartUpload(bucket: BucketRecord, upload: MultipartUploadRecord) -> any ObjectUpload
    /// Parts after part number `after`, in order.
    func listParts(upload: MultipartUploadRecord, after: Int, maxParts: Int) throws -> (parts: [PartRecord], isTruncated: Bool)
    /// Publishes the listed parts as one object, atomically; unlisted parts are freed.
    func completeMultipartUpload(bucket: BucketRecord, upload: MultipartUploadRecord, parts: [CompletedPart],
                                 lastModified: Date, condition: WriteCondition, event: EventContext?) async throws -> ObjectRecord
    /// Removes the upload and frees its parts.
    func abortMultipartUpload(bucket: BucketRecord, upload: MultipartUploadRecord) async throws
    /// Incomplete uploads in key order, then initiation order.
    func listMultipartUploads(bucket: BucketRecord, prefix: String, delimiter: String?, keyMarker: String?,
                              uploadIdMarker: String?, maxUploads: Int) throws -> UploadListPage
}

extension ObjectStore {
    /// Checks that `key` can be stored.
    public func validate(key: String) throws {
        if let error = keyError(key) { throw error }
    }

    /// Why `key` cannot be stored, or nil.
    package func keyError(_ key: String) -> ObjectStoreError? {
        if key.isEmpty || key.utf8.contains(0) { return .invalidKey }
        if key.utf8.count > maxKeyLength { return .keyTooLong(maxBytes: maxKeyLength) }
        return nil
    }

    /// Deletes `key`; returns the record removed, or nil when there was none (not an error in S3).
    @discardableResult
    public func deleteObject(bucket: BucketRecord, key: String, event: EventContext? = nil) async throws -> ObjectRecord? {
        try await deleteObjects(bucket: bucket, keys: [key], event: event)[0].get()
    }
}
