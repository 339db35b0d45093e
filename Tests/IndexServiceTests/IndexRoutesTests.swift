import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import IndexService
import Logging
import NIOCore
import S3Events
import XCTest

/// The index service's routes through Hummingbird's router test client: the same router the
/// executables serve (``IndexServer/buildApplication()``), over an index in a temp directory.
final class IndexRoutesTests: IndexTestCase {
    /// The webhook token the app under test requires.
    static let token = "test-token"

    /// The application under test, signing for a fixed endpoint and bucket.
    func makeApp() -> some ApplicationProtocol {
        let configuration = IndexConfiguration(host: "127.0.0.1", port: 0, s3Endpoint: "http://127.0.0.1:9000/", bucket: "gallery",
                                               region: "us-east-1", accessKey: "AKIDTEST", secretKey: "secret", webhookToken: Self.token)
        return IndexServer(index: index, configuration: configuration, logger: Logger(label: "index-routes-tests")).buildApplication()
    }

    /// A response body as one of the API's types.
    static func decode<T: Decodable>(_ type: T.Type, _ body: ByteBuffer) throws -> T {
        try JSONDecoder().decode(type, from: Data(buffer: body))
    }

    /// The `error.code` of an error response.
    static func errorCode(_ response: TestResponse) throws -> String {
        try decode(IndexAPI.ErrorBody.self, response.body).error.code
    }

