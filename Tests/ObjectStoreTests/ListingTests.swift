import Foundation
@testable import ObjectStore
import XCTest

/// The reference model of S3 listing, written independently of `LMDBObjectStore.list`:
/// keys in UTF-8 byte order; keep those starting with the prefix; a key whose remainder after
/// the prefix contains the delimiter rolls up into `prefix ‖ remainder up to and including the
/// first delimiter`; each common prefix appears once, where its first key would be; then every
/// entry (key or common prefix) at or before `after` is dropped.
struct ListingModel {
    let sortedKeys: [[UInt8]]

    init<S: Sequence>(keys: S) where S.Element == [UInt8] {
        sortedKeys = Set(keys).sorted(by: byteOrderLess)
    }

    func entries(prefix: String, delimiter: String?, after: String?) -> [Entry] {
        let p = Array(prefix.utf8)
        let d = delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        var out: [Entry] = []
        var seenPrefixes = Set<[UInt8]>()
        for key in sortedKeys where key.count >= p.count && Array(key[0..<p.count]) == p {
            let rest = Array(key[p.count...])
            if let d, let end = Self.endOfFirst(d, in: rest) {
                let common = p + rest[0..<end]
                if seenPrefixes.insert(common).inserted { out.append(Entry(isPrefix: true, bytes: common)) }
            } else {
                out.append(Entry(isPrefix: false, bytes: key))
            }
        }
        return Self.drop(atOrBefore: after, from: out)
    }

    static func drop(atOrBefore after: String?, from entries: [Entry]) -> [Entry] {
        guard let after else { return entries }
        let a = Array(after.utf8)
        return entries.filter { byteOrderLess(a, $0.bytes) }
    }

    /// Index just past the first occurrence of `needle` in `haystack`.
    static func endOfFirst(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
            return start + needle.count
        }
        return nil
    }
}

final class ListingTests: XCTestCase {
    private func store(with keys: [String]) async throws -> (LMDBObjectStore, BucketRecord) {
        let store = try openStore(makeDirectory())
        let bucket = try await store.createBucket(name: "listing", ownerId: "o", region: "r")
        try await upload(keys, to: bucket, in: store)
        return (store, bucket)
    }

