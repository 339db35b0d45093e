public import Foundation

/// A bucket as stored: name → record in the `buckets` database.
public struct BucketRecord: Sendable, Equatable {
    static let formatVersion: UInt8 = 1

    /// The bucket name.
    public var name: String
    /// Internal numeric id; object keys are prefixed with it, so a re-created bucket starts empty.
    public var id: UInt64
    /// Canonical user id of the owner.
    public var ownerId: String
    public var created: Date
    public var region: String
    /// The bucket ACL; nil means private (the owner has full control).
    public var acl: AccessControlList?
    /// The bucket's CORS rules; nil when none are configured.
    public var cors: [CORSRule]?
    /// The bucket's notification rules; nil when none are configured.
    public var notifications: [NotificationRule]?

    /// The ACL in force.
    public var effectiveACL: AccessControlList { acl ?? .privateACL(ownerId: ownerId) }

    public init(name: String, id: UInt64, ownerId: String, created: Date, region: String) {
        self.name = name
        self.id = id
        self.ownerId = ownerId
        // Stored with millisecond precision: keep the in-memory value identical to what reads return.
        self.created = Date(timeIntervalSince1970: (created.timeIntervalSince1970 * 1000).rounded() / 1000)
        self.region = region
    }

    func encoded() -> [UInt8] {
        var w = RecordWriter(version: Self.formatVersion)
        w.field(1, id)
        w.field(2, ownerId)
        w.field(3, Int64(created.timeIntervalSince1970 * 1000))
        w.field(4, region)
        if let acl { w.field(5, acl.encoded()) }
        if let cors { w.field(6, CORSRule.encode(cors)) }
        if let notifications { w.field(7, NotificationRule.encode(notifications)) }
        return w.bytes
    }

    init(name: String, decoding bytes: UnsafeRawBufferPointer) throws(ObjectStoreError) {
        var r = try RecordReader(bytes)
        guard r.version <= Self.formatVersion else { throw .corruptRecord }
        self.name = name
        self.id = 0
        self.ownerId = ""
        self.created = Date(timeIntervalSince1970: 0)
        self.region = ""
        while let (tag, value) = try r.next() {
            switch tag {
            case 1: id = try RecordReader.uint64(value)
            case 2: ownerId = RecordReader.string(value)
            case 3: created = Date(timeIntervalSince1970: Double(try RecordReader.int64(value)) / 1000)
            case 4: region = RecordReader.string(value)
            case 5: acl = try AccessControlList(decoding: value)
            case 6: cors = try CORSRule.decode(value)
            case 7: notifications = try NotificationRule.decode(value)
            default: break
            }
        }
    }
}

extension BucketRecord {
    /// Whether `name` follows the AWS general-purpose bucket naming rules.
    /// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        let allowed: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2e || $0 == 0x2d }
        guard bytes.allSatisfy(allowed) else { return false }
        let alnum: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) }
        guard alnum(bytes.first!), alnum(bytes.last!) else { return false }
        if name.contains("..") || name.contains(".-") || name.contains("-.") { return false }
        // Not formatted as an IPv4 address.
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) { return false }
        for reserved in ["xn--", "sthree-", "amzn-s3-demo-"] where name.hasPrefix(reserved) { return false }
        for reserved in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] where name.hasSuffix(reserved) { return false }
        return true
    }
}
