import Digests
import Foundation
import HTTPTypes
import MultipartKit
import NIOCore
import ObjectStore
import SigV4

/// Browser form uploads: `POST /bucket` with multipart/form-data and a POST policy.
/// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
extension S3Server {
    /// The most bytes of form fields (everything but the file) accepted.
    static let maxFormFieldBytes = 64 << 10

    /// - Parameter bucket: the bucket named `name`, nil when it does not exist (reported after
    ///   a malformed request, as S3 does).
    func postObject(_ request: S3Request, name: String, bucket: BucketRecord?) async throws -> S3Response {
        guard let contentType = request.header("content-type"), contentType.lowercased().hasPrefix("multipart/form-data"),
              let boundary = Self.parameter("boundary", in: contentType) else {
            throw S3Error(.malformedPOSTRequest)
        }
        guard let bucket else { throw S3Error(.noSuchBucket, details: [("BucketName", name)]) }
        let form = PostForm(boundary: boundary)
        var upload: (any ObjectUpload)?
        var context: PostContext?
        var verifier: PayloadVerifier?
        do {
            for try await buffer in request.body {
                try form.feed(buffer)
                if upload == nil, form.fileStarted {
                    // All fields have arrived: authorize before storing a byte of the file.
                    let ready = try authorizePost(request, bucket: bucket, fields: form.fields, filename: form.filename ?? "")
                    context = ready
                    verifier = try PayloadVerifier(form: form.fields)
                    upload = try store.beginUpload(bucket: bucket, key: ready.key)
                }
                if let upload, let ready = context {
                    let bytes = form.takeFileBytes()
                    for var chunk in bytes {
                        chunk.withUnsafeReadableBytes { bytes in
                            verifier?.update(bytes)
                            upload.append(bytes)
                        }
                        chunk.clear()
                    }
                    if let range = ready.sizeRange, upload.size > range.upperBound {
                        throw S3Error(.entityTooLarge, "Your proposed upload exceeds the maximum allowed size", details: [("MaxSizeAllowed", String(range.upperBound))])
                    }
                    try await upload.flushIfNeeded()
                }
                if form.fieldBytes > Self.maxFormFieldBytes { throw S3Error(.malformedPOSTRequest, "The form fields are too large.") }
            }
            guard form.fileStarted else {
                throw S3Error(.invalidArgument, "POST requires exactly one file upload per request.", details: [("ArgumentName", "file")])
            }
            guard form.finished, let upload, let ready = context else { throw S3Error(.malformedPOSTRequest) }
            if let range = ready.sizeRange, upload.size < range.lowerBound {
                throw S3Error(.entityTooSmall, details: [("MinSizeAllowed", String(range.lowerBound))])
            }
            let md5 = upload.finishDigest()
            let checksum = try verifier?.verify(md5: md5)
            let record = try await upload.commit(md5: md5, metadata: ready.metadata, checksum: checksum,
                                                 ownerId: ready.ownerId, condition: .none, lastModified: Self.lastModifiedNow(), acl: ready.acl,
                                                 event: eventContext(request, .objectCreatedPost,
                                                                     principal: ready.ownerId == AccessControlList.anonymousId ? "anonymous" : ready.ownerId)).record
            return postResponse(bucket: name, key: ready.key, etag: record.etag, checksum: record.checksum, fields: form.fields)
        } catch {
            await upload?.discard()
            if let error = error as? PostPolicyError { throw Self.s3Error(error) }
            throw error
        }
    }

    /// What an authorized form upload will store.
    struct PostContext {
        var key: String
        var ownerId: String
        var metadata: ObjectMetadata
        var acl: AccessControlList?
        var sizeRange: ClosedRange<UInt64>?
    }

