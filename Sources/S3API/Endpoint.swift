import Digests

/// The S3 operation a request asks for, decided once from method, path and query keywords.
///
/// One parser, one enum, one switch (as Garage's `router.rs`): a path router cannot tell
/// `GET /bucket?uploads` from `GET /bucket?cors`.
enum Endpoint: Equatable, Sendable {
    case listBuckets
    case createBucket(bucket: String)
    case deleteBucket(bucket: String)
    case headBucket(bucket: String)
    case getBucketLocation(bucket: String)
    case getBucketVersioning(bucket: String)
    case listObjects(bucket: String)
    case listObjectsV2(bucket: String)
    case listObjectVersions(bucket: String)
    case deleteObjects(bucket: String)
    case putObject(bucket: String, key: String)
    case copyObject(bucket: String, key: String)
    case getObject(bucket: String, key: String)
    case headObject(bucket: String, key: String)
    case deleteObject(bucket: String, key: String)
    case createMultipartUpload(bucket: String, key: String)
    case uploadPart(bucket: String, key: String)
    case uploadPartCopy(bucket: String, key: String)
    case completeMultipartUpload(bucket: String, key: String)
    case abortMultipartUpload(bucket: String, key: String)
    case listParts(bucket: String, key: String)
    case listMultipartUploads(bucket: String)
    case getBucketACL(bucket: String)
    case putBucketACL(bucket: String)
    case getObjectACL(bucket: String, key: String)
    case putObjectACL(bucket: String, key: String)
    /// `GET /bucket/key?attributes`: the attributes `x-amz-object-attributes` names.
    case getObjectAttributes(bucket: String, key: String)
    case getBucketCORS(bucket: String)
    case putBucketCORS(bucket: String)
    case deleteBucketCORS(bucket: String)
    case getBucketNotification(bucket: String)
    case putBucketNotification(bucket: String)
    /// A CORS preflight (`OPTIONS`), answered without authentication.
    case preflight(bucket: String, key: String?)
    /// Browser form upload: `POST /bucket` with multipart/form-data.
    case postObject(bucket: String)
    /// A known S3 operation Shoebox does not implement yet: answered with 501 NotImplemented.
    case notImplemented(operation: String, bucket: String?)

    /// The bucket the operation addresses, if any.
    var bucket: String? {
        switch self {
        case .listBuckets: nil
        case .createBucket(let b), .deleteBucket(let b), .headBucket(let b), .getBucketLocation(let b),
             .getBucketVersioning(let b), .listObjects(let b), .listObjectsV2(let b), .listObjectVersions(let b),
             .deleteObjects(let b), .listMultipartUploads(let b), .getBucketACL(let b), .putBucketACL(let b),
             .getBucketCORS(let b), .putBucketCORS(let b), .deleteBucketCORS(let b), .postObject(let b), .preflight(let b, _),
             .getBucketNotification(let b), .putBucketNotification(let b):
            b
        case .putObject(let b, _), .copyObject(let b, _), .getObject(let b, _), .headObject(let b, _), .deleteObject(let b, _),
             .createMultipartUpload(let b, _), .uploadPart(let b, _), .uploadPartCopy(let b, _),
             .completeMultipartUpload(let b, _), .abortMultipartUpload(let b, _), .listParts(let b, _),
             .getObjectACL(let b, _), .putObjectACL(let b, _), .getObjectAttributes(let b, _):
            b
        case .notImplemented(_, let b): b
        }
    }

    /// The object key the operation addresses, if any.
    var key: String? {
        switch self {
        case .putObject(_, let k), .copyObject(_, let k), .getObject(_, let k), .headObject(_, let k), .deleteObject(_, let k),
             .createMultipartUpload(_, let k), .uploadPart(_, let k), .uploadPartCopy(_, let k),
             .completeMultipartUpload(_, let k), .abortMultipartUpload(_, let k), .listParts(_, let k),
             .getObjectACL(_, let k), .putObjectACL(_, let k), .getObjectAttributes(_, let k):
            k
        default: nil
        }
    }

    /// Whether the operation reads a request body (so `Expect: 100-continue` matters).
    var takesBody: Bool {
        switch self {
        case .putObject, .deleteObjects, .createBucket, .uploadPart, .completeMultipartUpload, .createMultipartUpload,
             .putBucketACL, .putObjectACL, .putBucketCORS, .postObject, .putBucketNotification:
            true
        default: false
        }
    }

    /// Bucket sub-resources S3 defines that Shoebox does not implement yet, by method.
    private static let bucketSubresources: [String: String] = [
        "policy": "BucketPolicy", "policyStatus": "BucketPolicyStatus", "lifecycle": "BucketLifecycleConfiguration",
        "tagging": "BucketTagging", "website": "BucketWebsite", "encryption": "BucketEncryption",
        "replication": "BucketReplication", "logging": "BucketLogging", "requestPayment": "BucketRequestPayment",
        "accelerate": "BucketAccelerateConfiguration", "object-lock": "ObjectLockConfiguration",
        "ownershipControls": "BucketOwnershipControls", "publicAccessBlock": "PublicAccessBlock",
        "analytics": "BucketAnalyticsConfiguration", "inventory": "BucketInventoryConfiguration",
        "metrics": "BucketMetricsConfiguration", "intelligent-tiering": "BucketIntelligentTieringConfiguration",
    ]
    private static let objectSubresources: [String: String] = [
        "tagging": "ObjectTagging", "retention": "ObjectRetention", "legal-hold": "ObjectLegalHold",
        "torrent": "GetObjectTorrent", "restore": "RestoreObject", "select": "SelectObjectContent",
        "attributes": "ObjectAttributes", "versionId": "object versions",
    ]

