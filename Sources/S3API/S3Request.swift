import HTTPTypes
import HummingbirdCore
import NIOCore
import SigV4

/// One S3 request after routing: the decoded bucket, key and query, the endpoint, and (after
/// ``S3Server/authenticate(_:)``) who sent it.
struct S3Request: Sendable {
    let head: HTTPRequest
    let body: RequestBody
    let method: String
    /// Path as on the request line, still percent-encoded (what SigV4 canonicalises).
    let rawPath: String
    let rawQuery: String
    let query: QueryParameters
    let endpoint: Endpoint
    let requestId: String
    /// The authenticated user; nil for anonymous requests.
    var user: S3User?
    /// The `x-amz-content-sha256` value of a signed request, as sent.
    var payloadHash: String?
    /// The client's address, for event messages (formatted only when an event needs it).
    var remoteAddress: SocketAddress?
    var sourceIP: String { remoteAddress?.ipAddress ?? "127.0.0.1" }
    /// The verified signature's context, for checking aws-chunked chunk signatures.
    var signing: SigV4SigningContext?

    /// How the body is framed, from `x-amz-content-sha256`.
    enum PayloadMode: Equatable {
        /// Plain bytes (`Content-Length` of them).
        case plain
        /// `aws-chunked` frames; `signed` when each chunk carries a signature, `trailer` when
        /// trailing headers (a checksum) follow the last chunk.
        case awsChunked(signed: Bool, trailer: Bool)
    }

    var payloadMode: PayloadMode {
        switch payloadHash {
        case "STREAMING-UNSIGNED-PAYLOAD-TRAILER": .awsChunked(signed: false, trailer: true)
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": .awsChunked(signed: true, trailer: false)
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": .awsChunked(signed: true, trailer: true)
        default: .plain
        }
    }

    /// The body comes in HTTP/1.1 chunks (`Transfer-Encoding: chunked`), so its length is
    /// known only at its end. NIO's codec, which reads every such request, has removed the
    /// chunk framing and refused any other transfer coding.
    var isHTTPChunked: Bool {
        header("transfer-encoding")?.lowercased().contains("chunked") == true
    }

    init(_ request: Request, requestId: String, domain: String?) throws {
        try self.init(head: request.head, body: request.body, requestId: requestId, domain: domain)
    }

    init(head: HTTPRequest, body: RequestBody, requestId: String, domain: String?) throws {
        self.head = head
        self.body = body
        method = head.method.rawValue
        self.requestId = requestId
        let target = head.path ?? "/"
        // Byte searches: Character-based ones (grapheme breaking) were a visible cost per request.
        if let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            rawPath = String(target[..<q])
            rawQuery = String(target[target.utf8.index(after: q)...])
        } else {
            rawPath = target
            rawQuery = ""
        }
        query = QueryParameters(raw: rawQuery)
        guard rawPath.hasPrefix("/"), let path = PercentEncoding.decode(rawPath) else { throw S3Error(.invalidURI) }

        var bucket: String?
        var key: String?
        let host = domain == nil ? "" : (head.authority ?? "").split(separator: ":").first.map(String.init) ?? ""
        if let domain, host.hasSuffix("." + domain), host.count > domain.count + 1 {
            // Virtual-host style: the bucket is in the host name, the whole path is the key.
            bucket = String(host.dropLast(domain.count + 1))
            key = String(path.dropFirst())
        } else {
            let trimmed = path.dropFirst()
            if let slash = trimmed.utf8.firstIndex(of: UInt8(ascii: "/")) {
                bucket = String(trimmed[..<slash])
                key = String(trimmed[trimmed.utf8.index(after: slash)...])
            } else if !trimmed.isEmpty {
                bucket = String(trimmed)
            }
        }
        endpoint = try Endpoint.from(method: method, bucket: bucket, key: key, query: query,
                                     hasCopySource: head.headerFields[Self.copySource] != nil)
    }

    static let copySource = HTTPField.Name("x-amz-copy-source")!

    /// The first value of header `name` (lowercase, as every caller writes it).
    /// A scan of the few fields: building an `HTTPField.Name` per lookup (a dozen per
    /// request) cost more than the scan.
    func header(_ name: String) -> String? {
        Self.header(name, in: head.headerFields)
    }

    /// The first value of the lower-case `name` in `fields`.
    static func header(_ name: String, in fields: HTTPFields) -> String? {
        assert(!name.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }, "header names are looked up in lower case")
        for field in fields where field.name.canonicalName == name { return field.value }
        return nil
    }

    /// All headers in arrival order, as SigV4 wants them.
    var headerList: [(name: String, value: String)] {
        var list = head.headerFields.map { (name: $0.name.canonicalName, value: $0.value) }
        // HTTPTypes moves Host into the authority pseudo-header.
        if let authority = head.authority {
            list.append((name: "host", value: authority))
        }
        return list
    }
}

