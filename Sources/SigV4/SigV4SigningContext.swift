import Digests

/// What is needed after header verification to verify aws-chunked chunk signatures
/// (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`) and the trailer signature.
public struct SigV4SigningContext: Sendable {
    public let signingKey: [UInt8]
    /// The request time as used in the string to sign, `yyyyMMdd'T'HHmmss'Z'`.
    public let amzDate: String
    /// `date/region/service/aws4_request`.
    public let scope: String
    /// The (verified) request signature, lowercase hex: the "previous signature" of the first chunk.
    public let seedSignature: String
    /// The payload hash the signature covered: the `x-amz-content-sha256` value, or the
    /// SHA-256 of the empty string when that header was absent. It is either 64 lowercase
    /// hex digits that the body must hash to, or a marker such as `UNSIGNED-PAYLOAD`,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
    /// Verifying the body against it is the caller's job.
    public let payloadHash: String

    public init(signingKey: [UInt8], amzDate: String, scope: String, seedSignature: String, payloadHash: String) {
        self.signingKey = signingKey
        self.amzDate = amzDate
        self.scope = scope
        self.seedSignature = seedSignature
        self.payloadHash = payloadHash
    }

    /// Signature of one aws-chunked chunk: HMAC over
    /// `AWS4-HMAC-SHA256-PAYLOAD\n<amzDate>\n<scope>\n<previousSignature>\n<sha256("")>\n<chunkSHA256>`.
    /// `previousSignature` is `seedSignature` for the first chunk, then the previous chunk's
    /// signature; the final zero-length chunk is signed too. Returns lowercase hex.
    public func chunkSignature(previousSignature: String, chunkSHA256 chunkHash: String) -> String {
        let stringToSign = "AWS4-HMAC-SHA256-PAYLOAD\n\(amzDate)\n\(scope)\n\(previousSignature)\n"
            + "\(SigV4.emptyPayloadSHA256)\n\(chunkHash)"
        return Hex.encode(HMAC.sha256(key: signingKey, message: stringToSign))
    }

    /// Signature of the trailing headers (`x-amz-trailer-signature`): HMAC over
    /// `AWS4-HMAC-SHA256-TRAILER\n<amzDate>\n<scope>\n<previousSignature>\n<trailerSHA256>`,
    /// where `previousSignature` is the final (zero-length) chunk's signature and
    /// `trailerSHA256` is the hex SHA-256 of `SigV4.canonicalTrailer(...)`.
    public func trailerSignature(previousSignature: String, trailerSHA256 trailerHash: String) -> String {
        let stringToSign = "AWS4-HMAC-SHA256-TRAILER\n\(amzDate)\n\(scope)\n\(previousSignature)\n\(trailerHash)"
        return Hex.encode(HMAC.sha256(key: signingKey, message: stringToSign))
    }
}
