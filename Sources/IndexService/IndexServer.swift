public import Foundation
import Digests
import Hummingbird
public import Logging
import NIOCore
import S3Events
import SigV4
public import ServiceLifecycle

/// Settings of the index service.
public struct IndexConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The S3 endpoint as browsers reach it, e.g. `http://127.0.0.1:9000`.
    public var s3Endpoint: String
    public var bucket: String
    public var region: String
    public var accessKey: String
    public var secretKey: String
    /// The Bearer token webhook calls must carry.
    public var webhookToken: String
    /// Largest upload the service signs for.
    public var maxUploadSize: UInt64 = 25 << 20
    /// How long presigned uploads stay valid.
    public var uploadExpiry = 300

    public init(host: String, port: Int, s3Endpoint: String, bucket: String, region: String, accessKey: String,
                secretKey: String, webhookToken: String) {
        self.host = host
        self.port = port
        self.s3Endpoint = s3Endpoint.hasSuffix("/") ? String(s3Endpoint.dropLast()) : s3Endpoint
        self.bucket = bucket
        self.region = region
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.webhookToken = webhookToken
    }
}

/// The index service: webhook receiver, gallery queries, upload signing and the page.
public struct IndexServer: Sendable {
    let index: GalleryIndex
    let configuration: IndexConfiguration
    let logger: Logger

    public init(index: GalleryIndex, configuration: IndexConfiguration, logger: Logger) {
        self.index = index
        self.configuration = configuration
        self.logger = logger
    }

