import Digests
import Foundation
import HTTPTypes
import ObjectStore

/// Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
/// CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads.
extension S3Server {
    /// Largest part, as AWS.
    static let maxPartSize: UInt64 = 5 << 30

    func createMultipartUpload(_ request: S3Request, bucket: BucketRecord, key: String) async throws -> S3Response {
        try rejectUnsupportedWriteHeaders(request)
        let acl = try requestedACL(request, ownerId: request.requesterId, bucketOwnerId: bucket.ownerId)
        let algorithm = try ObjectWriteOptions.checksumAlgorithm(.headers(request))
        let checksumType = try ObjectWriteOptions.checksumType(.headers(request), algorithm: algorithm)
        let upload = try await store.createMultipartUpload(bucket: bucket, key: key, ownerId: request.requesterId,
                                                           metadata: try ObjectWriteOptions.metadata(.headers(request)),
                                                           checksumAlgorithm: algorithm, checksumType: checksumType, acl: acl)
        var headers = HTTPFields()
        if let algorithm { headers[.init("x-amz-checksum-algorithm")!] = algorithm.rawValue }
        if let checksumType { headers[.init("x-amz-checksum-type")!] = checksumType.rawValue }
        var doc = XMLWriter()
        doc.element("InitiateMultipartUploadResult", namespace: true) { x in
            x.leaf("Bucket", bucket.name)
            x.leaf("Key", ifXML10: key)
            x.leaf("UploadId", upload.uploadId)
        }
        return .xml(doc, headers: headers)
    }

    /// The upload named by `uploadId` in the query, and the part number when `needsPart`.
    private func multipartContext(_ request: S3Request, bucket: BucketRecord, key: String) throws -> MultipartUploadRecord {
        guard let uploadId = request.query["uploadId"] else { throw S3Error(.noSuchUpload) }
        return try store.multipartUpload(bucket: bucket, key: key, uploadId: uploadId)
    }

    private func partNumber(_ request: S3Request) throws -> UInt32 {
        guard let value = request.query["partNumber"], let number = UInt32(value), number >= 1, number <= MultipartUploadRecord.maximumParts else {
            throw S3Error(.invalidArgument, "Part number must be an integer between 1 and 10000, inclusive")
        }
        return number
    }

    func uploadPart(_ request: S3Request, bucket: BucketRecord, key: String) async throws -> S3Response {
        let number = try partNumber(request)
        let upload = try multipartContext(request, bucket: bucket, key: key)
        let body = store.beginPartUpload(bucket: bucket, upload: upload)
        let part: PartRecord
        do {
            let (md5, checksum) = try await receiveBody(request, into: body, maxSize: Self.maxPartSize)
            if let checksum, let expected = upload.checksumAlgorithm, checksum.algorithm != expected {
                throw S3Error(.invalidRequest, "Checksum Type mismatch occurred, expected checksum Type: \(expected.rawValue.lowercased()), actual checksum Type: \(checksum.algorithm.rawValue.lowercased())")
            }
            part = try await body.commitPart(md5: md5, upload: upload, partNumber: number, checksum: checksum)
        } catch {
            await body.discard()
            throw error
        }
        var headers = HTTPFields()
        headers[.eTag] = "\"\(part.etag)\""
        if let checksum = part.checksum {
            headers[.init("x-amz-checksum-\(checksum.algorithm.headerSuffix)")!] = checksum.base64
        }
        return S3Response(headers: headers)
    }

