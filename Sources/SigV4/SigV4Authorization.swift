/// A parsed `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header.
public struct SigV4Authorization: Sendable, Equatable {
    public var accessKey: String
    /// Credential scope date, `yyyyMMdd`.
    public var date: String
    public var region: String
    public var service: String
    /// Lowercase, strictly ascending (as required by SigV4).
    public var signedHeaders: [String]
    /// As sent (64 hex digits).
    public var signature: String

    public init(
        accessKey: String, date: String, region: String, service: String, signedHeaders: [String],
        signature: String
    ) {
        self.accessKey = accessKey
        self.date = date
        self.region = region
        self.service = service
        self.signedHeaders = signedHeaders
        self.signature = signature
    }

    /// `date/region/service/aws4_request`.
    public var scope: String { "\(date)/\(region)/\(service)/aws4_request" }
}
