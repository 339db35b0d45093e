import ObjectStore

/// The one access check of a request: what its endpoint's ``Authorization`` declares,
/// against the bucket and object ACLs, before the handler runs.
extension S3Server {
    /// Resolves the bucket (and object) the request addresses and checks the access its
    /// endpoint declares, in S3's order: NoSuchBucket before AccessDenied.
    /// - Throws: NoSuchBucket, AccessDenied, NoSuchKey.
    func authorize(_ request: S3Request) throws -> ResolvedRequest {
        let endpoint = request.endpoint
        switch endpoint.authorization {
        case .none:
            return ResolvedRequest(bucket: try endpoint.bucket.flatMap { try store.bucket(named: $0) })
        case .authenticatedUser:
            guard let user = request.user else { throw S3Error(.accessDenied) }
            return ResolvedRequest(user: user)
        case .bucketOwner:
            let bucket = try existingBucket(endpoint)
            try Self.check(bucket, userId: request.user?.id, nil)
            return ResolvedRequest(bucket: bucket)
        case .bucket(let permission):
            let bucket = try existingBucket(endpoint)
            try Self.check(bucket, userId: request.user?.id, permission)
            return ResolvedRequest(bucket: bucket)
        case .object(let permission):
            guard let bucket = endpoint.bucket, let key = endpoint.key else {
                preconditionFailure("an object authorization on an endpoint without bucket and key")
            }
            let reader = try openObject(request, bucket: bucket, key: key, permission: permission)
            return ResolvedRequest(bucket: reader.bucket, object: reader)
        }
    }

    /// The bucket the endpoint names.
    /// - Throws: NoSuchBucket.
    private func existingBucket(_ endpoint: Endpoint) throws -> BucketRecord {
        guard let name = endpoint.bucket else { preconditionFailure("a bucket authorization on an endpoint without bucket") }
        guard let bucket = try store.bucket(named: name) else {
            throw S3Error(.noSuchBucket, details: [("BucketName", name)])
        }
        return bucket
    }

    /// Throws AccessDenied unless `userId` owns `bucket` (`permission` nil) or the bucket ACL
    /// grants it `permission`. Also the check of a POST form's signer, once its policy is verified.
    static func check(_ bucket: BucketRecord, userId: String?, _ permission: Permission?) throws {
        if let permission {
            guard bucket.effectiveACL.allows(userId, permission) else { throw S3Error(.accessDenied) }
        } else {
            guard userId == bucket.ownerId else { throw S3Error(.accessDenied) }
        }
    }

    /// Opens an object the requester holds `permission` on (by the object ACL). A missing key
    /// is reported as AccessDenied to requesters who may not list the bucket, as S3 does.
    /// The `.object` check, and the one of a copy's source (a second resource, see ``copySource(_:)``).
    /// - Throws: NoSuchBucket, NoSuchKey, AccessDenied.
    func openObject(_ request: S3Request, bucket name: String, key: String, permission: Permission) throws -> any ObjectReader {
        let reader: any ObjectReader
        do {
            reader = try store.openObject(bucket: name, key: key)
        } catch ObjectStoreError.noSuchKey {
            if let bucket = try store.bucket(named: name), !bucket.effectiveACL.allows(request.user?.id, .read) {
                throw S3Error(.accessDenied)
            }
            throw S3Error(.noSuchKey)
        }
        guard reader.record.effectiveACL.allows(request.user?.id, permission) else {
            reader.close()
            throw S3Error(.accessDenied)
        }
        return reader
    }
}
