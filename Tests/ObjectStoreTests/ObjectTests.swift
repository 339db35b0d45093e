import Digests
import Foundation
import LMDB
@testable import ObjectStore
import XCTest

final class ObjectTests: XCTestCase {
    private func storeWithBucket(mapSize: Int = 1 << 30) async throws -> (LMDBObjectStore, BucketRecord) {
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

        // If-Match on a missing key: NoSuchKey.
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

    // MARK: - Uploads that never commit

    func testDiscardAfterStagedFlush() async throws {
        let (store, bucket) = try await storeWithBucket()
        let upload = try store.startUpload(bucket: bucket, key: "k")
        let body = pseudoRandomBytes(count: 4 * mib + 10, seed: 14)
        body.withUnsafeBytes { upload.append($0) }
        try await upload.flushIfNeeded()
        try await upload.waitForFlushes()
        XCTAssertEqual(try store.stagedBlobs(), [upload.blobId])
        XCTAssertEqual(try store.chunkCount(blob: upload.blobId), 4)
        await upload.discard()
        XCTAssertEqual(try store.stagedBlobs(), [])
        XCTAssertEqual(try store.chunkEntries().count, 0)
        XCTAssertNil(try store.object(bucket: bucket, key: "k"))
        await upload.discard()  // a second discard is harmless
        XCTAssertEqual(try store.chunkEntries().count, 0)
    }

    func testDroppedStagedUploadIsCleanedUp() async throws {
        let (store, bucket) = try await storeWithBucket()
        try await store.putObject(bucket: bucket, key: "keep", body: [1, 2])
        var upload: LMDBObjectUpload? = try store.startUpload(bucket: bucket, key: "k")
        let body = pseudoRandomBytes(count: 5 * mib, seed: 15)
        body.withUnsafeBytes { upload!.append($0) }
        try await upload!.flushIfNeeded()
        try await upload!.waitForFlushes()
        XCTAssertEqual(try store.stagedBlobs().count, 1)
        XCTAssertEqual(try store.chunkEntries().count, 1 + 5)
        upload = nil  // e.g. the request task was cancelled
        try await eventually("a dropped upload's staged chunks are removed in the background") {
            try store.stagedBlobs().isEmpty && store.chunkEntries().count == 1
        }
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "keep"), [1, 2])
    }

    /// A crash between a staged flush and the commit leaves a staging record and chunks; the next
    /// open removes them and leaves published objects alone.
    func testInterruptedUploadIsSweptOnReopen() async throws {
        let directory = makeDirectory()
        var store: LMDBObjectStore? = try LMDBObjectStore(directory: directory, mapSize: 1 << 30)
        let bucket = try await store!.createBucket(name: "bucket", ownerId: "o", region: "r")
        let keepBody = pseudoRandomBytes(count: 2 * mib + 3, seed: 16)
        let (kept, _) = try await store!.putObject(bucket: bucket, key: "keep", body: keepBody)

        // What an interrupted upload leaves on disk, written directly: a staging record and some
        // chunks of a blob above every published one.
        let orphan = kept.blobId + 10
        let (chunks, staging) = (store!.chunks, store!.staging)
        try await store!.write { txn in
            try txn.put(staging, key: orphan.bigEndianBytes, value: UInt64(1_700_000_000).bigEndianBytes)
            for i: UInt32 in 0..<3 {
                try txn.put(chunks, key: LMDBObjectStore.chunkKey(blob: orphan, index: i), value: [UInt8](repeating: UInt8(i), count: 1000))
            }
        }
        XCTAssertEqual(try store!.chunkCount(blob: orphan), 3)
        await closeAndRelease(&store)

        store = try LMDBObjectStore(directory: directory, mapSize: 1 << 30)
        XCTAssertEqual(try store!.stagedBlobs(), [])
        XCTAssertEqual(try store!.chunkCount(blob: orphan), 0)
        XCTAssertEqual(try store!.chunkCount(blob: kept.blobId), 3)
        XCTAssertEqual(try store!.readBody(bucket: "bucket", key: "keep"), keepBody)
        XCTAssertEqual(try store!.object(bucket: bucket, key: "keep"), kept)
        // New uploads still work and get a blob of their own.
        let (fresh, _) = try await store!.putObject(bucket: bucket, key: "fresh", body: [7])
        XCTAssertNotEqual(fresh.blobId, kept.blobId)
        XCTAssertEqual(try store!.readBody(bucket: "bucket", key: "keep"), keepBody)
        await closeAndRelease(&store)
    }

    /// The same through the public API: a real staged upload whose cleanup cannot run because
    /// the writer is already stopped (as when the process is killed).
    func testStagedUploadLeftByStoppedWriterIsSweptOnReopen() async throws {
        let directory = makeDirectory()
        var store: LMDBObjectStore? = try LMDBObjectStore(directory: directory, mapSize: 1 << 30)
        let bucket = try await store!.createBucket(name: "bucket", ownerId: "o", region: "r")
        try await store!.putObject(bucket: bucket, key: "keep", body: Array("kept".utf8))
        var upload: LMDBObjectUpload? = try store!.startUpload(bucket: bucket, key: "never")
        let body = pseudoRandomBytes(count: 4 * mib, seed: 17)
        body.withUnsafeBytes { upload!.append($0) }
        try await upload!.flushIfNeeded()
        try await upload!.waitForFlushes()
        let blob = upload!.blobId
        XCTAssertEqual(try store!.stagedBlobs(), [blob])
        store!.close()   // writer stops: the upload's background cleanup will fail
        upload = nil
        await closeAndRelease(&store)

        store = try LMDBObjectStore(directory: directory, mapSize: 1 << 30)
        XCTAssertEqual(try store!.stagedBlobs(), [])
        XCTAssertEqual(try store!.chunkCount(blob: blob), 0)
        XCTAssertNil(try store!.object(bucket: bucket, key: "never"))
        XCTAssertEqual(try store!.readBody(bucket: "bucket", key: "keep"), Array("kept".utf8))
        await closeAndRelease(&store)
    }

    func testObjectsSurviveReopen() async throws {
        let directory = makeDirectory()
        var store: LMDBObjectStore? = try LMDBObjectStore(directory: directory, mapSize: 1 << 30)
        let bucket = try await store!.createBucket(name: "bucket", ownerId: "o", region: "r")
        let body = pseudoRandomBytes(count: 3 * mib + 1, seed: 18)
        let (record, _) = try await store!.putObject(bucket: bucket, key: "a/b", body: body)
        await closeAndRelease(&store)

        store = try LMDBObjectStore(directory: directory, mapSize: 1 << 30)
        let reopened = try XCTUnwrap(try store!.bucket(named: "bucket"))
        XCTAssertEqual(reopened.id, bucket.id)
        XCTAssertEqual(try store!.object(bucket: reopened, key: "a/b"), record)
        XCTAssertEqual(try store!.readBody(bucket: "bucket", key: "a/b"), body)
        // Bucket ids keep growing across restarts.
        let second = try await store!.createBucket(name: "second", ownerId: "o", region: "r")
        XCTAssertGreaterThan(second.id, bucket.id)
        await closeAndRelease(&store)
    }

    /// Dropping a store without calling `close()` should still close its environment.
    /// (Regression: the writer thread used to keep the queue, and through it the `Environment`,
    /// alive until `shutdown()`.)
    func testStoreDroppedWithoutCloseReleasesEnvironment() async throws {
        weak var environment: Environment?
        do {
            let store = try LMDBObjectStore(directory: makeDirectory(), mapSize: 64 << 20)
            environment = store.environment
            try await store.createBucket(name: "bucket", ownerId: "o", region: "r")
        }
        let deadline = Date().addingTimeInterval(3)
        while environment != nil && Date() < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertNil(environment, "the LMDB environment (and the writer thread) outlive the dropped ObjectStore")
    }

    /// After a flush fails (here: the store is full), the upload must not later publish an
    /// object whose chunks do not add up to its size. (Regression: flushIfNeeded used to empty
    /// `pending` before the write; when the write threw, those chunks were lost but a later
    /// commit still published a record whose `size` counted them and whose `chunkCount` did not.)
    func testCommitAfterFailedFlushDoesNotPublishACorruptObject() async throws {
        let (store, bucket) = try await storeWithBucket(mapSize: 8 * mib)
        // Fill the store.
        var fillers: [String] = []
        for i in 0..<20 {
            do {
                try await store.putObject(bucket: bucket, key: "filler-\(i)", body: pseudoRandomBytes(count: mib, seed: 200 + UInt64(i)))
                fillers.append("filler-\(i)")
            } catch {
                XCTAssertEqual(error as? ObjectStoreError, .storageFull)
                break
            }
        }
        XCTAssertGreaterThan(fillers.count, 0)
        let body = pseudoRandomBytes(count: 5 * mib + 100, seed: 300)
        let upload = try store.startUpload(bucket: bucket, key: "big")
        body[0..<4 * mib].withUnsafeBytes { upload.append($0) }
        // A batch is written while the next one fills, so its failure is reported by the next
        // flush or by the commit; the write may even land after the deletes below make room.
        // Either way the commit must fail or publish exactly the uploaded bytes.
        do {
            try await upload.flushIfNeeded()
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .storageFull)
        }
        // Room is made (another client deletes), the upload goes on and commits.
        for key in fillers { try await store.deleteObject(bucket: bucket, key: key) }
        try await store.putObject(bucket: bucket, key: "tick", body: [1])
        body[(4 * mib)...].withUnsafeBytes { upload.append($0) }
        try await upload.flushIfNeeded()
        let committed: ObjectRecord
        do {
            committed = try await upload.commit(md5: upload.finishDigest(), metadata: ObjectMetadata(), checksum: nil, ownerId: "o").record
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .storageFull)
            return  // refusing to commit a broken upload is acceptable
        }
        XCTAssertEqual(committed.size, UInt64(body.count))
        XCTAssertEqual(Int(committed.chunkCount), (body.count + mib - 1) / mib, "chunkCount must cover size")
        do {
            let read = try store.readBody(bucket: "bucket", key: "big")
            XCTAssertTrue(read == body, "published body differs from the uploaded bytes")
        } catch {
            XCTFail("published object cannot be read back: \(error)")
        }
    }

    // MARK: - Ranges and errors

    /// A range past the end of the body must not loop forever. (Regression: forEachSlice used to
    /// stop advancing at the end of a short last chunk and call `body` with empty slices forever.)
    func testForEachSliceRangePastEndTerminates() async throws {
        let (store, bucket) = try await storeWithBucket()
        try await store.putObject(bucket: bucket, key: "k", body: Array("0123456789".utf8))
        let reader = try store.openObject(bucket: "bucket", key: "k")
        defer { reader.close() }
        struct Runaway: Error {}
        var calls = 0
        var visited: [UInt8] = []
        do {
            try reader.forEachSlice(in: 5..<20) { slice in
                calls += 1
                visited.append(contentsOf: slice)
                if calls > 1000 { throw Runaway() }
            }
            // Returning is fine if it visited exactly the bytes that exist.
            XCTAssertEqual(visited, Array("56789".utf8))
        } catch is Runaway {
            XCTFail("forEachSlice(in: 5..<20) on a 10-byte object does not terminate (\(calls) calls)")
        } catch {
            // Refusing the range with an error is acceptable too.
        }
    }

    func testStorageFullIsReportedAndStoreRecovers() async throws {
        let (store, bucket) = try await storeWithBucket(mapSize: 4 * mib)
        var stored: [(String, [UInt8])] = []
        var failure: (any Error)?
        for i in 0..<50 {
            let body = pseudoRandomBytes(count: 300_000, seed: 100 + UInt64(i))
            do {
                try await store.putObject(bucket: bucket, key: "obj-\(i)", body: body)
                stored.append(("obj-\(i)", body))
            } catch {
                failure = error
                break
            }
        }
        XCTAssertGreaterThan(stored.count, 2)
        XCTAssertEqual(failure as? ObjectStoreError, .storageFull, "\(String(describing: failure))")
        // Everything committed is intact and readable; the failed upload is invisible.
        for (key, body) in stored { XCTAssertEqual(try store.readBody(bucket: "bucket", key: key), body) }
        XCTAssertEqual(try store.list(bucket: bucket, query: ListQuery()).items.count, stored.count)
        // Deleting makes room again.
        for (key, _) in stored.prefix(3) { try await store.deleteObject(bucket: bucket, key: key) }
        try await store.putObject(bucket: bucket, key: "tick", body: [1])
        let body = pseudoRandomBytes(count: 300_000, seed: 999)
        try await store.putObject(bucket: bucket, key: "again", body: body)
        XCTAssertEqual(try store.readBody(bucket: "bucket", key: "again"), body)
    }
}
