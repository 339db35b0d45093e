// The S3 side of the load generator: addressing, SigV4 signing and one request.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SigV4
import Synchronization

/// Access key and secret used to sign every request.
struct Credentials: Sendable {
    var accessKey: String
    var secretKey: String
}

/// Where requests go and how they are signed. Path-style addressing: `/<bucket>/<key>`.
final class S3Target: Sendable {
    let baseURL: String          // "http://127.0.0.1:9000"
    let hostHeader: String       // "127.0.0.1:9000"
    let scheme: String
    let host: String
    let port: Int
    let bucket: String
    let region: String
    let credentials: Credentials?
    /// Signing key of the current day: (yyyyMMdd, key). Computing it costs four HMACs.
    private let signingKey = Mutex<(date: String, key: [UInt8])>(("", []))

    static let signedHeaderNames = ["host", "x-amz-content-sha256", "x-amz-date"]
    /// The constant parts of every Authorization header, put together once.
    static let signedHeadersPart = ", SignedHeaders=\(signedHeaderNames.joined(separator: ";")), Signature="
    let credentialPrefix: String
    let scopeSuffix: String

    init(endpoint: String, bucket: String, region: String, credentials: Credentials?) throws {
        guard let url = URL(string: endpoint), let scheme = url.scheme, let host = url.host else {
            throw BenchError("--endpoint must look like http://127.0.0.1:9000")
        }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = url.port ?? defaultPort
        let hostPart = host.contains(":") ? "[\(host)]" : host
        self.scheme = scheme
        self.host = host
        self.port = port
        self.baseURL = "\(scheme)://\(hostPart):\(port)"
        self.hostHeader = port == defaultPort ? hostPart : "\(hostPart):\(port)"
        self.bucket = bucket
        self.region = region
        self.credentials = credentials
        self.credentialPrefix = "\(SigV4.algorithm) Credential=\(credentials?.accessKey ?? "")/"
        self.scopeSuffix = "/\(region)/s3/aws4_request"
    }

    /// Raw (already encoded) path of `key` in the bucket, or of the bucket itself.
    func path(key: String?) -> String {
        guard let key else { return "/\(bucket)" }
        // The bench's own keys need no escaping: skip the encoder's split and re-join.
        if key.utf8.allSatisfy(Self.isUnreservedOrSlash) { return "/\(bucket)/\(key)" }
        return "/\(bucket)/\(SigV4.uriEncode(key, encodeSlash: false))"
    }

