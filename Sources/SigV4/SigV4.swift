// AWS Signature Version 4 verification for S3 (header-based authentication), plus the
// helpers needed later to verify aws-chunked chunk and trailer signatures.
//
// References: "Signature Calculations for the Authorization Header" and "Transferring
// Payload in Multiple Chunks" in the Amazon S3 API reference, and the general SigV4
// specification. S3 differs from other services in two ways that matter here: the
// canonical URI is not normalised (no removal of `.`, `..` or empty segments), and the
// path is URI-encoded only once.

public import Foundation
import Digests
import Synchronization

/// What the HTTP layer hands over for verification. No HTTP framework types.
public struct SigV4Request: Sendable {
    /// The request method, e.g. "GET".
    public var method: String
    /// The path exactly as on the request line, still percent-encoded, without the query.
    public var rawPath: String
    /// The query string as sent, without the leading '?'; may be "".
    public var rawQuery: String
    /// All headers in arrival order; names in any case; repeats allowed.
    public var headers: [(name: String, value: String)]

    public init(method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)]) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
    }

    /// All values of the header `name` (compared case-insensitively), in arrival order.
    public func headerValues(_ name: String) -> [String] {
        headers.compactMap { asciiCaseInsensitiveEqual($0.name, name) ? $0.value : nil }
    }

    /// The first value of the header `name` (compared case-insensitively).
    public func firstHeader(_ name: String) -> String? {
        headers.first { asciiCaseInsensitiveEqual($0.name, name) }?.value
    }
}

/// Header names compared without allocating (these lookups run several times per request).
func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    return a.utf8.elementsEqual(b.utf8) { x, y in
        x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= UInt8(ascii: "a") && (x | 0x20) <= UInt8(ascii: "z"))
    }
}

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

public enum SigV4Error: Error, Equatable, Sendable {
    /// -> 400 AuthorizationHeaderMalformed. The string says what is wrong.
    case malformedAuthorization(String)
    /// Not `AWS4-HMAC-SHA256` (e.g. SigV2 `AWS ak:sig`, or SigV4a) -> 400.
    case unsupportedAlgorithm
    /// Neither `x-amz-date` nor `Date` present -> 403 AccessDenied.
    case missingDate
    /// `x-amz-date` (or `Date`) present but unparseable -> 403 AccessDenied.
    case malformedDate
    /// Request time more than `maxSkew` away from now -> 403 RequestTimeTooSkewed.
    case requestTimeTooSkewed
    /// A header listed in SignedHeaders is absent from the request, or `host` /
    /// the date header is not listed in SignedHeaders. Carries the lowercase header name.
    case missingSignedHeader(String)
    /// -> 403 SignatureDoesNotMatch (S3 echoes both strings in its error body).
    case signatureDoesNotMatch(canonicalRequest: String, stringToSign: String)
    /// A presigned URL (or POST policy) past its expiry -> 403 AccessDenied "Request has expired".
    case expired
    /// A presigned URL's query authentication is incomplete or out of range -> 400/403.
    case malformedQueryAuthorization(String)
}

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

