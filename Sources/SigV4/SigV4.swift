// AWS Signature Version 4 verification for S3 (header-based authentication), plus the
// helpers needed later to verify aws-chunked chunk and trailer signatures.
//
// References: "Signature Calculations for the Authorization Header" and "Transferring
// Payload in Multiple Chunks" in the Amazon S3 API reference, and the general SigV4
// specification. S3 differs from other services in two ways that matter here: the
// canonical URI is not normalised (no removal of `.`, `..` or empty segments), and the
// path is URI-encoded only once.

import Digests
import Synchronization

/// SigV4 constants and the signing-key derivation shared by verification and signing.
/// The rest of the scheme lives in extensions by concept: `SigV4+HeaderAuth.swift`
/// (Authorization parsing and verification), `SigV4+CanonicalRequest.swift` (canonical
/// request and string to sign), `Presigned.swift` and `PostPolicy.swift`; clients sign
/// with `SigV4Signer`.
public enum SigV4 {
    /// The only signing algorithm accepted and produced.
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// Hex SHA-256 of the empty string.
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
    public static func signingKey(secretKey: String, date: String, region: String, service: String) -> [UInt8] {
        // Four HMACs that change once a day per user: computed once, then served from a cache.
        let cacheKey = SigningKeyCache.Key(secretKey: secretKey, date: date, region: region, service: service)
        if let cached = SigningKeyCache.shared.get(cacheKey) { return cached }
        let key = deriveSigningKey(secretKey: secretKey, date: date, region: region, service: service)
        SigningKeyCache.shared.put(cacheKey, key)
        return key
    }

    static func deriveSigningKey(secretKey: String, date: String, region: String, service: String) -> [UInt8] {
        let kDate = HMAC.sha256(key: Array("AWS4\(secretKey)".utf8), message: date)
        let kRegion = HMAC.sha256(key: kDate, message: region)
        let kService = HMAC.sha256(key: kRegion, message: service)
        return HMAC.sha256(key: kService, message: "aws4_request")
    }

    /// Lowercase hex HMAC-SHA256 of `stringToSign` under `signingKey`.
    public static func signature(signingKey: [UInt8], stringToSign: String) -> String {
        Hex.encode(HMAC.sha256(key: signingKey, message: stringToSign))
    }
}

/// Derived signing keys by (secret, date, region, service): a key is valid for one day, so
/// each is derived once instead of on every request. Bounded: cleared when it grows large.
final class SigningKeyCache: Sendable {
    struct Key: Hashable, Sendable {
        let secretKey: String
        let date: String
        let region: String
        let service: String
    }

    static let shared = SigningKeyCache()
    private let entries = Mutex<[Key: [UInt8]]>([:])

    func get(_ key: Key) -> [UInt8]? { entries.withLock { $0[key] } }

    func put(_ key: Key, _ value: [UInt8]) {
        entries.withLock { table in
            if table.count >= 1024 { table.removeAll(keepingCapacity: true) }
            table[key] = value
        }
    }
}
