// Header-based authentication: parsing `Authorization: AWS4-HMAC-SHA256 ...` and verifying it.

public import Foundation
import Digests

extension SigV4 {
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

        guard signature.count == 64, signature.allSatisfy({ Hex.nibble(b[$0]) != nil }) else {
            return .failure(.malformedAuthorization("Signature must be 64 hex digits"))
        }

        return .success(SigV4Authorization(
            accessKey: string(accessKey), date: string(date), region: string(region), service: string(service),
            signedHeaders: nameRanges.map(string), signature: string(signature)))
    }

    /// ASCII decimal digit.
    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    /// RFC 9110 token characters, with letters restricted to lowercase.
    private static func isLowercaseTokenCharacter(_ c: UInt8) -> Bool {
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
            guard let time = AMZDate.parse(trimWhitespace(value)) else { throw .malformedDate }
            (amzDate, requestTime, dateHeaderName) = (trimWhitespace(value), time, "x-amz-date")
        } else if let value = request.firstHeader("date") {
            guard let time = HTTPDate.parseRFC1123(trimWhitespace(value)) else { throw .malformedDate }
            (amzDate, requestTime, dateHeaderName) = (AMZDate.format(time), time, "date")
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
}