    /// A request body from a JSON-compatible value (so bodies of the wrong shape can be sent too).
    static func json(_ object: Any) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
    }

    // MARK: webhook

    func testWebhookAppliesEventsWithTheRightTokenOnly() async throws {
        let body = ByteBuffer(bytes: message(created("summer/a.jpg", seq: seq(1)), created("summer/b.jpg", seq: seq(2))).json())
        let index = try XCTUnwrap(index)
        try await makeApp().test(.router) { client in
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"], [.authorization: Self.token]] {
                try await client.execute(uri: "/events", method: .post, headers: headers, body: body) { response in
                    XCTAssertEqual(response.status, .unauthorized)
                    XCTAssertEqual(try Self.errorCode(response), "Unauthorized")
                }
            }
            XCTAssertTrue(try index.isEmpty(), "nothing applied without the token")
            let auth: HTTPFields = [.authorization: "Bearer \(Self.token)"]
            try await client.execute(uri: "/events", method: .post, headers: auth, body: body) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "application/json")
                let result = try Self.decode(IndexAPI.EventsResult.self, response.body)
                XCTAssertEqual([result.applied, result.ignored], [2, 0])
            }
            try await client.execute(uri: "/events", method: .post, headers: auth, body: body) { response in
                let result = try Self.decode(IndexAPI.EventsResult.self, response.body)
                XCTAssertEqual([result.applied, result.ignored], [0, 2], "replays are ignored")
            }
            try await client.execute(uri: "/events", method: .post, headers: auth, body: ByteBuffer(string: "{\"Records\": 5}")) { response in
                XCTAssertEqual(response.status, .badRequest)
                XCTAssertEqual(try Self.errorCode(response), "MalformedEvent")
            }
            try await client.execute(uri: "/events", method: .head) { response in
                XCTAssertEqual(response.status, .ok, "the S3 server's reachability probe")
            }
        }
    }

    // MARK: gallery queries

    func testGalleriesAndImagePages() async throws {
        _ = try await index.apply(message(created("summer/a.jpg", seq: seq(1), at: at(1)),
                                          created("summer/b c.jpg", seq: seq(2), at: at(2), metadata: ["photographer": "Ann"]),
                                          created("summer/d.jpg", seq: seq(3), at: at(3)),
                                          created("winter/e.jpg", seq: seq(4), at: at(4))))
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/api/galleries", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let list = try Self.decode(IndexAPI.GalleryList.self, response.body)
                XCTAssertEqual(list.galleries.map(\.name).sorted(), ["summer", "winter"])
                XCTAssertEqual(list.galleries.first { $0.name == "summer" }?.imageCount, 3)
            }
            let first = try await client.execute(uri: "/api/galleries/summer/images?limit=2", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                return try Self.decode(IndexAPI.ImagePage.self, response.body)
            }
            XCTAssertEqual(first.gallery, "summer")
            XCTAssertEqual(first.images.map(\.key), ["summer/d.jpg", "summer/b c.jpg"], "newest first")
            let named = try XCTUnwrap(first.images.last)
            XCTAssertEqual(named.name, "b c.jpg")
            XCTAssertEqual(named.metadata, ["photographer": "Ann"])
            XCTAssertEqual(named.url, "http://127.0.0.1:9000/gallery/summer/b%20c.jpg")
            let cursor = try XCTUnwrap(first.nextCursor)
            let escaped = cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor
            try await client.execute(uri: "/api/galleries/summer/images?limit=2&cursor=\(escaped)", method: .get) { response in
                XCTAssertTrue(String(buffer: response.body).contains("\"nextCursor\":null"), "the last page says null, not nothing")
                let last = try Self.decode(IndexAPI.ImagePage.self, response.body)
                XCTAssertEqual(last.images.map(\.key), ["summer/a.jpg"])
            }
            try await client.execute(uri: "/api/galleries/unknown/images", method: .get) { response in
                let page = try Self.decode(IndexAPI.ImagePage.self, response.body)
                XCTAssertEqual(page.gallery, "unknown")
                XCTAssertEqual(page.images, [])
                XCTAssertNil(page.nextCursor)
            }
            for (uri, code) in [("/api/galleries/Not_Valid/images", "InvalidGallery"),
                                ("/api/galleries/summer/images?limit=0", "InvalidArgument"),
                                ("/api/galleries/summer/images?limit=101", "InvalidArgument"),
                                ("/api/galleries/winter/images?cursor=\(escaped)", "InvalidArgument")] {
                try await client.execute(uri: uri, method: .get) { response in
                    XCTAssertEqual(response.status, .badRequest, uri)
                    XCTAssertEqual(try Self.errorCode(response), code, uri)
                }
            }
        }
    }

    // MARK: upload signing

    func testUploadSigning() async throws {
        let request: [String: Any] = ["gallery": "summer", "filename": "a b.png", "contentType": "Image/PNG",
                                      "metadata": ["photographer": "Ann", "event": ""]]
        let good = try Self.json(request)
        var bad: [(ByteBuffer, String)] = [(ByteBuffer(string: "[1]"), "MalformedJSON"), (ByteBuffer(string: "nope"), "MalformedJSON")]
        for (field, value, code) in [("gallery", "Bad_Name" as Any, "InvalidGallery"), ("gallery", 5, "InvalidGallery"),
                                     ("filename", "a/b.png", "InvalidFilename"), ("contentType", "text/plain", "InvalidContentType"),
                                     ("metadata", "Ann", "InvalidMetadata"), ("metadata", ["photographer": 5], "InvalidMetadata"),
                                     ("metadata", NSNull(), "InvalidMetadata"), ("metadata", ["Photographer": "Ann"], "InvalidMetadata")] {
            bad.append((try Self.json(request.merging([field: value]) { _, new in new }), code))
        }
        let invalid = bad
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/api/uploads", method: .post, body: good) { response in
                XCTAssertEqual(response.status, .ok)
                let grant = try Self.decode(IndexAPI.UploadGrant.self, response.body)
                XCTAssertEqual(grant.key, "summer/a b.png")
                XCTAssertEqual(grant.expiresIn, 300)
                XCTAssertEqual(grant.maxSize, 25 << 20)
                XCTAssertTrue(grant.put.url.hasPrefix("http://127.0.0.1:9000/gallery/summer/a%20b.png?"), grant.put.url)
                XCTAssertTrue(grant.put.url.contains("X-Amz-Signature="), grant.put.url)
                XCTAssertEqual(grant.put.headers, ["Content-Type": "image/png", "x-amz-acl": "public-read", "x-amz-meta-photographer": "Ann"],
                               "media type signed in lower case; empty metadata left out")
                XCTAssertEqual(grant.post.url, "http://127.0.0.1:9000/gallery")
                XCTAssertEqual(grant.post.fields["key"], "summer/a b.png")
                XCTAssertEqual(grant.post.fields["Content-Type"], "image/png")
                XCTAssertEqual(grant.post.fields["x-amz-meta-photographer"], "Ann")
                XCTAssertNotNil(grant.post.fields["policy"])
                XCTAssertNotNil(grant.post.fields["x-amz-signature"])
            }
            for (body, code) in invalid {
                try await client.execute(uri: "/api/uploads", method: .post, body: body) { response in
                    XCTAssertEqual(response.status, .badRequest, code)
                    XCTAssertEqual(try Self.errorCode(response), code, String(buffer: body))
                }
            }
        }
    }

    // MARK: page and unknown paths

    func testPageAssetsWithGetAndHead() async throws {
        try await makeApp().test(.router) { client in
            for (uri, type, start) in [("/", "text/html; charset=utf-8", "<!doctype html>"),
                                       ("/app.js", "application/javascript; charset=utf-8", ""),
                                       ("/thumbhash.js", "application/javascript; charset=utf-8", ""),
                                       ("/grid.js", "application/javascript; charset=utf-8", ""),
                                       ("/lightbox.js", "application/javascript; charset=utf-8", ""),
                                       ("/uploads.js", "application/javascript; charset=utf-8", ""),
                                       ("/style.css", "text/css; charset=utf-8", ":root {")] {
                let size = try await client.execute(uri: uri, method: .get) { response in
                    XCTAssertEqual(response.status, .ok, uri)
                    XCTAssertEqual(response.headers[.contentType], type, uri)
                    XCTAssertEqual(response.headers[.cacheControl], "no-cache", uri)
                    XCTAssertTrue(String(buffer: response.body).hasPrefix(start), uri)
                    XCTAssertGreaterThan(response.body.readableBytes, 1000, uri)
                    return response.body.readableBytes
                }
                try await client.execute(uri: uri, method: .head) { response in
                    XCTAssertEqual(response.status, .ok, uri)
                    XCTAssertEqual(response.headers[.contentType], type, uri)
                    XCTAssertEqual(response.headers[.cacheControl], "no-cache", uri)
                    XCTAssertEqual(response.headers[.contentLength], String(size), uri)
                }
            }
        }
    }

    func testGalleryAndImageAddressesServeThePage() async throws {
        try await makeApp().test(.router) { client in
            let page = try await client.execute(uri: "/", method: .get) { String(buffer: $0.body) }
            // The page with a relative <base> to its root: one "../" per directory level.
            for (uri, base) in [("/g/summer", "../"), ("/g/summer/", "../../"), ("/g/summer/a.jpg", "../../"),
                                ("/g/2026-fair/b%20c%20%C3%A9t%C3%A9.jpg", "../../"), ("/g/summer/sub%2Fd.jpg", "../../"),
                                ("/g/summer/sub/d.jpg", "../../../"), ("/g/summer?x=/1", "../")] {
                let expected = page.replacingOccurrences(of: "<head>", with: "<head>\n<base href=\"\(base)\">")
                try await client.execute(uri: uri, method: .get) { response in
                    XCTAssertEqual(response.status, .ok, uri)
                    XCTAssertEqual(response.headers[.contentType], "text/html; charset=utf-8", uri)
                    XCTAssertEqual(response.headers[.cacheControl], "no-cache", uri)
                    XCTAssertEqual(String(buffer: response.body), expected, uri)
                }
                try await client.execute(uri: uri, method: .head) { response in
                    XCTAssertEqual(response.status, .ok, uri)
                    XCTAssertEqual(response.headers[.contentLength], String(expected.utf8.count), uri)
                }
            }
            for uri in ["/g/Summer", "/g/no_such!", "/g/-x/a.jpg", "/g/" + String(repeating: "a", count: 64)] {
                try await client.execute(uri: uri, method: .get) { response in
                    XCTAssertEqual(response.status, .notFound, uri)
                }
            }
        }
    }

    func testUnknownPathsAre404() async throws {
        try await makeApp().test(.router) { client in
            for (uri, method) in [("/nope", HTTPRequest.Method.get), ("/api/galleries/summer", .get), ("/api/nope", .get),
                                  ("/api/uploads", .get), ("/app.js", .post), ("/g", .get), ("/g/summer", .post)] {
                try await client.execute(uri: uri, method: method) { response in
                    XCTAssertTrue([.notFound, .methodNotAllowed].contains(response.status), "\(method) \(uri): \(response.status)")
                }
            }
        }
    }
}
