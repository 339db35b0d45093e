import Digests
public import Foundation
import LMDB
public import S3Events

/// One image as the index knows it.
public struct ImageRecord: Codable, Sendable, Equatable {
    public var key: String
    public var size: UInt64
    public var etag: String
    public var contentType: String
    public var uploaded: Date
    public var metadata: [String: String]
    /// The sequencer of the last event applied for this key ("" when known from a listing only).
    public var sequencer: String
    /// A tombstone: the image was removed; kept so older events cannot bring it back.
    public var deleted: Bool
    /// When an event last changed this record (nil when only a listing did): a resync whose
    /// listing started earlier must not undo it.
    public var eventAppliedAt: Date?
    /// What the thumbnail pipeline made of this or an earlier version (nil: nothing yet).
    public var derived: DerivedImage?

    /// The derivatives of this version, if the pipeline has finished with it.
    public var currentDerived: DerivedImage? { derived.flatMap { $0.etag == etag ? $0 : nil } }

    public var gallery: String { GalleryIndex.gallery(of: key) ?? "" }
}

/// One gallery in the listing.
public struct GallerySummary: Codable, Sendable, Equatable {
    public var name: String
    public var imageCount: Int
    public var lastUpdate: Date
}

/// An object as a listing (resync) sees it.
public struct ListedObject: Sendable {
    public var key: String
    public var size: UInt64
    public var etag: String
    public var lastModified: Date
    public var contentType: String
    public var metadata: [String: String]

    public init(key: String, size: UInt64, etag: String, lastModified: Date, contentType: String, metadata: [String: String]) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.metadata = metadata
    }
}

/// The gallery index in LMDB, the table the original design kept in a database service:
/// partition key = gallery (first path segment), sort key = object key.
///
/// Databases: `images` (object key → ``ImageRecord`` JSON, tombstones included), `byTime`
/// (gallery ‖ 0x00 ‖ inverted upload time ‖ key hash → key, newest first), `galleries`
/// (name → count and last update), `jobs` (object key → ``DerivativeJob`` JSON, the durable
/// queue of the thumbnail pipeline).
public final class GalleryIndex: Sendable {
    let environment: Environment
    let writer: WriteQueue
    let images: Database
    let byTime: Database
    let galleries: Database
    let jobs: Database

    public init(directory: String, mapSize: Int = 64 << 30) throws {
        environment = try Environment(path: directory, mapSize: mapSize)
        images = try environment.openDatabase("images")
        byTime = try environment.openDatabase("byTime")
        galleries = try environment.openDatabase("galleries")
        jobs = try environment.openDatabase("jobs")
        writer = WriteQueue(environment: environment)
    }

    /// Whether the index holds nothing yet (then it is rebuilt from a listing).
    public func isEmpty() throws -> Bool {
        try environment.read { txn in try txn.cursor(images).first() == nil }
    }

    // MARK: keys and records

    /// The gallery of a key: its first path segment, split on the '/' scalar (not on
    /// characters, so a name starting with a combining mark stays in its gallery); nil when
    /// the key has no non-empty first segment.
    static func gallery(of key: String) -> String? {
        guard let slash = key.unicodeScalars.firstIndex(of: "/"), slash != key.unicodeScalars.startIndex else { return nil }
        let name = String(key.unicodeScalars[..<slash])
        // Only names the API can serve: other prefixes in the bucket are not galleries.
        return isValidGallery(name) ? name : nil
    }

