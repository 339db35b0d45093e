import Foundation
import IndexService
import S3Events
import XCTest

/// The thumbnail pipeline's durable queue: which index changes queue which jobs, and how a
/// result is recorded (or dropped when the image changed meanwhile).
final class DerivativeJobTests: IndexTestCase {
    private func jobs() throws -> [String: DerivativeJob] {
        Dictionary(uniqueKeysWithValues: try index.pendingJobs(excluding: [], limit: 100).map { ($0.key, $0.job) })
    }

    private func image(_ key: String) throws -> ImageRecord? {
        try index.images(gallery: "summer", limit: 100, cursor: nil).images.first { $0.key == key }
    }

    func testCreatedImageQueuesMakeAndResultIsRecorded() async throws {
        _ = try await index.apply(message(created("summer/a.jpg", seq: seq(1), eTag: "e1"), created("_derived/summer/a.jpg/thumb.webp", seq: seq(2))))
        // Derivatives' own events are not images: no job for them.
        XCTAssertEqual(try jobs(), ["summer/a.jpg": DerivativeJob(kind: .make, etag: "e1")])
        XCTAssertEqual(try index.pendingJobCount(), 1)
        XCTAssertNil(try image("summer/a.jpg")?.currentDerived)

        let ready = DerivedImage(etag: "e1", status: .ready, width: 30, height: 40, placeholder: "AAAA")
        try await index.complete(DerivativeJob(kind: .make, etag: "e1"), key: "summer/a.jpg", derived: ready)
        XCTAssertEqual(try jobs(), [:])
        XCTAssertEqual(try image("summer/a.jpg")?.currentDerived, ready)
    }

    func testOverwriteWhileProcessingDropsStaleResultAndKeepsNewJob() async throws {
        _ = try await index.apply(message(created("summer/a.jpg", seq: seq(1), eTag: "e1")))
        _ = try await index.apply(message(created("summer/a.jpg", seq: seq(2), eTag: "e2")))
        XCTAssertEqual(try jobs(), ["summer/a.jpg": DerivativeJob(kind: .make, etag: "e2")])
        // The result for e1 arrives late: it neither marks e2 ready nor retires e2's job.
        try await index.complete(DerivativeJob(kind: .make, etag: "e1"), key: "summer/a.jpg",
                                 derived: DerivedImage(etag: "e1", status: .ready, width: 1, height: 1, placeholder: "A"))
        XCTAssertEqual(try jobs(), ["summer/a.jpg": DerivativeJob(kind: .make, etag: "e2")])
        XCTAssertNil(try image("summer/a.jpg")?.currentDerived)
    }

    func testRemovalQueuesRemoveAndSameContentAgainIsRemade() async throws {
        _ = try await index.apply(message(created("summer/a.jpg", seq: seq(1), eTag: "e1")))
        try await index.complete(DerivativeJob(kind: .make, etag: "e1"), key: "summer/a.jpg",
                                 derived: DerivedImage(etag: "e1", status: .ready, width: 1, height: 1, placeholder: "A"))
        _ = try await index.apply(message(removed("summer/a.jpg", seq: seq(2))))
        XCTAssertEqual(try jobs(), ["summer/a.jpg": DerivativeJob(kind: .remove, etag: "")])
        try await index.complete(DerivativeJob(kind: .remove, etag: ""), key: "summer/a.jpg", derived: nil)
        // The same bytes uploaded again: their derivatives were deleted, so they are made again.
        _ = try await index.apply(message(created("summer/a.jpg", seq: seq(3), eTag: "e1")))
        XCTAssertEqual(try jobs(), ["summer/a.jpg": DerivativeJob(kind: .make, etag: "e1")])
    }

    func testImagesWithoutDerivativesAreQueuedAtStart() async throws {
        _ = try await index.apply(message(created("summer/a.jpg", seq: seq(1), eTag: "e1"), created("summer/b.jpg", seq: seq(2), eTag: "e2")))
        try await index.complete(DerivativeJob(kind: .make, etag: "e1"), key: "summer/a.jpg",
                                 derived: DerivedImage(etag: "e1", status: .unprocessable, reason: "corrupt"))
        try await index.complete(DerivativeJob(kind: .make, etag: "e2"), key: "summer/b.jpg", derived: nil)  // as if lost
        XCTAssertEqual(try jobs(), [:])
        let queued = try await index.enqueueMissingDerivatives()
        XCTAssertEqual(queued, 1)
        XCTAssertEqual(try jobs(), ["summer/b.jpg": DerivativeJob(kind: .make, etag: "e2")])
        let again = try await index.enqueueMissingDerivatives()
        XCTAssertEqual(again, 0)
    }
}
