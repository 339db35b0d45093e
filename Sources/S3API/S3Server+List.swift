import Digests
import Foundation
import ObjectStore

/// ListObjects (v1), ListObjectsV2 and ListObjectVersions.
extension S3Server {
    enum ListVersion { case v1, v2, versions }

    func listObjects(_ request: S3Request, bucket: BucketRecord, version: ListVersion) throws -> S3Response {
        let q = request.query
        var maxKeys = 1000
        if let value = q["max-keys"] {
            guard let n = Int(value), n >= 0 else { throw S3Error(.invalidArgument, "Provided max-keys not an integer or within integer range") }
            maxKeys = min(n, 1000)
        }
        let urlEncoded: Bool
        switch q["encoding-type"] {
        case nil: urlEncoded = false
        case "url"?: urlEncoded = true
        default: throw S3Error(.invalidArgument, "Invalid Encoding Method specified in Request")
        }
        let prefix = q["prefix"] ?? ""
        let delimiter = q["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
        var after: String?
        switch version {
        case .v1: after = q["marker"].flatMap { $0.isEmpty ? nil : $0 }
        case .versions: after = q["key-marker"].flatMap { $0.isEmpty ? nil : $0 }
        case .v2:
            if let token = q["continuation-token"] {
                after = try ContinuationToken.name(token)
            } else {
                after = q["start-after"].flatMap { $0.isEmpty ? nil : $0 }
            }
        }
        var page = try store.list(bucket: bucket, query: ListQuery(prefix: prefix, delimiter: delimiter, after: after, maxKeys: maxKeys))
        // `max-keys=0` asks for nothing and AWS answers an empty page that is not truncated
        // (clients paging on IsTruncated would otherwise loop on it forever).
        if maxKeys == 0 { page.isTruncated = false }
        let encode: (String) -> String = { urlEncoded ? PercentEncoding.uriEncode($0, encodeSlash: false) : $0 }
        let owner = request.user
        let fetchOwner = version == .v1 || version == .versions || q["fetch-owner"] == "true"

        var doc = XMLWriter()
        doc.element(version == .versions ? "ListVersionsResult" : "ListBucketResult", namespace: true) { x in
            x.leaf("Name", bucket.name)
            x.leaf("Prefix", encode(prefix))
            switch version {
            case .v1:
                x.leaf("Marker", encode(q["marker"] ?? ""))
                if delimiter != nil, let next = page.nextAfter { x.leaf("NextMarker", encode(next)) }
            case .v2:
                x.leaf("KeyCount", String(page.items.count))
                if let token = q["continuation-token"] { x.leaf("ContinuationToken", token) }
                if let start = q["start-after"] { x.leaf("StartAfter", encode(start)) }
                if let next = page.nextAfter { x.leaf("NextContinuationToken", ContinuationToken.make(after: next)) }
            case .versions:
                x.leaf("KeyMarker", encode(q["key-marker"] ?? ""))
                x.leaf("VersionIdMarker", q["version-id-marker"] ?? "")
                if let next = page.nextAfter {
                    x.leaf("NextKeyMarker", encode(next))
                    x.leaf("NextVersionIdMarker", "null")
                }
            }
            x.leaf("MaxKeys", String(maxKeys))
            if let delimiter { x.leaf("Delimiter", encode(delimiter)) }
            if urlEncoded { x.leaf("EncodingType", "url") }
            x.leaf("IsTruncated", page.isTruncated ? "true" : "false")
            for item in page.items {
                guard case .object(let key, let record) = item else { continue }
                x.element(version == .versions ? "Version" : "Contents") { x in
                    x.leaf("Key", encode(key))
                    if version == .versions {
                        x.leaf("VersionId", "null")
                        x.leaf("IsLatest", "true")
                    }
                    x.leaf("LastModified", ISO8601Date.format(record.lastModified))
                    x.leaf("ETag", "\"\(record.etag)\"")
                    x.leaf("Size", String(record.size))
                    if let checksum = record.checksum { x.leaf("ChecksumAlgorithm", checksum.algorithm.rawValue) }
                    x.leaf("StorageClass", "STANDARD")
                    if fetchOwner {
                        x.element("Owner") { x in
                            x.leaf("ID", record.ownerId)
                            if record.ownerId == owner?.id { x.leaf("DisplayName", owner?.displayName) }
                        }
                    }
                }
            }
            for item in page.items {
                guard case .commonPrefix(let commonPrefix) = item else { continue }
                x.element("CommonPrefixes") { x in x.leaf("Prefix", encode(commonPrefix)) }
            }
        }
        return .xml(doc)
    }
}
