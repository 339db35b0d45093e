/// The durable queues of notification events, one per webhook target, in order.
///
/// A backend writes an event in the same atomic change as the object change it describes
/// (see ``EventContext``); the delivery service reads a target's queue with
/// ``outboxPeek(target:max:)`` and removes events only after they were delivered.
public protocol EventOutbox: Sendable {
    /// The oldest queued events of `target` (sequence and S3 event message JSON), in order.
    func outboxPeek(target: String, max: Int) throws -> [(sequence: UInt64, body: [UInt8])]
    /// How many events wait for `target`.
    func outboxDepth(target: String) throws -> Int
    /// Removes the delivered events of `target` up to and including `sequence`.
    func outboxRemove(target: String, through sequence: UInt64) async throws
}
