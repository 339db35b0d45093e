/// Errors of the storage domain. They know nothing of HTTP; the API layer maps them to S3 codes.
public enum ObjectStoreError: Error, Equatable, Sendable {
    case noSuchBucket
    case bucketAlreadyExists
    case bucketAlreadyOwnedByYou
    case bucketNotEmpty
    case invalidBucketName
    case noSuchKey
    /// The multipart upload does not exist (or was completed or aborted).
    case noSuchUpload
    /// A part listed in CompleteMultipartUpload is missing or its ETag differs.
    case invalidPart
    /// The parts listed in CompleteMultipartUpload are not in ascending order.
    case invalidPartOrder
    /// A part other than the last is smaller than the 5 MiB minimum.
    case entityTooSmall
    /// A conditional write (`If-Match` / `If-None-Match`) did not hold.
    case preconditionFailed
    /// The key is longer than this store can index (`maxBytes`, its ``ObjectStore/maxKeyLength``).
    case keyTooLong(maxBytes: Int)
    /// The key is empty or not valid UTF-8 text accepted by S3.
    case invalidKey
    /// A notification target's outbox is at its limit: the change would lose an event.
    case slowDown(target: String)
    /// The store has reached its map size or the disk is full.
    case storageFull
    /// A stored record could not be decoded, or has a format version newer than this build.
    case corruptRecord
    /// A lower-level failure (LMDB, file system) with a short description for logs.
    case storage(String)
}
