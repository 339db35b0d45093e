import Foundation
import ObjectStore
import S3API
import ShoeboxHost
import XCTest

/// `shoebox up`'s provisioning against a store in a temp directory.
final class GalleryBucketProvisionerTests: XCTestCase {
    func makeStore(for provisioner: GalleryBucketProvisioner) throws -> ObjectStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("provisioner-tests-\(UUID().uuidString)").path
        let store = try LMDBObjectStore(directory: path, mapSize: 64 << 20, eventTargets: [provisioner.webhook.id: provisioner.webhook.queueLimit])
        addTeardownBlock {
            store.close()
            try? FileManager.default.removeItem(atPath: path)
        }
        return store
    }

    func testWebhookTargetsTheIndexEventsEndpointWithTheToken() {
        let provisioner = GalleryBucketProvisioner(indexAddress: "127.0.0.1:9100", indexPort: 9100, region: "eu-west-1", webhookToken: "tok")
        XCTAssertEqual(provisioner.webhook, WebhookTarget(id: "gallery-index", endpoint: "http://127.0.0.1:9100/events", authToken: "tok"))
    }

    func testProvisionCreatesTheBucketWithCORSAndNotifications() async throws {
        let provisioner = GalleryBucketProvisioner(indexAddress: "0.0.0.0:9100", indexPort: 9100, region: "eu-west-1", webhookToken: "tok")
        let store = try makeStore(for: provisioner)
        try await provisioner.provision(in: store, ownerId: "owner-1")
        let bucket = try XCTUnwrap(try store.bucket(named: GalleryBucketProvisioner.bucketName))
        XCTAssertEqual(bucket.ownerId, "owner-1")
        XCTAssertEqual(bucket.region, "eu-west-1")
        XCTAssertEqual(bucket.cors, [CORSRule(allowedOrigins: ["http://0.0.0.0:9100", "http://127.0.0.1:9100", "http://localhost:9100"],
                                              allowedMethods: ["GET", "PUT", "POST", "HEAD"], allowedHeaders: ["*"],
                                              exposeHeaders: ["ETag"], maxAgeSeconds: 3000)])
        XCTAssertEqual(bucket.notifications, [NotificationRule(id: "gallery-index", queueArn: "arn:shoebox:sqs:eu-west-1:gallery-index:webhook",
                                                               targetId: "gallery-index", events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])])
    }

    func testProvisionAgainKeepsTheBucketAndReplacesItsRules() async throws {
        let first = GalleryBucketProvisioner(indexAddress: "127.0.0.1:9100", indexPort: 9100, region: "us-east-1", webhookToken: "a")
        let store = try makeStore(for: first)
        try await first.provision(in: store, ownerId: "owner-1")
        let created = try XCTUnwrap(try store.bucket(named: GalleryBucketProvisioner.bucketName))
        let second = GalleryBucketProvisioner(indexAddress: "127.0.0.1:9200", indexPort: 9200, region: "us-east-1", webhookToken: "b")
        try await second.provision(in: store, ownerId: "owner-1")
        let bucket = try XCTUnwrap(try store.bucket(named: GalleryBucketProvisioner.bucketName))
        XCTAssertEqual(bucket.id, created.id, "the existing bucket (and its objects) is kept")
        XCTAssertEqual(bucket.cors?.first?.allowedOrigins, ["http://127.0.0.1:9200", "http://localhost:9200"], "duplicates removed")
        XCTAssertEqual(bucket.notifications?.count, 1)
    }
}
