/// S3 access control lists: who may do what to a bucket or an object.
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
public enum Permission: String, Sendable, CaseIterable {
    case read = "READ"
    case write = "WRITE"
    case readACP = "READ_ACP"
    case writeACP = "WRITE_ACP"
    case fullControl = "FULL_CONTROL"
}

/// Who a grant is for.
public enum Grantee: Sendable, Equatable, Hashable {
    /// A user by canonical id (grants by e-mail are resolved to ids when set).
    case user(id: String)
    /// Everyone, signed or not.
    case allUsers
    /// Every signed-in user.
    case authenticatedUsers

    public static let allUsersURI = "http://acs.amazonaws.com/groups/global/AllUsers"
    public static let authenticatedUsersURI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
}

/// One grant of an ACL.
public struct Grant: Sendable, Equatable, Hashable {
    public var grantee: Grantee
    public var permission: Permission
    public init(_ grantee: Grantee, _ permission: Permission) {
        self.grantee = grantee
        self.permission = permission
    }
}

/// An access control list: the owner and the grants.
public struct AccessControlList: Sendable, Equatable {
    public var ownerId: String
    public var grants: [Grant]

    public init(ownerId: String, grants: [Grant]) {
        self.ownerId = ownerId
        self.grants = grants
    }

    /// The canonical id AWS uses for anonymous requesters (owner of objects they write).
    public static let anonymousId = "65a011a29cdf8ec533ec3d1ccaae921c"

    /// The canned ACLs S3 defines. `bucketOwnerId` matters for the `bucket-owner-*` ones.
    /// Returns nil for an unknown name.
    public static func canned(_ name: String, ownerId: String, bucketOwnerId: String) -> AccessControlList? {
        var grants = [Grant(.user(id: ownerId), .fullControl)]
        switch name {
        case "private": break
        case "public-read": grants.append(Grant(.allUsers, .read))
        case "public-read-write": grants += [Grant(.allUsers, .read), Grant(.allUsers, .write)]
        case "authenticated-read": grants.append(Grant(.authenticatedUsers, .read))
        case "bucket-owner-read":
            if bucketOwnerId != ownerId { grants.append(Grant(.user(id: bucketOwnerId), .read)) }
        case "bucket-owner-full-control":
            if bucketOwnerId != ownerId { grants.append(Grant(.user(id: bucketOwnerId), .fullControl)) }
        default: return nil
        }
        return AccessControlList(ownerId: ownerId, grants: grants)
    }

    /// The default: the owner has full control, nobody else anything.
    public static func privateACL(ownerId: String) -> AccessControlList {
        AccessControlList(ownerId: ownerId, grants: [Grant(.user(id: ownerId), .fullControl)])
    }

    /// Whether `userId` (nil: anonymous) holds `permission`. The owner may always read and
    /// change the ACL itself, as in S3, so an owner can never lock themselves out.
    public func allows(_ userId: String?, _ permission: Permission) -> Bool {
        if let userId, userId == ownerId, permission == .readACP || permission == .writeACP { return true }
        return grants.contains { grant in
            guard grant.permission == permission || grant.permission == .fullControl else { return false }
            switch grant.grantee {
            case .allUsers: return true
            case .authenticatedUsers: return userId != nil
            case .user(let id): return id == userId
            }
        }
    }

    func encoded() -> [UInt8] {
        var w = RecordWriter(version: 0)
        w.field(1, ownerId)
        for grant in grants {
            var g = RecordWriter(version: 0)
            switch grant.grantee {
            case .user(let id): g.field(1, id)
            case .allUsers: g.field(2, Grantee.allUsersURI)
            case .authenticatedUsers: g.field(2, Grantee.authenticatedUsersURI)
            }
            g.field(3, grant.permission.rawValue)
            w.field(2, g.bytes)
        }
        return w.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(ObjectStoreError) {
        var r = try RecordReader(bytes)
        self.init(ownerId: "", grants: [])
        while let (tag, value) = try r.next() {
            switch tag {
            case 1: ownerId = RecordReader.string(value)
            case 2:
                var g = try RecordReader(value)
                var grantee: Grantee?
                var permission: Permission?
                while let (t, v) = try g.next() {
                    switch t {
                    case 1: grantee = .user(id: RecordReader.string(v))
                    case 2: grantee = RecordReader.string(v) == Grantee.allUsersURI ? .allUsers : .authenticatedUsers
                    case 3: permission = Permission(rawValue: RecordReader.string(v))
                    default: break
                    }
                }
                if let grantee, let permission { grants.append(Grant(grantee, permission)) }
            default: break
            }
        }
    }
}

/// One CORS rule of a bucket.
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
public struct CORSRule: Sendable, Equatable {
    public var id: String?
    public var allowedOrigins: [String]
    public var allowedMethods: [String]
    public var allowedHeaders: [String]
    public var exposeHeaders: [String]
    public var maxAgeSeconds: Int?

    public init(id: String? = nil, allowedOrigins: [String], allowedMethods: [String], allowedHeaders: [String] = [],
                exposeHeaders: [String] = [], maxAgeSeconds: Int? = nil) {
        self.id = id
        self.allowedOrigins = allowedOrigins
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAgeSeconds = maxAgeSeconds
    }

    static func encode(_ rules: [CORSRule]) -> [UInt8] {
        var w = RecordWriter(version: 0)
        for rule in rules {
            var r = RecordWriter(version: 0)
            if let id = rule.id { r.field(6, id) }
            for v in rule.allowedOrigins { r.field(1, v) }
            for v in rule.allowedMethods { r.field(2, v) }
            for v in rule.allowedHeaders { r.field(3, v) }
            for v in rule.exposeHeaders { r.field(4, v) }
            if let age = rule.maxAgeSeconds { r.field(5, Int64(age)) }
            w.field(1, r.bytes)
        }
        return w.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ObjectStoreError) -> [CORSRule] {
        var w = try RecordReader(bytes)
        var rules: [CORSRule] = []
        while let (_, value) = try w.next() {
            var r = try RecordReader(value)
            var rule = CORSRule(allowedOrigins: [], allowedMethods: [])
            while let (tag, v) = try r.next() {
                switch tag {
                case 1: rule.allowedOrigins.append(RecordReader.string(v))
                case 2: rule.allowedMethods.append(RecordReader.string(v))
                case 3: rule.allowedHeaders.append(RecordReader.string(v))
                case 4: rule.exposeHeaders.append(RecordReader.string(v))
                case 5: rule.maxAgeSeconds = Int(try RecordReader.int64(v))
                case 6: rule.id = RecordReader.string(v)
                default: break
                }
            }
            rules.append(rule)
        }
        return rules
    }
}
