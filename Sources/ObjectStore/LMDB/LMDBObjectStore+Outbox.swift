import Digests
import Foundation
import LMDB
import S3Events

/// The transactional outbox of bucket notifications.
///
/// An event is written in the same LMDB transaction as the change it describes, so the two
/// exist together or not at all; the delivery service reads each target's queue in order and
/// removes an event only after its webhook answered 2xx.
/// Layout: `outbox` database, target id ‖ 0x00 ‖ sequence (8 bytes BE) → message JSON;
/// `meta` holds each target's next sequence and the global sequencer.
extension LMDBObjectStore {
    static func outboxPrefix(_ target: String) -> [UInt8] { Array(target.utf8) + [0] }

    /// Within a write transaction: queues the events `rules` want for this change.
    /// - Throws: `.slowDown` when a target's queue is at its limit (the change is refused).
    func enqueueEvents(_ txn: Transaction, bucket: BucketRecord, key: String, record: ObjectRecord?, context: EventContext?) throws {
        guard let context, let rules = bucket.notifications, !rules.isEmpty else { return }
        let matching = rules.filter { $0.matches(context.eventName, key: key) }
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
            let message = S3EventMessage(records: [.object(
                context.eventName, time: now, region: context.region, principalId: context.principalId,
                sourceIP: context.sourceIP, requestId: context.requestId, hostId: context.hostId, configurationId: rule.id,
                bucket: bucket.name, bucketOwner: bucket.ownerId, key: key, size: record?.size, eTag: record?.etag,
                sequencer: sequencerText, contentType: record.map { $0.metadata.contentType ?? "binary/octet-stream" },
                userMetadata: record?.metadata.user)])
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
