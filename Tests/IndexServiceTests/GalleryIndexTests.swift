import Foundation
import IndexService
import S3Events
import XCTest

// MARK: - events

final class GalleryIndexEventTests: IndexTestCase {
    func testCreatedEventIsIndexedWithAllFields() async throws {
        XCTAssertTrue(try index.isEmpty())
        let time = at(123)
        let result = try await apply(eventRecord(key: "summer/a.jpg", sequencer: seq(1), size: 1234, eTag: "d41d8cd98f00b204e9800998ecf8427e",
                                                 eventTime: time, contentType: "image/png",
                                                 userMetadata: ["photographer": "Ann", "event": "Wedding"]))
        XCTAssertEqual(result.applied, 1)
        XCTAssertEqual(result.ignored, 0)
        XCTAssertFalse(try index.isEmpty())

        let page = try index.images(gallery: "summer", limit: 24, cursor: nil)
        XCTAssertNil(page.next)
        let image = try XCTUnwrap(page.images.first)
        XCTAssertEqual(page.images.count, 1)
        XCTAssertEqual(image.key, "summer/a.jpg")
        XCTAssertEqual(image.gallery, "summer")
        XCTAssertEqual(image.size, 1234)
        XCTAssertEqual(image.etag, "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(image.contentType, "image/png")
        XCTAssertEqual(image.metadata, ["photographer": "Ann", "event": "Wedding"])
        XCTAssertFalse(image.deleted)
        assertSameTime(image.uploaded, time)

        let galleries = try index.listGalleries()
        XCTAssertEqual(galleries.map(\.name), ["summer"])
        XCTAssertEqual(galleries.first?.imageCount, 1)
        assertSameTime(galleries.first?.lastUpdate, time)

        // Other galleries are untouched.
        XCTAssertEqual(try index.images(gallery: "winter", limit: 24, cursor: nil).images, [])
        XCTAssertEqual(try index.images(gallery: "summe", limit: 24, cursor: nil).images, [])
    }

    func testSameMessageTwiceIsAppliedOnce() async throws {
        let msg = message(created("summer/a.jpg", seq: seq(1), at: at(1)), created("summer/b.jpg", seq: seq(2), at: at(2)),
                          created("winter/c.jpg", seq: seq(3), at: at(3)))
        let first = try await index.apply(msg)
        XCTAssertEqual(first.applied, 3)
        XCTAssertEqual(first.ignored, 0)
        let before = try index.listGalleries()

        let second = try await index.apply(msg)
        XCTAssertEqual(second.applied, 0)
        XCTAssertEqual(second.ignored, 3)
        XCTAssertEqual(try index.listGalleries(), before)
        XCTAssertEqual(try gallery("summer")?.imageCount, 2)
        XCTAssertEqual(try gallery("winter")?.imageCount, 1)
        XCTAssertEqual(try keys("summer"), ["summer/b.jpg", "summer/a.jpg"])

        // A duplicated removal is also applied once.
        let removal = message(removed("summer/a.jpg", seq: seq(10), at: at(10)))
        let r1 = try await index.apply(removal)
        let r2 = try await index.apply(removal)
        XCTAssertEqual(r1.applied, 1)
        XCTAssertEqual(r2.applied, 0)
        XCTAssertEqual(r2.ignored, 1)
        XCTAssertEqual(try gallery("summer")?.imageCount, 1)
        XCTAssertEqual(try keys("summer"), ["summer/b.jpg"])
    }

    func testRemoveArrivingBeforeOlderCreateKeepsImageDeleted() async throws {
        let r1 = try await apply(removed("summer/a.jpg", seq: seq(2), at: at(2)))
        XCTAssertEqual(r1.applied, 1)
        let r2 = try await apply(created("summer/a.jpg", seq: seq(1), at: at(1)))
        XCTAssertEqual(r2.applied, 0)
        XCTAssertEqual(r2.ignored, 1)
        XCTAssertEqual(try keys("summer"), [])
        XCTAssertNil(try gallery("summer"), "a gallery without images is not listed")
    }

    func testNewerCreateArrivingFirstIsKept() async throws {
        try await apply(created("summer/a.jpg", seq: seq(3), at: at(3), size: 333, eTag: "etag-3", contentType: "image/png",
                                metadata: ["photographer": "New"]))
        let r = try await apply(created("summer/a.jpg", seq: seq(2), at: at(2), size: 222, eTag: "etag-2", contentType: "image/gif",
                                        metadata: ["photographer": "Old"]))
        XCTAssertEqual(r.applied, 0)
        XCTAssertEqual(r.ignored, 1)
        let images = try allImages("summer")
        XCTAssertEqual(images.count, 1)
        XCTAssertEqual(images.first?.size, 333)
        XCTAssertEqual(images.first?.etag, "etag-3")
        XCTAssertEqual(images.first?.contentType, "image/png")
        XCTAssertEqual(images.first?.metadata, ["photographer": "New"])
        assertSameTime(images.first?.uploaded, at(3))
        XCTAssertEqual(try gallery("summer")?.imageCount, 1)
    }

    func testOverwriteWithNewerCreateReplacesDataAndKeepsCount() async throws {
        try await apply(created("summer/a.jpg", seq: seq(1), at: at(1), size: 1, eTag: "one"),
                        created("summer/b.jpg", seq: seq(2), at: at(2)))
        try await apply(created("summer/a.jpg", seq: seq(3), at: at(3), size: 3, eTag: "three"))
        let images = try allImages("summer")
        XCTAssertEqual(images.map(\.key), ["summer/a.jpg", "summer/b.jpg"], "the overwritten image moves to the front")
        XCTAssertEqual(images.first?.size, 3)
        XCTAssertEqual(images.first?.etag, "three")
        XCTAssertEqual(try gallery("summer")?.imageCount, 2)
    }

    func testDeleteThenOlderOrDuplicateCreateNeverResurrects() async throws {
        try await apply(created("summer/a.jpg", seq: seq(1), at: at(1)))
        try await apply(removed("summer/a.jpg", seq: seq(2), at: at(2)))
        XCTAssertEqual(try keys("summer"), [])

        // The original create delivered again (retry), and a create with the same sequencer.
        let dup = try await apply(created("summer/a.jpg", seq: seq(1), at: at(1)))
        XCTAssertEqual(dup.applied, 0)
        let same = try await apply(created("summer/a.jpg", seq: seq(2), at: at(2)))
        XCTAssertEqual(same.applied, 0)
        XCTAssertEqual(try keys("summer"), [])
        XCTAssertNil(try gallery("summer"))

        // A genuinely newer upload of the same key does come back.
        let again = try await apply(created("summer/a.jpg", seq: seq(3), at: at(3), eTag: "etag-new"))
        XCTAssertEqual(again.applied, 1)
        XCTAssertEqual(try allImages("summer").map(\.etag), ["etag-new"])
        XCTAssertEqual(try gallery("summer")?.imageCount, 1)
    }

    func testCreateAndRemoveOfOneKeyInOneMessage() async throws {
        let r = try await apply(created("summer/a.jpg", seq: seq(1)), removed("summer/a.jpg", seq: seq(2)),
                                created("summer/b.jpg", seq: seq(3)))
        XCTAssertEqual(r.applied, 3)
        XCTAssertEqual(try keys("summer"), ["summer/b.jpg"])
        XCTAssertEqual(try gallery("summer")?.imageCount, 1)

        // Reversed within one message: the older create after the removal is ignored.
        let r2 = try await apply(removed("summer/c.jpg", seq: seq(5)), created("summer/c.jpg", seq: seq(4)))
        XCTAssertEqual(r2.applied, 1)
        XCTAssertEqual(r2.ignored, 1)
        XCTAssertEqual(try keys("summer"), ["summer/b.jpg"])
    }

    func testSequencersOfDifferentLengthsCompareRightPadded() async throws {
        // "2" right-padded is "2000", which is after "1FFF" (numerically 2 < 0x1FFF, but not as sequencers).
        try await apply(created("summer/a.jpg", seq: "1FFF"))
        let r1 = try await apply(removed("summer/a.jpg", seq: "2"))
        XCTAssertEqual(r1.applied, 1)
        XCTAssertEqual(try keys("summer"), [])

        try await apply(created("summer/b.jpg", seq: "2", at: at(1)))
        let r2 = try await apply(removed("summer/b.jpg", seq: "1FFF"))
        XCTAssertEqual(r2.applied, 0, "1FFF precedes 2 (padded 2000)")
        XCTAssertEqual(r2.ignored, 1)
        // "20" is "2" padded: the same position, so a duplicate.
        let r3 = try await apply(removed("summer/b.jpg", seq: "20"))
        XCTAssertEqual(r3.applied, 0)
        XCTAssertEqual(try keys("summer"), ["summer/b.jpg"])
        // A longer sequencer that extends it is newer.
        let r4 = try await apply(created("summer/b.jpg", seq: "2001", at: at(2), eTag: "longer"))
        XCTAssertEqual(r4.applied, 1)
        XCTAssertEqual(try allImages("summer").map(\.etag), ["longer"])
        XCTAssertEqual(try gallery("summer")?.imageCount, 1)
    }

    func testKeysAreDecodedTolerantly() async throws {
        try await apply(
            eventRecord(key: "", sequencer: seq(1), eventTime: at(1), rawKey: "summer/red+flower.jpg"),
            eventRecord(key: "", sequencer: seq(2), eventTime: at(2), rawKey: "summer%2Fdeep%2Fb.jpg"),
            eventRecord(key: "", sequencer: seq(3), eventTime: at(3), rawKey: "summer/a%2Bb%20c.jpg"),
            eventRecord(key: "", sequencer: seq(4), eventTime: at(4), rawKey: "summer/%C3%BC.jpg"))
        XCTAssertEqual(try Set(keys("summer")), ["summer/red flower.jpg", "summer/deep/b.jpg", "summer/a+b c.jpg", "summer/ü.jpg"])
        // A removal with the key encoded differently still hits the same image.
        let r = try await apply(eventRecord(key: "", eventName: "ObjectRemoved:Delete", sequencer: seq(5), rawKey: "summer/red%20flower.jpg"))
        XCTAssertEqual(r.applied, 1)
        XCTAssertEqual(try Set(keys("summer")), ["summer/deep/b.jpg", "summer/a+b c.jpg", "summer/ü.jpg"])
        XCTAssertEqual(try gallery("summer")?.imageCount, 3)
    }

    func testKeysWithoutAGalleryAreIgnored() async throws {
        let r = try await apply(created("loose.jpg", seq: seq(1)), created("/leading-slash.jpg", seq: seq(2)),
                                removed("loose.jpg", seq: seq(3)))
        XCTAssertEqual(r.applied, 0)
        XCTAssertEqual(r.ignored, 3)
        XCTAssertTrue(try index.isEmpty())
        XCTAssertEqual(try index.listGalleries(), [])
    }

    func testOtherEventTypesAreIgnored() async throws {
        let r = try await apply(eventRecord(key: "summer/a.jpg", eventName: "ObjectRestore:Completed", sequencer: seq(5)))
        XCTAssertEqual(r.applied, 0)
        XCTAssertEqual(r.ignored, 1)
        // It did not record its sequencer: an older create still applies.
        let r2 = try await apply(created("summer/a.jpg", seq: seq(1)))
        XCTAssertEqual(r2.applied, 1)
        XCTAssertEqual(try keys("summer"), ["summer/a.jpg"])
    }

    /// A file name may begin with a combining mark (the upload API accepts it: it only refuses
    /// '/', '\\', control characters, "." and ".."). The gallery is still the part before the
    /// '/' byte.
    func testFileNameStartingWithACombiningMarkStaysInItsGallery() async throws {
        let key = "summer/\u{301}accent.jpg"
        let zwj = "summer/\u{200D}joined.jpg"
        let r = try await apply(created(key, seq: seq(1), at: at(1)), created(zwj, seq: seq(2), at: at(2)))
        XCTAssertEqual(r.applied, 2, "keys whose name starts with a combining mark / ZWJ are dropped as 'no gallery'")
        XCTAssertEqual(try Set(keys("summer")), [key, zwj])
        XCTAssertEqual(try gallery("summer")?.imageCount, 2)
    }

    func testConcurrentMessagesAreAllApplied() async throws {
        let index = self.index!
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                group.addTask {
                    _ = try await index.apply(S3EventMessage(records: [created("g\(i % 4)/img-\(i).jpg", seq: seq(i + 1), at: at(i))]))
                }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(try index.listGalleries().map(\.name), ["g0", "g1", "g2", "g3"])
        XCTAssertEqual(try index.listGalleries().map(\.imageCount), [10, 10, 10, 10])
        XCTAssertEqual(try keys("g1").count, 10)
    }
}

// MARK: - galleries

final class GalleryIndexGalleryTests: IndexTestCase {
    func testCountsAndLastUpdate() async throws {
        // Applied out of time order: lastUpdate is the newest upload, not the last applied.
        try await apply(created("summer/b.jpg", seq: seq(2), at: at(5_000)))
        try await apply(created("summer/a.jpg", seq: seq(1), at: at(9_000)))
        try await apply(created("summer/c.jpg", seq: seq(3), at: at(1_000)))
        try await apply(created("winter/x.jpg", seq: seq(4), at: at(2_000)))
        try await apply(created("autumn/y.jpg", seq: seq(5), at: at(3_000)))

        var galleries = try index.listGalleries()
        XCTAssertEqual(galleries.map(\.name), ["autumn", "summer", "winter"], "sorted by name")
        XCTAssertEqual(galleries.map(\.imageCount), [1, 3, 1])
        assertSameTime(galleries[0].lastUpdate, at(3_000))
        assertSameTime(galleries[1].lastUpdate, at(9_000))
        assertSameTime(galleries[2].lastUpdate, at(2_000))

        // A newer upload of an existing key: count unchanged, lastUpdate moves.
        try await apply(created("summer/c.jpg", seq: seq(6), at: at(10_000)))
        XCTAssertEqual(try gallery("summer")?.imageCount, 3)
        assertSameTime(try gallery("summer")?.lastUpdate, at(10_000))

        // Removals count down; a removal of an unknown key changes no count.
        try await apply(removed("summer/a.jpg", seq: seq(7), at: at(11_000)))
        try await apply(removed("summer/never-was.jpg", seq: seq(8), at: at(11_000)))
        XCTAssertEqual(try gallery("summer")?.imageCount, 2)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(gallery("summer")).lastUpdate.timeIntervalSince1970,
                                    at(10_000).timeIntervalSince1970 - 0.0005)