    /// The HTTP service, to run in a ServiceGroup; it resyncs at start when the index is empty.
    public func service() -> any Service {
        let router = Router()
        router.post("events") { request, _ in try await self.events(request) }
        router.head("events") { _, _ in Response(status: .ok) }
        router.get("api/galleries") { _, _ in try self.galleries() }
        router.get("api/galleries/:gallery/images") { request, context in
            try self.images(request, gallery: context.parameters.get("gallery") ?? "")
        }
        router.post("api/uploads") { request, _ in try await self.uploads(request) }
        for (path, text, type) in [("/", WebAssets.indexHTML, "text/html; charset=utf-8"),
                                   ("app.js", WebAssets.appJS, "application/javascript; charset=utf-8"),
                                   ("style.css", WebAssets.styleCSS, "text/css; charset=utf-8")] {
            router.get(RouterPath(path)) { _, _ in Self.asset(text, type: type) }
            router.head(RouterPath(path)) { _, _ in Self.asset(text, type: type) }
        }
        let logger = logger
        let index = index
        let resync = Resync(index: index, configuration: configuration, logger: logger)
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in
                let address = channel.localAddress
                logger.info("shoebox-index listening on http://\(address?.ipAddress ?? "?"):\(address?.port ?? 0)")
                if (try? index.isEmpty()) == true {
                    Task {
                        // Retried: the S3 server may still be starting (as with `shoebox up`).
                        for attempt in 1...10 {
                            do {
                                try await resync.run()
                                return
                            } catch {
                                logger.warning("start-up resync failed (attempt \(attempt)): \(error)")
                                try? await Task.sleep(for: .seconds(2))
                            }
                        }
                    }
                }
            },
            logger: logger)
    }

    // MARK: handlers

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ value: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ code: String, _ message: String, status: HTTPResponse.Status = .badRequest) -> Response {
        json(["error": ["code": code, "message": message]], status: status)
    }

    static func iso(_ date: Date) -> String {
        ISO8601Date.format(date)
    }

    func events(_ request: Request) async throws -> Response {
        let expected = "Bearer \(configuration.webhookToken)"
        guard let given = request.headers[.authorization], constantTimeEqual(Array(given.utf8), Array(expected.utf8)) else {
            return Self.error("Unauthorized", "A valid Bearer token is required.", status: .unauthorized)
        }
        var request = request
        let body = try await request.collectBody(upTo: 4 << 20)
        guard let message = try? S3EventMessage.decode(Data(buffer: body)) else {
            return Self.error("MalformedEvent", "The body is not an S3 event message.")
        }
        let (applied, ignored) = try await index.apply(message)
        return Self.json(["applied": applied, "ignored": ignored])
    }

    func galleries() throws -> Response {
        let list = try index.listGalleries().map { ["name": $0.name, "imageCount": $0.imageCount, "lastUpdate": Self.iso($0.lastUpdate)] as [String: Any] }
        return Self.json(["galleries": list])
    }

    func imageURL(_ key: String) -> String {
        "\(configuration.s3Endpoint)/\(configuration.bucket)/\(PercentEncoding.uriEncode(key, encodeSlash: false))"
    }

    func images(_ request: Request, gallery: String) throws -> Response {
        guard Self.isValidGallery(gallery) else { return Self.error("InvalidGallery", "Gallery names are 1-63 of a-z, 0-9 and '-', starting with a letter or digit.") }
        let query = request.uri.queryParameters
        var limit = 24
        if let text = query.get("limit") {
            guard let n = Int(text), (1...100).contains(n) else { return Self.error("InvalidArgument", "limit must be between 1 and 100.") }
            limit = n
        }
        let page: (images: [ImageRecord], next: String?)
        do {
            page = try index.images(gallery: gallery, limit: limit, cursor: query.get("cursor"))
        } catch IndexError.invalidCursor {
            return Self.error("InvalidArgument", "The cursor is not valid for this gallery.")
        }
        let images = page.images.map { image -> [String: Any] in
            ["key": image.key, "name": String(String.UnicodeScalarView(image.key.unicodeScalars.dropFirst(image.gallery.unicodeScalars.count + 1))), "size": image.size, "etag": image.etag,
             "contentType": image.contentType, "uploaded": Self.iso(image.uploaded), "metadata": image.metadata, "url": imageURL(image.key)]
        }
        return Self.json(["gallery": gallery, "images": images, "nextCursor": page.next ?? NSNull()])
    }

    static func isValidGallery(_ name: String) -> Bool { GalleryIndex.isValidGallery(name) }

    static func isValidFilename(_ name: String) -> Bool {
        let count = name.utf8.count
        guard (1...200).contains(count), name != ".", name != ".." else { return false }
        return !name.unicodeScalars.contains { $0 == "/" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7f }
    }

    func uploads(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 64 << 10)
        guard let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            return Self.error("MalformedJSON", "The body must be a JSON object.")
        }
        guard let gallery = json["gallery"] as? String, Self.isValidGallery(gallery) else {
            return Self.error("InvalidGallery", "Gallery names are 1-63 of a-z, 0-9 and '-', starting with a letter or digit.")
        }
        guard let filename = json["filename"] as? String, Self.isValidFilename(filename) else {
            return Self.error("InvalidFilename", "File names are 1-200 bytes without '/', '\\' or control characters.")
        }
        guard let givenType = json["contentType"] as? String, givenType.lowercased().hasPrefix("image/"), givenType.utf8.count <= 100,
              !givenType.contains(","), !givenType.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value > 0x7e }) else {
            return Self.error("InvalidContentType", "Only images (image/*) can be uploaded.")
        }
        // Media types are case-insensitive but POST policy conditions are not: sign the lower-case form.
        let contentType = givenType.lowercased()
        var metadata: [(String, String)] = []
        if let given = json["metadata"] {
            guard let dict = given as? [String: Any] else { return Self.error("InvalidMetadata", "metadata must be an object of strings.") }
            for (name, value) in dict.sorted(by: { $0.key < $1.key }) {
                guard let value = value as? String, (1...32).contains(name.utf8.count),
                      name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }),
                      value.utf8.count <= 256, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value > 0x7e }) else {
                    return Self.error("InvalidMetadata", "Metadata names are 1-32 of a-z, 0-9, '-'; values up to 256 printable ASCII characters.")
                }
                if !value.isEmpty { metadata.append((name, value)) }
            }
        }
        let key = "\(gallery)/\(filename)"
        let headers = [("Content-Type", contentType), ("x-amz-acl", "public-read")] + metadata.map { ("x-amz-meta-\($0.0)", $0.1) }
        let (base, host) = Self.split(configuration.s3Endpoint)
        let rawPath = "/\(configuration.bucket)/\(PercentEncoding.uriEncode(key, encodeSlash: false))"
        let now = Date()
        let putURL = configuration.signer.presignedURL(method: "PUT", base: base, host: host, rawPath: rawPath,
                                         headers: headers.map { (name: $0.0, value: $0.1) },
                                         expires: configuration.uploadExpiry, now: now)
        let fields = configuration.signer.postFields(
            bucket: configuration.bucket, key: key, keyPrefix: "\(gallery)/", contentTypePrefix: "image/", maxSize: configuration.maxUploadSize,
            fields: [(name: "Content-Type", value: contentType), (name: "acl", value: "public-read")] + metadata.map { (name: "x-amz-meta-\($0.0)", value: $0.1) },
            expires: configuration.uploadExpiry, now: now)
        return Self.json([
            "key": key, "expiresIn": configuration.uploadExpiry, "maxSize": configuration.maxUploadSize,
            "put": ["url": putURL, "headers": Dictionary(headers, uniquingKeysWith: { a, _ in a })],
            "post": ["url": "\(configuration.s3Endpoint)/\(configuration.bucket)", "fields": Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })],
        ])
    }

    /// `http://host:port/...` → (`http://host:port`, `host:port`).
    static func split(_ endpoint: String) -> (base: String, host: String) {
        guard let scheme = endpoint.range(of: "://") else { return (endpoint, endpoint) }
        let rest = endpoint[scheme.upperBound...]
        let host = rest.prefix { $0 != "/" }
        return (String(endpoint[..<scheme.upperBound]) + host, String(host))
    }
}
