import AsyncHTTPClient
import Digests
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
public import Logging
import NIOCore
import NIOHTTP1
import SigV4

/// Rebuilds the index from the bucket: ListObjectsV2 (every page), then HEAD for each object's
/// content type and `x-amz-meta-*`, then ``GalleryIndex/resync(_:)``.
public struct Resync: Sendable {
    let index: GalleryIndex
    let configuration: IndexConfiguration
    let logger: Logger

    public init(index: GalleryIndex, configuration: IndexConfiguration, logger: Logger) {
        self.index = index
        self.configuration = configuration
        self.logger = logger
    }

    @discardableResult
    public func run() async throws -> (added: Int, removed: Int) {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        var listing: [ListedObject] = []
        var token: String?
        let started = Date()
        repeat {
            var query = "list-type=2&max-keys=1000"
            if let token { query += "&continuation-token=\(PercentEncoding.uriEncode(token))" }
            let (status, body, _) = try await send(client, method: "GET", rawPath: "/\(configuration.bucket)", rawQuery: query)
            guard status == 200 else { throw ResyncError.listFailed(status, String(decoding: body, as: UTF8.self)) }
            let page = ListPageParser.parse(Data(body))
            for entry in page.objects {
                let (headStatus, _, headers) = try await send(client, method: "HEAD",
                                                              rawPath: "/\(configuration.bucket)/\(PercentEncoding.uriEncode(entry.key, encodeSlash: false))", rawQuery: "")
                guard headStatus == 200 else { continue }  // deleted meanwhile
                var metadata: [String: String] = [:]
                for header in headers where header.name.lowercased().hasPrefix("x-amz-meta-") {
                    metadata[String(header.name.lowercased().dropFirst("x-amz-meta-".count))] = header.value
                }
                listing.append(ListedObject(key: entry.key, size: entry.size, etag: entry.etag, lastModified: entry.lastModified,
                                            contentType: headers["content-type"].first ?? "binary/octet-stream", metadata: metadata))
            }
            token = page.nextToken
        } while token != nil
        let result = try await index.resync(listing, listingStarted: started)
        logger.info("resync: \(listing.count) objects listed, \(result.added) added or updated, \(result.removed) removed")
        return result
    }

    private func send(_ client: HTTPClient, method: String, rawPath: String, rawQuery: String) async throws -> (Int, [UInt8], HTTPHeaders) {
        let (base, host) = IndexServer.split(configuration.s3Endpoint)
        let signature = configuration.signer.sign(method: method, host: host, rawPath: rawPath, rawQuery: rawQuery,
                                                  payloadHash: SigV4.emptyPayloadSHA256)
        var request = HTTPClientRequest(url: base + rawPath + (rawQuery.isEmpty ? "" : "?" + rawQuery))
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "x-amz-content-sha256", value: signature.payloadHash)
        request.headers.add(name: "x-amz-date", value: signature.amzDate)
        request.headers.add(name: "Authorization", value: signature.authorization)
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), Array(buffer: body), response.headers)
    }
}

enum ResyncError: Error {
    case listFailed(Int, String)
}

/// Reads the entries of a ListObjectsV2 page.
final class ListPageParser: NSObject, XMLParserDelegate {
    struct Entry { var key = ""; var size: UInt64 = 0; var etag = ""; var lastModified = Date() }
    private(set) var objects: [Entry] = []
    private(set) var nextToken: String?
    private var current: Entry?
    private var text = ""

    static func parse(_ data: Data) -> (objects: [Entry], nextToken: String?) {
        let delegate = ListPageParser()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        parser.parse()
        return (delegate.objects, delegate.nextToken)
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "Contents" { current = Entry() }
        text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "Key": current?.key = text
        case "Size": current?.size = UInt64(text) ?? 0
        case "ETag": current?.etag = text.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        case "LastModified": current?.lastModified = GalleryIndex.parseTime(text) ?? Date()
        case "Contents": if let current { objects.append(current) }; current = nil
        case "NextContinuationToken": nextToken = text
        default: break
        }
    }
}
