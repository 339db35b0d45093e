import Foundation
import HTTPTypes
import ObjectStore

/// Access control: checks against bucket and object ACLs, ACLs from request headers, and
/// Get/Put Bucket/Object ACL.
extension S3Server {
    /// What an operation needs on a bucket.
    enum BucketAccess {
        /// Only the bucket owner (configuration such as CORS, location, deletion).
        case owner
        /// A permission granted by the bucket ACL.
        case permission(Permission)
    }

    /// The bucket `name` if the requester may use it as `access` says.
    /// - Throws: NoSuchBucket, AccessDenied.
    func bucket(_ request: S3Request, _ name: String, _ access: BucketAccess) throws -> BucketRecord {
        guard let bucket = try store.bucket(named: name) else {
            throw S3Error(.noSuchBucket, details: [("BucketName", name)])
        }
        switch access {
        case .owner:
            guard request.user?.id == bucket.ownerId else { throw S3Error(.accessDenied) }
        case .permission(let permission):
            guard bucket.effectiveACL.allows(request.user?.id, permission) else { throw S3Error(.accessDenied) }
        }
        return bucket
    }

    /// Opens an object the requester may read (object ACL READ). A missing key is reported
    /// as AccessDenied to requesters who may not list the bucket, as S3 does.
    func openReadable(_ request: S3Request, bucket name: String, key: String, permission: Permission = .read) throws -> any ObjectReader {
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

    /// The ACL a write asks for with `x-amz-acl` or `x-amz-grant-*`; nil for the default.
    func requestedACL(_ request: S3Request, ownerId: String, bucketOwnerId: String) throws -> AccessControlList? {
        let grantHeaders: [(String, Permission)] = [
            ("x-amz-grant-read", .read), ("x-amz-grant-write", .write), ("x-amz-grant-read-acp", .readACP),
            ("x-amz-grant-write-acp", .writeACP), ("x-amz-grant-full-control", .fullControl),
        ]
        let grants = grantHeaders.compactMap { name, permission in request.header(name).map { ($0, permission) } }
        if let canned = request.header("x-amz-acl") {
            guard grants.isEmpty else {
                throw S3Error(.invalidRequest, "Specifying both Canned ACLs and Header Grants is not allowed")
            }
            guard let acl = AccessControlList.canned(canned, ownerId: ownerId, bucketOwnerId: bucketOwnerId) else {
                throw S3Error(.invalidArgument, "Invalid canned ACL: \(canned)")
            }
            return acl
        }
        guard !grants.isEmpty else { return nil }
        var acl = AccessControlList(ownerId: ownerId, grants: [])
        for (value, permission) in grants {
            for item in value.split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { throw S3Error(.invalidArgument, "Invalid grant: \(item)") }
                let target = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                acl.grants.append(Grant(try grantee(type: parts[0].lowercased(), value: target), permission))
            }
        }
        return acl
    }

    /// Resolves a grantee named by id, e-mail or group URI to a stored grantee.
    func grantee(type: String, value: String) throws -> Grantee {
        switch type {
        case "id":
            guard users.user(id: value) != nil else { throw S3Error(.invalidArgument, "Invalid id: \(value)") }
            return .user(id: value)
        case "emailaddress":
            guard let user = users.user(email: value) else { throw S3Error(.unresolvableGrantByEmailAddress) }
            return .user(id: user.id)
        case "uri":
            switch value {
            case Grantee.allUsersURI: return .allUsers
            case Grantee.authenticatedUsersURI: return .authenticatedUsers
            default: throw S3Error(.invalidArgument, "Invalid group uri: \(value)")
            }
        default:
            throw S3Error(.invalidArgument, "Argument format not recognized: \(type)")
        }
    }

    // MARK: Get/Put ACL

    func getBucketACL(_ request: S3Request, name: String) throws -> S3Response {
        let bucket = try bucket(request, name, .permission(.readACP))
        return .xml(aclDocument(bucket.effectiveACL))
    }

    func putBucketACL(_ request: S3Request, name: String) async throws -> S3Response {
        let bucket = try bucket(request, name, .permission(.writeACP))
        let acl = try await aclFromPutRequest(request, ownerId: bucket.ownerId, bucketOwnerId: bucket.ownerId)
        try await store.updateBucket(name: name) { $0.acl = acl }
        return S3Response()
    }

