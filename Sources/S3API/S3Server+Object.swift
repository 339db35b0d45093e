import Digests
import Foundation
import HTTPTypes
import NIOCore
import ObjectStore
import SigV4

/// Object operations: PutObject, GetObject, HeadObject, DeleteObject.
extension S3Server {
    /// Largest single PUT, as AWS.
    static let maxPutSize: UInt64 = 5 << 30

    func putObject(_ request: S3Request, bucket: BucketRecord, key: String) async throws -> S3Response {
        try rejectUnsupportedWriteHeaders(request)
        let acl = try requestedACL(request, ownerId: request.requesterId, bucketOwnerId: bucket.ownerId)
        let condition = try writeCondition(request)
        let metadata = try ObjectWriteOptions.metadata(.headers(request))
        let upload = try store.beginUpload(bucket: bucket, key: key)
        let record: ObjectRecord
        do {
            let (md5, checksum) = try await receiveBody(request, into: upload, maxSize: Self.maxPutSize)
            record = try await upload.commit(md5: md5, metadata: metadata, checksum: checksum, ownerId: request.requesterId,
                                             condition: condition, lastModified: Self.lastModifiedNow(), acl: acl,
                                             event: eventContext(request, .objectCreatedPut)).record
        } catch {
            await upload.discard()
            throw error
        }
        var headers = HTTPFields()
        headers[.eTag] = "\"\(record.etag)\""
        if let checksum = record.checksum {
            headers[.init("x-amz-checksum-\(checksum.algorithm.headerSuffix)")!] = checksum.base64
        }
        return S3Response(headers: headers)
    }

    /// Streams the request body into `upload`, verifying its length and integrity as it goes.
    /// - Returns: the body's MD5 and the checksum to store with it.
    func receiveBody(_ request: S3Request, into upload: any ObjectUpload, maxSize: UInt64) async throws -> (md5: [UInt8], checksum: StoredChecksum?) {
        var verifier = try PayloadVerifier(request)
        switch request.payloadMode {
        case .plain:
            // Without Content-Length, a body in plain HTTP chunks (NIO's codec has removed the
            // framing) is taken as it streams, up to `maxSize`: some SDKs send streams of
            // unknown size so. A signed sha256 is still checked once the body has ended.
            let length = request.header("content-length").flatMap(UInt64.init)
            guard length != nil || request.isHTTPChunked else { throw S3Error(.missingContentLength) }
            let limit = length ?? maxSize
            guard limit <= maxSize else { throw S3Error(.entityTooLarge) }
            for try await buffer in request.body {
                guard upload.size + UInt64(buffer.readableBytes) <= limit else {
                    throw length == nil ? S3Error(.entityTooLarge) : S3Error(.incompleteBody, "The body is longer than Content-Length.")
                }
                buffer.withUnsafeReadableBytes { bytes in
                    upload.append(bytes)
                    verifier.update(bytes)
                }
                try await upload.flushIfNeeded()
            }
            if let length, upload.size != length { throw S3Error(.incompleteBody) }
        case .awsChunked(let signed, let trailer):
            guard let length = request.header("x-amz-decoded-content-length").flatMap(UInt64.init) else {
                throw S3Error(.missingContentLength, "You must provide the x-amz-decoded-content-length header with aws-chunked bodies.")
            }
            guard length <= maxSize else { throw S3Error(.entityTooLarge) }
            guard !signed || request.signing != nil, let signing = signed ? request.signing.map(AWSChunkedDecoder.Signing.signed) : .unsigned else {
                throw S3Error(.accessDenied)
            }
            var decoder = AWSChunkedDecoder(signing: signing, expectTrailer: trailer, decodedLength: length)
            for try await buffer in request.body {
                try buffer.withUnsafeReadableBytes { raw in
                    try decoder.feed(raw) { bytes in
                        upload.append(bytes)
                        verifier.update(bytes)
                    }
                }
                try await upload.flushIfNeeded()
            }
            try verifier.applyTrailers(try decoder.finish())
        }
        let md5 = upload.finishDigest()
        return (md5, try verifier.verify(md5: md5))
    }

    /// Last-Modified for a write now: rounded up to the whole second, since S3 dates carry
    /// seconds and `aws s3 sync` must never see an object older than the file it uploaded.
    static func lastModifiedNow() -> Date {
        Date(timeIntervalSince1970: ceil(Date().timeIntervalSince1970))
    }