    /// Gallery names: 1-63 of a-z, 0-9 and '-', starting with a letter or digit.
    static func isValidGallery(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        let ok: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) }
        return ok(bytes[0]) && bytes.allSatisfy { ok($0) || $0 == UInt8(ascii: "-") }
    }

    static func timeKey(gallery: String, uploaded: Date, key: String) -> [UInt8] {
        let millis = UInt64(max(0, (uploaded.timeIntervalSince1970 * 1000).rounded()))
        let inverted = UInt64.max - millis
        return Array(gallery.utf8) + [0] + (0..<8).map { UInt8((inverted >> (56 - 8 * UInt64($0))) & 0xff) }
            + Array(Digest.sha256(key).prefix(16))
    }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .millisecondsSince1970
        return e
    }()
    private static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .millisecondsSince1970
        return d
    }()

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] { Array(try encoder.encode(value)) }
    static func decode<T: Decodable>(_ type: T.Type, _ bytes: UnsafeRawBufferPointer) throws -> T {
        try decoder.decode(type, from: Data(bytes))
    }

    func record(_ txn: Transaction, key: String) throws -> ImageRecord? {
        try Array(key.utf8).withUnsafeBytes { try txn.get(images, key: $0) }.map { try Self.decode(ImageRecord.self, $0) }
    }

    /// Within a write transaction: makes `new` the record of its key, keeping `byTime` and
    /// the gallery counts in step with what was there, and queues the derivative work the
    /// change needs (derivatives of a new version, or their removal).
    func store(_ txn: Transaction, _ new: ImageRecord, replacing old: ImageRecord?) throws {
        var new = new
        if new.deleted {
            // Its derivatives are being removed: the same content uploaded again needs new ones.
            new.derived = nil
            if let old, !old.deleted { try enqueue(txn, key: new.key, DerivativeJob(kind: .remove, etag: "")) }
        } else {
            if new.derived == nil { new.derived = old?.derived }
            if new.currentDerived == nil { try enqueue(txn, key: new.key, DerivativeJob(kind: .make, etag: new.etag)) }
        }
        let gallery = new.gallery
        var summary = try Array(gallery.utf8).withUnsafeBytes { try txn.get(galleries, key: $0) }
            .map { try Self.decode(GallerySummary.self, $0) } ?? GallerySummary(name: gallery, imageCount: 0, lastUpdate: new.uploaded)
        if let old, !old.deleted {
            try txn.delete(byTime, key: Self.timeKey(gallery: gallery, uploaded: old.uploaded, key: old.key))
            summary.imageCount -= 1
        }
        if !new.deleted {
            try txn.put(byTime, key: Self.timeKey(gallery: gallery, uploaded: new.uploaded, key: new.key), value: Array(new.key.utf8))
            summary.imageCount += 1
            summary.lastUpdate = max(summary.lastUpdate, new.uploaded)
        } else {
            summary.lastUpdate = max(summary.lastUpdate, Date())
        }
        try txn.put(galleries, key: Array(gallery.utf8), value: Self.encode(summary))
        try txn.put(images, key: Array(new.key.utf8), value: Self.encode(new))
    }

    // MARK: events

    /// Applies an event message idempotently: an event whose sequencer is not newer than the
    /// one recorded for its key (a duplicate, or one that arrived late) changes nothing.
    /// - Returns: how many records changed the index and how many were ignored.
    public func apply(_ message: S3EventMessage) async throws -> (applied: Int, ignored: Int) {
        try await writer.write { [self] txn in
            var applied = 0, ignored = 0
            for event in message.records {
                let key = S3EventRecord.decodeKey(event.s3.object.key)
                guard Self.gallery(of: key) != nil else { ignored += 1; continue }
                let sequencer = event.s3.object.sequencer
                let old = try record(txn, key: key)
                if let old, !S3EventRecord.sequencerPrecedes(old.sequencer, sequencer) { ignored += 1; continue }
                let time = Self.parseTime(event.eventTime) ?? Date()
                switch S3EventName.kind(of: event.eventName) {
                case .created:
                    let new = ImageRecord(key: key, size: event.s3.object.size ?? 0, etag: event.s3.object.eTag ?? "",
                                          contentType: event.s3.object.contentType ?? "binary/octet-stream", uploaded: time,
                                          metadata: event.s3.object.userMetadata ?? [:], sequencer: sequencer, deleted: false,
                                          eventAppliedAt: Date())
                    try store(txn, new, replacing: old)
                case .removed:
                    var tombstone = old ?? ImageRecord(key: key, size: 0, etag: "", contentType: "", uploaded: time, metadata: [:],
                                                       sequencer: sequencer, deleted: true)
                    tombstone.deleted = true
                    tombstone.sequencer = sequencer
                    tombstone.eventAppliedAt = Date()
                    try store(txn, tombstone, replacing: old)
                case nil:
                    ignored += 1
                    continue
                }
                applied += 1
            }
            return (applied, ignored)
        }
    }

    static func parseTime(_ text: String) -> Date? {
        ISO8601Date.parse(text)
    }

    // MARK: resync

    /// Makes the index agree with a full listing of the bucket: listed objects are added or
    /// updated (keeping the sequencer recorded for their key), indexed images missing from
    /// the listing become tombstones. Records an event changed after `listingStarted` are
    /// newer than the listing and are left as they are.
    public func resync(_ listing: [ListedObject], listingStarted: Date = .distantFuture) async throws -> (added: Int, removed: Int) {
        try await writer.write { [self] txn in
            var added = 0, removed = 0
            var listed: Set<String> = []
            for object in listing {
                guard Self.gallery(of: object.key) != nil else { continue }
                listed.insert(object.key)
                let old = try record(txn, key: object.key)
                if let old, !old.deleted, old.etag == object.etag {
                    // Indexed already; its derivatives may still be missing (made before the
                    // pipeline existed, or their job was lost with an older index).
                    if old.currentDerived == nil { try enqueue(txn, key: old.key, DerivativeJob(kind: .make, etag: old.etag)) }
                    continue
                }
                if let applied = old?.eventAppliedAt, applied >= listingStarted { continue }
                let new = ImageRecord(key: object.key, size: object.size, etag: object.etag, contentType: object.contentType,
                                      uploaded: object.lastModified, metadata: object.metadata, sequencer: old?.sequencer ?? "",
                                      deleted: false)
                try store(txn, new, replacing: old)
                added += 1
            }
            var stale: [ImageRecord] = []
            let cursor = try txn.cursor(images)
            var entry = try cursor.first()
            while let e = entry {
                let image = try Self.decode(ImageRecord.self, e.value)
                let newerThanListing = image.eventAppliedAt.map { $0 >= listingStarted } ?? false
                if !image.deleted && !listed.contains(image.key) && !newerThanListing { stale.append(image) }
                entry = try cursor.next()
            }
            for image in stale {
                var tombstone = image
                tombstone.deleted = true
                try store(txn, tombstone, replacing: image)
                removed += 1
            }
            return (added, removed)
        }
    }

    // MARK: queries

    /// Galleries with at least one image, by name.
    public func listGalleries() throws -> [GallerySummary] {
        try environment.read { txn in
            let cursor = try txn.cursor(galleries)
            var result: [GallerySummary] = []
            var entry = try cursor.first()
            while let e = entry {
                let summary = try Self.decode(GallerySummary.self, e.value)
                if summary.imageCount > 0 { result.append(summary) }
                entry = try cursor.next()
            }
            return result
        }
    }

    /// A page of a gallery, newest first. `cursor` is the opaque value a previous page returned:
    /// the position after its last image, so images added meanwhile (newer) never shift it.
    public func images(gallery: String, limit: Int, cursor: String?) throws -> (images: [ImageRecord], next: String?) {
        let prefix = Array(gallery.utf8) + [0]
        var start = prefix
        var after: [UInt8]?
        if let cursor {
            guard let bytes = Base64.decode(cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")),
                  bytes.starts(with: prefix), bytes.count == prefix.count + 24 else {
                throw IndexError.invalidCursor
            }
            start = bytes
            after = bytes
        }
        return try environment.read { txn in
            let cursor = try txn.cursor(byTime)
            var result: [ImageRecord] = []
            var lastKey: [UInt8]?
            var entry = try cursor.seek(atOrAfter: start)
            while let e = entry, e.key.starts(with: prefix) {
                if let after, Array(e.key) == after { entry = try cursor.next(); continue }
                if result.count == limit {
                    let token = Base64.encode(lastKey!).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                    return (result, token)
                }
                let key = String(decoding: e.value, as: UTF8.self)
                if let image = try record(txn, key: key), !image.deleted { result.append(image) }
                lastKey = Array(e.key)
                entry = try cursor.next()
            }
            return (result, nil)
        }
    }
}

/// Errors of the index, with the JSON error code they are reported with.
public enum IndexError: Error, Equatable {
    case invalidCursor
}
