public import Foundation

/// The checksum algorithms S3 clients may attach to an object (`x-amz-checksum-*`).
public enum ChecksumAlgorithm: String, Sendable, CaseIterable {
    case crc32 = "CRC32"
    case crc32c = "CRC32C"
    case crc64nvme = "CRC64NVME"
    case sha1 = "SHA1"
    case sha256 = "SHA256"

    /// The header suffix: `x-amz-checksum-<suffix>`.
    public var headerSuffix: String { rawValue.lowercased() }
}

/// How a checksum covers an object: FULL_OBJECT (of every byte, as a PutObject's) or
/// COMPOSITE (a multipart upload's checksum of its parts' checksums, shown with a `-N` suffix).
public enum ChecksumType: String, Sendable, CaseIterable {
    case composite = "COMPOSITE"
    case fullObject = "FULL_OBJECT"
}

/// A whole-object checksum as stored: the algorithm and its base64 value.
public struct StoredChecksum: Sendable, Equatable {
    public var algorithm: ChecksumAlgorithm
    public var base64: String
    /// Composite values carry the `-N` part count; nothing else does.
    public var type: ChecksumType { base64.contains("-") ? .composite : .fullObject }
    public init(algorithm: ChecksumAlgorithm, base64: String) {
        self.algorithm = algorithm
        self.base64 = base64
    }
}

/// The metadata a client sets on an object: content headers and `x-amz-meta-*` pairs.
public struct ObjectMetadata: Sendable, Equatable {
    public var contentType: String?
    /// Stored content headers (`cache-control`, `content-disposition`, `content-encoding`,
    /// `content-language`, `expires`), lowercased names, in a fixed order.
    public var contentHeaders: [String: String]
    /// User metadata: names lowercased and without the `x-amz-meta-` prefix.
    public var user: [String: String]

    public init(contentType: String? = nil, contentHeaders: [String: String] = [:], user: [String: String] = [:]) {
        self.contentType = contentType
        self.contentHeaders = contentHeaders
        self.user = user
    }

    /// The content headers S3 stores and returns.
    public static let storedContentHeaders = ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"]
}

/// One part of a multipart object: its body stays in the blob it was uploaded to, so
/// completing an upload copies no data.
public struct PartSegment: Sendable, Equatable {
    public var partNumber: UInt32
    public var blobId: UInt64
    public var chunkCount: UInt32
    public var size: UInt64
    /// The part's MD5 hex.
    public var etag: String
    /// The part's checksum (base64) in the upload's checksum algorithm, if any.
    public var checksum: String?

    public init(partNumber: UInt32, blobId: UInt64, chunkCount: UInt32, size: UInt64, etag: String, checksum: String?) {
        self.partNumber = partNumber
        self.blobId = blobId
        self.chunkCount = chunkCount
        self.size = size
        self.etag = etag
        self.checksum = checksum
    }

    func encoded() -> [UInt8] {
        var w = RecordWriter(version: 0)
        w.field(1, UInt64(partNumber))
        w.field(2, blobId)
        w.field(3, UInt64(chunkCount))
        w.field(4, size)
        w.field(5, etag)
        if let checksum { w.field(6, checksum) }
        return w.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(ObjectStoreError) {
        var r = try RecordReader(bytes)
        self.init(partNumber: 0, blobId: 0, chunkCount: 0, size: 0, etag: "", checksum: nil)
        while let (tag, value) = try r.next() {
            switch tag {
            case 1: partNumber = UInt32(try RecordReader.uint64(value))
            case 2: blobId = try RecordReader.uint64(value)
            case 3: chunkCount = UInt32(try RecordReader.uint64(value))
            case 4: size = try RecordReader.uint64(value)
            case 5: etag = RecordReader.string(value)
            case 6: checksum = RecordReader.string(value)
            default: break
            }
        }
    }
}

/// An object as stored: `bucketId ‖ key` → record in the `objects` database. The body lives in
/// the `chunks` database under `blobId ‖ chunk index`.
public struct ObjectRecord: Sendable, Equatable {
    static let formatVersion: UInt8 = 1

