import Digests
import Foundation
import LMDB
@testable import ObjectStore
import XCTest

final class ObjectTests: XCTestCase {
    func storeWithBucket(mapSize: Int = 1 << 30) async throws -> (LMDBObjectStore, BucketRecord) {
        let store = try openStore(makeDirectory(), mapSize: mapSize)
        let bucket = try await store.createBucket(name: "bucket", ownerId: "owner-1", region: "us-east-1")
        return (store, bucket)
    }

    // MARK: - Round trips

    func testSmallObjectRoundTrip() async throws {
        let (store, bucket) = try await storeWithBucket()
        let metadata = ObjectMetadata(
            contentType: "text/plain; charset=utf-8",
            contentHeaders: ["cache-control": "no-cache", "content-language": "de"],
            user: ["color": "blau", "größe": "groß"])
        let checksum = StoredChecksum(algorithm: .crc32, base64: "NSRBwg==")
        let when = Date(timeIntervalSince1970: 1_700_000_000.25)
        let (record, replaced) = try await store.putObject(
            bucket: bucket, key: "docs/abc.txt", body: Array("abc".utf8), metadata: metadata, checksum: checksum,
            ownerId: "owner-1", lastModified: when)
        XCTAssertNil(replaced)
        // RFC 1321 test vector: MD5("abc").
        XCTAssertEqual(record.etag, "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(record.size, 3)
        XCTAssertEqual(record.chunkCount, 1)
        XCTAssertEqual(record.chunkSize, UInt32(mib))

        let stored = try XCTUnwrap(try store.object(bucket: bucket, key: "docs/abc.txt"))
        XCTAssertEqual(stored, record)
        XCTAssertEqual(stored.metadata, metadata)
        XCTAssertEqual(stored.checksum, checksum)
        XCTAssertEqual(stored.ownerId, "owner-1")
        XCTAssertEqual(stored.lastModified, when)
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "docs/abc.txt"), Array("abc".utf8))

        let reader = try store.openObject(bucket: "bucket", key: "docs/abc.txt")
        XCTAssertEqual(reader.record, record)
        XCTAssertEqual(reader.key, "docs/abc.txt")
        XCTAssertEqual(reader.bucket.id, bucket.id)
        XCTAssertEqual(Array(try (reader as! LMDBObjectReader).chunk(0)), Array("abc".utf8))
        reader.close()

