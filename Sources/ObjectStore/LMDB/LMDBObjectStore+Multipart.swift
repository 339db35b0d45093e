import Digests
public import Foundation
import LMDB

extension LMDBObjectStore {
    static func uploadIdBytes(_ uploadId: String) throws -> [UInt8] {
        guard uploadId.utf8.count == 32, let bytes = Hex.decode(uploadId) else { throw ObjectStoreError.noSuchUpload }
        return bytes
    }

    static func indexKey(_ upload: MultipartUploadRecord, idBytes: [UInt8]) -> [UInt8] {
        objectKey(bucketId: upload.bucketId, key: upload.key) + [0]
            + UInt64(max(0, (upload.initiated.timeIntervalSince1970 * 1000).rounded())).bigEndianBytes + idBytes
    }

    static func partKey(_ idBytes: [UInt8], _ number: UInt32) -> [UInt8] { idBytes + number.bigEndianBytes }

    /// Starts a multipart upload of `key`.
    public func createMultipartUpload(bucket: BucketRecord, key: String, ownerId: String, metadata: ObjectMetadata,
                                      checksumAlgorithm: ChecksumAlgorithm?, checksumType: ChecksumType? = nil,
                                      acl: AccessControlList? = nil) async throws -> MultipartUploadRecord {
        try validate(key: key)
        let idBytes = randomBytes(16)
        var record = MultipartUploadRecord(uploadId: Hex.encode(idBytes), bucketId: bucket.id, key: key, ownerId: ownerId,
                                           initiated: Date(), metadata: metadata, checksumAlgorithm: checksumAlgorithm)
        record.acl = acl
        record.checksumType = checksumType
        let uploadRecord = record
        try await write { [self] txn in
            guard let current = try Self.bucket(txn, buckets, name: bucket.name), current.id == bucket.id else {
                throw ObjectStoreError.noSuchBucket
            }
            try txn.put(uploads, key: idBytes, value: uploadRecord.encoded())
            try txn.put(uploadIndex, key: Self.indexKey(uploadRecord, idBytes: idBytes), value: [])
        }
        return uploadRecord
    }

    /// The upload `uploadId` of `key` in `bucket`.
    /// - Throws: `.noSuchUpload` when it does not exist or belongs to another key or bucket.
    public func multipartUpload(bucket: BucketRecord, key: String, uploadId: String) throws -> MultipartUploadRecord {
        let idBytes = try Self.uploadIdBytes(uploadId)
        return try read { txn in try upload(txn, idBytes: idBytes, uploadId: uploadId, bucket: bucket, key: key) }
    }

    func upload(_ txn: Transaction, idBytes: [UInt8], uploadId: String, bucket: BucketRecord, key: String) throws -> MultipartUploadRecord {
        guard let bytes = try idBytes.withUnsafeBytes({ try txn.get(uploads, key: $0) }) else { throw ObjectStoreError.noSuchUpload }
        let record = try MultipartUploadRecord(uploadId: uploadId, decoding: bytes)
        guard record.bucketId == bucket.id, record.key == key else { throw ObjectStoreError.noSuchUpload }
        return record
    }

    /// Starts writing the body of one part.
    public func beginPartUpload(bucket: BucketRecord, upload: MultipartUploadRecord) -> any ObjectUpload {
        LMDBObjectUpload(store: self, bucket: bucket, key: upload.key)
    }

    /// Within a write transaction: stores part `number` of `upload`, freeing a part it replaces.
    func publishPart(_ txn: Transaction, bucket: BucketRecord, upload: MultipartUploadRecord, part: PartRecord) throws {
        let idBytes = try Self.uploadIdBytes(upload.uploadId)
        _ = try self.upload(txn, idBytes: idBytes, uploadId: upload.uploadId, bucket: bucket, key: upload.key)
        let key = Self.partKey(idBytes, part.partNumber)
        if let old = try key.withUnsafeBytes({ try txn.get(parts, key: $0) }).map({ try PartRecord(decoding: $0) }), old.blobId != part.blobId {
            try Self.deleteChunks(txn, chunks, blob: old.blobId, count: old.chunkCount)
        }
        try txn.put(parts, key: key, value: part.encoded())
    }

