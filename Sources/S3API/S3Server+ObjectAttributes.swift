import Digests
import Foundation
import HTTPTypes
import ObjectStore

/// GetObjectAttributes: what a HEAD tells, plus the checksum and the parts of a multipart
/// object, in one XML document.
extension S3Server {
    /// The attribute names `x-amz-object-attributes` may list.
    private static let objectAttributeNames: Set<String> = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]

    /// GetObjectAttributes of the object ``authorize(_:)`` opened (closed here). Parts are
    /// paged by the `x-amz-max-parts` and `x-amz-part-number-marker` headers (not query
    /// parameters, as ListParts).
    func getObjectAttributes(_ request: S3Request, object reader: any ObjectReader) throws -> S3Response {
        defer { reader.close() }
        let record = reader.record
        let requested = try Self.requestedObjectAttributes(request.header("x-amz-object-attributes"))
        let maxParts = try Self.nonNegativeHeader(request, "x-amz-max-parts").map { min($0, 1000) } ?? 1000
        let marker = try Self.nonNegativeHeader(request, "x-amz-part-number-marker") ?? 0
        var doc = XMLWriter()
        doc.element("GetObjectAttributesResponse", namespace: true) { x in
            if requested.contains("ETag") { x.leaf("ETag", record.etag) }
            if requested.contains("Checksum"), let checksum = record.checksum {
                x.element("Checksum") { x in
                    x.leaf("Checksum\(checksum.algorithm.rawValue)", checksum.base64)
                    x.leaf("ChecksumType", checksum.type.rawValue)
                }
            }
            // Only a multipart object has parts to show.
            if requested.contains("ObjectParts"), !record.parts.isEmpty {
                let after = record.parts.filter { Int($0.partNumber) > marker }
                let page = after.prefix(maxParts)
                x.element("ObjectParts") { x in
                    x.leaf("PartsCount", String(record.parts.count))
                    x.leaf("PartNumberMarker", String(marker))
                    if let last = page.last { x.leaf("NextPartNumberMarker", String(last.partNumber)) }
                    x.leaf("MaxParts", String(maxParts))
                    x.leaf("IsTruncated", after.count > page.count ? "true" : "false")
                    // AWS lists no Part of an object stored without an additional checksum.
                    if let algorithm = record.checksum?.algorithm {
                        for part in page {
                            x.element("Part") { x in
                                x.leaf("PartNumber", String(part.partNumber))
                                x.leaf("Size", String(part.size))
                                if let value = part.checksum { x.leaf("Checksum\(algorithm.rawValue)", value) }
                            }
                        }
                    }
                }
            }
            if requested.contains("StorageClass") { x.leaf("StorageClass", "STANDARD") }
            if requested.contains("ObjectSize") { x.leaf("ObjectSize", String(record.size)) }
        }
        return .xml(doc, headers: [.lastModified: HTTPDate.rfc1123(record.lastModified)])
    }

    /// The names in `x-amz-object-attributes` (comma-separated, as SDKs send a list header).
    /// - Throws: InvalidArgument when the header is missing, empty or names an unknown attribute.
    private static func requestedObjectAttributes(_ header: String?) throws -> Set<String> {
        let names = (header ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else {
            throw S3Error(.invalidArgument, "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty",
                          details: [("ArgumentName", "x-amz-object-attributes"), ("ArgumentValue", header ?? "")])
        }
        if let unknown = names.first(where: { !objectAttributeNames.contains($0) }) {
            throw S3Error(.invalidArgument, "Invalid attribute name specified.",
                          details: [("ArgumentName", "x-amz-object-attributes"), ("ArgumentValue", unknown)])
        }
        return Set(names)
    }

    /// An optional non-negative integer header.
    /// - Throws: InvalidArgument when present and not one.
    private static func nonNegativeHeader(_ request: S3Request, _ name: String) throws -> Int? {
        try request.header(name).map { value in
            guard let n = Int(value.trimmingCharacters(in: .whitespaces)), n >= 0 else {
                throw S3Error(.invalidArgument, "Invalid \(name)", details: [("ArgumentName", name), ("ArgumentValue", value)])
            }
            return n
        }
    }
}
