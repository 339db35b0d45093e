/// The S3 event types Shoebox emits, named as in the `eventName` of a message (no `s3:`
/// prefix). One list for the server (what it writes), the outbox (which rules match) and
/// the index service (what a message means).
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
public enum S3EventName: String, Sendable, CaseIterable, Codable {
    case objectCreatedPut = "ObjectCreated:Put"
    case objectCreatedPost = "ObjectCreated:Post"
    case objectCreatedCopy = "ObjectCreated:Copy"
    case objectCreatedCompleteMultipartUpload = "ObjectCreated:CompleteMultipartUpload"
    case objectRemovedDelete = "ObjectRemoved:Delete"

    /// The two families a consumer cares about: the key now has content, or it has none.
    public enum Kind: String, Sendable {
        case created = "ObjectCreated"
        case removed = "ObjectRemoved"
    }

    /// Which family the event belongs to.
    public var kind: Kind {
        switch self {
        case .objectCreatedPut, .objectCreatedPost, .objectCreatedCopy, .objectCreatedCompleteMultipartUpload: .created
        case .objectRemovedDelete: .removed
        }
    }

    /// The family of any event name a message may carry, including ones Shoebox does not emit
    /// (AWS's `ObjectRemoved:DeleteMarkerCreated`, say); nil for other families.
    public static func kind(of eventName: String) -> Kind? {
        if eventName.hasPrefix(Kind.created.rawValue + ":") { return .created }
        if eventName.hasPrefix(Kind.removed.rawValue + ":") { return .removed }
        return nil
    }

    /// The event types a bucket's notification configuration may name (`s3:` prefixed, with
    /// the `*` wildcard per family).
    public static let configurationNames: Set<String> = Set(
        allCases.map { "s3:" + $0.rawValue } + [Kind.created, .removed].map { "s3:\($0.rawValue):*" })

    /// Whether a configured event type (e.g. `s3:ObjectCreated:*`) selects this event.
    public func isSelected(by pattern: String) -> Bool {
        let full = "s3:" + rawValue
        return pattern == full || (pattern.hasSuffix(":*") && full.hasPrefix(String(pattern.dropLast())))
    }
}