    /// Parts of an upload with numbers above `after`, at most `maxParts`.
    public func listParts(upload: MultipartUploadRecord, after: Int, maxParts: Int) throws -> (parts: [PartRecord], isTruncated: Bool) {
        let idBytes = try Self.uploadIdBytes(upload.uploadId)
        return try read { txn in
            let cursor = try txn.cursor(parts)
            var result: [PartRecord] = []
            var entry = try cursor.seek(atOrAfter: Self.partKey(idBytes, UInt32(clamping: after + 1)))
            while let e = entry, e.key.starts(with: idBytes) {
                if result.count >= maxParts { return (result, true) }
                result.append(try PartRecord(decoding: e.value))
                entry = try cursor.next()
            }
            return (result, false)
        }
    }

    /// Completes an upload: the object is published with the listed parts as its body (no data
    /// is copied) and every part not listed is freed, all in one transaction.
    public func completeMultipartUpload(bucket: BucketRecord, upload: MultipartUploadRecord, parts requested: [CompletedPart],
                                        lastModified: Date, condition: WriteCondition = .none,
                                        event: EventContext? = nil) async throws -> ObjectRecord {
        guard !requested.isEmpty, requested.count <= MultipartUploadRecord.maximumParts else { throw ObjectStoreError.invalidPart }
        for (a, b) in zip(requested, requested.dropFirst()) where b.partNumber <= a.partNumber {
            throw ObjectStoreError.invalidPartOrder
        }
        let idBytes = try Self.uploadIdBytes(upload.uploadId)
        return try await write { [self] txn in
            let upload = try self.upload(txn, idBytes: idBytes, uploadId: upload.uploadId, bucket: bucket, key: upload.key)
            var stored: [UInt32: PartRecord] = [:]
            let cursor = try txn.cursor(parts)
            var entry = try cursor.seek(atOrAfter: idBytes)
            while let e = entry, e.key.starts(with: idBytes) {
                let part = try PartRecord(decoding: e.value)
                stored[part.partNumber] = part
                entry = try cursor.next()
            }
            var chosen: [PartRecord] = []
            for (i, wanted) in requested.enumerated() {
                guard let number = UInt32(exactly: wanted.partNumber), let part = stored[number],
                      part.etag == wanted.unquotedETag else {
                    throw ObjectStoreError.invalidPart
                }
                if let claimed = wanted.checksum, claimed != part.checksum?.base64 { throw ObjectStoreError.invalidPart }
                if i < requested.count - 1 && part.size < MultipartUploadRecord.minimumPartSize { throw ObjectStoreError.entityTooSmall }
                chosen.append(part)
            }
            let md5s = chosen.flatMap { Hex.decode($0.etag) ?? [] }
            let etag = Hex.encode(Digest.md5(md5s)) + "-\(chosen.count)"
            var checksum: StoredChecksum?
            if let algorithm = upload.checksumAlgorithm {
                let raw = chosen.compactMap { $0.checksum.flatMap { Base64.decode($0.base64) } }
                if raw.count == chosen.count {
                    switch upload.checksumType ?? .composite {
                    case .composite:
                        checksum = StoredChecksum(algorithm: algorithm, base64: Base64.encode(Self.checksum(algorithm, raw.flatMap { $0 })) + "-\(chosen.count)")
                    case .fullObject:
                        var whole: [UInt8]? = raw[0]
                        for (part, crc) in zip(chosen, raw).dropFirst() {
                            whole = whole.flatMap { Self.combine(algorithm, $0, crc, lengthOfSecond: part.size) }
                        }
                        checksum = whole.map { StoredChecksum(algorithm: algorithm, base64: Base64.encode($0)) }
                    }
                }
            }
            var record = ObjectRecord(size: chosen.reduce(0) { $0 + $1.size }, etag: etag, lastModified: lastModified,
                                      metadata: upload.metadata, checksum: checksum, ownerId: upload.ownerId,
                                      blobId: 0, chunkSize: UInt32(Self.chunkSize), chunkCount: 0)
            record.acl = upload.acl
            record.uploadId = upload.uploadId
            record.parts = chosen.map {
                PartSegment(partNumber: $0.partNumber, blobId: $0.blobId, chunkCount: $0.chunkCount, size: $0.size,
                            etag: $0.etag, checksum: $0.checksum?.base64)
            }
            _ = try publish(txn, bucket: bucket, key: upload.key, record: record, condition: condition, event: event)
            let used = Set(chosen.map(\.partNumber))
            for (number, part) in stored {
                if !used.contains(number) { try Self.deleteChunks(txn, chunks, blob: part.blobId, count: part.chunkCount) }
                try txn.delete(parts, key: Self.partKey(idBytes, number))
            }
            try txn.delete(uploads, key: idBytes)
            try txn.delete(uploadIndex, key: Self.indexKey(upload, idBytes: idBytes))
            return record
        }
    }