    /// Headers that ask for features Shoebox does not have yet: refuse rather than ignore.
    func rejectUnsupportedWriteHeaders(_ request: S3Request) throws {
        if let sse = request.header("x-amz-server-side-encryption"), sse != "AES256" {
            throw S3Error.notImplemented("Server-side encryption \(sse)")
        }
        if request.header("x-amz-server-side-encryption-customer-algorithm") != nil { throw S3Error.notImplemented("SSE-C") }
        if request.header("x-amz-tagging") != nil { throw S3Error.notImplemented("Object tagging") }
        if request.header("x-amz-object-lock-mode") != nil { throw S3Error.notImplemented("Object Lock") }
    }

    /// `If-None-Match` and `If-Match` on a write, each `*` or a list of ETags (issue 17: not
    /// only `*` in If-None-Match, as AWS documents). Both headers at once are 501 NotImplemented
    /// naming the header, as S3 answers them.
    func writeCondition(_ request: S3Request) throws -> WriteCondition {
        if let value = request.header("if-none-match") {
            guard request.header("if-match") == nil else {
                throw S3Error(.notImplemented, details: [("Header", "If-None-Match")])
            }
            return .ifNoneMatch(Self.etagList(value))
        }
        if let value = request.header("if-match") { return .ifMatch(Self.etagList(value)) }
        return .none
    }

