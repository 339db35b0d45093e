import Digests
import Foundation
import HTTPTypes
import NIOCore
import ObjectStore

/// Bucket operations: CreateBucket, DeleteBucket, HeadBucket, ListBuckets, GetBucketLocation,
/// GetBucketVersioning.
extension S3Server {
    /// Largest ListBuckets page, and the page size AWS applies when paging parameters come
    /// without `max-buckets`.
    static let maxBucketsPerPage = 10_000

    /// ListBuckets, paged as AWS has allowed since 2024 (`max-buckets`, `continuation-token`,
    /// `prefix`, `bucket-region`); without any of them, every bucket in one answer as before.
    func listBuckets(_ request: S3Request, user: S3User) throws -> S3Response {
        let q = request.query
        let paged = ["max-buckets", "continuation-token", "prefix", "bucket-region"].contains { q[$0] != nil }
        var maxBuckets = paged ? Self.maxBucketsPerPage : Int.max
        if let value = q["max-buckets"] {
            guard let n = Int(value), (1...Self.maxBucketsPerPage).contains(n) else {
                throw S3Error(.invalidArgument, "Argument max-buckets must be an integer between 1 and 10000",
                              details: [("ArgumentName", "max-buckets"), ("ArgumentValue", value)])
            }
            maxBuckets = n
        }
        // ListBuckets documents a token of length 0 as valid (ListObjectsV2 refuses one).
        let after = try q["continuation-token"].flatMap { $0.isEmpty ? nil : $0 }.map(ContinuationToken.name)
        let prefix = q["prefix"] ?? ""
        let region = q["bucket-region"]
        // The store lists a user's buckets by name; there are few (AWS allows 10,000), so the
        // filters run here.
        let matching = try store.listBuckets(ownerId: user.id).filter { bucket in
            bucket.name.hasPrefix(prefix) && (region == nil || bucket.region == region) && (after.map { $0 < bucket.name } ?? true)
        }
        let page = matching.prefix(maxBuckets)
        var doc = XMLWriter()
        doc.element("ListAllMyBucketsResult", namespace: true) { x in
            x.element("Owner") { x in
                x.leaf("ID", user.id)
                x.leaf("DisplayName", user.displayName)
            }
            x.element("Buckets") { x in
                for bucket in page {
                    x.element("Bucket") { x in
                        x.leaf("Name", bucket.name)
                        x.leaf("CreationDate", ISO8601Date.format(bucket.created))
                        x.leaf("BucketRegion", bucket.region)
                    }
                }
            }
            if page.count < matching.count, let last = page.last { x.leaf("ContinuationToken", ContinuationToken.make(after: last.name)) }
            x.leaf("Prefix", q["prefix"])
        }
        return .xml(doc)
    }

    /// - Parameter user: the signed-in user who will own it (the bucket is not resolved:
    ///   BucketAlreadyExists and BucketAlreadyOwnedByYou come from the store).
    func createBucket(_ request: S3Request, name: String, user: S3User) async throws -> S3Response {
        guard BucketRecord.isValidName(name) else { throw S3Error(.invalidBucketName, details: [("BucketName", name)]) }
        let acl = try requestedACL(request, ownerId: user.id, bucketOwnerId: user.id)
        let body = try await readSmallBody(request, limit: 64 << 10)
        if body.readableBytes > 0 {
            guard let root = XMLElement.parse(Data(body.readableBytesView)), root.name == "CreateBucketConfiguration" else {
                throw S3Error(.malformedXML)
            }
            let constraint = root.child("LocationConstraint")?.text ?? ""
            if !constraint.isEmpty && constraint != options.region {
                throw S3Error(.illegalLocationConstraint,
                              "The \(constraint) location constraint is incompatible for the region specific endpoint this request was sent to.")
            }
        }
        do {
            try await store.createBucket(name: name, ownerId: user.id, region: options.region, acl: acl)
        } catch ObjectStoreError.bucketAlreadyOwnedByYou where options.region == "us-east-1" {
            // AWS keeps a legacy behaviour in us-east-1: re-creating your own bucket succeeds.
            // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
        }
        var headers = HTTPFields()
        headers[.location] = "/\(name)"
        return S3Response(headers: headers)
    }

    func deleteBucket(_ request: S3Request, bucket: BucketRecord) async throws -> S3Response {
        try await store.deleteBucket(name: bucket.name)
        return S3Response(status: .noContent)
    }

    func headBucket(_ request: S3Request, bucket: BucketRecord) -> S3Response {
        var headers = HTTPFields()
        headers[.init("x-amz-bucket-region")!] = bucket.region
        return S3Response(headers: headers)
    }

    func getBucketLocation(_ request: S3Request, bucket: BucketRecord) -> S3Response {
        var doc = XMLWriter()
        // us-east-1 is reported as an empty constraint, as AWS does.
        doc.element("LocationConstraint", namespace: true) { x in
            if bucket.region != "us-east-1" { x.text += XMLWriter.escape(bucket.region) }
        }
        return .xml(doc)
    }

    func getBucketVersioning(_ request: S3Request, bucket: BucketRecord) -> S3Response {
        var doc = XMLWriter()
        // Versioning has never been enabled: AWS answers with an empty configuration.
        doc.element("VersioningConfiguration", namespace: true) { _ in }
        return .xml(doc)
    }

    /// Collects a small request body (XML documents), refusing more than `limit` bytes.
    func readSmallBody(_ request: S3Request, limit: Int) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        for try await part in request.body {
            guard collected.readableBytes + part.readableBytes <= limit else {
                throw S3Error(.entityTooLarge, "The request body is larger than \(limit) bytes.")
            }
            var part = part
            collected.writeBuffer(&part)
        }
        if let declared = request.header("content-length").flatMap(Int.init), declared != collected.readableBytes {
            throw S3Error(.incompleteBody)
        }
        return collected
    }
}