    /// Checks the policy signature (or anonymous WRITE) and every policy condition.
    func authorizePost(_ request: S3Request, bucket: BucketRecord, fields: [String: String], filename: String) throws -> PostContext {
        guard var key = fields["key"], !key.isEmpty else {
            throw S3Error(.invalidArgument, "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
                          details: [("ArgumentName", "key")])
        }
        key = key.replacingOccurrences(of: "${filename}", with: filename)
        var user: S3User?
        var sizeRange: ClosedRange<UInt64>?
        if let policyText = fields["policy"] {
            if let algorithm = fields["x-amz-algorithm"] {
                guard algorithm == SigV4.algorithm else { throw S3Error(.invalidArgument, "Unsupported x-amz-algorithm: \(algorithm)") }
                guard let credential = fields["x-amz-credential"], let signature = fields["x-amz-signature"] else {
                    throw S3Error(.invalidArgument, "POST with x-amz-algorithm requires x-amz-credential and x-amz-signature")
                }
                let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                guard scope.count == 5, scope[3] == "s3", scope[4] == "aws4_request" else {
                    throw S3Error(.invalidArgument, "Invalid x-amz-credential")
                }
                guard let found = users.user(accessKey: scope[0]) else { throw S3Error(.invalidAccessKeyId) }
                guard scope[2] == options.region else {
                    throw S3Error(.authorizationHeaderMalformed, "the region '\(scope[2])' is wrong; expecting '\(options.region)'")
                }
                let expected = Presigned.postPolicyV4Signature(policy: policyText, secretKey: found.secretKey, date: scope[1], region: scope[2])
                guard constantTimeEqual(Array(expected.utf8), Array(signature.lowercased().utf8)) else {
                    throw S3Error(.signatureDoesNotMatch)
                }
                user = found
            } else {
                guard let accessKey = fields["awsaccesskeyid"], let signature = fields["signature"] else {
                    throw S3Error(.invalidArgument, "Bucket POST with a policy must contain AWSAccessKeyId and signature (or the x-amz-* SigV4 fields)")
                }
                guard let found = users.user(accessKey: accessKey) else { throw S3Error(.invalidAccessKeyId) }
                let expected = PostPolicy.v2Signature(policy: policyText, secretKey: found.secretKey)
                guard constantTimeEqual(Array(expected.utf8), Array(signature.utf8)) else { throw S3Error(.signatureDoesNotMatch) }
                user = found
            }
            let policy = try PostPolicy.parse(base64: policyText)
            var checked = fields
            checked["bucket"] = bucket.name
            checked["key"] = key
            sizeRange = try policy.check(fields: checked, now: Date())
        }
        // The signer acts as themselves: they need WRITE on the bucket, as anonymous posters do
        // (the check `.bucket(.write)` makes, once the policy named the signer).
        try Self.check(bucket, userId: user?.id, .write)
        try store.validate(key: key)
        let ownerId = user?.id ?? AccessControlList.anonymousId
        // The same parser and limits as PutObject's headers.
        let options = try ObjectWriteOptions(.form(fields), ownerId: ownerId, bucketOwnerId: bucket.ownerId, grantee: grantee)
        return PostContext(key: key, ownerId: ownerId, metadata: options.metadata, acl: options.acl, sizeRange: sizeRange)
    }

    static func s3Error(_ error: PostPolicyError) -> S3Error {
        switch error {
        case .malformed(let why): S3Error(.invalidPolicyDocument, why)
        case .expired: S3Error(.accessDenied, "Invalid according to Policy: Policy expired.")
        case .conditionFailed(let condition): S3Error(.accessDenied, "Invalid according to Policy: Policy Condition failed: \(condition)")
        case .extraField(let name): S3Error(.accessDenied, "Invalid according to Policy: Extra input fields: \(name)")
        }
    }

