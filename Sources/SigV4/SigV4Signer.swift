// Client-side SigV4: what the index service and the bench use to sign their requests to S3.

public import Foundation
import Digests
import Synchronization

/// Signs requests for one access key, region and service, as a client does: header
/// signatures (`sign`) and presigned URLs (`presignedURL`). The day's signing key (four
/// HMACs) is derived once a day, and the constant parts of the Authorization header once,
/// so a request costs one SHA-256 and one HMAC; requests signing only `host`,
/// `x-amz-content-sha256` and `x-amz-date` on a plain path (the bench's) skip the general
/// canonicalisation.
public struct SigV4Signer: Sendable {
    /// The access key named in the credential.
    public let accessKey: String
    /// The region of the credential scope.
    public let region: String
    /// The service of the credential scope, `s3` for Shoebox.
    public let service: String
    private let secretKey: String
    private let dayKey: DayKey
    /// `AWS4-HMAC-SHA256 Credential=<access key>/`
    private let credentialPrefix: String
    /// `/<region>/<service>/aws4_request`
    private let scopeSuffix: String

    /// The names `sign` signs besides the caller's headers.
    static let defaultSignedHeaders = "host;x-amz-content-sha256;x-amz-date"

    /// A signer for the given credentials and scope.
    public init(accessKey: String, secretKey: String, region: String, service: String = "s3") {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.region = region
        self.service = service
        self.dayKey = DayKey()
        self.credentialPrefix = "\(SigV4.algorithm) Credential=\(accessKey)/"
        self.scopeSuffix = "/\(region)/\(service)/aws4_request"
    }

    /// The result of `sign`: the values of the headers to add to the request.
    public struct Signature: Sendable {
        /// The `x-amz-date` value, `yyyyMMdd'T'HHmmss'Z'`.
        public let amzDate: String
        /// The `x-amz-content-sha256` value.
        public let payloadHash: String
        /// The `Authorization` value.
        public let authorization: String

