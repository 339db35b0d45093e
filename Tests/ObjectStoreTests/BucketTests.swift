import Foundation
@testable import ObjectStore
import XCTest

final class BucketTests: XCTestCase {
    func testBucketNamingRules() {
        // Valid per https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
        let valid = [
            "abc", "my-bucket", "my.bucket.name", "docexamplebucket1", "log-delivery-march-2020",
            "123", "a1b", "a-b-c", "a.b-c", "1.2.3", "1.2.3.4a", "192.168.5.4.5",
            String(repeating: "a", count: 63), "xn-abc", "sthree", "bucket-s3alias1", "mrap",
        ]
        for name in valid {
            XCTAssertTrue(BucketRecord.isValidName(name), "\(name) should be valid")
        }
        let invalid = [
            "", "ab", String(repeating: "a", count: 64),      // length 3...63
            "My-Bucket", "myBucket", "my_bucket", "my bucket", "bücket", "my/bucket", "my:bucket",  // characters
            "-abc", "abc-", ".abc", "abc.",                   // begin and end with a letter or digit
            "a..b", "my..bucket",                            // no adjacent periods
            "my.-bucket", "my-.bucket",                      // period next to hyphen
            "192.168.5.4", "10.0.0.1", "1.1.1.1",            // IP address format
            "xn--abc", "sthree-abc", "sthree-configurator", "amzn-s3-demo-bucket",  // reserved prefixes
            "abc-s3alias", "abc--ol-s3", "abc.mrap", "abc--x-s3", "abc--table-s3",  // reserved suffixes
        ]
        for name in invalid {
            XCTAssertFalse(BucketRecord.isValidName(name), "\(name) should be invalid")
        }
    }

