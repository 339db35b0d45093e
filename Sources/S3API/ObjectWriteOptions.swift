import Digests
import Foundation
import ObjectStore

/// What a write asks to store besides the body: metadata (content headers and
/// `x-amz-meta-*`) and an ACL, parsed by one parser from headers or from a POST form's
/// fields (see ``WriteOptionSource``), so both obey the same rules and limits.
struct ObjectWriteOptions {
    /// Largest total of user metadata names and values, as S3.
    static let maxUserMetadataBytes = 2048

    /// Content headers and user metadata to store.
    var metadata: ObjectMetadata
    /// The ACL asked for; nil for the default.
    var acl: AccessControlList?

    /// Parses the ACL, then the metadata (the order their errors are reported in).
    /// - Parameter grantee: resolves a grant's `type=value` (`id`, `emailaddress`, `uri`).
    init(_ source: WriteOptionSource, ownerId: String, bucketOwnerId: String,
         grantee: (_ type: String, _ value: String) throws -> Grantee) throws {
        acl = try Self.acl(source, ownerId: ownerId, bucketOwnerId: bucketOwnerId, grantee: grantee)
        metadata = try Self.metadata(source)
    }

    /// Content headers and `x-amz-meta-*` fields.
    /// - Throws: InvalidArgument when user metadata exceeds 2 KB (AWS says MetadataTooLarge;
    ///   Shoebox has always answered InvalidArgument, for PUT and POST alike).
    static func metadata(_ source: WriteOptionSource) throws -> ObjectMetadata {
        var metadata = ObjectMetadata()
        metadata.contentType = source.value("content-type")
        for name in ObjectMetadata.storedContentHeaders {
            if let value = source.value(name) { metadata.contentHeaders[name] = value }
        }
        // `aws-chunked` describes the transfer, not the object: it is not stored (as AWS).
        // Any other value is stored exactly as sent, spacing and case included.
        if let encoding = metadata.contentHeaders["content-encoding"] {
            let items = encoding.split(separator: ",", omittingEmptySubsequences: false)
            let kept = items.filter { $0.trimmingCharacters(in: .whitespaces).lowercased() != "aws-chunked" }
            if kept.count != items.count {
                let rest = kept.joined(separator: ",").trimmingCharacters(in: .whitespaces)
                metadata.contentHeaders["content-encoding"] = rest.isEmpty ? nil : rest
            }
        }
        var userSize = 0
        source.forEachField(prefixed: "x-amz-meta-") { short, sent in
            // Stored as text: RFC 2047 words are decoded (and encoded again on the way out).
            let value = EncodedWords.decode(sent) ?? sent
            // Repeated metadata headers are joined as S3 does.
            metadata.user[short] = metadata.user[short].map { $0 + "," + value } ?? value
            userSize += short.utf8.count + value.utf8.count
        }
        guard userSize <= maxUserMetadataBytes else {
            throw S3Error(.invalidArgument, "Your metadata headers exceed the maximum allowed metadata size (2 KB).")
        }
        return metadata
    }

    /// The ACL a write asks for with a canned ACL or `x-amz-grant-*`; nil for the default.
    static func acl(_ source: WriteOptionSource, ownerId: String, bucketOwnerId: String,
                    grantee: (_ type: String, _ value: String) throws -> Grantee) throws -> AccessControlList? {
        let grantFields: [(String, Permission)] = [
            ("x-amz-grant-read", .read), ("x-amz-grant-write", .write), ("x-amz-grant-read-acp", .readACP),
            ("x-amz-grant-write-acp", .writeACP), ("x-amz-grant-full-control", .fullControl),
        ]
        let grants = source.carriesGrants ? grantFields.compactMap { name, permission in source.value(name).map { ($0, permission) } } : []
        if let canned = source.value(source.cannedACLName) {
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
                acl.grants.append(Grant(try grantee(parts[0].lowercased(), target), permission))
            }
        }
        return acl
    }

    /// `x-amz-checksum-algorithm` of a CreateMultipartUpload: the checksum each part carries.
    static func checksumAlgorithm(_ source: WriteOptionSource) throws -> ChecksumAlgorithm? {
        guard let value = source.value("x-amz-checksum-algorithm") else { return nil }
        guard let parsed = ChecksumAlgorithm(rawValue: value.uppercased()) else {
            throw S3Error(.invalidRequest, "Checksum algorithm \(value) is not supported.")
        }
        return parsed
    }

    /// `x-amz-checksum-type` of a CreateMultipartUpload, or the default AWS gives `algorithm`:
    /// FULL_OBJECT for CRC64NVME (its only type), COMPOSITE otherwise. The digests (SHA1,
    /// SHA256) cannot be combined, so only CRCs may be FULL_OBJECT.
    /// - Throws: InvalidRequest for a type without an algorithm or that it cannot have.
    static func checksumType(_ source: WriteOptionSource, algorithm: ChecksumAlgorithm?) throws -> ChecksumType? {
        guard let value = source.value("x-amz-checksum-type") else {
            return algorithm.map { $0 == .crc64nvme ? .fullObject : .composite }
        }
        guard let type = ChecksumType(rawValue: value.uppercased()) else {
            throw S3Error(.invalidRequest, "Value for x-amz-checksum-type header is invalid.")
        }
        guard let algorithm else {
            throw S3Error(.invalidRequest, "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
        }
        let allowed: Bool = switch algorithm {
        case .crc32, .crc32c: true
        case .crc64nvme: type == .fullObject
        case .sha1, .sha256: type == .composite
        }
        guard allowed else {
            throw S3Error(.invalidRequest, "The \(type.rawValue) checksum type cannot be used with the \(algorithm.headerSuffix) checksum algorithm.")
        }
        return type
    }
}
