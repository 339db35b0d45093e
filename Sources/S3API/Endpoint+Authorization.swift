import ObjectStore

extension Endpoint {
    /// The access this operation needs, checked by ``S3Server/authorize(_:)`` before the
    /// handler runs. No `default:`: a new endpoint does not compile until it declares one.
    var authorization: Authorization {
        switch self {
        case .listBuckets, .createBucket: .authenticatedUser
        case .preflight, .postObject: .none
        case .deleteBucket, .getBucketLocation, .getBucketVersioning, .getBucketCORS, .putBucketCORS, .deleteBucketCORS,
             .getBucketNotification, .putBucketNotification:
            .bucketOwner
        case .headBucket, .listObjects, .listObjectsV2, .listObjectVersions, .listMultipartUploads: .bucket(.read)
        // ListParts needs WRITE, as Shoebox has always asked (the upload's initiator writes).
        case .deleteObjects, .putObject, .copyObject, .deleteObject, .createMultipartUpload, .uploadPart, .uploadPartCopy,
             .completeMultipartUpload, .abortMultipartUpload, .listParts:
            .bucket(.write)
        case .getBucketACL: .bucket(.readACP)
        case .putBucketACL: .bucket(.writeACP)
        // AWS asks s3:GetObject and s3:GetObjectAttributes: both are object READ here.
        case .getObject, .headObject, .getObjectAttributes: .object(.read)
        // READ_ACP / WRITE_ACP on the object is all it takes (not READ on the bucket).
        case .getObjectACL: .object(.readACP)
        case .putObjectACL: .object(.writeACP)
        // A missing bucket, then the owner rule, are reported before NotImplemented, as S3 does.
        case .notImplemented(_, let bucket): bucket == nil ? .none : .bucketOwner
        }
    }
}
