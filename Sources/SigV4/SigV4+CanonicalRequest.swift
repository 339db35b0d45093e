// The canonical request and string to sign (S3 flavour: the canonical URI is neither
// normalised nor encoded twice), shared by verification and signing.

import Digests

extension SigV4 {
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

    /// S3 canonical URI: each '/'-separated segment of the raw path is percent-decoded once
    /// and re-encoded with `uriEncode` (so an encoded `%2F` stays `%2F`); no normalisation
    /// of `.`, `..` or empty segments; an empty path becomes "/".
    public static func canonicalURI(_ rawPath: String) -> String {
        if rawPath.isEmpty { return "/" }
        // Already canonical when nothing in it is escaped or needs escaping (most keys).
        if rawPath.utf8.allSatisfy({ PercentEncoding.isUnreserved($0) || $0 == UInt8(ascii: "/") }) { return rawPath }
        return rawPath.utf8
            .split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            .map { PercentEncoding.uriEncode(bytes: PercentEncoding.decodeLeniently($0, plusAsSpace: false)) }
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
                name = PercentEncoding.decodeLeniently(piece[..<equals], plusAsSpace: true)
                value = PercentEncoding.decodeLeniently(piece[piece.index(after: equals)...], plusAsSpace: true)
            } else {
                name = PercentEncoding.decodeLeniently(piece, plusAsSpace: true)
                value = []
            }
            if let excluding, name == Array(excluding.utf8) { continue }
            pairs.append((PercentEncoding.uriEncode(bytes: name), PercentEncoding.uriEncode(bytes: value)))
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