        // A gallery whose images are all gone is not listed; the others stay.
        try await apply(removed("summer/b.jpg", seq: seq(9)), removed("summer/c.jpg", seq: seq(10)))
        galleries = try index.listGalleries()
        XCTAssertEqual(galleries.map(\.name), ["autumn", "winter"])
        XCTAssertEqual(try keys("summer"), [])

        // ...and comes back with a new image, counted from zero.
        try await apply(created("summer/d.jpg", seq: seq(11), at: at(12_000)))
        XCTAssertEqual(try index.listGalleries().map(\.name), ["autumn", "summer", "winter"])
        XCTAssertEqual(try gallery("summer")?.imageCount, 1)
    }

    func testGalleryNamesThatArePrefixesOfEachOtherStayApart() async throws {
        try await apply(created("sum/a.jpg", seq: seq(1), at: at(1)), created("summer/b.jpg", seq: seq(2), at: at(2)),
                        created("sum-mer/c.jpg", seq: seq(3), at: at(3)))
        XCTAssertEqual(try keys("sum"), ["sum/a.jpg"])
        XCTAssertEqual(try keys("summer"), ["summer/b.jpg"])
        XCTAssertEqual(try keys("sum-mer"), ["sum-mer/c.jpg"])
        XCTAssertEqual(try index.listGalleries().map(\.name), ["sum", "sum-mer", "summer"])
    }
}

