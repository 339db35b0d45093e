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
        let s3 = S3Client(configuration: configuration, client: client)
        var listing: [ListedObject] = []
        var token: String?
        let started = Date()
        repeat {
            var query = "list-type=2&max-keys=1000"
            if let token { query += "&continuation-token=\(PercentEncoding.uriEncode(token))" }
            let (status, body, _) = try await s3.send(method: "GET", rawPath: "/\(configuration.bucket)", rawQuery: query)
            guard status == 200 else { throw ResyncError.listFailed(status, String(decoding: body, as: UTF8.self)) }
            let page = ListPageParser.parse(Data(body))
            // Only gallery images are indexed (derivatives and other prefixes are not): no HEAD for the rest.
            for entry in page.objects where GalleryIndex.gallery(of: entry.key) != nil {
                let (headStatus, _, headers) = try await s3.send(method: "HEAD", rawPath: s3.objectPath(entry.key))
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