    /// ETags of an `If-Match`-style header, without quotes or weak markers.
    static func etagList(_ value: String) -> [String] {
        value.split(separator: ",").map { item in
            var s = item.trimmingCharacters(in: .whitespaces)
            if s.hasPrefix("W/") { s.removeFirst(2) }
            return s.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
    }

    /// GetObject and HeadObject of the object ``authorize(_:)`` opened (closed here, or by
    /// the response body).
    func getObject(_ request: S3Request, _ resolved: ResolvedRequest, head: Bool) throws -> S3Response {
        let reader = resolved.reader
        do {
            let record = reader.record
            try evaluateReadConditions(request, record: record)
            var headers = objectHeaders(record)
            var range = 0..<record.size
            var status = HTTPResponse.Status.ok
            if let value = request.query["partNumber"] {
                guard let number = Int(value), number >= 1, number <= MultipartUploadRecord.maximumParts else {
                    throw S3Error(.invalidArgument, "Part number must be an integer between 1 and 10000, inclusive")
                }
                // A part the object does not have, multipart or not: 400 InvalidPartNumber (issue 17).
                guard let part = reader.partRange(number) else { throw S3Error(.invalidPartNumber) }
                range = part
                if !record.parts.isEmpty {
                    status = .partialContent
                    headers[.init("x-amz-mp-parts-count")!] = String(record.parts.count)
                    if !range.isEmpty { headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(record.size)" }
                }
            } else if let header = request.header("range"), let requested = try Self.parseRange(header, size: record.size) {
                range = requested
                status = .partialContent
                headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(record.size)"
            }
            // A whole-object checksum never goes with a partial body: clients would validate
            // the part against it.
            if status == .ok, range.count == record.size, request.header("x-amz-checksum-mode")?.uppercased() == "ENABLED",
               let checksum = record.checksum {
                headers[.init("x-amz-checksum-\(checksum.algorithm.headerSuffix)")!] = checksum.base64
                headers[.init("x-amz-checksum-type")!] = checksum.type.rawValue
            }
            applyResponseOverrides(request, to: &headers)
            if head || range.isEmpty {
                reader.close()
                headers[.contentLength] = String(range.count)
                return S3Response(status: status, headers: headers)
            }
            return S3Response(status: status, headers: headers, body: .object(reader, range))
        } catch {
            reader.close()
            throw error
        }
    }

    /// Response headers describing a stored object.
    func objectHeaders(_ record: ObjectRecord) -> HTTPFields {
        // Appended, not assigned: the names are distinct, and assigning searches for (and
        // removes) earlier fields of the same name every time.
        var headers = HTTPFields()
        headers.reserveCapacity(8 + record.metadata.contentHeaders.count + record.metadata.user.count)
        headers.append(HTTPField(name: .eTag, value: "\"\(record.etag)\""))
        headers.append(HTTPField(name: .lastModified, value: HTTPDate.rfc1123(record.lastModified)))
        headers.append(HTTPField(name: .contentType, value: record.metadata.contentType ?? "binary/octet-stream"))
        headers.append(HTTPField(name: .acceptRanges, value: "bytes"))
        for (name, value) in record.metadata.contentHeaders.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        for (name, value) in record.metadata.user.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name("x-amz-meta-" + name) { headers[field] = EncodedWords.encodeIfNeeded(value) }
        }
        return headers
    }

    /// `response-content-type` and friends override the stored headers on GET/HEAD.
    func applyResponseOverrides(_ request: S3Request, to headers: inout HTTPFields) {
        let overrides: [(String, HTTPField.Name)] = [
            ("response-content-type", .contentType), ("response-content-language", .contentLanguage),
            ("response-expires", .expires), ("response-cache-control", .cacheControl),
            ("response-content-disposition", .contentDisposition), ("response-content-encoding", .contentEncoding),
        ]
        for (parameter, field) in overrides {
            if let value = request.query[parameter] { headers[field] = value }
        }
    }

    /// GET/HEAD preconditions in the order S3 applies them.
    func evaluateReadConditions(_ request: S3Request, record: ObjectRecord) throws {
        try evaluateConditions(request, record: record, headerPrefix: "", notModified: notModified(record))
    }

    /// `If-Match`, `If-Unmodified-Since` (412) then `If-None-Match`, `If-Modified-Since`
    /// (`notModified`), with the precedence S3 documents: a true If-Match overrides a false
    /// If-Unmodified-Since, and a present If-None-Match decides alone.
    /// - Parameter headerPrefix: `""` for GET/HEAD, `x-amz-copy-source-` for copies.
    func evaluateConditions(_ request: S3Request, record: ObjectRecord, headerPrefix: String, notModified: @autoclosure () -> S3Error) throws {
        let lastModified = floor(record.lastModified.timeIntervalSince1970)
        if let ifMatch = request.header(headerPrefix + "if-match") {
            let tags = Self.etagList(ifMatch)
            if !tags.contains("*") && !tags.contains(record.etag) { throw S3Error(.preconditionFailed) }
        } else if let value = request.header(headerPrefix + "if-unmodified-since"), let date = HTTPDate.parse(value),
                  lastModified > date.timeIntervalSince1970 {
            throw S3Error(.preconditionFailed)
        }
        if let ifNoneMatch = request.header(headerPrefix + "if-none-match") {
            let tags = Self.etagList(ifNoneMatch)
            if tags.contains("*") || tags.contains(record.etag) { throw notModified() }
        } else if let value = request.header(headerPrefix + "if-modified-since"), let date = HTTPDate.parse(value),
                  lastModified <= date.timeIntervalSince1970 {
            throw notModified()
        }
    }

    private func notModified(_ record: ObjectRecord) -> S3Error {
        S3Error(.notModified, headers: [("ETag", "\"\(record.etag)\""), ("Last-Modified", HTTPDate.rfc1123(record.lastModified))])
    }

    /// Parses a single `bytes=` range. Returns nil to serve the whole object (no usable range).
    /// - Throws: InvalidRange when the range cannot be satisfied.
    static func parseRange(_ header: String, size: UInt64) throws -> Range<UInt64>? {
        let value = header.trimmingCharacters(in: .whitespaces)
        guard value.hasPrefix("bytes="), !value.contains(",") else { return nil }
        let spec = value.dropFirst(6)
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        let unsatisfiable = S3Error(.invalidRange, details: [("RangeRequested", value), ("ActualObjectSize", String(size))],
                                    headers: [("Content-Range", "bytes */\(size)")])
        if first.isEmpty {
            guard let suffix = UInt64(last) else { return nil }
            guard suffix > 0, size > 0 else { throw unsatisfiable }
            return (size - min(suffix, size))..<size
        }
        guard let start = UInt64(first) else { return nil }
        var end = UInt64.max
        if !last.isEmpty {
            guard let e = UInt64(last), e >= start else { return nil }
            end = e
        }
        guard start < size else { throw unsatisfiable }
        return start..<(min(end, size - 1) + 1)
    }

    func deleteObject(_ request: S3Request, bucket: BucketRecord, key: String) async throws -> S3Response {
        if let version = request.query["versionId"], version != "null" { throw S3Error(.noSuchVersion) }
        try store.validate(key: key)
        try await store.deleteObject(bucket: bucket, key: key, event: eventContext(request, .objectRemovedDelete))
        return S3Response(status: .noContent)
    }
}
