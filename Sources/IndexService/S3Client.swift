import AsyncHTTPClient
import Digests
import Foundation
import NIOCore
import NIOHTTP1
import SigV4

/// The index service's requests to its S3 endpoint (listings, originals, derivatives), signed
/// with SigV4 header authentication by the configured credentials.
struct S3Client: Sendable {
    let configuration: IndexConfiguration
    let client: HTTPClient

    /// Uses `client` (owned by the caller, who shuts it down).
    init(configuration: IndexConfiguration, client: HTTPClient) {
        self.configuration = configuration
        self.client = client
    }

    /// The path of `key` in the gallery bucket, percent-encoded as sent.
    func objectPath(_ key: String) -> String {
        "/\(configuration.bucket)/\(PercentEncoding.uriEncode(key, encodeSlash: false))"
    }

    /// A signed request with `headers` (signed too) and `body` (its SHA-256 signed).
    func request(method: String, rawPath: String, rawQuery: String = "", headers: [(name: String, value: String)] = [],
                 body: [UInt8]? = nil) -> HTTPClientRequest {
        let (base, host) = IndexServer.split(configuration.s3Endpoint)
        let payloadHash = body.map { Hex.encode(Digest.sha256($0)) } ?? SigV4.emptyPayloadSHA256
        let signature = configuration.signer.sign(method: method, host: host, rawPath: rawPath, rawQuery: rawQuery,
                                                  headers: headers, payloadHash: payloadHash)
        var request = HTTPClientRequest(url: base + rawPath + (rawQuery.isEmpty ? "" : "?" + rawQuery))
        request.method = HTTPMethod(rawValue: method)
        for header in headers + signature.headers { request.headers.add(name: header.name, value: header.value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        return request
    }

    /// Sends a request and collects its (small) answer: listings, HEADs, errors.
    func send(method: String, rawPath: String, rawQuery: String = "", headers: [(name: String, value: String)] = [],
              body: [UInt8]? = nil) async throws -> (status: Int, body: [UInt8], headers: HTTPHeaders) {
        let response = try await client.execute(request(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: headers, body: body),
                                                timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), Array(buffer: collected), response.headers)
    }

    /// GETs `key` if its ETag is still `etag`, streaming the body into a new file at `path`
    /// (never whole in memory). - Returns: the HTTP status (200: the file holds the object).
    func download(_ key: String, etag: String, to path: String) async throws -> Int {
        let request = request(method: "GET", rawPath: objectPath(key), headers: [(name: "if-match", value: "\"\(etag)\"")])
        let response = try await client.execute(request, timeout: .seconds(300))
        guard response.status == .ok else {
            _ = try? await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw S3ClientError.file(path, errno) }
        defer { close(fd) }
        for try await buffer in response.body {
            // Page-cache writes of at most a socket read's size: short enough not to hold the loop.
            try buffer.withUnsafeReadableBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw S3ClientError.file(path, errno)
                    }
                    offset += written
                }
            }
        }
        return 200
    }

    /// PUTs a small object (a derivative) with `headers`.
    func put(_ key: String, body: [UInt8], headers: [(name: String, value: String)]) async throws {
        let (status, answer, _) = try await send(method: "PUT", rawPath: objectPath(key), headers: headers, body: body)
        guard status == 200 else { throw S3ClientError.status("PUT", key, status, String(decoding: answer, as: UTF8.self)) }
    }

    /// DELETEs `key` (absent already is fine).
    func delete(_ key: String) async throws {
        let (status, answer, _) = try await send(method: "DELETE", rawPath: objectPath(key))
        guard status == 204 || status == 200 || status == 404 else {
            throw S3ClientError.status("DELETE", key, status, String(decoding: answer, as: UTF8.self))
        }
    }
}

/// Failures of ``S3Client`` calls that are not HTTP answers the caller handles.
enum S3ClientError: Error, CustomStringConvertible {
    case status(String, String, Int, String)
    case file(String, Int32)

    var description: String {
        switch self {
        case .status(let method, let key, let status, let body): "\(method) \(key): HTTP \(status) \(body.prefix(200))"
        case .file(let path, let code): "\(path): \(String(cString: strerror(code)))"
        }
    }
}