    func uploadPartCopy(_ request: S3Request, bucket: BucketRecord, key: String) async throws -> S3Response {
        let number = try partNumber(request)
        let upload = try multipartContext(request, bucket: bucket, key: key)
        let reader = try copySource(request)
        defer { reader.close() }
        try evaluateCopyConditions(request, record: reader.record)
        var range = 0..<reader.record.size
        if let value = request.header("x-amz-copy-source-range") {
            guard value.hasPrefix("bytes="), let dash = value.firstIndex(of: "-"),
                  let first = UInt64(value[value.index(value.startIndex, offsetBy: 6)..<dash]),
                  let last = UInt64(value[value.index(after: dash)...]), first <= last else {
                throw S3Error(.invalidArgument, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
            }
            guard last < reader.record.size else {
                throw S3Error(.invalidRange, "The specified copy range is invalid for the source object size")
            }
            range = first..<(last + 1)
        }
        guard UInt64(range.count) <= Self.maxPartSize else { throw S3Error(.entityTooLarge) }
        let body = store.beginPartUpload(bucket: bucket, upload: upload)
        let part: PartRecord
        do {
            try await copy(reader, range: range, into: body)
            part = try await body.commitPart(md5: body.finishDigest(), upload: upload, partNumber: number, checksum: nil)
        } catch {
            await body.discard()
            throw error
        }
        var doc = XMLWriter()
        doc.element("CopyPartResult", namespace: true) { x in
            x.leaf("LastModified", ISO8601Date.format(part.lastModified))
            x.leaf("ETag", "\"\(part.etag)\"")
        }
        return .xml(doc)
    }

    func completeMultipartUpload(_ request: S3Request, bucket: BucketRecord, key: String) async throws -> S3Response {
        let upload: MultipartUploadRecord?
        do { upload = try multipartContext(request, bucket: bucket, key: key) } catch ObjectStoreError.noSuchUpload { upload = nil }
        let parts: [CompletedPart]
        do {
            parts = try await completedParts(request)
        } catch {
            // An unknown upload is reported first, whatever the body.
            if upload == nil { throw ObjectStoreError.noSuchUpload }
            throw error
        }
        let record: ObjectRecord
        do {
            guard let upload else { throw ObjectStoreError.noSuchUpload }
            record = try await store.completeMultipartUpload(bucket: bucket, upload: upload, parts: parts,
                                                             lastModified: Self.lastModifiedNow(), condition: try writeCondition(request),
                                                             event: eventContext(request, .objectCreatedCompleteMultipartUpload))
        } catch ObjectStoreError.noSuchUpload {
            // Clients retry a complete whose answer they lost or could not read (botocore
            // retries a 200 it cannot parse); AWS answers such a retry as it answered the
            // first call, so the retry must not turn a finished upload into NoSuchUpload.
            guard let done = try store.object(bucket: bucket, key: key), done.uploadId != nil, done.uploadId == request.query["uploadId"],
                  done.parts.elementsEqual(parts, by: { $0.partNumber == $1.partNumber && $0.etag == $1.unquotedETag }) else {
                throw ObjectStoreError.noSuchUpload
            }
            record = done
        }
        var doc = XMLWriter()
        doc.element("CompleteMultipartUploadResult", namespace: true) { x in
            x.leaf("Location", ifXML10: "/\(bucket.name)/\(key)")
            x.leaf("Bucket", bucket.name)
            x.leaf("Key", ifXML10: key)
            x.leaf("ETag", "\"\(record.etag)\"")
            if let checksum = record.checksum {
                x.leaf("Checksum\(checksum.algorithm.rawValue)", checksum.base64)
                x.leaf("ChecksumType", checksum.type.rawValue)
            }
        }
        return .xml(doc)
    }

    func abortMultipartUpload(_ request: S3Request, bucket: BucketRecord, key: String) async throws -> S3Response {
        let upload = try multipartContext(request, bucket: bucket, key: key)
        try await store.abortMultipartUpload(bucket: bucket, upload: upload)
        return S3Response(status: .noContent)
    }

    func listParts(_ request: S3Request, bucket: BucketRecord, key: String) throws -> S3Response {
        let upload = try multipartContext(request, bucket: bucket, key: key)
        let marker = try request.query["part-number-marker"].map { value -> Int in
            guard let n = Int(value), n >= 0 else { throw S3Error(.invalidArgument, "Invalid part-number-marker") }
            return n
        } ?? 0
        let maxParts = try request.query["max-parts"].map { value -> Int in
            guard let n = Int(value), n >= 0 else { throw S3Error(.invalidArgument, "Invalid max-parts") }
            return min(n, 1000)
        } ?? 1000
        let (parts, truncated) = try store.listParts(upload: upload, after: marker, maxParts: maxParts)
        var doc = XMLWriter()
        doc.element("ListPartsResult", namespace: true) { x in
            x.leaf("Bucket", bucket.name)
            x.leaf("Key", ifXML10: key)
            x.leaf("UploadId", upload.uploadId)
            x.leaf("PartNumberMarker", String(marker))
            if let last = parts.last { x.leaf("NextPartNumberMarker", String(last.partNumber)) }
            x.leaf("MaxParts", String(maxParts))
            x.leaf("IsTruncated", truncated ? "true" : "false")
            uploadOwner(&x, upload)
            x.leaf("StorageClass", "STANDARD")
            if let algorithm = upload.checksumAlgorithm { x.leaf("ChecksumAlgorithm", algorithm.rawValue) }
            if let type = upload.checksumType { x.leaf("ChecksumType", type.rawValue) }
            for part in parts {
                x.element("Part") { x in
                    x.leaf("PartNumber", String(part.partNumber))
                    x.leaf("LastModified", ISO8601Date.format(part.lastModified))
                    x.leaf("ETag", "\"\(part.etag)\"")
                    x.leaf("Size", String(part.size))
                    if let checksum = part.checksum { x.leaf("Checksum\(checksum.algorithm.rawValue)", checksum.base64) }
                }
            }
        }
        return .xml(doc)
    }

    func listMultipartUploads(_ request: S3Request, bucket: BucketRecord) throws -> S3Response {
        let q = request.query
        let maxUploads = try q["max-uploads"].map { value -> Int in
            guard let n = Int(value), n >= 0 else { throw S3Error(.invalidArgument, "Invalid max-uploads") }
            return min(n, 1000)
        } ?? 1000
        let urlEncoded = q["encoding-type"] == "url"
        let encode: (String) -> String = { urlEncoded ? PercentEncoding.uriEncode($0, encodeSlash: false) : $0 }
        let prefix = q["prefix"] ?? ""
        let delimiter = q["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
        let page = try store.listMultipartUploads(bucket: bucket, prefix: prefix, delimiter: delimiter,
                                                  keyMarker: q["key-marker"].flatMap { $0.isEmpty ? nil : $0 },
                                                  uploadIdMarker: q["upload-id-marker"].flatMap { $0.isEmpty ? nil : $0 },
                                                  maxUploads: maxUploads)
        var doc = XMLWriter()
        doc.element("ListMultipartUploadsResult", namespace: true) { x in
            x.leaf("Bucket", bucket.name)
            x.leaf("KeyMarker", encode(q["key-marker"] ?? ""))
            x.leaf("UploadIdMarker", q["upload-id-marker"] ?? "")
            if let next = page.nextKeyMarker { x.leaf("NextKeyMarker", encode(next)) }
            if let next = page.nextUploadIdMarker { x.leaf("NextUploadIdMarker", next) }
            x.leaf("Prefix", encode(prefix))
            if let delimiter { x.leaf("Delimiter", encode(delimiter)) }
            x.leaf("MaxUploads", String(maxUploads))
            if urlEncoded { x.leaf("EncodingType", "url") }
            x.leaf("IsTruncated", page.isTruncated ? "true" : "false")
            for upload in page.uploads {
                x.element("Upload") { x in
                    x.leaf("Key", encode(upload.key))
                    x.leaf("UploadId", upload.uploadId)
                    uploadOwner(&x, upload)
                    x.leaf("StorageClass", "STANDARD")
                    x.leaf("Initiated", ISO8601Date.format(upload.initiated))
                    if let algorithm = upload.checksumAlgorithm { x.leaf("ChecksumAlgorithm", algorithm.rawValue) }
                    if let type = upload.checksumType { x.leaf("ChecksumType", type.rawValue) }
                }
            }
            for commonPrefix in page.commonPrefixes {
                x.element("CommonPrefixes") { x in x.leaf("Prefix", encode(commonPrefix)) }
            }
        }
        return .xml(doc)
    }

    /// The parts a CompleteMultipartUpload body lists, in the order listed.
    private func completedParts(_ request: S3Request) async throws -> [CompletedPart] {
        let body = try await readSmallBody(request, limit: 4 << 20)
        guard let root = XMLElement.parse(Data(body.readableBytesView)), root.name == "CompleteMultipartUpload" else {
            throw S3Error(.malformedXML)
        }
        var parts: [CompletedPart] = []
        for element in root.children("Part") {
            guard let numberText = element.child("PartNumber")?.text, let number = Int(numberText.trimmingCharacters(in: .whitespacesAndNewlines)),
                  let etag = element.child("ETag")?.text else {
                throw S3Error(.malformedXML)
            }
            let checksum = ChecksumAlgorithm.allCases.lazy.compactMap { element.child("Checksum\($0.rawValue)")?.text }.first
            parts.append(CompletedPart(partNumber: number, etag: etag, checksum: checksum?.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        guard !parts.isEmpty else {
            throw S3Error(.malformedXML, "The XML you provided was not well-formed or did not validate against our published schema: at least one part is required.")
        }
        return parts
    }

    /// `Initiator` and `Owner` of an upload (the same user in Shoebox), each with the ID and
    /// DisplayName AWS lists to anyone allowed to list the upload, not only to its initiator.
    private func uploadOwner(_ x: inout XMLWriter, _ upload: MultipartUploadRecord) {
        let displayName = users.user(id: upload.ownerId)?.displayName
        for element in ["Initiator", "Owner"] {
            x.element(element) { x in
                x.leaf("ID", upload.ownerId)
                x.leaf("DisplayName", displayName)
            }
        }
    }
}