// MARK: - pagination

final class GalleryIndexPaginationTests: IndexTestCase {
    /// 100 images with distinct times, applied in a shuffled order; returns keys newest first.
    func populate(_ gallery: String = "summer", count: Int = 100, baseMs: Int = 0, seqBase: Int = 0) async throws -> [String] {
        var records: [S3EventRecord] = []
        for i in 0..<count {
            records.append(created("\(gallery)/img-\(baseMs + i).jpg", seq: seq(seqBase + i + 1), at: at(baseMs + i * 1000)))
        }
        var generator = SeededGenerator(seed: 42)
        records.shuffle(using: &generator)
        // In a few messages, like batched deliveries.
        for chunk in stride(from: 0, to: records.count, by: 7) {
            _ = try await index.apply(S3EventMessage(records: Array(records[chunk..<min(chunk + 7, records.count)])))
        }
        return (0..<count).reversed().map { "\(gallery)/img-\(baseMs + $0).jpg" }
    }

    func testPagesAreNewestFirstAndCoverEverythingOnce() async throws {
        let expected = try await populate()
        for limit in [1, 7, 24, 50, 99, 100] {
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try index.images(gallery: "summer", limit: limit, cursor: cursor)
                pages += 1
                let isLast = page.next == nil
                if !isLast { XCTAssertEqual(page.images.count, limit, "every page but the last is full (limit \(limit))") }
                XCTAssertFalse(page.images.isEmpty, "no empty page (limit \(limit), page \(pages))")
                seen += page.images.map(\.key)
                cursor = page.next
            } while cursor != nil && pages < 500
            XCTAssertEqual(seen, expected, "limit \(limit)")
            XCTAssertEqual(pages, (100 + limit - 1) / limit, "limit \(limit): no trailing empty page")
        }
        // One page holding everything has no next cursor.
        XCTAssertNil(try index.images(gallery: "summer", limit: 100, cursor: nil).next)
        XCTAssertNotNil(try index.images(gallery: "summer", limit: 99, cursor: nil).next)
    }

    func testEqualTimesHaveAStableOrderAcrossPages() async throws {
        let records = (0..<20).map { created("summer/same-\($0).jpg", seq: seq($0 + 1), at: at(500)) }
        _ = try await index.apply(S3EventMessage(records: records))
        let whole = try index.images(gallery: "summer", limit: 100, cursor: nil).images.map(\.key)
        XCTAssertEqual(Set(whole).count, 20)
        XCTAssertEqual(try allImages("summer", limit: 3).map(\.key), whole, "paged order equals the one-page order")
        XCTAssertEqual(try index.images(gallery: "summer", limit: 100, cursor: nil).images.map(\.key), whole, "stable between reads")
    }

    func testCursorIsStableUnderNewerInserts() async throws {
        let original = try await populate(count: 30)
        let page1 = try index.images(gallery: "summer", limit: 10, cursor: nil)
        XCTAssertEqual(page1.images.map(\.key), Array(original[0..<10]))
        let cursor1 = try XCTUnwrap(page1.next)

        // 10 newer images arrive between the pages.
        _ = try await populate(count: 10, baseMs: 1_000_000, seqBase: 1000)

        let page2 = try index.images(gallery: "summer", limit: 10, cursor: cursor1)
        XCTAssertEqual(page2.images.map(\.key), Array(original[10..<20]), "continues right after page 1's last image")
        let page3 = try index.images(gallery: "summer", limit: 10, cursor: try XCTUnwrap(page2.next))
        XCTAssertEqual(page3.images.map(\.key), Array(original[20..<30]))
        XCTAssertNil(page3.next)

        // The same cursor used again gives the same page.
        XCTAssertEqual(try index.images(gallery: "summer", limit: 10, cursor: cursor1).images.map(\.key), Array(original[10..<20]))
        // The newer images are at the front of a fresh first page.
        XCTAssertEqual(try index.images(gallery: "summer", limit: 10, cursor: nil).images.map(\.key),
                       (0..<10).reversed().map { "summer/img-\(1_000_000 + $0).jpg" })
    }

    func testCursorSurvivesRemovalOfItsImage() async throws {
        let original = try await populate(count: 30)
        let page1 = try index.images(gallery: "summer", limit: 10, cursor: nil)
        let cursor1 = try XCTUnwrap(page1.next)
        // The last image of page 1 and the first of page 2 are deleted meanwhile.
        try await apply(removed(original[9], seq: seq(500)), removed(original[10], seq: seq(501)))
        let page2 = try index.images(gallery: "summer", limit: 10, cursor: cursor1)
        XCTAssertEqual(page2.images.map(\.key), Array(original[11..<21]))
    }

    func testInvalidCursorsAreRejected() async throws {
        _ = try await populate(count: 30)
        _ = try await populate("winter", count: 30, seqBase: 100)
        let winterCursor = try XCTUnwrap(index.images(gallery: "winter", limit: 5, cursor: nil).next)
        let summerCursor = try XCTUnwrap(index.images(gallery: "summer", limit: 5, cursor: nil).next)

        let garbage = ["garbage!!", "AAAA", "not a cursor", String(repeating: "A", count: 44), winterCursor, String(summerCursor.dropLast(4))]
        for cursor in garbage {
            XCTAssertThrowsError(try index.images(gallery: "summer", limit: 5, cursor: cursor), "cursor \(cursor)") { error in
                XCTAssertEqual(error as? IndexError, .invalidCursor, "cursor \(cursor)")
            }
        }
        // A summer cursor is not valid for a gallery whose name is a prefix of it, either.
        XCTAssertThrowsError(try index.images(gallery: "sum", limit: 5, cursor: summerCursor)) { error in
            XCTAssertEqual(error as? IndexError, .invalidCursor)
        }
        // The good ones still work.
        XCTAssertEqual(try index.images(gallery: "summer", limit: 5, cursor: summerCursor).images.count, 5)
        XCTAssertEqual(try index.images(gallery: "winter", limit: 5, cursor: winterCursor).images.count, 5)
    }
}