    /// Uploads each key with its own UTF-8 bytes as body, many at a time.
    private func upload(_ keys: [String], to bucket: BucketRecord, in store: LMDBObjectStore) async throws {
        var index = 0
        while index < keys.count {
            let batch = keys[index..<min(index + 200, keys.count)]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for key in batch {
                    group.addTask { try await store.putObject(bucket: bucket, key: key, body: Array(key.utf8)) }
                }
                try await group.waitForAll()
            }
            index += batch.count
        }
    }

    private func entries(_ store: LMDBObjectStore, _ bucket: BucketRecord, prefix: String = "", delimiter: String? = nil,
                         after: String? = nil, maxKeys: Int = 1000) throws -> [Entry] {
        try store.listAll(bucket: bucket, prefix: prefix, delimiter: delimiter, after: after, maxKeys: maxKeys).items.map(Entry.init)
    }

    // MARK: - Hand-checked cases

    func testMultiCharacterDelimiter() async throws {
        let (store, bucket) = try await store(with: ["a--b--c", "a--b", "a-b", "a---c", "a--", "b", "c--d--e"])
        XCTAssertEqual(try entries(store, bucket, delimiter: "--"),
                       [.prefix("a--"), .object("a-b"), .object("b"), .prefix("c--")])
        // The delimiter is looked for after the prefix only: "a---c" holds "--" at offset 2,
        // but its remainder after "a--" is "-c".
        XCTAssertEqual(try entries(store, bucket, prefix: "a--", delimiter: "--"),
                       [.object("a--"), .object("a---c"), .object("a--b"), .prefix("a--b--")])
        // Remainders after "a-": "-", "--c", "-b", "-b--c", "b".
        XCTAssertEqual(try entries(store, bucket, prefix: "a-", delimiter: "--"),
                       [.object("a--"), .prefix("a---"), .object("a--b"), .prefix("a--b--"), .object("a-b")])
        XCTAssertEqual(try entries(store, bucket, delimiter: "b--"),
                       [.object("a--"), .object("a---c"), .object("a--b"), .prefix("a--b--"), .object("a-b"), .object("b"), .object("c--d--e")])
    }

    func testPrefixNotAtDelimiterBoundary() async throws {
        let (store, bucket) = try await store(with: [
            "photos/2023/a.jpg", "photos/2024/b.jpg", "photos/2024/c/d.jpg", "photos2/x", "photo", "photos/20245", "photos",
        ])
        XCTAssertEqual(try entries(store, bucket, prefix: "photos/202", delimiter: "/"),
                       [.prefix("photos/2023/"), .prefix("photos/2024/"), .object("photos/20245")])
        XCTAssertEqual(try entries(store, bucket, prefix: "pho", delimiter: "/"),
                       [.object("photo"), .object("photos"), .prefix("photos/"), .prefix("photos2/")])
        XCTAssertEqual(try entries(store, bucket, prefix: "photos/2024/", delimiter: "/"),
                       [.object("photos/2024/b.jpg"), .prefix("photos/2024/c/")])
        XCTAssertEqual(try entries(store, bucket, prefix: "photos/2024/c/d.jpg", delimiter: "/"),
                       [.object("photos/2024/c/d.jpg")])
        XCTAssertEqual(try entries(store, bucket, prefix: "photos/2025", delimiter: "/"), [])
    }

    func testStartAfterInsideAGroup() async throws {
        let (store, bucket) = try await store(with: ["a/1", "a/2", "a/3", "b/1", "c"])
        XCTAssertEqual(try entries(store, bucket, delimiter: "/"), [.prefix("a/"), .prefix("b/"), .object("c")])
        // "a/" <= "a/2": the group is not returned again.
        XCTAssertEqual(try entries(store, bucket, delimiter: "/", after: "a/2"), [.prefix("b/"), .object("c")])
        XCTAssertEqual(try entries(store, bucket, delimiter: "/", after: "a/"), [.prefix("b/"), .object("c")])
        XCTAssertEqual(try entries(store, bucket, delimiter: "/", after: "a/9"), [.prefix("b/"), .object("c")])
        XCTAssertEqual(try entries(store, bucket, delimiter: "/", after: "a"), [.prefix("a/"), .prefix("b/"), .object("c")])
        XCTAssertEqual(try entries(store, bucket, delimiter: "/", after: "b"), [.prefix("b/"), .object("c")])
        XCTAssertEqual(try entries(store, bucket, delimiter: "/", after: "b/0"), [.object("c")])
        XCTAssertEqual(try entries(store, bucket, delimiter: "/", after: "c"), [])
        XCTAssertEqual(try entries(store, bucket, delimiter: "/", after: ""), [.prefix("a/"), .prefix("b/"), .object("c")])
        // Without a delimiter the same marker lands between keys.
        XCTAssertEqual(try entries(store, bucket, after: "a/2"), [.object("a/3"), .object("b/1"), .object("c")])
        XCTAssertEqual(try entries(store, bucket, after: "a/25"), [.object("a/3"), .object("b/1"), .object("c")])
        // A marker before the prefix changes nothing; one after it empties the listing.
        XCTAssertEqual(try entries(store, bucket, prefix: "b/", delimiter: "/", after: "a/9"), [.object("b/1")])
        XCTAssertEqual(try entries(store, bucket, prefix: "a/", delimiter: "/", after: "b"), [])
        XCTAssertEqual(try entries(store, bucket, prefix: "a/", after: "a/1"), [.object("a/2"), .object("a/3")])
    }

    func testPagingByOneAcrossKeysAndPrefixes() async throws {
        let (store, bucket) = try await store(with: ["a", "a/b", "a/c", "a0", "a/d/e"])
        var pages: [ListPage] = []
        var after: String?
        repeat {
            let page = try store.list(bucket: bucket, query: ListQuery(delimiter: "/", after: after, maxKeys: 1))
            pages.append(page)
            after = page.nextAfter
        } while after != nil && pages.count < 10
        XCTAssertEqual(pages.map { $0.items.map(Entry.init) }, [[.object("a")], [.prefix("a/")], [.object("a0")]])
        XCTAssertEqual(pages.map(\.isTruncated), [true, true, false])
        XCTAssertEqual(pages.map(\.nextAfter), ["a", "a/", nil])

        // A page that ends exactly at the last entry is not truncated.
        let exact = try store.list(bucket: bucket, query: ListQuery(delimiter: "/", maxKeys: 3))
        XCTAssertEqual(exact.items.map(Entry.init), [.object("a"), .prefix("a/"), .object("a0")])
        XCTAssertFalse(exact.isTruncated)
        XCTAssertNil(exact.nextAfter)
        let short = try store.list(bucket: bucket, query: ListQuery(maxKeys: 4))
        XCTAssertEqual(short.items.map(Entry.init), [.object("a"), .object("a/b"), .object("a/c"), .object("a/d/e")])
        XCTAssertTrue(short.isTruncated)
        XCTAssertEqual(short.nextAfter, "a/d/e")
    }

    /// S3 accepts prefixes and markers up to 1,024 bytes, longer than any key this store can
    /// index: such a listing is simply empty past that point, not an error.
    func testPrefixAndMarkerLongerThanTheLongestKey() async throws {
        let (store, bucket) = try await store(with: ["a", "b/c", "z"])
        let long = "a" + String(repeating: "x", count: 700)
        XCTAssertEqual(try entries(store, bucket, prefix: long), [])
        XCTAssertEqual(try entries(store, bucket, prefix: long, delimiter: "/"), [])
        XCTAssertEqual(try entries(store, bucket, after: long), [.object("b/c"), .object("z")])
        XCTAssertEqual(try entries(store, bucket, delimiter: "/", after: long), [.prefix("b/"), .object("z")])
        XCTAssertNil(try store.object(bucket: bucket, key: long))
    }

    func testEmptyDelimiterMeansNone() async throws {
        let (store, bucket) = try await store(with: ["a/b", "c"])
        XCTAssertEqual(try entries(store, bucket, delimiter: ""), [.object("a/b"), .object("c")])
    }

    func testListedRecordsAreTheStoredRecords() async throws {
        let (store, bucket) = try await store(with: ["x/1", "x/2", "y"])
        let page = try store.list(bucket: bucket, query: ListQuery())
        XCTAssertEqual(page.items.count, 3)
        for item in page.items {
            guard case .object(let key, let record) = item else { XCTFail("unexpected \(item)"); continue }
            XCTAssertEqual(record, try store.object(bucket: bucket, key: key))
            XCTAssertEqual(record.etag, md5Hex(Array(key.utf8)))
            XCTAssertEqual(record.size, UInt64(key.utf8.count))
        }
    }

    func testBucketsDoNotLeakIntoEachOther() async throws {
        let store = try openStore(makeDirectory())
        let first = try await store.createBucket(name: "first", ownerId: "o", region: "r")
        let second = try await store.createBucket(name: "second", ownerId: "o", region: "r")
        let third = try await store.createBucket(name: "third", ownerId: "o", region: "r")
        try await upload(["a", "m/1", "z"], to: first, in: store)
        try await upload(["b", "m/2", "\u{10FFFF}"], to: second, in: store)
        XCTAssertEqual(try entries(store, first), [.object("a"), .object("m/1"), .object("z")])
        XCTAssertEqual(try entries(store, second), [.object("b"), .object("m/2"), .object("\u{10FFFF}")])
        XCTAssertEqual(try entries(store, second, delimiter: "/", after: "b"), [.prefix("m/"), .object("\u{10FFFF}")])
        XCTAssertEqual(try entries(store, third), [])
        XCTAssertEqual(try entries(store, first, prefix: "m/", delimiter: "/"), [.object("m/1")])
    }

    // MARK: - Model comparison over a large key set

    /// About 2,000 keys: nested '/' prefixes, unicode (composed and decomposed ü, emoji, CJK),
    /// doubled and trailing delimiters, keys that are prefixes of other keys.
    private func generatedKeys() -> [String] {
        var rng = SplitMix64(state: 2024)
        let parts = ["a", "ab", "abc", "b", "photos", "2024", "2024-01", "01", "ü", "u\u{308}", "u", "😀", "😀😀", "日本",
                     "x y", "a.b", "Z", "~", "!", "é", "%2F", "+", "-", "_"]
        let separators = ["/", "/", "/", "/", "//", "-", ".", ""]
        var keys: [String] = [
            "a", "a/", "a//", "a//b", "/", "//", "//x", "/lead/x", "a/b/c/d/e/f/g", "trailing/", "ü/😀/x", "😀", "😀/",
            "u\u{308}/", "\u{FC}/", "photos", "photos/", "photos/2024", "photos/2024/", "photos/2024/01/a.jpg",
            "photos/2024/01/b.jpg", "photos/2024-01/c.jpg", "photos/20245", "photos2/x", "ab/c", "abc/d", "abd",
            "\u{10FFFF}", "\u{7F}", " ", "a b/c",
        ]
        var seen = Set(keys.map { Array($0.utf8) })
        while keys.count < 2000 {
            var key = parts.randomElement(using: &rng)!
            let depth = Int.random(in: 0...5, using: &rng)
            for _ in 0..<depth {
                key += separators.randomElement(using: &rng)! + parts.randomElement(using: &rng)!
            }
            if Int.random(in: 0..<10, using: &rng) == 0 { key += "/" }
            if seen.insert(Array(key.utf8)).inserted { keys.append(key) }
        }
        keys.shuffle(using: &rng)
        return keys
    }

    func testListingMatchesModel() async throws {
        let keys = generatedKeys()
        XCTAssertEqual(keys.count, 2000)
        let (store, bucket) = try await store(with: keys)
        // A neighbouring bucket with keys in the same ranges, which must never show up.
        let neighbour = try await store.createBucket(name: "neighbour", ownerId: "o", region: "r")
        try await upload(["a/zz-neighbour", "photos/neighbour", "0-neighbour", "😀/neighbour"], to: neighbour, in: store)

        let model = ListingModel(keys: keys.map { Array($0.utf8) })
        XCTAssertEqual(model.sortedKeys.count, 2000)

        let prefixes = ["", "a", "a/", "ab", "photos/", "photos/2024", "photos/2024/", "ü", "u", "u\u{308}", "😀", "/",
                        "a//", "日", "nothing-here/", "~"]
        let delimiters: [String?] = [nil, "/", "//", "b/", "ü", "😀", ".", "/2", "-"]
        var walks = 0
        var checkedEntries = 0
        for prefix in prefixes {
            for delimiter in delimiters {
                let full = model.entries(prefix: prefix, delimiter: delimiter, after: nil)
                // Markers: none, empty, an entry from the middle (a key or a common prefix),
                // something between entries, a point inside a group, before and after everything.
                var afters: [String?] = [nil, "", "0", "\u{10FFFF}\u{10FFFF}"]
                if !full.isEmpty {
                    let middle = String(decoding: full[full.count / 2].bytes, as: UTF8.self)
                    afters += [middle, middle + "!", String(decoding: full[0].bytes, as: UTF8.self)]
                    if let group = full.first(where: \.isPrefix) {
                        afters.append(String(decoding: group.bytes, as: UTF8.self) + "a")
                        afters.append(String(decoding: group.bytes.dropLast(), as: UTF8.self))
                    }
                }
                for after in afters {
                    let expected = ListingModel.drop(atOrBefore: after, from: full)
                    let sizes = after == nil || after == afters[4 % afters.count] ? [1, 3, 1000, max(expected.count, 1)] : [3, 1000]
                    for maxKeys in sizes {
                        let (items, pages) = try store.listAll(bucket: bucket, prefix: prefix, delimiter: delimiter,
                                                               after: after, maxKeys: maxKeys)
                        let got = items.map(Entry.init)
                        walks += 1
                        checkedEntries += got.count
                        let context = "prefix \(Entry.object(prefix)) delimiter \(delimiter.map { Entry.object($0).description } ?? "nil") after \(after.map { Entry.object($0).description } ?? "nil") maxKeys \(maxKeys)"
                        XCTAssertEqual(Set(got).count, got.count, "duplicates: \(context)")
                        if got != expected {
                            let firstDiff = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, expected.count)
                            XCTFail("""
                                mismatch: \(context): got \(got.count) entries, expected \(expected.count); \
                                first difference at \(firstDiff): got \(got.dropFirst(firstDiff).prefix(3)) expected \(expected.dropFirst(firstDiff).prefix(3))
                                """)
                        }
                        // Pages: ceil(count / maxKeys), at least one.
                        XCTAssertEqual(pages, max(1, (expected.count + maxKeys - 1) / maxKeys), "page count: \(context)")
                    }
                }
            }
        }
        // The sweep really covered ground.
        XCTAssertGreaterThan(walks, 1000)
        XCTAssertGreaterThan(checkedEntries, 100_000)

        // Listed records belong to their keys (bodies are the keys' bytes).
        let everything = try store.listAll(bucket: bucket, maxKeys: 1000).items
        XCTAssertEqual(everything.count, 2000)
        for item in everything {
            guard case .object(let key, let record) = item else { XCTFail("no delimiter, no prefixes"); continue }
            XCTAssertEqual(record.etag, md5Hex(Array(key.utf8)))
        }
    }
}
