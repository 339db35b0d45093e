public import ObjectStore
public import S3API

/// What `shoebox up` sets up in the S3 store so that the gallery page and the index service
/// work against it: the `gallery` bucket, CORS for the page's origins, and notifications of
/// every object created or removed to the index's webhook.
///
/// A library type (not code in the `shoebox` executable) so that it can be unit-tested
/// against a store in a temp directory. It lives in ShoeboxHost, the target that composes
/// the S3 server with the index, rather than in S3API: S3API is the S3 protocol, and knows
/// nothing of galleries.
public struct GalleryBucketProvisioner: Sendable {
    /// The bucket the page uploads to and the index follows.
    public static let bucketName = "gallery"
    /// The id of the webhook target and of the bucket's notification rule.
    public static let targetId = "gallery-index"

    /// The index service's address as given, `host:port`.
    public let indexAddress: String
    /// The index service's port (the page is also reachable as localhost / 127.0.0.1 on it).
    public let indexPort: Int
    /// The S3 region (part of the webhook's queue ARN).
    public let region: String
    /// The Bearer token the S3 server sends and the index requires.
    public let webhookToken: String

    /// - Parameters:
    ///   - indexAddress: `host:port` of the index service, as browsers and the S3 server reach it.
    ///   - indexPort: its port.
    ///   - region: the S3 region.
    ///   - webhookToken: the token the webhook target sends.
    public init(indexAddress: String, indexPort: Int, region: String, webhookToken: String) {
        self.indexAddress = indexAddress
        self.indexPort = indexPort
        self.region = region
        self.webhookToken = webhookToken
    }

    /// The S3 server's webhook target: the index's `/events` receiver.
    public var webhook: WebhookTarget {
        WebhookTarget(id: Self.targetId, endpoint: "http://\(indexAddress)/events", authToken: webhookToken)
    }

    /// Lets the page (served by the index, another origin) PUT, POST and read images.
    public var corsRule: CORSRule {
        let origins = ["http://\(indexAddress)", "http://localhost:\(indexPort)", "http://127.0.0.1:\(indexPort)"]
        return CORSRule(allowedOrigins: Array(Set(origins)).sorted(), allowedMethods: ["GET", "PUT", "POST", "HEAD"],
                        allowedHeaders: ["*"], exposeHeaders: ["ETag"], maxAgeSeconds: 3000)
    }

    /// Every object created or removed in the bucket goes to ``webhook``.
    public var notificationRule: NotificationRule {
        NotificationRule(id: Self.targetId, queueArn: webhook.arn(region: region), targetId: webhook.id,
                         events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    }

    /// Creates the bucket unless it exists, then sets its CORS and notification rules
    /// (replacing any: each run has a new token and possibly a new index address).
    /// The store must have been opened with ``webhook``'s id among its event targets.
    public func provision(in store: any ObjectStore, ownerId: String) async throws {
        do {
            try await store.createBucket(name: Self.bucketName, ownerId: ownerId, region: region, acl: nil)
        } catch ObjectStoreError.bucketAlreadyOwnedByYou {}
        let cors = corsRule
        let notifications = [notificationRule]
        try await store.updateBucket(name: Self.bucketName) { bucket in
            bucket.cors = [cors]
            bucket.notifications = notifications
        }
    }
}