    public var size: UInt64
    /// ETag without quotes: MD5 hex, or `<md5 of part md5s>-N` for multipart objects.
    public var etag: String
    public var lastModified: Date
    public var metadata: ObjectMetadata
    public var checksum: StoredChecksum?
    public var ownerId: String
    /// Where the body is: its blob id, the chunk size it was cut into, and how many chunks.
    public var blobId: UInt64
    public var chunkSize: UInt32
    public var chunkCount: UInt32
    /// For a multipart object, its parts in order (and `blobId`/`chunkCount` are unused);
    /// empty for an object written in one piece.
    public var parts: [PartSegment] = []
    /// The object ACL; nil means private (the owner has full control).
    public var acl: AccessControlList?
    /// The multipart upload that made the object, if one did: a retried
    /// CompleteMultipartUpload of that upload gets the first answer again, as from AWS.
    public var uploadId: String?

    /// The ACL in force.
    public var effectiveACL: AccessControlList { acl ?? .privateACL(ownerId: ownerId) }

    /// The blobs holding the body, with their chunk counts.
    var blobs: [(blob: UInt64, chunks: UInt32)] {
        parts.isEmpty ? [(blobId, chunkCount)] : parts.map { ($0.blobId, $0.chunkCount) }
    }

    public init(size: UInt64, etag: String, lastModified: Date, metadata: ObjectMetadata, checksum: StoredChecksum?,
                ownerId: String, blobId: UInt64, chunkSize: UInt32, chunkCount: UInt32) {
        self.size = size
        self.etag = etag
        // Stored with millisecond precision: keep the in-memory value identical to what reads return.
        self.lastModified = Date(timeIntervalSince1970: (lastModified.timeIntervalSince1970 * 1000).rounded() / 1000)
        self.metadata = metadata
        self.checksum = checksum
        self.ownerId = ownerId
        self.blobId = blobId
        self.chunkSize = chunkSize
        self.chunkCount = chunkCount
    }

    func encoded() -> [UInt8] {
        var w = RecordWriter(version: Self.formatVersion)
        w.field(1, size)
        w.field(2, etag)
        w.field(3, Int64((lastModified.timeIntervalSince1970 * 1000).rounded()))
        if let ct = metadata.contentType { w.field(4, ct) }
        if !metadata.contentHeaders.isEmpty { w.field(5, pairs: metadata.contentHeaders.sorted { $0.key < $1.key }) }
        if !metadata.user.isEmpty { w.field(6, pairs: metadata.user.sorted { $0.key < $1.key }) }
        if let checksum {
            w.field(7, checksum.algorithm.rawValue)
            w.field(8, checksum.base64)
        }
        w.field(9, ownerId)
        w.field(10, blobId)
        w.field(11, UInt64(chunkSize))
        w.field(12, UInt64(chunkCount))
        for part in parts { w.field(13, part.encoded()) }
        if let acl { w.field(14, acl.encoded()) }
        if let uploadId { w.field(15, uploadId) }
        return w.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(ObjectStoreError) {
        var r = try RecordReader(bytes)
        guard r.version <= Self.formatVersion else { throw .corruptRecord }
        self.init(size: 0, etag: "", lastModified: Date(timeIntervalSince1970: 0), metadata: .init(), checksum: nil,
                  ownerId: "", blobId: 0, chunkSize: 0, chunkCount: 0)
        var algorithm: ChecksumAlgorithm?
        var checksumValue: String?
        while let (tag, value) = try r.next() {
            switch tag {
            case 1: size = try RecordReader.uint64(value)
            case 2: etag = RecordReader.string(value)
            case 3: lastModified = Date(timeIntervalSince1970: Double(try RecordReader.int64(value)) / 1000)
            case 4: metadata.contentType = RecordReader.string(value)
            case 5: metadata.contentHeaders = Dictionary(try RecordReader.pairs(value), uniquingKeysWith: { a, _ in a })
            case 6: metadata.user = Dictionary(try RecordReader.pairs(value), uniquingKeysWith: { a, _ in a })
            case 7: algorithm = ChecksumAlgorithm(rawValue: RecordReader.string(value))
            case 8: checksumValue = RecordReader.string(value)
            case 9: ownerId = RecordReader.string(value)
            case 10: blobId = try RecordReader.uint64(value)
            case 11: chunkSize = UInt32(try RecordReader.uint64(value))
            case 12: chunkCount = UInt32(try RecordReader.uint64(value))
            case 13: parts.append(try PartSegment(decoding: value))
            case 14: acl = try AccessControlList(decoding: value)
            case 15: uploadId = RecordReader.string(value)
            default: break
            }
        }
        if let algorithm, let checksumValue { checksum = StoredChecksum(algorithm: algorithm, base64: checksumValue) }
    }
}
