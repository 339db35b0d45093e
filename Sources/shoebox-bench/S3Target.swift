// The S3 side of the load generator: addressing, SigV4 signing and one request.

import AsyncHTTPClient
import Digests
import Foundation
import NIOCore
import NIOHTTP1
import SigV4

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
    /// Signs every request; keeps the day's signing key and the constant parts of the
    /// Authorization header, and puts the canonical request of the bench's plain keys
    /// together directly.
    let signer: SigV4Signer?

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
        self.signer = credentials.map { SigV4Signer(accessKey: $0.accessKey, secretKey: $0.secretKey, region: region, service: "s3") }
    }

    /// Raw (already encoded) path of `key` in the bucket, or of the bucket itself.
    func path(key: String?) -> String {
        guard let key else { return "/\(bucket)" }
        // The bench's own keys need no escaping: the encoder hands them back without a copy.
        return "/\(bucket)/\(PercentEncoding.uriEncode(key, encodeSlash: false))"
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
        guard let signer else { return RequestSpec(method: method, uri: uri, headers: headers, body: body) }
        let signature = signer.sign(method: method.rawValue, host: hostHeader, rawPath: rawPath, rawQuery: rawQuery)
        headers.add(name: "x-amz-content-sha256", value: signature.payloadHash)
        headers.add(name: "x-amz-date", value: signature.amzDate)
        headers.add(name: "Authorization", value: signature.authorization)
        return RequestSpec(method: method, uri: uri, headers: headers, body: body)
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