public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// Hex SHA-256 of the empty string.
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    // MARK: Authorization header

    /// Parses `AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request,
    /// SignedHeaders=host;x-amz-date, Signature=<hex>`. Tolerates any amount of
    /// whitespace around the separators and any order of the three components.
    public static func parseAuthorization(_ header: String) throws(SigV4Error) -> SigV4Authorization {
        // One pass over the UTF-8 bytes, making Strings only of the fields returned: this runs
        // on every request, and splitting into arrays of substrings was a few percent of a
        // small GET's CPU time.
        var header = header
        return try header.withUTF8 { parseAuthorization(bytes: $0) }.get()
    }

    private static func parseAuthorization(bytes b: UnsafeBufferPointer<UInt8>) -> Result<SigV4Authorization, SigV4Error> {
        func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
        func trim(_ r: Range<Int>) -> Range<Int> {
            var (lo, hi) = (r.lowerBound, r.upperBound)
            while lo < hi && isBlank(b[lo]) { lo += 1 }
            while hi > lo && isBlank(b[hi - 1]) { hi -= 1 }
            return lo..<hi
        }
        func string(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self) }
        func equals(_ r: Range<Int>, _ literal: StaticString) -> Bool {
            r.count == literal.utf8CodeUnitCount && memcmp(b.baseAddress! + r.lowerBound, literal.utf8Start, r.count) == 0
        }
        /// The pieces of `r` between `separator`s, empty ones included.
        func pieces(_ r: Range<Int>, _ separator: UInt8) -> [Range<Int>] {
            var out: [Range<Int>] = []
            var start = r.lowerBound
            for i in r where b[i] == separator {
                out.append(start..<i)
                start = i + 1
            }
            out.append(start..<r.upperBound)
            return out
        }

        let all = trim(0..<b.count)
        guard !all.isEmpty else { return .failure(.malformedAuthorization("empty Authorization header")) }
        var algorithmEnd = all.lowerBound
        while algorithmEnd < all.upperBound && !isBlank(b[algorithmEnd]) { algorithmEnd += 1 }
        guard equals(all.lowerBound..<algorithmEnd, "AWS4-HMAC-SHA256") else { return .failure(.unsupportedAlgorithm) }

        var credential: Range<Int>?
        var signedHeaderList: Range<Int>?
        var signature: Range<Int>?
        for rawPart in pieces(algorithmEnd..<all.upperBound, UInt8(ascii: ",")) {
            let part = trim(rawPart)
            guard let equalsSign = part.first(where: { b[$0] == UInt8(ascii: "=") }) else {
                return .failure(.malformedAuthorization("expected key=value, got '\(string(part))'"))
            }
            let key = trim(part.lowerBound..<equalsSign)
            let value = trim((equalsSign + 1)..<part.upperBound)
            if equals(key, "Credential") {
                guard credential == nil else { return .failure(.malformedAuthorization("Credential given twice")) }
                credential = value
            } else if equals(key, "SignedHeaders") {
                guard signedHeaderList == nil else { return .failure(.malformedAuthorization("SignedHeaders given twice")) }
                signedHeaderList = value
            } else if equals(key, "Signature") {
                guard signature == nil else { return .failure(.malformedAuthorization("Signature given twice")) }
                signature = value
            } else {
                return .failure(.malformedAuthorization("unknown component '\(string(key))'"))
            }
        }
        guard let credential else { return .failure(.malformedAuthorization("missing Credential")) }
        guard let signedHeaderList else { return .failure(.malformedAuthorization("missing SignedHeaders")) }
        guard let signature else { return .failure(.malformedAuthorization("missing Signature")) }

        // Credential: <access key>/<yyyyMMdd>/<region>/<service>/aws4_request
        let scopeParts = pieces(credential, UInt8(ascii: "/"))
        guard scopeParts.count == 5 else {
            return .failure(.malformedAuthorization(
                "Credential must be <access key>/<date>/<region>/<service>/aws4_request, got '\(string(credential))'"))
        }
        let (accessKey, date, region, service, terminator) =
            (scopeParts[0], scopeParts[1], scopeParts[2], scopeParts[3], scopeParts[4])
        guard !accessKey.isEmpty else { return .failure(.malformedAuthorization("empty access key")) }
        guard date.count == 8, date.allSatisfy({ isDigit(b[$0]) }) else {
            return .failure(.malformedAuthorization("credential date '\(string(date))' is not yyyyMMdd"))
        }
        guard !region.isEmpty else { return .failure(.malformedAuthorization("empty region in Credential")) }
        guard !service.isEmpty else { return .failure(.malformedAuthorization("empty service in Credential")) }
        guard equals(terminator, "aws4_request") else {
            return .failure(.malformedAuthorization("credential scope must end in aws4_request, got '\(string(terminator))'"))
        }

        // SignedHeaders: lowercase, ';'-separated, strictly ascending.
        let nameRanges = pieces(signedHeaderList, UInt8(ascii: ";"))
        for name in nameRanges {
            guard !name.isEmpty, name.allSatisfy({ isLowercaseTokenCharacter(b[$0]) }) else {
                return .failure(.malformedAuthorization("SignedHeaders entry '\(string(name))' is not a lowercase header name"))
            }
        }
        for (previous, next) in zip(nameRanges, nameRanges.dropFirst())
        where !UnsafeBufferPointer(rebasing: b[previous]).lexicographicallyPrecedes(UnsafeBufferPointer(rebasing: b[next])) {
            return .failure(.malformedAuthorization("SignedHeaders must be sorted and without repeats"))
        }

        guard signature.count == 64, signature.allSatisfy({ hexValue(b[$0]) != nil }) else {
            return .failure(.malformedAuthorization("Signature must be 64 hex digits"))
        }

        return .success(SigV4Authorization(
            accessKey: string(accessKey), date: string(date), region: string(region), service: string(service),
            signedHeaders: nameRanges.map(string), signature: string(signature)))
    }

    // MARK: Canonical request and string to sign

    /// The canonical request:
    /// `method \n canonicalURI \n canonicalQuery \n canonicalHeaders \n signedHeaders \n payloadHash`.
    /// `signedHeaders` are used lowercased and sorted. A signed header that is absent from
    /// the request contributes an empty value (`verify` rejects that case before signing).
    public static func canonicalRequest(_ request: SigV4Request, signedHeaders: [String], payloadHash: String) -> String {
        String(decoding: canonicalRequestBytes(request, signedHeaders: sortedLowercase(signedHeaders), payloadHash: payloadHash),
               as: UTF8.self)
    }

    /// Names lowercased and in ascending byte order (returned as they are when already so,
    /// as parsed Authorization headers always are).
    static func sortedLowercase(_ names: [String]) -> [String] {
        let clean = names.allSatisfy { !$0.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } }
            && zip(names, names.dropFirst()).allSatisfy { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if clean { return names }
        return names.map { $0.lowercased() }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The canonical request as bytes, built in one buffer (it is hashed, not read, unless the
    /// signature does not match). `names` must be lowercase and sorted; `queryExcluding`
    /// drops a query parameter (a presigned URL's own `X-Amz-Signature`).
    static func canonicalRequestBytes(_ request: SigV4Request, signedHeaders names: [String], payloadHash: String,
                                      queryExcluding: String? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + request.rawPath.utf8.count + request.rawQuery.utf8.count)
        out.append(contentsOf: request.method.utf8)
        out.append(0x0A)
        out.append(contentsOf: canonicalURI(request.rawPath).utf8)
        out.append(0x0A)
        out.append(contentsOf: canonicalQuery(request.rawQuery, excluding: queryExcluding).utf8)
        out.append(0x0A)
        appendCanonicalHeaders(request, signedHeaders: names, to: &out)
        out.append(0x0A)
        for (i, name) in names.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ";")) }
            out.append(contentsOf: name.utf8)
        }
        out.append(0x0A)
        out.append(contentsOf: payloadHash.utf8)
        return out
    }

    /// `AWS4-HMAC-SHA256 \n amzDate \n scope \n hex(sha256(canonicalRequest))` as bytes.
    static func stringToSignBytes(amzDate: String, scope: String, canonicalRequest: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(algorithm.utf8.count + amzDate.utf8.count + scope.utf8.count + 67)
        out.append(contentsOf: algorithm.utf8)
        out.append(0x0A)
        out.append(contentsOf: amzDate.utf8)
        out.append(0x0A)
        out.append(contentsOf: scope.utf8)
        out.append(0x0A)
        out.append(contentsOf: Hex.encode(Digest.sha256(canonicalRequest)).utf8)
        return out
    }

    /// `AWS4-HMAC-SHA256 \n amzDate \n scope \n hex(sha256(canonicalRequest))`.
    public static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        String(decoding: stringToSignBytes(amzDate: amzDate, scope: scope, canonicalRequest: Array(canonicalRequest.utf8)), as: UTF8.self)
    }

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

    // MARK: Verification

    /// Verifies header auth. The payload hash signed over is the `x-amz-content-sha256`
    /// header value (or `payloadHash` when given; or, when both are absent, the hash of the
    /// empty payload, as MinIO does). Returns the context needed later to verify aws-chunked
    /// chunk signatures. Does not look at the credential's region or service: check
    /// `authorization.region` against the server's region before calling this.
    ///
    /// Order of checks: `host` signed; request time present and parseable (`x-amz-date`,
    /// else `Date`); the date header signed; every signed header present; scope date equals
    /// the request date; clock skew; signature (constant-time comparison).
    public static func verify(
        _ request: SigV4Request, authorization: SigV4Authorization, secretKey: String, now: Date,
        maxSkew: TimeInterval = 900, payloadHash: String? = nil
    ) throws(SigV4Error) -> SigV4SigningContext {
        let signed = sortedLowercase(authorization.signedHeaders)
        guard signed.contains("host") else { throw .missingSignedHeader("host") }

        // Request time.
        let amzDate: String
        let requestTime: Date
        let dateHeaderName: String
        if let value = request.firstHeader("x-amz-date") {
            guard let time = parseAmzDate(trimWhitespace(value)) else { throw .malformedDate }
            (amzDate, requestTime, dateHeaderName) = (trimWhitespace(value), time, "x-amz-date")
        } else if let value = request.firstHeader("date") {
            guard let time = parseHTTPDate(trimWhitespace(value)) else { throw .malformedDate }
            (amzDate, requestTime, dateHeaderName) = (formatAmzDate(time), time, "date")
        } else {
            throw .missingDate
        }
        guard signed.contains(dateHeaderName) else { throw .missingSignedHeader(dateHeaderName) }

        for name in authorization.signedHeaders where request.firstHeader(name) == nil {
            throw .missingSignedHeader(name.lowercased())
        }

        guard amzDate.hasPrefix(authorization.date) else {
            throw .malformedAuthorization(
                "credential date \(authorization.date) does not match the request date \(amzDate)")
        }

        guard abs(requestTime.timeIntervalSince(now)) <= maxSkew else { throw .requestTimeTooSkewed }

        let effectivePayloadHash =
            payloadHash ?? request.firstHeader("x-amz-content-sha256").map { trimWhitespace($0) }
            ?? emptyPayloadSHA256
        let scope = authorization.scope
        let canonical = canonicalRequestBytes(request, signedHeaders: signed, payloadHash: effectivePayloadHash)
        let toSign = stringToSignBytes(amzDate: amzDate, scope: scope, canonicalRequest: canonical)
        let key = signingKey(
            secretKey: secretKey, date: authorization.date, region: authorization.region,
            service: authorization.service)
        let expected = HMAC.sha256(key: key, message: toSign)
        guard let provided = Hex.decode(authorization.signature), constantTimeEqual(expected, provided) else {
            throw .signatureDoesNotMatch(canonicalRequest: String(decoding: canonical, as: UTF8.self),
                                         stringToSign: String(decoding: toSign, as: UTF8.self))
        }
        return SigV4SigningContext(
            signingKey: key, amzDate: amzDate, scope: scope, seedSignature: Hex.encode(expected),
            payloadHash: effectivePayloadHash)
    }

    // MARK: Signing (for tests and clients)

    /// Computes the `Authorization` header value for `request` (which must already carry
    /// the signed headers, including `host` and `x-amz-date`).
    public static func authorizationHeader(
        for request: SigV4Request, accessKey: String, secretKey: String, amzDate: String, region: String,
        service: String = "s3", signedHeaders: [String], payloadHash: String
    ) -> String {
        let date = String(amzDate.prefix(8))
        let names = signedHeaders.map { $0.lowercased() }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let scope = "\(date)/\(region)/\(service)/aws4_request"
        let canonical = canonicalRequest(request, signedHeaders: names, payloadHash: payloadHash)
        let key = signingKey(secretKey: secretKey, date: date, region: region, service: service)
        let sig = signature(signingKey: key, stringToSign: stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical))
        return "\(algorithm) Credential=\(accessKey)/\(scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(sig)"
    }

    /// Canonical form of aws-chunked trailing headers, whose SHA-256 goes into the trailer
    /// string to sign: `name:value\n` per header, names lowercased, values trimmed,
    /// sorted by name; `x-amz-trailer-signature` itself is left out.
    public static func canonicalTrailer(_ headers: [(name: String, value: String)]) -> String {
        headers
            .map { (name: $0.name.lowercased(), value: trimWhitespace($0.value)) }
            .filter { $0.name != "x-amz-trailer-signature" }
            .sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
            .map { "\($0.name):\($0.value)\n" }
            .joined()
    }

    // MARK: Canonicalisation pieces (public for tests and for the HTTP layer)

    /// S3 canonical URI: each '/'-separated segment of the raw path is percent-decoded once
    /// and re-encoded with `uriEncode` (so an encoded `%2F` stays `%2F`); no normalisation
    /// of `.`, `..` or empty segments; an empty path becomes "/".
    public static func canonicalURI(_ rawPath: String) -> String {
        if rawPath.isEmpty { return "/" }
        // Already canonical when nothing in it is escaped or needs escaping (most keys).
        if rawPath.utf8.allSatisfy({ isUnreserved($0) || $0 == UInt8(ascii: "/") }) { return rawPath }
        return rawPath.utf8
            .split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            .map { uriEncodeBytes(percentDecode($0, plusAsSpace: false)) }
            .joined(separator: "/")
    }

    /// Canonical query string: parameters split on '&' (empty pieces ignored), name and
    /// value percent-decoded ('+' as space) and re-encoded with `uriEncode`, a parameter
    /// without '=' gets an empty value, sorted by encoded name then encoded value, joined
    /// as `name=value` with '&'. `excluding` drops parameters with that exact (decoded)
    /// name, e.g. `X-Amz-Signature` for presigned URLs.
    public static func canonicalQuery(_ rawQuery: String, excluding: String? = nil) -> String {
        if rawQuery.isEmpty { return "" }
        var pairs: [(name: String, value: String)] = []
        for piece in rawQuery.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let name: [UInt8]
            let value: [UInt8]
            if let equals = piece.firstIndex(of: UInt8(ascii: "=")) {
                name = percentDecode(piece[..<equals], plusAsSpace: true)
                value = percentDecode(piece[piece.index(after: equals)...], plusAsSpace: true)
            } else {
                name = percentDecode(piece, plusAsSpace: true)
                value = []
            }
            if let excluding, name == Array(excluding.utf8) { continue }
            pairs.append((uriEncodeBytes(name), uriEncodeBytes(value)))
        }
        pairs.sort { a, b in
            a.name == b.name
                ? a.value.utf8.lexicographicallyPrecedes(b.value.utf8)
                : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        return pairs.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// `name:value\n` for every name in `signedHeaders` (expected lowercase and sorted),
    /// repeated headers joined with ',' in arrival order, each value trimmed with inner
    /// runs of spaces/tabs collapsed to one space.
    public static func canonicalHeaders(_ request: SigV4Request, signedHeaders: [String]) -> String {
        var out: [UInt8] = []
        appendCanonicalHeaders(request, signedHeaders: signedHeaders, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendCanonicalHeaders(_ request: SigV4Request, signedHeaders: [String], to out: inout [UInt8]) {
        for name in signedHeaders {
            out.append(contentsOf: name.utf8)
            out.append(UInt8(ascii: ":"))
            var first = true
            for header in request.headers where asciiCaseInsensitiveEqual(header.name, name) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                appendNormalizedHeaderValue(header.value, to: &out)
            }
            out.append(0x0A)
        }
    }

    /// AWS `UriEncode`: every byte except `A-Z a-z 0-9 - _ . ~` becomes `%XX` (uppercase);
    /// `/` is encoded too unless `encodeSlash` is false.
    public static func uriEncode(_ string: String, encodeSlash: Bool = true) -> String {
        if encodeSlash { return uriEncodeBytes(Array(string.utf8)) }
        return string.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            .map { uriEncodeBytes(Array($0)) }
            .joined(separator: "/")
    }

    // MARK: Dates

    /// Parses `yyyyMMdd'T'HHmmss'Z'` (UTC).
    public static func parseAmzDate(_ string: String) -> Date? {
        let b = Array(string.utf8)
        guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z") else { return nil }
        guard let year = number(b[0..<4]), let month = number(b[4..<6]), let day = number(b[6..<8]),
            let hour = number(b[9..<11]), let minute = number(b[11..<13]), let second = number(b[13..<15])
        else { return nil }
        return makeDate(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// Formats as `yyyyMMdd'T'HHmmss'Z'` (UTC).
    public static func formatAmzDate(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civilFromDays(days)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2)
            + pad(secondOfDay / 60 % 60, 2) + pad(secondOfDay % 60, 2) + "Z"
    }

    /// Parses an RFC 1123 HTTP date, `Fri, 24 May 2013 00:00:00 GMT` (weekday optional and
    /// not checked; zone `GMT`, `UTC`, `Z` or `+0000`).
    public static func parseHTTPDate(_ string: String) -> Date? {
        var fields = string.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if let first = fields.first, first.hasSuffix(",") { fields.removeFirst() }
        guard fields.count == 5 else { return nil }
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        guard let day = number(Array(fields[0].utf8)[...]), (1...2).contains(fields[0].utf8.count),
            let monthIndex = months.firstIndex(of: fields[1].lowercased()),
            fields[2].utf8.count == 4, let year = number(Array(fields[2].utf8)[...]),
            ["GMT", "UTC", "Z", "+0000"].contains(fields[4].uppercased())
        else { return nil }
        let time = Array(fields[3].utf8)
        guard time.count == 8, time[2] == UInt8(ascii: ":"), time[5] == UInt8(ascii: ":"),
            let hour = number(time[0..<2]), let minute = number(time[3..<5]), let second = number(time[6..<8])
        else { return nil }
        return makeDate(year: year, month: monthIndex + 1, day: day, hour: hour, minute: minute, second: second)
    }
}

// MARK: - Internals

private let hexDigitsUpper: [UInt8] = Array("0123456789ABCDEF".utf8)

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}

private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

/// RFC 9110 token characters, with letters restricted to lowercase.
private func isLowercaseTokenCharacter(_ c: UInt8) -> Bool {
    switch c {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "!"),
        UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
        UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"),
        UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

private func isUnreserved(_ c: UInt8) -> Bool {
    switch c {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
        UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

/// Encodes every byte that is not unreserved (including '/').
private func uriEncodeBytes(_ bytes: [UInt8]) -> String {
    var out = [UInt8]()
    out.reserveCapacity(bytes.count)
    for c in bytes {
        if isUnreserved(c) {
            out.append(c)
        } else {
            out.append(UInt8(ascii: "%"))
            out.append(hexDigitsUpper[Int(c >> 4)])
            out.append(hexDigitsUpper[Int(c & 0x0F)])
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// Decodes `%XX` escapes (either case); a '%' not followed by two hex digits is kept literally.
private func percentDecode<C: Collection>(_ bytes: C, plusAsSpace: Bool) -> [UInt8] where C.Element == UInt8 {
    let input = Array(bytes)
    var out = [UInt8]()
    out.reserveCapacity(input.count)
    var i = 0
    while i < input.count {
        let c = input[i]
        if c == UInt8(ascii: "%"), i + 2 < input.count,
            let high = hexValue(input[i + 1]), let low = hexValue(input[i + 2])
        {
            out.append(high << 4 | low)
            i += 3
        } else if c == UInt8(ascii: "+"), plusAsSpace {
            out.append(UInt8(ascii: " "))
            i += 1
        } else {
            out.append(c)
            i += 1
        }
    }
    return out
}

private func isWhitespace(_ c: Character) -> Bool { c == " " || c == "\t" }

func trimWhitespace<S: StringProtocol>(_ s: S) -> String {
    let string = String(s)
    guard let first = string.utf8.first, let last = string.utf8.last else { return "" }
    let blank = { (c: UInt8) in c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") }
    if !blank(first) && !blank(last) { return string }
    guard let start = s.firstIndex(where: { !isWhitespace($0) }),
        let end = s.lastIndex(where: { !isWhitespace($0) })
    else { return "" }
    return String(s[start...end])
}

/// Appends `value` with leading/trailing spaces and tabs trimmed and inner runs of them
/// collapsed to one space.
private func appendNormalizedHeaderValue(_ value: String, to out: inout [UInt8]) {
    // Most values have no space or tab at either end nor two in a row: copied as they are.
    var previousSpace = true
    var clean = true
    for c in value.utf8 {
        let space = c == UInt8(ascii: " ") || c == UInt8(ascii: "\t")
        if space && (previousSpace || c == UInt8(ascii: "\t")) { clean = false; break }
        previousSpace = space
    }
    if clean && (!previousSpace || value.isEmpty) {
        out.append(contentsOf: value.utf8)
        return
    }
    var pendingSpace = false
    var any = false
    for c in value.utf8 {
        if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") {
            pendingSpace = any
        } else {
            if pendingSpace { out.append(UInt8(ascii: " ")) }
            pendingSpace = false
            any = true
            out.append(c)
        }
    }
}

private func number(_ digits: ArraySlice<UInt8>) -> Int? {
    guard !digits.isEmpty else { return nil }
    var value = 0
    for c in digits {
        guard isDigit(c) else { return nil }
        value = value * 10 + Int(c - UInt8(ascii: "0"))
    }
    return value
}

private func makeDate(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Date? {
    guard (1...12).contains(month), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
    else { return nil }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    let monthLengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    guard (1...monthLengths[month - 1]).contains(day) else { return nil }
    let days = daysFromCivil(year: year, month: month, day: day)
    let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    return Date(timeIntervalSince1970: TimeInterval(seconds))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
private func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
    let y = Int64(month <= 2 ? year - 1 : year)
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let m = Int64(month)
    let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}

private func civilFromDays(_ days: Int64) -> (year: Int, month: Int, day: Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return (Int(year), Int(month), Int(day))
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
