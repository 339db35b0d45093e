public import Foundation
public import Thumbnails

/// Settings of the index service.
public struct IndexConfiguration: Sendable {
    /// Address to listen on.
    public var host: String
    /// Port to listen on (0: any free port).
    public var port: Int
    /// The S3 endpoint as browsers reach it, e.g. `http://127.0.0.1:9000`.
    public var s3Endpoint: String
    /// The bucket holding the galleries (one per top-level prefix).
    public var bucket: String
    /// The region requests to the S3 endpoint are signed for.
    public var region: String
    /// Credentials the service signs uploads and listings with.
    public var accessKey: String
    /// The secret of `accessKey`.
    public var secretKey: String
    /// The Bearer token webhook calls must carry.
    public var webhookToken: String
    /// Largest upload the service signs for.
    public var maxUploadSize: UInt64 = 25 << 20
    /// How long presigned uploads stay valid.
    public var uploadExpiry = 300
    /// How many images the thumbnail pipeline works on at once (each on a thread of its own).
    public var thumbnailConcurrency = ProcessInfo.processInfo.activeProcessorCount
    /// Sizes and the limits past which an image is unprocessable.
    public var thumbnailLimits = ThumbnailLimits()
    /// A directory only this service uses, for originals being processed (emptied at start).
    public var scratchDirectory = NSTemporaryDirectory() + "/shoebox-index-\(ProcessInfo.processInfo.processIdentifier)"

    /// `s3Endpoint` may end with a slash; it is dropped.
    public init(host: String, port: Int, s3Endpoint: String, bucket: String, region: String, accessKey: String,
                secretKey: String, webhookToken: String) {
        self.host = host
        self.port = port
        self.s3Endpoint = s3Endpoint.hasSuffix("/") ? String(s3Endpoint.dropLast()) : s3Endpoint
        self.bucket = bucket
        self.region = region
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.webhookToken = webhookToken
    }
}