    /// The checksum of `bytes` in `algorithm` (composite multipart checksums hash part checksums).
    static func checksum(_ algorithm: ChecksumAlgorithm, _ bytes: [UInt8]) -> [UInt8] {
        switch algorithm {
        case .crc32: var c = CRC32(); c.update(bytes); return c.bytes
        case .crc32c: var c = CRC32C(); c.update(bytes); return c.bytes
        case .crc64nvme: var c = CRC64NVME(); c.update(bytes); return c.bytes
        case .sha1: return Digest.sha1(bytes)
        case .sha256: return Digest.sha256(bytes)
        }
    }

    /// The `algorithm` CRC of A‖B from those of A and B (FULL_OBJECT multipart checksums);
    /// nil for the digests, which cannot be combined.
    static func combine(_ algorithm: ChecksumAlgorithm, _ first: [UInt8], _ second: [UInt8], lengthOfSecond: UInt64) -> [UInt8]? {
        switch algorithm {
        case .crc32: CRC32.combine(first, second, lengthOfSecond: lengthOfSecond)
        case .crc32c: CRC32C.combine(first, second, lengthOfSecond: lengthOfSecond)
        case .crc64nvme: CRC64NVME.combine(first, second, lengthOfSecond: lengthOfSecond)
        case .sha1, .sha256: nil
        }
    }

    /// Aborts an upload, freeing its parts.
    public func abortMultipartUpload(bucket: BucketRecord, upload: MultipartUploadRecord) async throws {
        let idBytes = try Self.uploadIdBytes(upload.uploadId)
        try await write { [self] txn in
            let upload = try self.upload(txn, idBytes: idBytes, uploadId: upload.uploadId, bucket: bucket, key: upload.key)
            try removeUpload(txn, upload, idBytes: idBytes)
        }
    }

    func removeUpload(_ txn: Transaction, _ upload: MultipartUploadRecord, idBytes: [UInt8]) throws {
        let cursor = try txn.cursor(parts)
        var doomed: [(key: [UInt8], part: PartRecord)] = []
        var entry = try cursor.seek(atOrAfter: idBytes)
        while let e = entry, e.key.starts(with: idBytes) {
            doomed.append((Array(e.key), try PartRecord(decoding: e.value)))
            entry = try cursor.next()
        }
        for (key, part) in doomed {
            try Self.deleteChunks(txn, chunks, blob: part.blobId, count: part.chunkCount)
            try txn.delete(parts, key: key)
        }
        try txn.delete(uploads, key: idBytes)
        try txn.delete(uploadIndex, key: Self.indexKey(upload, idBytes: idBytes))
    }

    /// Removes every incomplete upload of a bucket (when the bucket is deleted).
    func removeUploads(_ txn: Transaction, bucketId: UInt64) throws {
        let prefix = bucketId.bigEndianBytes
        let cursor = try txn.cursor(uploadIndex)
        var ids: [[UInt8]] = []
        var entry = try cursor.seek(atOrAfter: prefix)
        while let e = entry, e.key.starts(with: prefix) {
            ids.append(Array(e.key.suffix(16)))
            entry = try cursor.next()
        }
        for idBytes in ids {
            guard let bytes = try idBytes.withUnsafeBytes({ try txn.get(uploads, key: $0) }) else { continue }
            let upload = try MultipartUploadRecord(uploadId: Hex.encode(idBytes), decoding: bytes)
            try removeUpload(txn, upload, idBytes: idBytes)
        }
    }

