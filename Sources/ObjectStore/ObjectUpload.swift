public import Foundation

/// What must hold for a write to proceed, checked in the same transaction that publishes it.
public enum WriteCondition: Sendable, Equatable {
    case none
    /// `If-None-Match`: the key must not exist with one of these ETags (unquoted; `*` matches
    /// any), so a missing key always passes.
    case ifNoneMatch([String])
    /// `If-Match`: the key must exist with one of these ETags (unquoted; `*` matches any).
    case ifMatch([String])

    /// `If-None-Match: *`: the key must not exist.
    public static let ifNoneMatchAny = WriteCondition.ifNoneMatch(["*"])

    /// Checks the condition against the current object, whose ETag is `currentETag` (nil when
    /// the key has none). - Throws: NoSuchKey for If-Match on a missing key (as AWS documents
    /// for conditional writes), PreconditionFailed for any other failed check.
    public func check(currentETag: String?) throws(ObjectStoreError) {
        if case .ifMatch = self, currentETag == nil { throw .noSuchKey }
        guard holds(currentETag: currentETag) else { throw .preconditionFailed }
    }

    /// Whether the write may replace the current object, whose ETag is `currentETag` (nil when
    /// the key has none), as HTTP evaluates the header (If-Match on a missing key fails).
    public func holds(currentETag: String?) -> Bool {
        func listed(_ etags: [String], _ etag: String) -> Bool { etags.contains("*") || etags.contains(etag) }
        return switch self {
        case .none: true
        case .ifNoneMatch(let etags): currentETag.map { !listed(etags, $0) } ?? true
        case .ifMatch(let etags): currentETag.map { listed(etags, $0) } ?? false
        }
    }
}

/// One object body being written: bytes are stored as they arrive, under a staging mark, and
/// nothing is visible until ``commit(md5:metadata:checksum:ownerId:condition:lastModified:acl:event:)``
/// (or ``commitPart(md5:upload:partNumber:checksum:)``) publishes it in one atomic, durable
/// change. A discarded upload, or one cut short by a crash, leaves nothing behind: its bytes
/// are freed (at the latest when the store next opens). Used by one task at a time.
public protocol ObjectUpload: AnyObject, Sendable {
    var bucket: BucketRecord { get }
    var key: String { get }
    /// Bytes received so far.
    var size: UInt64 { get }
    /// Appends body bytes (copied). Call ``flushIfNeeded()`` afterwards to bound memory.
    func append(_ bytes: UnsafeRawBufferPointer)
    /// Starts storing what has gathered when enough has; waits at most for the batch before.
    func flushIfNeeded() async throws
    /// Returns once everything flushed so far is stored (staged, not published).
    func waitForFlushes() async throws
    /// The MD5 of everything appended; finalizes the digest, so call once.
    func finishDigest() -> [UInt8]
    /// Publishes the object atomically and durably, replacing any previous version, with the
    /// events `event` causes.
    /// - Parameter md5: the value returned by ``finishDigest()``.
    /// - Returns: the new record and the one it replaced, if any.
    func commit(md5: [UInt8], metadata: ObjectMetadata, checksum: StoredChecksum?, ownerId: String,
                condition: WriteCondition, lastModified: Date, acl: AccessControlList?,
                event: EventContext?) async throws -> (record: ObjectRecord, replaced: ObjectRecord?)
    /// Publishes this body as part `partNumber` of `upload`, durably.
    func commitPart(md5: [UInt8], upload: MultipartUploadRecord, partNumber: UInt32, checksum: StoredChecksum?) async throws -> PartRecord
    /// Abandons the upload and frees whatever was stored.
    func discard() async
}
