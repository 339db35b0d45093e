import Digests
import Foundation
import HTTPTypes
import ObjectStore

/// CopyObject: `PUT /bucket/key` with `x-amz-copy-source`.
extension S3Server {
    func copyObject(_ request: S3Request, bucket: BucketRecord, key: String) async throws -> S3Response {
        try rejectUnsupportedWriteHeaders(request)
        let acl = try requestedACL(request, ownerId: request.requesterId, bucketOwnerId: bucket.ownerId)
        let reader = try copySource(request)
        defer { reader.close() }
        let source = reader.record
        try evaluateCopyConditions(request, record: source)

        let directive = request.header("x-amz-metadata-directive")?.uppercased() ?? "COPY"
        guard directive == "COPY" || directive == "REPLACE" else {
            throw S3Error(.invalidArgument, "Unknown metadata directive.")
        }
        if directive == "COPY" && reader.bucket.name == bucket.name && reader.key == key {
            throw S3Error(.invalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
        }
        let metadata = directive == "REPLACE" ? try ObjectWriteOptions.metadata(.headers(request)) : source.metadata
        let condition = try writeCondition(request)

        let upload = try store.beginUpload(bucket: bucket, key: key)
        let record: ObjectRecord
        do {
            try await copy(reader, range: 0..<source.size, into: upload)
            record = try await upload.commit(md5: upload.finishDigest(), metadata: metadata, checksum: source.checksum,
                                             ownerId: request.requesterId, condition: condition, lastModified: Self.lastModifiedNow(),
                                             acl: acl, event: eventContext(request, .objectCreatedCopy)).record
        } catch {
            await upload.discard()
            throw error
        }
        var doc = XMLWriter()
        doc.element("CopyObjectResult", namespace: true) { x in
            x.leaf("LastModified", ISO8601Date.format(record.lastModified))
            x.leaf("ETag", "\"\(record.etag)\"")
            if let checksum = record.checksum { x.leaf("Checksum\(checksum.algorithm.rawValue)", checksum.base64) }
        }
        return .xml(doc)
    }

    /// Opens the object `x-amz-copy-source` names, which the requester must be allowed to
    /// read (object READ). The copy source is a second resource, so it is the one check
    /// made outside ``authorize(_:)``, by the same ``openObject(_:bucket:key:permission:expectedOwnerHeader:)``,
    /// after the destination's and the request's own errors, as S3 orders them.
    /// - Throws: NoSuchBucket, NoSuchKey, AccessDenied, InvalidArgument for a malformed header.
    func copySource(_ request: S3Request) throws -> any ObjectReader {
        let (sourceBucket, sourceKey) = try Self.parseCopySource(request.header("x-amz-copy-source") ?? "")
        return try openObject(request, bucket: sourceBucket, key: sourceKey, permission: .read,
                              expectedOwnerHeader: Self.expectedSourceBucketOwnerHeader)
    }

    /// `x-amz-copy-source: [/]bucket/key[?versionId=null]`, percent-encoded.
    static func parseCopySource(_ header: String) throws -> (bucket: String, key: String) {
        var value = Substring(header)
        if let q = value.firstIndex(of: "?") {
            let query = QueryParameters(raw: String(value[value.index(after: q)...]))
            if let version = query["versionId"], version != "null" { throw S3Error(.noSuchVersion) }
            value = value[..<q]
        }
        guard let decoded = PercentEncoding.decode(value) else { throw S3Error(.invalidArgument, "Invalid copy source encoding.") }
        let path = decoded.hasPrefix("/") ? decoded.dropFirst() : Substring(decoded)
        guard let slash = path.firstIndex(of: "/"), slash != path.startIndex, path.index(after: slash) != path.endIndex else {
            throw S3Error(.invalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")
        }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    /// `x-amz-copy-source-if-*`: any condition that fails gives 412 PreconditionFailed.
    func evaluateCopyConditions(_ request: S3Request, record: ObjectRecord) throws {
        try evaluateConditions(request, record: record, headerPrefix: "x-amz-copy-source-", notModified: S3Error(.preconditionFailed))
    }

    /// Appends bytes `range` of `reader`'s object to `upload`, chunk by chunk, bounding memory.
    func copy(_ reader: any ObjectReader, range: Range<UInt64>, into upload: any ObjectUpload) async throws {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let from = offset
            offset += try await reader.readingMap(at: from, end: range.upperBound) {
                let slice = try reader.slice(at: from, end: range.upperBound)
                upload.append(slice)
                reader.release(slice)
                return UInt64(slice.count)
            }
            try await upload.flushIfNeeded()
        }
    }
}