    func testCreateBucketDuplicatesAndInvalidName() async throws {
        let store = try openStore(makeDirectory())
        let first = try await store.createBucket(name: "photos", ownerId: "alice", region: "eu-west-1")
        XCTAssertEqual(first.name, "photos")
        XCTAssertEqual(first.ownerId, "alice")
        XCTAssertEqual(first.region, "eu-west-1")

        let stored = try XCTUnwrap(try store.bucket(named: "photos"))
        XCTAssertEqual(stored.name, "photos")
        XCTAssertEqual(stored.id, first.id)
        XCTAssertEqual(stored.ownerId, "alice")
        XCTAssertEqual(stored.region, "eu-west-1")
        XCTAssertEqual(stored.created.timeIntervalSince1970, first.created.timeIntervalSince1970, accuracy: 0.002)
        XCTAssertNil(try store.bucket(named: "photo"))
        XCTAssertNil(try store.bucket(named: "photos2"))

        do {
            try await store.createBucket(name: "photos", ownerId: "alice", region: "eu-west-1")
            XCTFail("duplicate by the same owner must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .bucketAlreadyOwnedByYou)
        }
        do {
            try await store.createBucket(name: "photos", ownerId: "bob", region: "us-east-1")
            XCTFail("duplicate by another owner must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .bucketAlreadyExists)
        }
        do {
            try await store.createBucket(name: "Bad_Name", ownerId: "alice", region: "eu-west-1")
            XCTFail("invalid name must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .invalidBucketName)
        }
        XCTAssertNil(try store.bucket(named: "Bad_Name"))
        // The failed attempts changed nothing.
        let again = try XCTUnwrap(try store.bucket(named: "photos"))
        XCTAssertEqual(again.ownerId, "alice")
        XCTAssertEqual(again.id, first.id)

        let second = try await store.createBucket(name: "videos", ownerId: "bob", region: "us-east-1")
        XCTAssertNotEqual(second.id, first.id)
    }

    /// The record `createBucket` returns should be the record later reads return.
    /// (Regression: `created` used to be returned with sub-millisecond precision while the stored
    /// record keeps whole milliseconds.)
    func testCreateBucketReturnsTheStoredRecord() async throws {
        let store = try openStore(makeDirectory())
        let created = try await store.createBucket(name: "exact", ownerId: "alice", region: "r")
        let read = try XCTUnwrap(try store.bucket(named: "exact"))
        XCTAssertEqual(created, read, "created \(created.created.timeIntervalSince1970) vs stored \(read.created.timeIntervalSince1970)")
    }

    func testListBucketsByOwner() async throws {
        let store = try openStore(makeDirectory())
        let names = [("zeta", "alice"), ("alpha", "bob"), ("mid.dle", "alice"), ("b-2", "alice"), ("b-10", "bob"), ("0first", "carol")]
        for (name, owner) in names {
            try await store.createBucket(name: name, ownerId: owner, region: "r")
        }
        // Name order is byte order of the names.
        let all = try store.listBuckets()
        XCTAssertEqual(all.map(\.name), ["0first", "alpha", "b-10", "b-2", "mid.dle", "zeta"])
        XCTAssertEqual(all.map(\.ownerId), ["carol", "bob", "bob", "alice", "alice", "alice"])
        XCTAssertEqual(try store.listBuckets(ownerId: "alice").map(\.name), ["b-2", "mid.dle", "zeta"])
        XCTAssertEqual(try store.listBuckets(ownerId: "bob").map(\.name), ["alpha", "b-10"])
        XCTAssertEqual(try store.listBuckets(ownerId: "nobody").map(\.name), [])
        XCTAssertEqual(Set(all.map(\.id)).count, names.count, "bucket ids are unique")

        try await store.deleteBucket(name: "mid.dle")
        XCTAssertEqual(try store.listBuckets(ownerId: "alice").map(\.name), ["b-2", "zeta"])
    }

    func testDeleteBucket() async throws {
        let store = try openStore(makeDirectory())
        do {
            try await store.deleteBucket(name: "missing")
            XCTFail("deleting a missing bucket must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .noSuchBucket)
        }

        let bucket = try await store.createBucket(name: "full", ownerId: "alice", region: "r")
        try await store.putObject(bucket: bucket, key: "a/b", body: Array("hello".utf8))
        try await store.putObject(bucket: bucket, key: "c", body: [])
        do {
            try await store.deleteBucket(name: "full")
            XCTFail("deleting a non-empty bucket must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .bucketNotEmpty)
        }
        XCTAssertNotNil(try store.bucket(named: "full"))
        XCTAssertEqual(try store.readBody(bucket: "full", key: "a/b"), Array("hello".utf8))

        try await store.deleteObject(bucket: bucket, key: "a/b")
        do {
            try await store.deleteBucket(name: "full")
            XCTFail("still one object")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .bucketNotEmpty)
        }
        try await store.deleteObject(bucket: bucket, key: "c")
        try await store.deleteBucket(name: "full")
        XCTAssertNil(try store.bucket(named: "full"))

        // The stale record of the deleted bucket is refused for writes, reads and deletes.
        do {
            try await store.putObject(bucket: bucket, key: "late", body: [1, 2, 3])
            XCTFail("upload into a deleted bucket must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .noSuchBucket)
        }
        XCTAssertThrowsError(try store.openObject(bucket: "full", key: "late")) { error in
            XCTAssertEqual(error as? ObjectStoreError, .noSuchBucket)
        }
        do {
            _ = try await store.deleteObjects(bucket: bucket, keys: ["x"])
            XCTFail("deleteObjects on a deleted bucket must fail")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .noSuchBucket)
        }

        // Re-created under the same name: a new id, empty, and the old record still refused.
        let recreated = try await store.createBucket(name: "full", ownerId: "bob", region: "r")
        XCTAssertNotEqual(recreated.id, bucket.id)
        XCTAssertEqual(try store.list(bucket: recreated, query: ListQuery()).items.count, 0)
        do {
            try await store.putObject(bucket: bucket, key: "stale", body: [1])
            XCTFail("a stale bucket record must not write into the re-created bucket")
        } catch {
            XCTAssertEqual(error as? ObjectStoreError, .noSuchBucket)
        }
        XCTAssertEqual(try store.list(bucket: recreated, query: ListQuery()).items.count, 0)
        XCTAssertEqual(try store.chunkEntries().count, 0, "no chunk left behind by the refused uploads")
    }

    /// Emptiness is checked by bucket-id prefix: objects of the next bucket must not count.
    func testDeleteEmptyBucketNextToNonEmptyOne() async throws {
        let store = try openStore(makeDirectory())
        let empty = try await store.createBucket(name: "empty", ownerId: "alice", region: "r")
        let busy = try await store.createBucket(name: "busy", ownerId: "alice", region: "r")
        XCTAssertLessThan(empty.id, busy.id)
        try await store.putObject(bucket: busy, key: "k", body: [1])
        try await store.deleteBucket(name: "empty")
        XCTAssertNil(try store.bucket(named: "empty"))
        XCTAssertEqual(try store.readBody(bucket: "busy", key: "k"), [1])
    }
}