    /// Lists incomplete uploads in key order, then initiation order.
    public func listMultipartUploads(bucket: BucketRecord, prefix: String, delimiter: String?, keyMarker: String?,
                                     uploadIdMarker: String?, maxUploads: Int) throws -> UploadListPage {
        try read { txn in
            let bucketPrefix = bucket.id.bigEndianBytes
            let start = bucketPrefix + Array(prefix.utf8)
            let cursor = try txn.cursor(uploadIndex)
            var page = UploadListPage(uploads: [], commonPrefixes: [], isTruncated: false)
            var seek = start
            if let keyMarker, !(bucketPrefix + Array(keyMarker.utf8)).lexicographicallyPrecedes(start) {
                seek = bucketPrefix + Array(keyMarker.utf8)
            }
            let delimiterBytes = delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
            var passedMarker = uploadIdMarker == nil
            var count = 0
            var entry = try cursor.seek(atOrAfter: seek)
            while let e = entry, e.key.starts(with: start) {
                let keyBytes = UnsafeRawBufferPointer(rebasing: e.key[8..<(e.key.count - 25)])
                let key = String(decoding: keyBytes, as: UTF8.self)
                let idBytes = Array(e.key.suffix(16))
                if let keyMarker, delimiterBytes == nil || Self.firstRange(of: delimiterBytes!, in: keyBytes, from: prefix.utf8.count) == nil {
                    // Byte order, as keys are stored: String comparison would equate canonically
                    // equivalent keys.
                    let markerBytes = Array(keyMarker.utf8)
                    let keyArray = Array(keyBytes)
                    if keyArray.lexicographicallyPrecedes(markerBytes) || (keyArray == markerBytes && uploadIdMarker == nil) {
                        entry = try cursor.next()
                        continue
                    }
                    if keyArray == markerBytes && !passedMarker {
                        if Hex.encode(idBytes) == uploadIdMarker { passedMarker = true }
                        entry = try cursor.next()
                        continue
                    }
                }
                if let delimiterBytes, let cut = Self.firstRange(of: delimiterBytes, in: keyBytes, from: prefix.utf8.count) {
                    let common = String(decoding: keyBytes[..<cut], as: UTF8.self)
                    // A group at or before the key marker was returned on an earlier page.
                    if let keyMarker, !Array(keyMarker.utf8).lexicographicallyPrecedes(Array(keyBytes[..<cut])) {
                        entry = try cursor.seek(atOrAfter: bucketPrefix + Array(keyBytes[..<cut]) + [0xFF])
                        continue
                    }
                    if page.commonPrefixes.last != common {
                        if count >= maxUploads { page.isTruncated = true; break }
                        page.commonPrefixes.append(common)
                        count += 1
                        page.nextKeyMarker = common
                        page.nextUploadIdMarker = nil
                    }
                    entry = try cursor.seek(atOrAfter: bucketPrefix + Array(keyBytes[..<cut]) + [0xFF])
                    continue
                }
                if count >= maxUploads { page.isTruncated = true; break }
                guard let bytes = try idBytes.withUnsafeBytes({ try txn.get(uploads, key: $0) }) else { entry = try cursor.next(); continue }
                let upload = try MultipartUploadRecord(uploadId: Hex.encode(idBytes), decoding: bytes)
                page.uploads.append(upload)
                count += 1
                page.nextKeyMarker = upload.key
                page.nextUploadIdMarker = upload.uploadId
                entry = try cursor.next()
            }
            if !page.isTruncated { page.nextKeyMarker = nil; page.nextUploadIdMarker = nil }
            return page
        }
    }
}

extension LMDBObjectUpload {
    /// Publishes this body as part `partNumber` of `upload`, durably.
    public func commitPart(md5: [UInt8], upload: MultipartUploadRecord, partNumber: UInt32, checksum: StoredChecksum?) async throws -> PartRecord {
        let (chunks, chunkCount) = takeRemainingChunks()
        let part = PartRecord(partNumber: partNumber, size: size, etag: Hex.encode(md5), lastModified: Date(),
                              blobId: blobId, chunkCount: chunkCount, checksum: checksum)
        let bucket = bucket
        try await finishCommit(chunks: chunks) { store, txn in
            try store.publishPart(txn, bucket: bucket, upload: upload, part: part)
        }
        return part
    }
}