// MARK: - resync

final class GalleryIndexResyncTests: IndexTestCase {
    func listed(_ key: String, etag: String, at time: Date = epoch, size: UInt64 = 10, contentType: String = "image/png",
                metadata: [String: String] = [:]) -> ListedObject {
        ListedObject(key: key, size: size, etag: etag, lastModified: time, contentType: contentType, metadata: metadata)
    }

    func testResyncOfAnEmptyIndexAddsEverything() async throws {
        let result = try await index.resync([
            listed("summer/a.jpg", etag: "ea", at: at(1_000), size: 11, contentType: "image/jpeg", metadata: ["photographer": "Ann"]),
            listed("summer/b.jpg", etag: "eb", at: at(2_000)),
            listed("winter/c.jpg", etag: "ec", at: at(3_000)),
            listed("no-gallery.jpg", etag: "ex", at: at(4_000)),
        ])
        XCTAssertEqual(result.added, 3)
        XCTAssertEqual(result.removed, 0)
        XCTAssertEqual(try keys("summer"), ["summer/b.jpg", "summer/a.jpg"])
        let a = try XCTUnwrap(allImages("summer").last)
        XCTAssertEqual(a.size, 11)
        XCTAssertEqual(a.etag, "ea")
        XCTAssertEqual(a.contentType, "image/jpeg")
        XCTAssertEqual(a.metadata, ["photographer": "Ann"])
        assertSameTime(a.uploaded, at(1_000))
        XCTAssertEqual(try index.listGalleries().map(\.name), ["summer", "winter"])
        XCTAssertEqual(try index.listGalleries().map(\.imageCount), [2, 1])

        // The same listing again changes nothing.
        let again = try await index.resync([listed("summer/a.jpg", etag: "ea", at: at(1_000)), listed("summer/b.jpg", etag: "eb", at: at(2_000)),
                                            listed("winter/c.jpg", etag: "ec", at: at(3_000))])
        XCTAssertEqual(again.added, 0)
        XCTAssertEqual(again.removed, 0)
        XCTAssertEqual(try index.listGalleries().map(\.imageCount), [2, 1])
    }