    /// A request for `method` on `key` (nil: the bucket), signed unless there are no credentials.
    /// `rawQuery` is sent as given (already encoded), without '?'.
    func request(_ method: HTTPMethod, key: String?, rawQuery: String = "", body: ByteBuffer? = nil) -> RequestSpec {
        let rawPath = path(key: key)
        var headers = HTTPHeaders()
        headers.reserveCapacity(6)
        headers.add(name: "Host", value: hostHeader)
        if let body {
            headers.add(name: "Content-Length", value: String(body.readableBytes))
        } else if method == .PUT || method == .POST {
            headers.add(name: "Content-Length", value: "0")
        }
        let uri = rawQuery.isEmpty ? rawPath : rawPath + "?" + rawQuery
        guard let credentials else { return RequestSpec(method: method, uri: uri, headers: headers, body: body) }
        let amzDate = AMZDate.now()
        let payloadHash = "UNSIGNED-PAYLOAD"
        let date = String(amzDate.prefix(8))
        let key = signingKey.withLock { cached in
            if cached.date != date {
                cached = (date, SigV4.signingKey(secretKey: credentials.secretKey, date: date, region: region, service: "s3"))
            }
            return cached.key
        }
        let scope = date + scopeSuffix
        let canonical = Self.canonicalRequest(method: method.rawValue, rawPath: rawPath, rawQuery: rawQuery,
                                              host: hostHeader, amzDate: amzDate, payloadHash: payloadHash)
        let signature = SigV4.signature(
            signingKey: key, stringToSign: SigV4.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical))
        headers.add(name: "x-amz-content-sha256", value: payloadHash)
        headers.add(name: "x-amz-date", value: amzDate)
        headers.add(name: "Authorization", value: credentialPrefix + scope + Self.signedHeadersPart + signature)
        return RequestSpec(method: method, uri: uri, headers: headers, body: body)
    }

    /// SigV4's canonical request of our three signed headers. Paths made only of unreserved
    /// characters and '/' (all keys the bench generates) with no query are already canonical,
    /// so the string is put together directly; anything else goes through
    /// `SigV4.canonicalRequest`. `selfTest()` checks both give the same string.
    static func canonicalRequest(method: String, rawPath: String, rawQuery: String, host: String, amzDate: String,
                                 payloadHash: String) -> String {
        if rawQuery.isEmpty && rawPath.utf8.allSatisfy(isUnreservedOrSlash) && !host.utf8.contains(UInt8(ascii: " ")) {
            return "\(method)\n\(rawPath)\n\nhost:\(host)\nx-amz-content-sha256:\(payloadHash)\nx-amz-date:\(amzDate)\n\n"
                + "host;x-amz-content-sha256;x-amz-date\n\(payloadHash)"
        }
        return libraryCanonicalRequest(method: method, rawPath: rawPath, rawQuery: rawQuery, host: host, amzDate: amzDate,
                                       payloadHash: payloadHash)
    }

    static func libraryCanonicalRequest(method: String, rawPath: String, rawQuery: String, host: String, amzDate: String,
                                        payloadHash: String) -> String {
        SigV4.canonicalRequest(
            SigV4Request(method: method, rawPath: rawPath, rawQuery: rawQuery,
                         headers: [("host", host), ("x-amz-content-sha256", payloadHash), ("x-amz-date", amzDate)]),
            signedHeaders: signedHeaderNames, payloadHash: payloadHash)
    }

    static func isUnreservedOrSlash(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "/"):
            true
        default:
            false
        }
    }

    /// The fast canonical request must equal the library's for the keys the bench uses.
    func selfTest() throws {
        for key in [nil, "obj-4096/00000042", "put-1a2b/3-17", "_bench-ready/list/1000x0"] as [String?] {
            let rawPath = path(key: key)
            let fast = Self.canonicalRequest(method: "PUT", rawPath: rawPath, rawQuery: "", host: hostHeader,
                                             amzDate: "20250101T000000Z", payloadHash: "UNSIGNED-PAYLOAD")
            let reference = Self.libraryCanonicalRequest(method: "PUT", rawPath: rawPath, rawQuery: "", host: hostHeader,
                                                         amzDate: "20250101T000000Z", payloadHash: "UNSIGNED-PAYLOAD")
            guard fast == reference else { throw BenchError("canonical request mismatch:\n\(fast)\n---\n\(reference)") }
        }
    }

    /// The same request for AsyncHTTPClient (which frames the body itself).
    func clientRequest(_ spec: RequestSpec) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + spec.uri)
        request.method = spec.method
        var headers = spec.headers
        headers.remove(name: "Content-Length")
        request.headers = headers
        if let body = spec.body { request.body = .bytes(body) }
        return request
    }
}

/// One HTTP request, ready to send: origin-form URI (path and query), all headers
/// including Host and Content-Length, and the body (shared, never copied).
struct RequestSpec: Sendable {
    var method: HTTPMethod
    var uri: String
    var headers: HTTPHeaders
    var body: ByteBuffer?
}

/// `yyyyMMdd'T'HHmmss'Z'` of the current time, formatted by hand (called for every request).
enum AMZDate {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))

    static func now() -> String {
        let second = time(nil)
        return cache.withLock { cached in
            if cached.second != second { cached = (second, format(second)) }
            return cached.text
        }
    }

    static func format(_ second: Int) -> String {
        var seconds = second
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }
}

/// What came back from one request: status, body bytes received (counted, not kept) and,
/// for error statuses or when asked, the start of the body.
struct Outcome: Sendable {
    var status: UInt
    var bodyBytes: Int
    var bodyPrefix: String
    var ok: Bool { (200..<300).contains(status) }
}

extension HTTPClient {
    /// Sends `request` and drains the response body. Keeps up to `keep` bytes of the body
    /// (always up to 512 for non-2xx answers, for the error report).
    func perform(_ spec: RequestSpec, on target: S3Target, keep: Int = 0) async throws -> Outcome {
        let response = try await execute(target.clientRequest(spec), timeout: .seconds(600))
        let status = response.status.code
        let limit = (200..<300).contains(status) ? keep : max(keep, 512)
        var kept = ByteBuffer()
        var count = 0
        for try await chunk in response.body {
            count += chunk.readableBytes
            if kept.readableBytes < limit {
                var slice = chunk
                let take = min(limit - kept.readableBytes, slice.readableBytes)
                if let part = slice.readSlice(length: take) {
                    var part = part
                    kept.writeBuffer(&part)
                }
            }
        }
        return Outcome(status: status, bodyBytes: count, bodyPrefix: String(buffer: kept))
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
