import Digests
public import Foundation
import LMDB
import S3Events

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

    /// Whether the rule wants `eventName` (e.g. `ObjectCreated:Put`) for `key`.
    public func matches(eventName: String, key: String) -> Bool {
        guard key.hasPrefix(prefix), key.hasSuffix(suffix) else { return false }
        let full = "s3:" + eventName
        return events.contains { pattern in
            pattern == full || (pattern.hasSuffix(":*") && full.hasPrefix(String(pattern.dropLast())))
        }
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

/// Who caused a change, for the event message.
public struct EventContext: Sendable {
    /// E.g. `ObjectCreated:Put`, `ObjectRemoved:Delete`.
    public var eventName: String
    public var requestId: String
    public var hostId: String
    public var sourceIP: String
    public var principalId: String
    public var region: String

    public init(eventName: String, requestId: String, hostId: String, sourceIP: String, principalId: String, region: String) {
        self.eventName = eventName
        self.requestId = requestId
        self.hostId = hostId
        self.sourceIP = sourceIP
        self.principalId = principalId
        self.region = region
    }
}

/// The transactional outbox of bucket notifications.
///
/// An event is written in the same LMDB transaction as the change it describes, so the two
/// exist together or not at all; the delivery service reads each target's queue in order and
/// removes an event only after its webhook answered 2xx.
/// Layout: `outbox` database, target id ‖ 0x00 ‖ sequence (8 bytes BE) → message JSON;
/// `meta` holds each target's next sequence and the global sequencer.
extension ObjectStore {
    static func outboxPrefix(_ target: String) -> [UInt8] { Array(target.utf8) + [0] }

    /// Within a write transaction: queues the events `rules` want for this change.
    /// - Throws: `.slowDown` when a target's queue is at its limit (the change is refused).
    func enqueueEvents(_ txn: Transaction, bucket: BucketRecord, key: String, record: ObjectRecord?, context: EventContext?) throws {
        guard let context, let rules = bucket.notifications, !rules.isEmpty else { return }
        let matching = rules.filter { $0.matches(eventName: context.eventName, key: key) }
        guard !matching.isEmpty else { return }
        // One sequencer per change: it grows with every change, so per key too.
        let seqKey = Array("eventSequencer".utf8)
        let sequencer = (try txn.get(meta, key: seqKey).map { $0.withUnsafeBytes { UInt64(bigEndianBytes: $0) } } ?? 0) + 1
        try txn.put(meta, key: seqKey, value: sequencer.bigEndianBytes)
        let sequencerText = Hex.uppercase(sequencer)
        let now = Date()
        for rule in matching {
            guard let limit = eventTargets[rule.targetId] else { continue }  // target removed from config
            let prefix = Self.outboxPrefix(rule.targetId)
            let nextKey = Array("outboxNext:".utf8) + Array(rule.targetId.utf8)
            let next = try txn.get(meta, key: nextKey).map { $0.withUnsafeBytes { UInt64(bigEndianBytes: $0) } } ?? 1
            let first = try txn.cursor(outbox).seek(atOrAfter: prefix).flatMap { entry -> UInt64? in
                entry.key.starts(with: prefix) ? UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: entry.key[prefix.count...])) : nil
            } ?? next
            if next - first >= UInt64(limit) {
                throw ObjectStoreError.slowDown(target: rule.targetId)
            }
            let object = S3EventRecord.Object(
                key: S3EventRecord.encodeKey(key), size: record?.size, eTag: record?.etag, sequencer: sequencerText,
                contentType: record.map { $0.metadata.contentType ?? "binary/octet-stream" },
                userMetadata: record?.metadata.user)
            let message = S3EventMessage(records: [S3EventRecord(
                awsRegion: context.region, eventTime: now, eventName: context.eventName, principalId: context.principalId,
                sourceIPAddress: context.sourceIP, requestId: context.requestId, hostId: context.hostId,
                s3: .init(configurationId: rule.id,
                          bucket: .init(name: bucket.name, ownerIdentity: .init(principalId: bucket.ownerId), arn: "arn:aws:s3:::\(bucket.name)"),
                          object: object))])
            try txn.put(outbox, key: prefix + next.bigEndianBytes, value: message.json())
            try txn.put(meta, key: nextKey, value: (next + 1).bigEndianBytes)
        }
    }

    /// The oldest queued events of `target`, in order.
    public func outboxPeek(target: String, max: Int) throws -> [(sequence: UInt64, body: [UInt8])] {
        let prefix = Self.outboxPrefix(target)
        return try read { txn in
            let cursor = try txn.cursor(outbox)
            var result: [(UInt64, [UInt8])] = []
            var entry = try cursor.seek(atOrAfter: prefix)
            while let e = entry, e.key.starts(with: prefix), result.count < max {
                result.append((UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: e.key[prefix.count...])), Array(e.value)))
                entry = try cursor.next()
            }
            return result
        }
    }

    /// How many events wait for `target`.
    public func outboxDepth(target: String) throws -> Int {
        let prefix = Self.outboxPrefix(target)
        return try read { txn in
            let cursor = try txn.cursor(outbox)
            guard let first = try cursor.seek(atOrAfter: prefix), first.key.starts(with: prefix) else { return 0 }
            let firstSeq = UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: first.key[prefix.count...]))
            let nextKey = Array("outboxNext:".utf8) + Array(target.utf8)
            let next = try txn.get(meta, key: nextKey).map { $0.withUnsafeBytes { UInt64(bigEndianBytes: $0) } } ?? firstSeq + 1
            return Int(next - firstSeq)
        }
    }

    /// Removes the delivered events of `target` up to and including `sequence`.
    public func outboxRemove(target: String, through sequence: UInt64) async throws {
        let prefix = Self.outboxPrefix(target)
        try await write { [self] txn in
            let cursor = try txn.cursor(outbox)
            var doomed: [[UInt8]] = []
            var entry = try cursor.seek(atOrAfter: prefix)
            while let e = entry, e.key.starts(with: prefix),
                  UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: e.key[prefix.count...])) <= sequence {
                doomed.append(Array(e.key))
                entry = try cursor.next()
            }
            for key in doomed { try txn.delete(outbox, key: key) }
        }
    }
}
