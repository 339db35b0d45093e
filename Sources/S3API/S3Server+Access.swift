import Foundation
import HTTPTypes
import ObjectStore

/// ACLs: the ACL a request's headers ask for, and Get/Put Bucket/Object ACL. (The access
/// check itself is ``S3Server/authorize(_:)``, before any handler.)
extension S3Server {
    /// The ACL a write asks for in its headers (`x-amz-acl` or `x-amz-grant-*`); nil for the default.
    func requestedACL(_ request: S3Request, ownerId: String, bucketOwnerId: String) throws -> AccessControlList? {
        try ObjectWriteOptions.acl(.headers(request), ownerId: ownerId, bucketOwnerId: bucketOwnerId, grantee: grantee)
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

    func getBucketACL(_ request: S3Request, bucket: BucketRecord) throws -> S3Response {
        .xml(aclDocument(bucket.effectiveACL))
    }

    func putBucketACL(_ request: S3Request, bucket: BucketRecord) async throws -> S3Response {
        let acl = try await aclFromPutRequest(request, ownerId: bucket.ownerId, bucketOwnerId: bucket.ownerId)
        try await store.updateBucket(name: bucket.name) { $0.acl = acl }
        return S3Response()
    }

    func getObjectACL(_ request: S3Request, object reader: any ObjectReader) throws -> S3Response {
        defer { reader.close() }
        return .xml(aclDocument(reader.record.effectiveACL))
    }

    func putObjectACL(_ request: S3Request, object reader: any ObjectReader) async throws -> S3Response {
        let (bucket, key, owner) = (reader.bucket, reader.key, reader.record.ownerId)
        // Not held while the body arrives: the snapshot is only needed for the check.
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