        XCTAssertNil(try store.object(bucket: bucket, key: "docs/abc"))
        XCTAssertThrowsError(try store.openObject(bucket: "bucket", key: "docs/missing")) { error in
            XCTAssertEqual(error as? ObjectStoreError, .noSuchKey)
        }
        XCTAssertThrowsError(try store.openObject(bucket: "nobucket", key: "docs/abc.txt")) { error in
            XCTAssertEqual(error as? ObjectStoreError, .noSuchBucket)
        }
    }

    /// Like ``BucketTests/testCreateBucketReturnsTheStoredRecord()``. (Regression: `commit` used
    /// to return `lastModified` unrounded while the stored record keeps whole milliseconds.)
    func testCommitReturnsTheStoredRecord() async throws {
        let (store, bucket) = try await storeWithBucket()
        let upload = try store.startUpload(bucket: bucket, key: "k")
        [UInt8]([1, 2, 3]).withUnsafeBytes { upload.append($0) }
        // The default `lastModified` (now), as the HTTP layer will call it.
        let (record, _) = try await upload.commit(md5: upload.finishDigest(), metadata: ObjectMetadata(), checksum: nil, ownerId: "o")
        let stored = try XCTUnwrap(try store.object(bucket: bucket, key: "k"))
        XCTAssertEqual(record, stored,
                       "returned lastModified \(record.lastModified.timeIntervalSince1970) vs stored \(stored.lastModified.timeIntervalSince1970)")
    }

    func testEmptyObject() async throws {
        let (store, bucket) = try await storeWithBucket()
        let (record, _) = try await store.putObject(bucket: bucket, key: "empty", body: [])
        XCTAssertEqual(record.size, 0)
        XCTAssertEqual(record.chunkCount, 0)
        XCTAssertEqual(record.etag, "d41d8cd98f00b204e9800998ecf8427e")  // MD5 of nothing
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "empty"), [])
        XCTAssertEqual(try store.chunkEntries().count, 0)
    }

    func testMultiChunkObjectWithStagingAndRanges() async throws {
        let (store, bucket) = try await storeWithBucket()
        let size = 5 * mib + 12_345
        let body = pseudoRandomBytes(count: size, seed: 1)

        // Drive the upload by hand to observe the staging phase.
        let upload = try store.startUpload(bucket: bucket, key: "big.bin")
        var offset = 0
        var sawStaging = false
        while offset < size {
            let end = min(offset + 300_007, size)
            body[offset..<end].withUnsafeBytes { upload.append($0) }
            try await upload.flushIfNeeded()
            offset = end
            if offset >= 4 * mib && !sawStaging {
                // Four full chunks are pending now: they were flushed under a staging record.
                sawStaging = true
                try await upload.waitForFlushes()
                XCTAssertEqual(try store.stagedBlobs().count, 1)
                let entries = try store.chunkEntries()
                XCTAssertEqual(entries.map(\.index), [0, 1, 2, 3])
                XCTAssertTrue(entries.allSatisfy { $0.size == mib })
                XCTAssertNil(try store.object(bucket: bucket, key: "big.bin"), "invisible before commit")
            }
        }
        try await upload.waitForFlushes()
        let staged = try store.stagedBlobs()
        let (record, replaced) = try await upload.commit(md5: upload.finishDigest(), metadata: ObjectMetadata(), checksum: nil, ownerId: "owner-1")
        XCTAssertNil(replaced)
        XCTAssertEqual(staged, [record.blobId])
        XCTAssertEqual(try store.stagedBlobs(), [], "commit removes the staging record")

        XCTAssertEqual(record.size, UInt64(size))
        XCTAssertEqual(record.etag, md5Hex(body))
        XCTAssertEqual(record.chunkSize, UInt32(mib))
        XCTAssertEqual(record.chunkCount, 6)
        let entries = try store.chunkEntries()
        XCTAssertEqual(entries.map(\.blob), Array(repeating: record.blobId, count: 6))
        XCTAssertEqual(entries.map(\.index), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(entries.map(\.size), [mib, mib, mib, mib, mib, 12_345])

        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "big.bin"), body)
        let m = UInt64(mib)
        let s = UInt64(size)
        let ranges: [Range<UInt64>] = [
            0..<1, 0..<m, m - 10..<m + 10, m - 1..<3 * m + 1, m..<2 * m, 2 * m + 5..<2 * m + 6,
            4 * m..<s, 5 * m - 1..<s, s - 1..<s, 12_345..<4 * m + 777, 7..<7, 0..<s,
        ]
        for range in ranges {
            let got = try store.readBody(bucket: "bucket", key: "big.bin", range: range)
            XCTAssertEqual(got, Array(body[Int(range.lowerBound)..<Int(range.upperBound)]), "range \(range)")
        }

        // forEachSlice hands out one slice per chunk touched, in order.
        let reader = try store.openObject(bucket: "bucket", key: "big.bin")
        var sliceSizes: [Int] = []
        try reader.forEachSlice(in: m - 10..<3 * m + 1) { sliceSizes.append($0.count) }
        XCTAssertEqual(sliceSizes, [10, mib, mib, 1])
        reader.close()
    }

    /// Which bodies may come from disk, and `isCached` once a slice has been read: small bodies
    /// always count as cached, a large body's slice does after it was read. (That the pages of
    /// large values leave the cache after their commit is LMDBTests' page-cache test.)
    func testLargeBodiesMayComeFromDiskAndAreCachedOnceRead() async throws {
        let (store, bucket) = try await storeWithBucket()
        let small = pseudoRandomBytes(count: Transaction.largeValueSize - 1, seed: 11)
        let large = pseudoRandomBytes(count: 2 * mib + 5, seed: 12)
        try await store.putObject(bucket: bucket, key: "small", body: small)
        try await store.putObject(bucket: bucket, key: "large", body: large)

        let smallReader = try store.openObject(bucket: "bucket", key: "small")
        XCTAssertFalse(smallReader.mayReadFromDisk)
        XCTAssertTrue(smallReader.isCached(at: 0, end: UInt64(small.count)))
        smallReader.close()

        let reader = try store.openObject(bucket: "bucket", key: "large")
        XCTAssertTrue(reader.mayReadFromDisk)
        let end = UInt64(large.count)
        let slice = try reader.slice(at: UInt64(mib) + 7, end: end)
        XCTAssertEqual(Array(slice), Array(large[(mib + 7)..<(2 * mib)]))
        XCTAssertTrue(reader.isCached(at: UInt64(mib) + 7, end: end), "a slice just read is in the page cache")
        XCTAssertFalse(reader.isCached(at: end, end: end + 1), "outside the body: not readable, so not cached")
        reader.close()
    }

    func testBodiesThatAreExactMultiplesOfTheChunkSize() async throws {
        let (store, bucket) = try await storeWithBucket()
        for (key, size, seed) in [("one", mib, UInt64(2)), ("four", 4 * mib, 3), ("eight", 8 * mib, 4), ("one-plus", mib + 1, 5)] {
            let body = pseudoRandomBytes(count: size, seed: seed)
            let (record, _) = try await store.putObject(bucket: bucket, key: key, body: body, pieceSize: 65_536)
            XCTAssertEqual(record.chunkCount, UInt32((size + mib - 1) / mib), key)
            XCTAssertEqual(record.etag, md5Hex(body), key)
            XCTAssertEqual(try store.chunkCount(blob: record.blobId), Int(record.chunkCount), key)
            XCTAssertEqual(try store.readBody(bucket: "bucket", key: key), body, key)
        }
        XCTAssertEqual(try store.stagedBlobs(), [])
    }

    func testOneLargeAppendThenCommit() async throws {
        // 9 MiB handed over in a single append: one flush writes all nine pending chunks.
        let (store, bucket) = try await storeWithBucket()
        let body = pseudoRandomBytes(count: 9 * mib + 3, seed: 6)
        let (record, _) = try await store.putObject(bucket: bucket, key: "k", body: body, pieceSize: body.count)
        XCTAssertEqual(record.chunkCount, 10)
        XCTAssertEqual(record.etag, md5Hex(body))
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "k"), body)
    }

    func testETagMatchesMd5sumTool() async throws {
        let md5sum = URL(fileURLWithPath: "/usr/bin/md5sum")
        guard FileManager.default.isExecutableFile(atPath: md5sum.path) else { throw XCTSkip("no md5sum") }
        let (store, bucket) = try await storeWithBucket()
        let body = pseudoRandomBytes(count: 4 * mib + 99, seed: 7)
        let (record, _) = try await store.putObject(bucket: bucket, key: "k", body: body)

        let file = makeDirectory() + ".bin"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: file) }
        try Data(body).write(to: URL(fileURLWithPath: file))
        let process = Process()
        process.executableURL = md5sum
        process.arguments = [file]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let hex = String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init)
        XCTAssertEqual(record.etag, hex)
    }

    // MARK: - Overwrite and delete

    func testOverwriteReplacesAndFreesOldChunks() async throws {
        let (store, bucket) = try await storeWithBucket()
        let big = pseudoRandomBytes(count: 5 * mib + 1, seed: 8)
        let keep = pseudoRandomBytes(count: 2 * mib, seed: 9)
        let (old, _) = try await store.putObject(bucket: bucket, key: "k", body: big)
        let (other, _) = try await store.putObject(bucket: bucket, key: "other", body: keep)
        XCTAssertEqual(try store.chunkCount(blob: old.blobId), 6)

        let small = Array("replacement".utf8)
        let (new, replaced) = try await store.putObject(bucket: bucket, key: "k", body: small)
        XCTAssertEqual(replaced, old)
        XCTAssertNotEqual(new.blobId, old.blobId)
        XCTAssertEqual(new.etag, md5Hex(small))
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "k"), small)
        XCTAssertEqual(try store.chunkCount(blob: old.blobId), 0, "old body freed")
        XCTAssertEqual(try store.chunkCount(blob: new.blobId), 1)
        XCTAssertEqual(try store.chunkCount(blob: other.blobId), 2, "other objects untouched")
        XCTAssertEqual(try store.chunkEntries().count, 3)
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "other"), keep)

        // Overwrite a small body with a big one (staged), then with an empty one.
        let (bigAgain, replaced2) = try await store.putObject(bucket: bucket, key: "k", body: big)
        XCTAssertEqual(replaced2, new)
        XCTAssertEqual(try store.chunkCount(blob: new.blobId), 0)
        let (empty, replaced3) = try await store.putObject(bucket: bucket, key: "k", body: [])
        XCTAssertEqual(replaced3, bigAgain)
        XCTAssertEqual(try store.chunkCount(blob: bigAgain.blobId), 0)
        XCTAssertEqual(empty.size, 0)
        XCTAssertEqual(try store.chunkEntries().count, 2, "only 'other' has chunks")
        XCTAssertEqual(try store.stagedBlobs(), [])
    }

    func testReaderSnapshotSurvivesOverwriteAndDelete() async throws {
        let (store, bucket) = try await storeWithBucket()
        let first = pseudoRandomBytes(count: 2 * mib + 5, seed: 10)
        try await store.putObject(bucket: bucket, key: "k", body: first)
        let reader = try store.openObject(bucket: "bucket", key: "k")

        let second = pseudoRandomBytes(count: 3 * mib, seed: 11)
        try await store.putObject(bucket: bucket, key: "k", body: second)
        var seen: [UInt8] = []
        try reader.forEachSlice(in: 0..<reader.record.size) { seen.append(contentsOf: $0) }
        XCTAssertEqual(seen, first, "the snapshot still reads the body it opened")
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "k"), second)

        let reader2 = try store.openObject(bucket: "bucket", key: "k")
        try await store.deleteObject(bucket: bucket, key: "k")
        seen = []
        try reader2.forEachSlice(in: 0..<reader2.record.size) { seen.append(contentsOf: $0) }
        XCTAssertEqual(seen, second)
        reader.close()
        reader2.close()
        XCTAssertThrowsError(try store.openObject(bucket: "bucket", key: "k")) { error in
            XCTAssertEqual(error as? ObjectStoreError, .noSuchKey)
        }
        XCTAssertEqual(try store.chunkEntries().count, 0)
    }

    func testDeleteObjectsMixedExistingAndMissing() async throws {
        let (store, bucket) = try await storeWithBucket()
        var records: [String: ObjectRecord] = [:]
        for (i, key) in ["a", "b/c", "ü", "big"].enumerated() {
            let body = key == "big" ? pseudoRandomBytes(count: 4 * mib + 1, seed: 12) : Array("body \(i)".utf8)
            records[key] = try await store.putObject(bucket: bucket, key: key, body: body).record
        }
        XCTAssertEqual(try store.chunkEntries().count, 3 + 5)

        let tooLong = String(repeating: "x", count: store.maxKeyLength + 1)
        let results = try await store.deleteObjects(bucket: bucket, keys: ["a", "missing", "big", "b/", "ü", "a", tooLong])
        XCTAssertEqual(results.count, 7)
        XCTAssertEqual(try results[0].get(), records["a"])
        XCTAssertEqual(try results[1].get(), nil)
        XCTAssertEqual(try results[2].get(), records["big"])
        XCTAssertEqual(try results[3].get(), nil, "a prefix of a key is not that key")
        XCTAssertEqual(try results[4].get(), records["ü"])
        XCTAssertEqual(try results[5].get(), nil, "already deleted earlier in the same call")
        XCTAssertThrowsError(try results[6].get()) { error in
            XCTAssertEqual(error as? ObjectStoreError, .keyTooLong(maxBytes: LMDBObjectStore.maxKeyBytes))
        }

        let remaining = try store.list(bucket: bucket, query: ListQuery()).items.map(\.marker)
        XCTAssertEqual(remaining, ["b/c"])
        XCTAssertEqual(try store.chunkEntries().map(\.blob), [records["b/c"]!.blobId])
        let missing = try await store.deleteObject(bucket: bucket, key: "missing")
        XCTAssertNil(missing)
        let deleted = try await store.deleteObject(bucket: bucket, key: "b/c")
        XCTAssertEqual(deleted, records["b/c"])
        XCTAssertEqual(try store.chunkEntries().count, 0)
    }

    /// An empty key is an invalid key (`validate(key:)` and `ObjectStoreError.invalidKey` say so),
    /// not a key that is too long. (Regression: deleteObjects used to report `.keyTooLong`.)
    func testDeleteObjectsReportsEmptyKeyAsInvalid() async throws {
        let (store, bucket) = try await storeWithBucket()
        let results = try await store.deleteObjects(bucket: bucket, keys: [""])
        XCTAssertThrowsError(try results[0].get()) { error in
            XCTAssertEqual(error as? ObjectStoreError, .invalidKey)
        }
    }

    // MARK: - Keys

    func testKeyValidation() async throws {
        let (store, bucket) = try await storeWithBucket()
        XCTAssertEqual(store.maxKeyLength, store.environment.maxKeySize - 8)
        XCTAssertThrowsError(try store.startUpload(bucket: bucket, key: "")) { error in
            XCTAssertEqual(error as? ObjectStoreError, .invalidKey)
        }
        XCTAssertThrowsError(try store.startUpload(bucket: bucket, key: "a\u{0}b")) { error in
            XCTAssertEqual(error as? ObjectStoreError, .invalidKey)
        }
        XCTAssertThrowsError(try store.startUpload(bucket: bucket, key: String(repeating: "k", count: store.maxKeyLength + 1))) { error in
            XCTAssertEqual(error as? ObjectStoreError, .keyTooLong(maxBytes: LMDBObjectStore.maxKeyBytes))
        }
        // Multi-byte characters count in bytes: 2 bytes each.
        let tooLongUnicode = String(repeating: "ü", count: store.maxKeyLength / 2 + 1)
        XCTAssertThrowsError(try store.startUpload(bucket: bucket, key: tooLongUnicode)) { error in
            XCTAssertEqual(error as? ObjectStoreError, .keyTooLong(maxBytes: LMDBObjectStore.maxKeyBytes))
        }

        let longest = String(repeating: "k", count: store.maxKeyLength - 1) + "/"
        try await store.putObject(bucket: bucket, key: longest, body: [9])
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: longest), [9])
        XCTAssertEqual(try store.list(bucket: bucket, query: ListQuery()).items.map(\.marker), [longest])
    }

    func testCanonicallyEquivalentKeysAreDistinct() async throws {
        let (store, bucket) = try await storeWithBucket()
        let composed = "\u{FC}"      // ü as one scalar: C3 BC
        let decomposed = "u\u{308}"  // u + combining diaeresis: 75 CC 88
        XCTAssertEqual(composed, decomposed, "Swift compares them as equal; S3 must not")
        try await store.putObject(bucket: bucket, key: composed, body: Array("composed".utf8))
        let (_, replaced) = try await store.putObject(bucket: bucket, key: decomposed, body: Array("decomposed".utf8))
        XCTAssertNil(replaced)
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: composed), Array("composed".utf8))
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: decomposed), Array("decomposed".utf8))
        let listed = try store.list(bucket: bucket, query: ListQuery()).items.map { Array($0.marker.utf8) }
        XCTAssertEqual(listed, [[0x75, 0xCC, 0x88], [0xC3, 0xBC]])
    }

    // MARK: - Conditional writes

    func testWriteConditions() async throws {
        let (store, bucket) = try await storeWithBucket()
        let v1 = Array("version 1".utf8)
        let v2 = Array("version 2".utf8)

        // If-Match on a missing key: NoSuchKey, as AWS documents for conditional writes.
        do {
            try await store.putObject(bucket: bucket, key: "k", body: v1, condition: .ifMatch(["*"]))
            XCTFail("If-Match on a missing key must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .noSuchKey)
        }
        // If-None-Match: * on a missing key succeeds.
        let (r1, _) = try await store.putObject(bucket: bucket, key: "k", body: v1, condition: .ifNoneMatchAny)
        XCTAssertEqual(r1.etag, md5Hex(v1))
        // ... and fails once the key exists, leaving it alone.
        do {
            try await store.putObject(bucket: bucket, key: "k", body: v2, condition: .ifNoneMatchAny)
            XCTFail("If-None-Match: * on an existing key must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .preconditionFailed)
        }
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "k"), v1)

        // If-Match with the wrong ETag fails.
        do {
            try await store.putObject(bucket: bucket, key: "k", body: v2, condition: .ifMatch([md5Hex(v2), "0123"]))
            XCTFail("If-Match with a wrong ETag must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .preconditionFailed)
        }
        XCTAssertEqual(try store.object(bucket: bucket, key: "k"), r1)
        // If-Match with the current ETag among others succeeds.
        let (r2, replaced) = try await store.putObject(bucket: bucket, key: "k", body: v2, condition: .ifMatch(["nope", md5Hex(v1)]))
        XCTAssertEqual(replaced, r1)
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "k"), v2)
        // The old ETag no longer matches; `*` matches any existing object.
        do {
            try await store.putObject(bucket: bucket, key: "k", body: v1, condition: .ifMatch([md5Hex(v1)]))
            XCTFail("If-Match with the replaced ETag must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .preconditionFailed)
        }
        let (_, replaced2) = try await store.putObject(bucket: bucket, key: "k", body: v1, condition: .ifMatch(["*"]))
        XCTAssertEqual(replaced2, r2)
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "k"), v1)
        XCTAssertEqual(try store.chunkEntries().count, 1, "failed conditional writes leave no chunks")
    }

    func testIfNoneMatchWithETags() async throws {
        let (store, bucket) = try await storeWithBucket()
        let v1 = Array("version 1".utf8)
        let v2 = Array("version 2".utf8)
        // No current object: nothing can match.
        let (r1, _) = try await store.putObject(bucket: bucket, key: "k", body: v1, condition: .ifNoneMatch([md5Hex(v2)]))
        // The current ETag among those listed: the write does not happen.
        do {
            try await store.putObject(bucket: bucket, key: "k", body: v2, condition: .ifNoneMatch(["0123", md5Hex(v1)]))
            XCTFail("If-None-Match with the current ETag must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .preconditionFailed)
        }
        XCTAssertEqual(try store.object(bucket: bucket, key: "k"), r1)
        // Other ETags only: it does.
        let (_, replaced) = try await store.putObject(bucket: bucket, key: "k", body: v2, condition: .ifNoneMatch(["0123"]))
        XCTAssertEqual(replaced, r1)
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "k"), v2)
    }

    func testFailedConditionalCommitFreesStagedChunks() async throws {
        let (store, bucket) = try await storeWithBucket()
        let original = Array("keep me".utf8)
        let (kept, _) = try await store.putObject(bucket: bucket, key: "k", body: original)
        let big = pseudoRandomBytes(count: 6 * mib + 17, seed: 13)
        do {
            try await store.putObject(bucket: bucket, key: "k", body: big, condition: .ifNoneMatchAny)
            XCTFail("must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .preconditionFailed)
        }
        XCTAssertEqual(try store.stagedBlobs(), [])
        XCTAssertEqual(try store.chunkEntries().map(\.blob), [kept.blobId], "the staged chunks were freed")
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "k"), original)
    }
}
