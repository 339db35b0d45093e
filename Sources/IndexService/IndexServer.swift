import Digests
import Foundation
import Hummingbird
public import Logging
import NIOCore
import S3Events
import SigV4

/// The index service: webhook receiver, gallery queries, upload signing and the page.
public struct IndexServer: Sendable {
    let index: GalleryIndex
    let configuration: IndexConfiguration
    let logger: Logger
    let metrics = DerivativeMetrics()

    /// The service over `index`; nothing runs until ``services()``' do.
    public init(index: GalleryIndex, configuration: IndexConfiguration, logger: Logger) {
        self.index = index
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: handlers

    /// A page asset; `no-cache` so browsers revalidate and pick up a new build at once.
    static func response(for asset: WebAssets.Asset) -> Response {
        Response(status: .ok, headers: [.contentType: asset.contentType, .cacheControl: "no-cache"], body: .init(byteBuffer: asset.body))
    }

    /// A JSON response: sorted keys and unescaped slashes, as the API has always written them.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A 4xx with the API's error body.
    static func error(_ code: String, _ message: String, status: HTTPResponse.Status = .badRequest) -> Response {
        json(IndexAPI.ErrorBody(error: .init(code: code, message: message)), status: status)
    }

    /// Times in API responses: ISO 8601 with milliseconds, UTC.
    static func iso(_ date: Date) -> String {
        ISO8601Date.format(date)
    }

    /// `POST /events`: S3 event messages from the server's webhook, Bearer token required.
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
        return Self.json(IndexAPI.EventsResult(applied: applied, ignored: ignored))
    }

    /// `GET /api/galleries`.
    func galleries() throws -> Response {
        let list = try index.listGalleries().map { IndexAPI.Gallery(name: $0.name, imageCount: $0.imageCount, lastUpdate: Self.iso($0.lastUpdate)) }
        return Self.json(IndexAPI.GalleryList(galleries: list))
    }

    /// Where browsers load an image: path-style on the S3 endpoint.
    func imageURL(_ key: String) -> String {
        "\(configuration.s3Endpoint)/\(configuration.bucket)/\(PercentEncoding.uriEncode(key, encodeSlash: false))"
    }

    /// `GET /api/galleries/:gallery/images?limit=&cursor=`: one page, newest first.
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
        let images = page.images.map { image in
            let derived = image.currentDerived
            let ready = derived?.status == .ready
            return IndexAPI.Image(
                key: image.key, name: String(String.UnicodeScalarView(image.key.unicodeScalars.dropFirst(image.gallery.unicodeScalars.count + 1))),
                size: image.size, etag: image.etag, contentType: image.contentType, uploaded: Self.iso(image.uploaded),
                metadata: image.metadata, url: imageURL(image.key),
                status: derived.map { $0.status.rawValue } ?? "processing", reason: derived?.reason,
                thumbnailUrl: ready ? imageURL(DerivedImage.thumbnailKey(of: image.key)) : nil,
                previewUrl: ready ? imageURL(DerivedImage.previewKey(of: image.key)) : nil,
                width: ready ? derived?.width : nil, height: ready ? derived?.height : nil,
                placeholder: ready ? derived?.placeholder : nil)
        }
        return Self.json(IndexAPI.ImagePage(gallery: gallery, images: images, nextCursor: page.next))
    }

    /// Gallery names as the index accepts them.
    static func isValidGallery(_ name: String) -> Bool { GalleryIndex.isValidGallery(name) }

    /// File names the page may upload: one path segment, no control characters.
    static func isValidFilename(_ name: String) -> Bool {
        let count = name.utf8.count
        guard (1...200).contains(count), name != ".", name != ".." else { return false }
        return !name.unicodeScalars.contains { $0 == "/" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7f }
    }

    /// `POST /api/uploads`: a presigned PUT URL and POST form for one image.
    func uploads(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 64 << 10)
        guard let json = try? JSONDecoder().decode(UploadRequest.self, from: Data(buffer: body)) else {
            return Self.error("MalformedJSON", "The body must be a JSON object.")
        }
        guard let gallery = json.gallery, Self.isValidGallery(gallery) else {
            return Self.error("InvalidGallery", "Gallery names are 1-63 of a-z, 0-9 and '-', starting with a letter or digit.")
        }
        guard let filename = json.filename, Self.isValidFilename(filename) else {
            return Self.error("InvalidFilename", "File names are 1-200 bytes without '/', '\\' or control characters.")
        }
        guard let givenType = json.contentType, givenType.lowercased().hasPrefix("image/"), givenType.utf8.count <= 100,
              !givenType.contains(","), !givenType.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value > 0x7e }) else {
            return Self.error("InvalidContentType", "Only images (image/*) can be uploaded.")
        }
        // Media types are case-insensitive but POST policy conditions are not: sign the lower-case form.
        let contentType = givenType.lowercased()
        var metadata: [(String, String)] = []
        switch json.metadata {
        case .absent:
            break
        case .invalid:
            return Self.error("InvalidMetadata", "metadata must be an object of strings.")
        case .fields(let dict):
            for (name, value) in dict.sorted(by: { $0.key < $1.key }) {
                guard (1...32).contains(name.utf8.count),
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
        return Self.json(IndexAPI.UploadGrant(
            key: key, expiresIn: configuration.uploadExpiry, maxSize: configuration.maxUploadSize,
            put: .init(url: putURL, headers: Dictionary(headers, uniquingKeysWith: { a, _ in a })),
            post: .init(url: "\(configuration.s3Endpoint)/\(configuration.bucket)", fields: Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }))))
    }

    /// `http://host:port/...` → (`http://host:port`, `host:port`).
    static func split(_ endpoint: String) -> (base: String, host: String) {
        guard let scheme = endpoint.range(of: "://") else { return (endpoint, endpoint) }
        let rest = endpoint[scheme.upperBound...]
        let host = rest.prefix { $0 != "/" }
        return (String(endpoint[..<scheme.upperBound]) + host, String(host))
    }
}