extension S3Server {
    /// The credential scope must name this service and region.
    func checkScope(_ parsed: SigV4Authorization) throws {
        guard parsed.service == "s3" else {
            throw S3Error(.authorizationHeaderMalformed, "The authorization header is malformed; incorrect service \"\(parsed.service)\". This endpoint belongs to \"s3\".")
        }
        guard parsed.region == options.region else {
            throw S3Error(.authorizationHeaderMalformed, "The authorization header is malformed; the region '\(parsed.region)' is wrong; expecting '\(options.region)'",
                          details: [("Region", options.region)])
        }
    }

    /// Authenticates `request` (sets `user`), or leaves it anonymous when it carries no credentials.
    /// - Throws: the S3 error for bad or unsupported credentials.
    func authenticate(_ request: inout S3Request) throws {
        if let (accessKey, isV4) = Presigned.accessKey(inQuery: request.query.pairs) {
            guard request.header("authorization") == nil else {
                throw S3Error(.invalidArgument, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
            }
            guard let user = users.user(accessKey: accessKey) else { throw S3Error(.invalidAccessKeyId) }
            if isV4 {
                let signed = SigV4Request(method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery, headers: request.headerList)
                let parsed = try Presigned.verifyV4(signed, query: request.query.pairs, secretKey: user.secretKey, now: Date())
                guard parsed.service == "s3", parsed.region == options.region else {
                    throw S3Error(.authorizationQueryParametersError,
                                  "Error parsing the X-Amz-Credential parameter; the region '\(parsed.region)' is wrong; expecting '\(options.region)'",
                                  details: [("Region", options.region)])
                }
            } else {
                try Presigned.verifyV2(method: request.method, rawPath: request.rawPath, query: request.query.pairs,
                                       headers: request.headerList, secretKey: user.secretKey, now: Date())
            }
            request.user = user
            request.payloadHash = "UNSIGNED-PAYLOAD"
            return
        }
        guard let authorization = request.header("authorization") else { return }
        if authorization.hasPrefix("AWS ") {
            throw S3Error(.invalidRequest, "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
        }
        guard authorization.hasPrefix(SigV4.algorithm) else {
            throw S3Error(.invalidArgument, "Unsupported Authorization Type")
        }
        let parsed = try SigV4.parseAuthorization(authorization)
        guard let user = users.user(accessKey: parsed.accessKey) else { throw S3Error(.invalidAccessKeyId) }
        try checkScope(parsed)
        guard let payloadHash = request.header("x-amz-content-sha256") else {
            throw S3Error(.invalidRequest, "Missing required header for this request: x-amz-content-sha256")
        }
        let streaming = ["STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"]
        guard payloadHash == "UNSIGNED-PAYLOAD" || streaming.contains(payloadHash)
                || (payloadHash.utf8.count == 64 && Hex.decode(payloadHash) != nil) else {
            throw S3Error(.invalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")
        }
        let signed = SigV4Request(method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery, headers: request.headerList)
        request.signing = try SigV4.verify(signed, authorization: parsed, secretKey: user.secretKey, now: Date(), maxSkew: options.maxClockSkew)
        request.user = user
        request.payloadHash = payloadHash
    }
}

import Digests
import Foundation