    private static func verb(_ method: String) -> String {
        switch method {
        case "GET": "Get"
        case "PUT": "Put"
        case "DELETE": "Delete"
        case "POST": "Post"
        default: method
        }
    }

    /// Decides the endpoint. `bucket` and `key` are already percent-decoded (key nil or empty
    /// for bucket-level requests); `query` holds decoded query parameters.
    static func from(method: String, bucket: String?, key: String?, query: QueryParameters, hasCopySource: Bool) throws -> Endpoint {
        guard let bucket else {
            if method == "GET" || method == "HEAD" { return .listBuckets }
            throw S3Error(.methodNotAllowed)
        }
        if method == "OPTIONS" { return .preflight(bucket: bucket, key: key.flatMap { $0.isEmpty ? nil : $0 }) }
        if let key, !key.isEmpty {
            // Other methods on `?attributes`, and other versions, stay NotImplemented below.
            if method == "GET", query.has("attributes"), (query["versionId"] ?? "null") == "null" {
                return .getObjectAttributes(bucket: bucket, key: key)
            }
            // versionId=null is the only version of an object in an unversioned bucket.
            if let name = query.names.first(where: { objectSubresources[$0] != nil }),
               !(name == "versionId" && query["versionId"] == "null") {
                return .notImplemented(operation: "\(verb(method))\(objectSubresources[name]!)", bucket: bucket)
            }
            if query.has("acl") {
                switch method {
                case "GET": return .getObjectACL(bucket: bucket, key: key)
                case "PUT": return .putObjectACL(bucket: bucket, key: key)
                default: throw S3Error(.methodNotAllowed)
                }
            }
            if query.has("uploadId") {
                switch method {
                case "PUT":
                    guard query.has("partNumber") else { throw S3Error(.invalidArgument, "partNumber is required with uploadId") }
                    return hasCopySource ? .uploadPartCopy(bucket: bucket, key: key) : .uploadPart(bucket: bucket, key: key)
                case "POST": return .completeMultipartUpload(bucket: bucket, key: key)
                case "DELETE": return .abortMultipartUpload(bucket: bucket, key: key)
                case "GET": return .listParts(bucket: bucket, key: key)
                default: throw S3Error(.methodNotAllowed)
                }
            }
            switch method {
            case "GET": return .getObject(bucket: bucket, key: key)
            case "HEAD": return .headObject(bucket: bucket, key: key)
            case "PUT": return hasCopySource ? .copyObject(bucket: bucket, key: key) : .putObject(bucket: bucket, key: key)
            case "DELETE": return .deleteObject(bucket: bucket, key: key)
            case "POST":
                if query.has("uploads") { return .createMultipartUpload(bucket: bucket, key: key) }
                return .notImplemented(operation: "POST on an object", bucket: bucket)
            default: throw S3Error(.methodNotAllowed)
            }
        }
        switch method {
        case "GET":
            if query.has("location") { return .getBucketLocation(bucket: bucket) }
            if query.has("versioning") { return .getBucketVersioning(bucket: bucket) }
            if query.has("versions") { return .listObjectVersions(bucket: bucket) }
            if query.has("uploads") { return .listMultipartUploads(bucket: bucket) }
            if query.has("acl") { return .getBucketACL(bucket: bucket) }
            if query.has("cors") { return .getBucketCORS(bucket: bucket) }
            if query.has("notification") { return .getBucketNotification(bucket: bucket) }
            if let name = query.names.first(where: { bucketSubresources[$0] != nil }) {
                return .notImplemented(operation: "Get\(bucketSubresources[name]!)", bucket: bucket)
            }
            return query["list-type"] == "2" ? .listObjectsV2(bucket: bucket) : .listObjects(bucket: bucket)
        case "HEAD":
            return .headBucket(bucket: bucket)
        case "PUT":
            if query.has("versioning") { return .notImplemented(operation: "PutBucketVersioning", bucket: bucket) }
            if query.has("acl") { return .putBucketACL(bucket: bucket) }
            if query.has("cors") { return .putBucketCORS(bucket: bucket) }
            if query.has("notification") { return .putBucketNotification(bucket: bucket) }
            if let name = query.names.first(where: { bucketSubresources[$0] != nil }) {
                return .notImplemented(operation: "Put\(bucketSubresources[name]!)", bucket: bucket)
            }
            return .createBucket(bucket: bucket)
        case "DELETE":
            if query.has("cors") { return .deleteBucketCORS(bucket: bucket) }
            if let name = query.names.first(where: { bucketSubresources[$0] != nil }) {
                return .notImplemented(operation: "Delete\(bucketSubresources[name]!)", bucket: bucket)
            }
            return .deleteBucket(bucket: bucket)
        case "POST":
            if query.has("delete") { return .deleteObjects(bucket: bucket) }
            if query.names.contains(where: { bucketSubresources[$0] != nil }) { throw S3Error(.methodNotAllowed) }
            return .postObject(bucket: bucket)
        default:
            throw S3Error(.methodNotAllowed)
        }
    }
}

/// Decoded query parameters in arrival order.
struct QueryParameters: Sendable {
    private(set) var pairs: [(name: String, value: String)] = []

    init(raw: String) {
        for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
            if let eq = part.firstIndex(of: "=") {
                pairs.append((PercentEncoding.decode(part[..<eq], plusAsSpace: true) ?? String(part[..<eq]),
                              PercentEncoding.decode(part[part.index(after: eq)...], plusAsSpace: true) ?? String(part[part.index(after: eq)...])))
            } else {
                pairs.append((PercentEncoding.decode(part, plusAsSpace: true) ?? String(part), ""))
            }
        }
    }

    var names: [String] { pairs.map(\.name) }
    func has(_ name: String) -> Bool { pairs.contains { $0.name == name } }
    subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }
}