        /// The three headers to add, names lowercase.
        public var headers: [(name: String, value: String)] {
            [("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash), ("authorization", authorization)]
        }
    }

    /// Signs a request with header authentication. Signed are `host`, `x-amz-content-sha256`,
    /// `x-amz-date` and every header in `headers` (which the request must carry as given).
    /// - Parameters:
    ///   - host: the `Host` header value the request is sent with.
    ///   - rawPath: the path as sent, already percent-encoded.
    ///   - rawQuery: the query as sent, already encoded, without `?`.
    ///   - payloadHash: hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    ///   - amzDate: the request time, `yyyyMMdd'T'HHmmss'Z'`; now when nil.
    public func sign(method: String, host: String, rawPath: String, rawQuery: String = "",
                     headers: [(name: String, value: String)] = [], payloadHash: String = "UNSIGNED-PAYLOAD",
                     amzDate: String? = nil) -> Signature {
        let amzDate = amzDate ?? AMZDate.now()
        if headers.isEmpty && rawQuery.isEmpty && !rawPath.isEmpty && !host.utf8.contains(where: Self.isBlank)
            && rawPath.utf8.allSatisfy({ PercentEncoding.isUnreserved($0) || $0 == UInt8(ascii: "/") }) {
            // Already canonical: the canonical request is put together directly.
            var canonical: [UInt8] = []
            canonical.reserveCapacity(160 + rawPath.utf8.count + host.utf8.count)
            func add(_ text: String) { canonical.append(contentsOf: text.utf8) }
            add(method)
            add("\n")
            add(rawPath)
            add("\n\nhost:")
            add(host)
            add("\nx-amz-content-sha256:")
            add(payloadHash)
            add("\nx-amz-date:")
            add(amzDate)
            add("\n\n")
            add(Self.defaultSignedHeaders)
            add("\n")
            add(payloadHash)
            let date = String(amzDate.prefix(8))
            let scope = date + scopeSuffix
            let signature = Hex.encode(HMAC.sha256(
                key: signingKey(date: date),
                message: SigV4.stringToSignBytes(amzDate: amzDate, scope: scope, canonicalRequest: canonical)))
            return Signature(amzDate: amzDate, payloadHash: payloadHash,
                             authorization: credentialPrefix + scope + ", SignedHeaders=" + Self.defaultSignedHeaders
                                 + ", Signature=" + signature)
        }
        let all = headers + [("host", host), ("x-amz-content-sha256", payloadHash), ("x-amz-date", amzDate)]
        let request = SigV4Request(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: all)
        let authorization = authorization(for: request, signedHeaders: all.map(\.name), payloadHash: payloadHash, amzDate: amzDate)
        return Signature(amzDate: amzDate, payloadHash: payloadHash, authorization: authorization)
    }

    private static func isBlank(_ c: UInt8) -> Bool { c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") }

    /// The `Authorization` value for `request`, which must already carry every header in
    /// `signedHeaders` (names in any case and order), `host` and the date among them.
    public func authorization(for request: SigV4Request, signedHeaders: [String], payloadHash: String, amzDate: String) -> String {
        let date = String(amzDate.prefix(8))
        let names = SigV4.sortedLowercase(signedHeaders)
        let scope = date + scopeSuffix
        let canonical = SigV4.canonicalRequestBytes(request, signedHeaders: names, payloadHash: payloadHash)
        let signature = Hex.encode(HMAC.sha256(
            key: signingKey(date: date), message: SigV4.stringToSignBytes(amzDate: amzDate, scope: scope, canonicalRequest: canonical)))
        return credentialPrefix + scope + ", SignedHeaders=" + names.joined(separator: ";") + ", Signature=" + signature
    }

    /// A presigned URL (query authentication, `UNSIGNED-PAYLOAD`) valid for `expires` seconds
    /// from `now`: what the index service hands to browsers for direct uploads.
    /// - Parameters:
    ///   - base: scheme and authority, e.g. `http://127.0.0.1:9000`.
    ///   - host: the `Host` header the holder will send.
    ///   - rawPath: the percent-encoded path, e.g. `/bucket/a%20b.jpg`.
    ///   - headers: headers the holder must send, signed with `host` (names lowercased).
    public func presignedURL(method: String, base: String, host: String, rawPath: String,
                             headers: [(name: String, value: String)] = [], expires: Int, now: Date = Date()) -> String {
        let amzDate = AMZDate.format(now)
        let date = String(amzDate.prefix(8))
        let allHeaders = headers.map { (name: $0.name.lowercased(), value: $0.value) } + [(name: "host", value: host)]
        let signedHeaders = SigV4.sortedLowercase(allHeaders.map(\.name))
        let scope = date + scopeSuffix
        let query = [("X-Amz-Algorithm", SigV4.algorithm), ("X-Amz-Credential", "\(accessKey)/\(scope)"), ("X-Amz-Date", amzDate),
                     ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", signedHeaders.joined(separator: ";"))]
            .map { "\($0.0)=\(PercentEncoding.uriEncode($0.1))" }.joined(separator: "&")
        let request = SigV4Request(method: method, rawPath: rawPath, rawQuery: query, headers: allHeaders)
        let canonical = SigV4.canonicalRequestBytes(request, signedHeaders: signedHeaders, payloadHash: "UNSIGNED-PAYLOAD")
        let signature = Hex.encode(HMAC.sha256(
            key: signingKey(date: date), message: SigV4.stringToSignBytes(amzDate: amzDate, scope: scope, canonicalRequest: canonical)))
        return "\(base)\(rawPath)?\(query)&X-Amz-Signature=\(signature)"
    }

    /// The signing key of `date` (`yyyyMMdd`): kept for the day, so the four HMACs (and the
    /// shared cache's hashing of the secret) are paid once a day, not per request.
    func signingKey(date: String) -> [UInt8] {
        dayKey.current.withLock { cached in
            if cached.date != date {
                cached = (date, SigV4.signingKey(secretKey: secretKey, date: date, region: region, service: service))
            }
            return cached.key
        }
    }

    /// The signer's day key, shared by its copies.
    private final class DayKey: Sendable {
        let current = Mutex<(date: String, key: [UInt8])>(("", []))
    }
}

extension SigV4 {
    /// Computes the `Authorization` header value for `request` (which must already carry
    /// the signed headers, including `host` and `x-amz-date`).
    public static func authorizationHeader(
        for request: SigV4Request, accessKey: String, secretKey: String, amzDate: String, region: String,
        service: String = "s3", signedHeaders: [String], payloadHash: String
    ) -> String {
        SigV4Signer(accessKey: accessKey, secretKey: secretKey, region: region, service: service)
            .authorization(for: request, signedHeaders: signedHeaders, payloadHash: payloadHash, amzDate: amzDate)
    }
}
