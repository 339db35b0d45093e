import Foundation
import LMDB
@testable import ObjectStore
import XCTest

final class RecordCodingTests: XCTestCase {
    private func decodeObject(_ bytes: [UInt8]) throws -> ObjectRecord {
        try bytes.withUnsafeBytes { try ObjectRecord(decoding: $0) }
    }

    private func decodeBucket(_ bytes: [UInt8], name: String = "b") throws -> BucketRecord {
        try bytes.withUnsafeBytes { try BucketRecord(name: name, decoding: $0) }
    }

    /// One field as the documented layout says: tag, UInt32 little-endian length, bytes.
    private func field(_ tag: UInt8, _ value: [UInt8]) -> [UInt8] {
        let n = UInt32(value.count)
        return [tag, UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)] + value
    }

    private func fullRecord(_ algorithm: ChecksumAlgorithm = .sha256) -> ObjectRecord {
        ObjectRecord(
            size: 0x0102_0304_0506_0708,
            etag: "0123456789abcdef0123456789abcdef-12",
            lastModified: Date(timeIntervalSince1970: 1_700_000_000.123),
            metadata: ObjectMetadata(
                contentType: "image/jpeg",
                contentHeaders: ["cache-control": "max-age=60", "content-disposition": "attachment; filename=\"ä.jpg\"",
                                 "content-encoding": "gzip", "content-language": "fr-CA", "expires": "Thu, 01 Dec 1994 16:00:00 GMT"],
                user: ["a": "1", "empty": "", "unicode-ü": "😀 value", "spaces": "  x  "]),
            checksum: StoredChecksum(algorithm: algorithm, base64: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="),
            ownerId: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
            blobId: 0xFEDC_BA98_7654_3210,
            chunkSize: 1 << 20,
            chunkCount: UInt32.max)
    }

    func testObjectRecordRoundTripWithEveryField() throws {
        for algorithm in ChecksumAlgorithm.allCases {
            let record = fullRecord(algorithm)
            let decoded = try decodeObject(record.encoded())
            XCTAssertEqual(decoded, record, "\(algorithm)")
            XCTAssertEqual(decoded.checksum?.algorithm, algorithm)
        }
        // A multipart object: its parts, in order, with and without part checksums.
        var multipart = fullRecord()
        multipart.parts = [
            PartSegment(partNumber: 1, blobId: 77, chunkCount: 5, size: 5 << 20, etag: "aa", checksum: "c1=="),
            PartSegment(partNumber: 3, blobId: 0xFFFF_FFFF_FFFF_FFFF, chunkCount: 0, size: 0, etag: "", checksum: nil),
            PartSegment(partNumber: 10_000, blobId: 2, chunkCount: UInt32.max, size: UInt64.max, etag: "bb", checksum: ""),
        ]
        multipart.uploadId = "00112233445566778899aabbccddeeff"
        XCTAssertEqual(try decodeObject(multipart.encoded()), multipart)
        // Optional parts absent.
        let bare = ObjectRecord(size: 0, etag: "", lastModified: Date(timeIntervalSince1970: 0), metadata: ObjectMetadata(),
                                checksum: nil, ownerId: "", blobId: 0, chunkSize: 0, chunkCount: 0)
        XCTAssertEqual(try decodeObject(bare.encoded()), bare)
        // Dates before 1970 survive too.
        var old = fullRecord()
        old.lastModified = Date(timeIntervalSince1970: -86_400.5)
        XCTAssertEqual(try decodeObject(old.encoded()).lastModified, old.lastModified)
    }

    func testObjectRecordWireLayout() {
        let bytes = fullRecord().encoded()
        XCTAssertEqual(bytes[0], 1, "format version first")
        // First field: tag 1, length 8 (LE), size as 8 big-endian bytes.
        XCTAssertEqual(Array(bytes[1..<14]), [1, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])
        // Second field: tag 2, the ETag's UTF-8 bytes.
        let etag = Array("0123456789abcdef0123456789abcdef-12".utf8)
        XCTAssertEqual(Array(bytes[14..<14 + 5 + etag.count]), field(2, etag))
    }

    func testDecoderSkipsUnknownTags() throws {
        let record = fullRecord()
        let bytes = record.encoded()
        // Unknown fields appended at the end, including an empty one.
        let appended = bytes + field(200, [1, 2, 3, 4, 5, 6, 7, 8, 9]) + field(120, []) + field(255, Array("future".utf8))
        XCTAssertEqual(try decodeObject(appended), record)
        // An unknown field between known ones (after the first field: version + 13 bytes).
        let inserted = Array(bytes[0..<14]) + field(99, [0xFF, 0x00, 0xFF]) + Array(bytes[14...])
        XCTAssertEqual(try decodeObject(inserted), record)
        // A hand-built record with only a few known fields and unknown ones around them.
        let handBuilt: [UInt8] = [1] + field(77, [0xAA]) + field(1, [0, 0, 0, 0, 0, 0, 0, 42]) + field(2, Array("e".utf8))
            + field(78, Array(repeating: 0, count: 300)) + field(9, Array("me".utf8))
        let decoded = try decodeObject(handBuilt)
        XCTAssertEqual(decoded.size, 42)
        XCTAssertEqual(decoded.etag, "e")
        XCTAssertEqual(decoded.ownerId, "me")
        XCTAssertNil(decoded.checksum)
    }

    func testNewerFormatVersionIsRefused() {
        var bytes = fullRecord().encoded()
        bytes[0] = 2
        XCTAssertThrowsError(try decodeObject(bytes)) { error in
            XCTAssertEqual(error as? ObjectStoreError, .corruptRecord)
        }
        bytes[0] = 0xFF
        XCTAssertThrowsError(try decodeObject(bytes)) { error in
            XCTAssertEqual(error as? ObjectStoreError, .corruptRecord)
        }
        var bucket = BucketRecord(name: "b", id: 1, ownerId: "o", created: Date(timeIntervalSince1970: 1), region: "r").encoded()
        bucket[0] = 2
        XCTAssertThrowsError(try decodeBucket(bucket)) { error in
            XCTAssertEqual(error as? ObjectStoreError, .corruptRecord)
        }
    }

    func testMalformedRecordsAreRefused() {
        let bytes = fullRecord().encoded()
        let malformed: [(String, [UInt8])] = [
            ("empty", []),
            ("truncated in the last value", Array(bytes.dropLast())),
            ("truncated in a header", Array(bytes[0..<3])),
            ("length past the end", [1] + [9, 0xFF, 0, 0, 0] + Array("x".utf8)),
            ("integer field of the wrong width", [1] + field(1, [0, 0, 0, 1])),
            ("pairs with a dangling name", [1] + field(6, field(0, Array("name".utf8)))),
        ]
        for (what, record) in malformed {
            XCTAssertThrowsError(try decodeObject(record), what) { error in
                XCTAssertEqual(error as? ObjectStoreError, .corruptRecord, what)
            }
        }
    }

    func testBucketRecordRoundTrip() throws {
        let record = BucketRecord(name: "my.bucket", id: 0x0102_0304_0506_0708, ownerId: "owner-ü",
                                  created: Date(timeIntervalSince1970: 1_600_000_000.5), region: "eu-central-1")
        let decoded = try decodeBucket(record.encoded(), name: "my.bucket")
        XCTAssertEqual(decoded, record)
        XCTAssertEqual(try decodeBucket(record.encoded() + field(42, [1, 2])), BucketRecord(
            name: "b", id: record.id, ownerId: record.ownerId, created: record.created, region: record.region))
    }

    func testMultipartRecordsRoundTrip() throws {
        var upload = MultipartUploadRecord(
            uploadId: "00112233445566778899aabbccddeeff", bucketId: 42, key: "dir/ü😀", ownerId: "owner",
            initiated: Date(timeIntervalSince1970: 1_700_000_000.5),
            metadata: ObjectMetadata(contentType: "x/y", contentHeaders: ["expires": "never"], user: ["k": "v"]),
            checksumAlgorithm: .crc64nvme)
        upload.checksumType = .fullObject
        let decodedUpload = try upload.encoded().withUnsafeBytes {
            try MultipartUploadRecord(uploadId: "00112233445566778899aabbccddeeff", decoding: $0)
        }
        XCTAssertEqual(decodedUpload, upload)

        let part = PartRecord(partNumber: 9_999, size: 5 << 20, etag: "0123456789abcdef0123456789abcdef",
                              lastModified: Date(timeIntervalSince1970: 1_650_000_000.25), blobId: 1 << 40, chunkCount: 5,
                              checksum: StoredChecksum(algorithm: .crc32c, base64: "yZRlqg=="))
        XCTAssertEqual(try part.encoded().withUnsafeBytes { try PartRecord(decoding: $0) }, part)

        var newer = part.encoded()
        newer[0] = 2
        XCTAssertThrowsError(try newer.withUnsafeBytes { try PartRecord(decoding: $0) }) { error in
            XCTAssertEqual(error as? ObjectStoreError, .corruptRecord)
        }
        var newerUpload = upload.encoded()
        newerUpload[0] = 2
        XCTAssertThrowsError(try newerUpload.withUnsafeBytes { try MultipartUploadRecord(uploadId: "x", decoding: $0) }) { error in
            XCTAssertEqual(error as? ObjectStoreError, .corruptRecord)
        }
    }

    /// Records that this build cannot read surface as `.corruptRecord` through the store API.
    func testStoreRefusesNewerObjectRecord() async throws {
        let store = try openStore(makeDirectory())
        let bucket = try await store.createBucket(name: "bucket", ownerId: "o", region: "r")
        try await store.putObject(bucket: bucket, key: "future", body: [1])
        try await store.putObject(bucket: bucket, key: "ok", body: [2])
        var future = try XCTUnwrap(try store.object(bucket: bucket, key: "future")).encoded()
        future[0] = 2
        let objects = store.objects
        let key = LMDBObjectStore.objectKey(bucketId: bucket.id, key: "future")
        let value = future
        try await store.write { txn in try txn.put(objects, key: key, value: value) }

        XCTAssertThrowsError(try store.object(bucket: bucket, key: "future")) { error in
            XCTAssertEqual(error as? ObjectStoreError, .corruptRecord)
        }
        XCTAssertThrowsError(try store.openObject(bucket: "bucket", key: "future")) { error in
            XCTAssertEqual(error as? ObjectStoreError, .corruptRecord)
        }
        XCTAssertThrowsError(try store.list(bucket: bucket, query: ListQuery())) { error in
            XCTAssertEqual(error as? ObjectStoreError, .corruptRecord)
        }
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "ok"), [2])
    }

    func testStoreRefusesNewerStoreFormat() async throws {
        let directory = makeDirectory()
        var store: LMDBObjectStore? = try LMDBObjectStore(directory: directory, mapSize: 64 << 20)
        let meta = store!.meta
        try await store!.write { txn in try txn.put(meta, key: Array("format".utf8), value: [2]) }
        await closeAndRelease(&store)
        XCTAssertThrowsError(try LMDBObjectStore(directory: directory, mapSize: 64 << 20)) { error in
            XCTAssertEqual(error as? ObjectStoreError, .corruptRecord)
        }
    }
}
