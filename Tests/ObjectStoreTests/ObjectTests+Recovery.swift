import Digests
import Foundation
import LMDB
@testable import ObjectStore
import XCTest

extension ObjectTests {
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
