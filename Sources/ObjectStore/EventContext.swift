public import S3Events

/// Who caused a change, for the event message.
public struct EventContext: Sendable {
    /// What happened.
    public var eventName: S3EventName
    public var requestId: String
    public var hostId: String
    public var sourceIP: String
    public var principalId: String
    public var region: String

    public init(eventName: S3EventName, requestId: String, hostId: String, sourceIP: String, principalId: String, region: String) {
        self.eventName = eventName
        self.requestId = requestId
        self.hostId = hostId
        self.sourceIP = sourceIP
        self.principalId = principalId
        self.region = region
    }
}
