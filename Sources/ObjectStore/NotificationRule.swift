public import S3Events

/// One notification rule of a bucket (a `QueueConfiguration`).
public struct NotificationRule: Sendable, Equatable {
    public var id: String
    /// The queue ARN as configured (returned by GetBucketNotificationConfiguration).
    public var queueArn: String
    /// The webhook target the ARN names.
    public var targetId: String
    /// Configured event types, e.g. `s3:ObjectCreated:*`.
    public var events: [String]
    public var prefix: String
    public var suffix: String

    public init(id: String, queueArn: String, targetId: String, events: [String], prefix: String = "", suffix: String = "") {
        self.id = id
        self.queueArn = queueArn
        self.targetId = targetId
        self.events = events
        self.prefix = prefix
        self.suffix = suffix
    }

    /// Whether the rule wants `event` for `key`.
    public func matches(_ event: S3EventName, key: String) -> Bool {
        guard key.hasPrefix(prefix), key.hasSuffix(suffix) else { return false }
        return events.contains { event.isSelected(by: $0) }
    }

    static func encode(_ rules: [NotificationRule]) -> [UInt8] {
        var w = RecordWriter(version: 0)
        for rule in rules {
            var r = RecordWriter(version: 0)
            r.field(1, rule.id)
            r.field(2, rule.queueArn)
            r.field(3, rule.targetId)
            for event in rule.events { r.field(4, event) }
            r.field(5, rule.prefix)
            r.field(6, rule.suffix)
            w.field(1, r.bytes)
        }
        return w.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ObjectStoreError) -> [NotificationRule] {
        var w = try RecordReader(bytes)
        var rules: [NotificationRule] = []
        while let (_, value) = try w.next() {
            var r = try RecordReader(value)
            var rule = NotificationRule(id: "", queueArn: "", targetId: "", events: [])
            while let (tag, v) = try r.next() {
                switch tag {
                case 1: rule.id = RecordReader.string(v)
                case 2: rule.queueArn = RecordReader.string(v)
                case 3: rule.targetId = RecordReader.string(v)
                case 4: rule.events.append(RecordReader.string(v))
                case 5: rule.prefix = RecordReader.string(v)
                case 6: rule.suffix = RecordReader.string(v)
                default: break
                }
            }
            rules.append(rule)
        }
        return rules
    }
}
