import ObjectStore

/// The one access check of a request: what its endpoint's ``Authorization`` declares,
/// against the bucket and object ACLs, before the handler runs.
extension S3Server {
    /// The header naming the owner a request expects of the bucket it addresses.
    static let expectedBucketOwnerHeader = "x-amz-expected-bucket-owner"
    /// The header naming the owner a copy expects of its source's bucket.
    static let expectedSourceBucketOwnerHeader = "x-amz-source-expected-bucket-owner"

    /// Resolves the bucket (and object) the request addresses and checks the access its
    /// endpoint declares, in S3's order: NoSuchBucket, then the expected bucket owner, then
    /// the ACL (so a mismatch is refused whatever the requester could do).
    /// - Throws: NoSuchBucket, AccessDenied, NoSuchKey.
    func authorize(_ request: S3Request) throws -> ResolvedRequest {
        let endpoint = request.endpoint
        let expectedOwner = request.header(Self.expectedBucketOwnerHeader)
        switch endpoint.authorization {
        case .none:
            let bucket = try endpoint.bucket.flatMap { try store.bucket(named: $0) }
            if let bucket { try Self.checkOwner(of: bucket, expected: expectedOwner) }
            return ResolvedRequest(bucket: bucket)
        case .authenticatedUser:
            // ListBuckets and CreateBucket address no existing bucket: there is no owner to expect.
            guard let user = request.user else { throw S3Error(.accessDenied) }
            return ResolvedRequest(user: user)
        case .bucketOwner:
            let bucket = try existingBucket(endpoint)
            try Self.checkOwner(of: bucket, expected: expectedOwner)
            try Self.check(bucket, userId: request.user?.id, nil)
            return ResolvedRequest(bucket: bucket)
        case .bucket(let permission):
            let bucket = try existingBucket(endpoint)
            try Self.checkOwner(of: bucket, expected: expectedOwner)
            try Self.check(bucket, userId: request.user?.id, permission)
            return ResolvedRequest(bucket: bucket)
        case .object(let permission):
            guard let bucket = endpoint.bucket, let key = endpoint.key else {
                preconditionFailure("an object authorization on an endpoint without bucket and key")
            }
            let reader = try openObject(request, bucket: bucket, key: key, permission: permission,
                                        expectedOwnerHeader: Self.expectedBucketOwnerHeader)
            return ResolvedRequest(bucket: reader.bucket, object: reader)
        }
    }

    /// Throws AccessDenied when the request expects another owner of `bucket` than its own
    /// (`expected` nil: no expectation). AWS names the owner by account id; Shoebox has no
    /// accounts, so the value is compared with the owner's canonical user id.
    /// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html
    static func checkOwner(of bucket: BucketRecord, expected: String?) throws {
        if let expected, expected != bucket.ownerId { throw S3Error(.accessDenied) }
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

    /// Opens an object the requester holds `permission` on (by the object ACL), in a bucket
    /// owned by whom the header `expectedOwnerHeader` names, if present. A missing key is
    /// reported as AccessDenied to requesters who may not list the bucket, as S3 does.
    /// The `.object` check, and the one of a copy's source (a second resource, see ``copySource(_:)``).
    /// - Throws: NoSuchBucket, NoSuchKey, AccessDenied.
    func openObject(_ request: S3Request, bucket name: String, key: String, permission: Permission,
                    expectedOwnerHeader: String) throws -> any ObjectReader {
        let expectedOwner = request.header(expectedOwnerHeader)
        let reader: any ObjectReader
        do {
            reader = try store.openObject(bucket: name, key: key)
        } catch ObjectStoreError.noSuchKey {
            if let bucket = try store.bucket(named: name) {
                try Self.checkOwner(of: bucket, expected: expectedOwner)
                if !bucket.effectiveACL.allows(request.user?.id, .read) { throw S3Error(.accessDenied) }
            }
            throw S3Error(.noSuchKey)
        }
        do {
            try Self.checkOwner(of: reader.bucket, expected: expectedOwner)
        } catch {
            reader.close()
            throw error
        }
        guard reader.record.effectiveACL.allows(request.user?.id, permission) else {
            reader.close()
            throw S3Error(.accessDenied)
        }
        return reader
    }
}
