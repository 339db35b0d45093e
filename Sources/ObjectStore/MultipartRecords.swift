public import Foundation

/// An incomplete multipart upload: `uploads` database, upload id (16 bytes) → record.
public struct MultipartUploadRecord: Sendable, Equatable {
    /// The smallest size of every part but the last, as AWS.
    public static let minimumPartSize: UInt64 = 5 << 20
    /// The most parts an upload may have.
    public static let maximumParts = 10_000

    static let formatVersion: UInt8 = 1

    public var uploadId: String
    public var bucketId: UInt64
    public var key: String
    public var ownerId: String
    public var initiated: Date
    public var metadata: ObjectMetadata
    public var checksumAlgorithm: ChecksumAlgorithm?
    /// How the object's checksum is built from the parts' (with `checksumAlgorithm`).
    public var checksumType: ChecksumType?
    /// The ACL the object gets on completion.
    public var acl: AccessControlList?

    public init(uploadId: String, bucketId: UInt64, key: String, ownerId: String, initiated: Date,
                metadata: ObjectMetadata, checksumAlgorithm: ChecksumAlgorithm?) {
        self.uploadId = uploadId
        self.bucketId = bucketId
        self.key = key
        self.ownerId = ownerId
        // Stored with millisecond precision: keep the in-memory value identical to what reads return.
        self.initiated = initiated.roundedToMilliseconds
        self.metadata = metadata
        self.checksumAlgorithm = checksumAlgorithm
    }

    func encoded() -> [UInt8] {
        var w = RecordWriter(version: Self.formatVersion)
        w.field(1, bucketId)
        w.field(2, key)
        w.field(3, ownerId)
        w.field(4, Int64((initiated.timeIntervalSince1970 * 1000).rounded()))
        if let ct = metadata.contentType { w.field(5, ct) }
        if !metadata.contentHeaders.isEmpty { w.field(6, pairs: metadata.contentHeaders.sorted { $0.key < $1.key }) }
        if !metadata.user.isEmpty { w.field(7, pairs: metadata.user.sorted { $0.key < $1.key }) }
        if let checksumAlgorithm { w.field(8, checksumAlgorithm.rawValue) }
        if let acl { w.field(9, acl.encoded()) }
        if let checksumType { w.field(10, checksumType.rawValue) }
        return w.bytes
    }

    init(uploadId: String, decoding bytes: UnsafeRawBufferPointer) throws(ObjectStoreError) {
        var r = try RecordReader(bytes)
        guard r.version <= Self.formatVersion else { throw .corruptRecord }
        self.init(uploadId: uploadId, bucketId: 0, key: "", ownerId: "", initiated: Date(timeIntervalSince1970: 0),
                  metadata: .init(), checksumAlgorithm: nil)
        while let (tag, value) = try r.next() {
            switch tag {
            case 1: bucketId = try RecordReader.uint64(value)
            case 2: key = RecordReader.string(value)
            case 3: ownerId = RecordReader.string(value)
            case 4: initiated = Date(timeIntervalSince1970: Double(try RecordReader.int64(value)) / 1000)
            case 5: metadata.contentType = RecordReader.string(value)
            case 6: metadata.contentHeaders = Dictionary(try RecordReader.pairs(value), uniquingKeysWith: { a, _ in a })
            case 7: metadata.user = Dictionary(try RecordReader.pairs(value), uniquingKeysWith: { a, _ in a })
            case 8: checksumAlgorithm = ChecksumAlgorithm(rawValue: RecordReader.string(value))
            case 9: acl = try AccessControlList(decoding: value)
            case 10: checksumType = ChecksumType(rawValue: RecordReader.string(value))
            default: break
            }
        }
    }
}

/// An uploaded part: `parts` database, upload id ‖ part number (4 bytes BE) → record.
public struct PartRecord: Sendable, Equatable {
    static let formatVersion: UInt8 = 1

    public var partNumber: UInt32
    public var size: UInt64
    public var etag: String
    public var lastModified: Date
    public var blobId: UInt64
    public var chunkCount: UInt32
    public var checksum: StoredChecksum?

    public init(partNumber: UInt32, size: UInt64, etag: String, lastModified: Date, blobId: UInt64, chunkCount: UInt32, checksum: StoredChecksum?) {
        self.partNumber = partNumber
        self.size = size
        self.etag = etag
        self.lastModified = lastModified.roundedToMilliseconds
        self.blobId = blobId
        self.chunkCount = chunkCount
        self.checksum = checksum
    }

    func encoded() -> [UInt8] {
        var w = RecordWriter(version: Self.formatVersion)
        w.field(1, UInt64(partNumber))
        w.field(2, size)
        w.field(3, etag)
        w.field(4, Int64((lastModified.timeIntervalSince1970 * 1000).rounded()))
        w.field(5, blobId)
        w.field(6, UInt64(chunkCount))
        if let checksum {
            w.field(7, checksum.algorithm.rawValue)
            w.field(8, checksum.base64)
        }
        return w.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(ObjectStoreError) {
        var r = try RecordReader(bytes)
        guard r.version <= Self.formatVersion else { throw .corruptRecord }
        self.init(partNumber: 0, size: 0, etag: "", lastModified: Date(timeIntervalSince1970: 0), blobId: 0, chunkCount: 0, checksum: nil)
        var algorithm: ChecksumAlgorithm?
        var value64: String?
        while let (tag, value) = try r.next() {
            switch tag {
            case 1: partNumber = UInt32(try RecordReader.uint64(value))
            case 2: size = try RecordReader.uint64(value)
            case 3: etag = RecordReader.string(value)
            case 4: lastModified = Date(timeIntervalSince1970: Double(try RecordReader.int64(value)) / 1000)
            case 5: blobId = try RecordReader.uint64(value)
            case 6: chunkCount = UInt32(try RecordReader.uint64(value))
            case 7: algorithm = ChecksumAlgorithm(rawValue: RecordReader.string(value))
            case 8: value64 = RecordReader.string(value)
            default: break
            }
        }
        if let algorithm, let value64 { checksum = StoredChecksum(algorithm: algorithm, base64: value64) }
    }
}

extension Date {
    /// The date as stored in records: whole milliseconds.
    var roundedToMilliseconds: Date { Date(timeIntervalSince1970: (timeIntervalSince1970 * 1000).rounded() / 1000) }
}

/// One page of ListMultipartUploads.
public struct UploadListPage: Sendable {
    public var uploads: [MultipartUploadRecord]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    public var nextKeyMarker: String?
    public var nextUploadIdMarker: String?
}

/// A part named in CompleteMultipartUpload.
public struct CompletedPart: Sendable {
    public var partNumber: Int
    public var etag: String
    /// The part checksum the client lists (base64), checked against the stored one.
    public var checksum: String?
    /// The ETag without the quotes (and stray spaces) clients send it with.
    public var unquotedETag: String { etag.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) }
    public init(partNumber: Int, etag: String, checksum: String? = nil) {
        self.partNumber = partNumber
        self.etag = etag
        self.checksum = checksum
    }
}