    func getObjectACL(_ request: S3Request, bucket name: String, key: String) throws -> S3Response {
        // READ_ACP on the object is all it takes (not READ on the bucket).
        let reader = try openReadable(request, bucket: name, key: key, permission: .readACP)
        defer { reader.close() }
        return .xml(aclDocument(reader.record.effectiveACL))
    }

    func putObjectACL(_ request: S3Request, bucket name: String, key: String) async throws -> S3Response {
        guard let bucket = try store.bucket(named: name) else { throw S3Error(.noSuchBucket, details: [("BucketName", name)]) }
        let reader = try openReadable(request, bucket: name, key: key, permission: .writeACP)
        let owner = reader.record.ownerId
        reader.close()
        let acl = try await aclFromPutRequest(request, ownerId: owner, bucketOwnerId: bucket.ownerId)
        try await store.updateObject(bucket: bucket, key: key) { $0.acl = acl }
        return S3Response()
    }

    /// The ACL of a PutBucketAcl/PutObjectAcl: from headers, or from the AccessControlPolicy body.
    private func aclFromPutRequest(_ request: S3Request, ownerId: String, bucketOwnerId: String) async throws -> AccessControlList {
        let body = try await readSmallBody(request, limit: 64 << 10)
        if let acl = try requestedACL(request, ownerId: ownerId, bucketOwnerId: bucketOwnerId) {
            guard body.readableBytes == 0 else {
                throw S3Error(.unexpectedContent, "This request does not support content when ACL headers are given")
            }
            return acl
        }
        guard body.readableBytes > 0, let root = XMLElement.parse(Data(body.readableBytesView)), root.name == "AccessControlPolicy" else {
            throw S3Error(.malformedACLError)
        }
        if let owner = root.child("Owner")?.child("ID")?.text, owner != ownerId {
            throw S3Error(.accessDenied, "The owner in the AccessControlPolicy is not the owner of the resource.")
        }
        var acl = AccessControlList(ownerId: ownerId, grants: [])
        for grant in root.child("AccessControlList")?.children("Grant") ?? [] {
            guard let granteeElement = grant.child("Grantee"), let permissionText = grant.child("Permission")?.text,
                  let permission = Permission(rawValue: permissionText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw S3Error(.malformedACLError)
            }
            let grantee: Grantee
            if let id = granteeElement.child("ID")?.text {
                grantee = try self.grantee(type: "id", value: id.trimmingCharacters(in: .whitespacesAndNewlines))
            } else if let email = granteeElement.child("EmailAddress")?.text {
                grantee = try self.grantee(type: "emailaddress", value: email.trimmingCharacters(in: .whitespacesAndNewlines))
            } else if let uri = granteeElement.child("URI")?.text {
                grantee = try self.grantee(type: "uri", value: uri.trimmingCharacters(in: .whitespacesAndNewlines))
            } else {
                throw S3Error(.malformedACLError)
            }
            acl.grants.append(Grant(grantee, permission))
        }
        return acl
    }

    /// The AccessControlPolicy document for `acl`.
    func aclDocument(_ acl: AccessControlList) -> XMLWriter {
        var doc = XMLWriter()
        doc.element("AccessControlPolicy", namespace: true) { x in
            x.element("Owner") { x in
                x.leaf("ID", acl.ownerId)
                x.leaf("DisplayName", users.user(id: acl.ownerId)?.displayName)
            }
            x.element("AccessControlList") { x in
                for grant in acl.grants {
                    x.element("Grant") { x in
                        switch grant.grantee {
                        case .user(let id):
                            x.element("Grantee", attributes: [("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"), ("xsi:type", "CanonicalUser")]) { x in
                                x.leaf("ID", id)
                                x.leaf("DisplayName", users.user(id: id)?.displayName)
                            }
                        case .allUsers, .authenticatedUsers:
                            x.element("Grantee", attributes: [("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"), ("xsi:type", "Group")]) { x in
                                x.leaf("URI", grant.grantee == .allUsers ? Grantee.allUsersURI : Grantee.authenticatedUsersURI)
                            }
                        }
                        x.leaf("Permission", grant.permission.rawValue)
                    }
                }
            }
        }
        return doc
    }
}

extension S3Request {
    /// The canonical id recorded as owner of what this request creates.
    var requesterId: String { user?.id ?? AccessControlList.anonymousId }
}