    /// The answer S3 gives: a redirect, or `success_action_status` (200, 201 with XML, 204),
    /// with the ETag and the checksum of the stored object.
    func postResponse(bucket: String, key: String, etag: String, checksum: StoredChecksum?, fields: [String: String]) -> S3Response {
        var headers = HTTPFields()
        headers[.eTag] = "\"\(etag)\""
        if let checksum { headers[.init("x-amz-checksum-\(checksum.algorithm.headerSuffix)")!] = checksum.base64 }
        let location = "/\(bucket)/\(PercentEncoding.uriEncode(key, encodeSlash: false))"
        headers[.location] = location
        if let redirect = fields["success_action_redirect"] ?? fields["redirect"], var components = URLComponents(string: redirect),
           components.scheme != nil {
            var items = components.queryItems ?? []
            items += [URLQueryItem(name: "bucket", value: bucket), URLQueryItem(name: "key", value: key), URLQueryItem(name: "etag", value: "\"\(etag)\"")]
            components.queryItems = items
            if let url = components.string {
                headers[.location] = url
                return S3Response(status: .seeOther, headers: headers)
            }
        }
        switch fields["success_action_status"] {
        case "200": return S3Response(status: .ok, headers: headers)
        case "201":
            var doc = XMLWriter()
            doc.element("PostResponse") { x in
                x.leaf("Location", location)
                x.leaf("Bucket", bucket)
                x.leaf("Key", key)
                x.leaf("ETag", "\"\(etag)\"")
            }
            return .xml(doc, status: .created, headers: headers)
        default: return S3Response(status: .noContent, headers: headers)
        }
    }

    /// A parameter of a header value such as `multipart/form-data; boundary=xyz`.
    static func parameter(_ name: String, in value: String) -> String? {
        for part in value.split(separator: ";").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == name {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }
}

/// Collects the fields of a multipart/form-data body and hands out the `file` part's bytes
/// as they arrive (never the whole file). Parsing is MultipartKit's streaming parser.
final class PostForm {
    private let parser: MultipartParser
    /// Fields seen before the file, names lowercased.
    private(set) var fields: [String: String] = [:]
    private(set) var fieldBytes = 0
    private(set) var fileStarted = false
    private(set) var filename: String?
    private(set) var finished = false
    private var fileDone = false
    private var currentHeaders: [(String, String)] = []
    private var currentValue: [UInt8] = []
    private var inFile = false
    private var pending: [ByteBuffer] = []

    init(boundary: String) {
        parser = MultipartParser(boundary: boundary)
        parser.onHeader = { [unowned self] name, value in
            self.currentHeaders.append((name.lowercased(), value))
            self.fieldBytes += name.utf8.count + value.utf8.count
        }
        parser.onBody = { [unowned self] buffer in
            if self.currentHeaders.isEmpty == false && !self.inFile && self.currentValue.isEmpty && self.partName() == "file" && !self.fileDone {
                self.inFile = true
                self.fileStarted = true
                self.filename = self.dispositionParameter("filename")
            }
            if self.inFile {
                self.pending.append(buffer)
            } else if !self.fileDone {
                self.currentValue.append(contentsOf: buffer.readableBytesView)
                self.fieldBytes += buffer.readableBytes
            }
        }
        parser.onPartComplete = { [unowned self] in
            if self.inFile || (self.partName() == "file" && !self.fileDone) {
                if !self.inFile {
                    // An empty file: the part had no body bytes.
                    self.fileStarted = true
                    self.filename = self.dispositionParameter("filename")
                }
                self.inFile = false
                self.fileDone = true
            } else if !self.fileDone, let name = self.partName() {
                // Fields after the file are ignored, as S3 does.
                self.fields[name.lowercased()] = String(decoding: self.currentValue, as: UTF8.self)
            }
            self.currentHeaders = []
            self.currentValue = []
        }
    }

    private func dispositionParameter(_ name: String) -> String? {
        guard let disposition = currentHeaders.first(where: { $0.0 == "content-disposition" })?.1 else { return nil }
        return S3Server.parameter(name, in: disposition)
    }

    private func partName() -> String? { dispositionParameter("name") }

    func feed(_ buffer: ByteBuffer) throws {
        do {
            try parser.execute(buffer)
        } catch {
            throw S3Error(.malformedPOSTRequest)
        }
        if fileDone && !inFile { finished = true }
    }

    /// The file bytes parsed since the last call.
    func takeFileBytes() -> [ByteBuffer] {
        defer { pending = [] }
        return pending
    }
}
