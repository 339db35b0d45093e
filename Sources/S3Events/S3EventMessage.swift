public import Foundation
import Digests

/// The S3 event notification message, as AWS sends it (event version 2.1), shared by the
/// server (which sends it) and the index service (which reads it).
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
public struct S3EventMessage: Codable, Sendable, Equatable {
    public var records: [S3EventRecord]

    public init(records: [S3EventRecord]) { self.records = records }

    enum CodingKeys: String, CodingKey { case records = "Records" }

    /// JSON with keys in a stable order.
    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    public static func decode(_ data: Data) throws -> S3EventMessage {
        try JSONDecoder().decode(S3EventMessage.self, from: data)
    }
}

/// One record of a message.
public struct S3EventRecord: Codable, Sendable, Equatable {
    public var eventVersion: String = "2.1"
    public var eventSource: String = "aws:s3"
    public var awsRegion: String
    /// ISO 8601 with milliseconds.
    public var eventTime: String
    /// E.g. `ObjectCreated:Put` (no `s3:` prefix).
    public var eventName: String
    public var userIdentity: Identity
    public var requestParameters: RequestParameters
    public var responseElements: ResponseElements
    public var s3: Entity

    public struct Identity: Codable, Sendable, Equatable {
        public var principalId: String
        public init(principalId: String) { self.principalId = principalId }
    }

    public struct RequestParameters: Codable, Sendable, Equatable {
        public var sourceIPAddress: String
        public init(sourceIPAddress: String) { self.sourceIPAddress = sourceIPAddress }
    }

    public struct ResponseElements: Codable, Sendable, Equatable {
        public var requestId: String
        public var hostId: String
        public init(requestId: String, hostId: String) {
            self.requestId = requestId
            self.hostId = hostId
        }
        enum CodingKeys: String, CodingKey {
            case requestId = "x-amz-request-id"
            case hostId = "x-amz-id-2"
        }
    }

    public struct Entity: Codable, Sendable, Equatable {
        public var s3SchemaVersion: String = "1.0"
        public var configurationId: String
        public var bucket: Bucket
        public var object: Object

        public init(configurationId: String, bucket: Bucket, object: Object) {
            self.configurationId = configurationId
            self.bucket = bucket
            self.object = object
        }
    }

    public struct Bucket: Codable, Sendable, Equatable {
        public var name: String
        public var ownerIdentity: Identity
        public var arn: String
        public init(name: String, ownerIdentity: Identity, arn: String) {
            self.name = name
            self.ownerIdentity = ownerIdentity
            self.arn = arn
        }
    }

    public struct Object: Codable, Sendable, Equatable {
        /// Form-URL-encoded key (space is `+`); see ``S3EventRecord/encodeKey(_:)``.
        public var key: String
        public var size: UInt64?
        public var eTag: String?
        public var versionId: String?
        /// Hex string ordering the events of one key (compare after right-padding with zeros).
        public var sequencer: String
        /// Shoebox extension: the object's content type and user metadata (`x-amz-meta-*`
        /// without the prefix), so consumers need not fetch the object. Absent for removals.
        public var contentType: String?
        public var userMetadata: [String: String]?

        public init(key: String, size: UInt64?, eTag: String?, sequencer: String, contentType: String? = nil,
                    userMetadata: [String: String]? = nil) {
            self.key = key
            self.size = size
            self.eTag = eTag
            self.sequencer = sequencer
            self.contentType = contentType
            self.userMetadata = userMetadata
        }
    }

    public init(awsRegion: String, eventTime: Date, eventName: String, principalId: String, sourceIPAddress: String,
                requestId: String, hostId: String, s3: Entity) {
        self.awsRegion = awsRegion
        self.eventTime = Self.formatTime(eventTime)
        self.eventName = eventName
        self.userIdentity = Identity(principalId: principalId)
        self.requestParameters = RequestParameters(sourceIPAddress: sourceIPAddress)
        self.responseElements = ResponseElements(requestId: requestId, hostId: hostId)
        self.s3 = s3
    }

    static func formatTime(_ date: Date) -> String { ISO8601Date.format(date) }

    /// Form-URL-encodes a key as S3 does in events: space becomes `+`, `/` and unreserved
    /// characters stay, everything else is `%XX`.
    public static func encodeKey(_ key: String) -> String { PercentEncoding.formEncode(key) }

    /// Decodes a key the way consumers of S3 events do: `+` is a space, then percent-decoding
    /// (tolerating `%2F` and malformed escapes, which are kept literally).
    public static func decodeKey(_ encoded: String) -> String {
        String(decoding: PercentEncoding.decodeLeniently(encoded.utf8, plusAsSpace: true), as: UTF8.self)
    }

    /// Orders two sequencers as AWS documents: right-pad the shorter with zeros, then compare.
    public static func sequencerPrecedes(_ a: String, _ b: String) -> Bool {
        let width = max(a.count, b.count)
        let pa = a.uppercased().padding(toLength: width, withPad: "0", startingAt: 0)
        let pb = b.uppercased().padding(toLength: width, withPad: "0", startingAt: 0)
        return pa < pb
    }
}