    func testResyncAddsUpdatesTombstonesAndKeepsSequencers() async throws {
        try await apply(created("summer/a.jpg", seq: seq(10), at: at(1_000), eTag: "ea"),
                        created("summer/b.jpg", seq: seq(11), at: at(2_000), eTag: "eb-old"),
                        created("summer/c.jpg", seq: seq(12), at: at(3_000), eTag: "ec"))
        let result = try await index.resync([
            listed("summer/a.jpg", etag: "ea", at: at(1_000)),
            listed("summer/b.jpg", etag: "eb-new", at: at(5_000), size: 55, metadata: ["event": "Party"]),
            listed("summer/d.jpg", etag: "ed", at: at(4_000)),
        ])
        XCTAssertEqual(result.added, 2, "b updated, d added")
        XCTAssertEqual(result.removed, 1, "c is no longer in the bucket")
        XCTAssertEqual(try keys("summer"), ["summer/b.jpg", "summer/d.jpg", "summer/a.jpg"])
        let b = try XCTUnwrap(allImages("summer").first)
        XCTAssertEqual(b.etag, "eb-new")
        XCTAssertEqual(b.size, 55)
        XCTAssertEqual(b.metadata, ["event": "Party"])
        XCTAssertEqual(b.sequencer, seq(11), "the recorded sequencer is kept")
        XCTAssertEqual(try gallery("summer")?.imageCount, 3)

        // Late events older than what was recorded are stale and ignored.
        let staleCreate = try await apply(created("summer/c.jpg", seq: seq(9), at: at(3_000), eTag: "ec"))
        XCTAssertEqual(staleCreate.applied, 0)
        XCTAssertEqual(staleCreate.ignored, 1)
        let staleB = try await apply(created("summer/b.jpg", seq: seq(11), at: at(2_000), eTag: "eb-old"))
        XCTAssertEqual(staleB.applied, 0)
        let staleRemoveA = try await apply(removed("summer/a.jpg", seq: seq(10)))
        XCTAssertEqual(staleRemoveA.applied, 0)
        XCTAssertEqual(try keys("summer"), ["summer/b.jpg", "summer/d.jpg", "summer/a.jpg"])
        XCTAssertEqual(try allImages("summer").first?.etag, "eb-new")

        // Newer events still apply, including to an object known only from the listing.
        let newer = try await apply(removed("summer/d.jpg", seq: seq(20)), removed("summer/b.jpg", seq: seq(21)))
        XCTAssertEqual(newer.applied, 2)
        XCTAssertEqual(try keys("summer"), ["summer/a.jpg"])
        XCTAssertEqual(try gallery("summer")?.imageCount, 1)
    }

    func testResyncRestoresAListedObjectOverATombstone() async throws {
        try await apply(created("summer/a.jpg", seq: seq(1), at: at(1)), removed("summer/a.jpg", seq: seq(2), at: at(2)))
        XCTAssertNil(try gallery("summer"))
        let result = try await index.resync([listed("summer/a.jpg", etag: "again", at: at(3))])
        XCTAssertEqual(result.added, 1)
        XCTAssertEqual(try allImages("summer").map(\.etag), ["again"])
        XCTAssertEqual(try gallery("summer")?.imageCount, 1)
    }

    func testResyncWithAnEmptyListingEmptiesEveryGallery() async throws {
        try await apply(created("summer/a.jpg", seq: seq(1)), created("winter/b.jpg", seq: seq(2)))
        let result = try await index.resync([])
        XCTAssertEqual(result.added, 0)
        XCTAssertEqual(result.removed, 2)
        XCTAssertEqual(try index.listGalleries(), [])
        XCTAssertEqual(try keys("summer"), [])
        // The tombstones still guard against the old events.
        let stale = try await apply(created("summer/a.jpg", seq: seq(1)))
        XCTAssertEqual(stale.applied, 0)
        XCTAssertEqual(try keys("summer"), [])
    }
}
