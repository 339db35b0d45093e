import Foundation
import HTTPTypes
import ObjectStore
import S3Events

/// Put/GetBucketNotificationConfiguration (queue configurations pointing at webhooks).
/// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html
extension S3Server {
    /// The webhook id an ARN names: `arn:shoebox:sqs:<region>:<id>:webhook`, or MinIO's
    /// `arn:minio:sqs:[region]:<id>:webhook` so existing MinIO setups work unchanged.
    func webhookId(arn: String) -> String? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "arn", parts[1] == "shoebox" || parts[1] == "minio", parts[2] == "sqs",
              parts[5] == "webhook", parts[3].isEmpty || parts[3] == options.region,
              webhooks.contains(where: { $0.id == parts[4] }) else { return nil }
        return parts[4]
    }

    func putBucketNotification(_ request: S3Request, bucket: BucketRecord) async throws -> S3Response {
        let body = try await readSmallBody(request, limit: 256 << 10)
        guard let root = XMLElement.parse(Data(body.readableBytesView)), root.name == "NotificationConfiguration" else {
            throw S3Error(.malformedXML)
        }
        for other in ["TopicConfiguration", "CloudFunctionConfiguration", "LambdaFunctionConfiguration", "EventBridgeConfiguration"]
        where root.child(other) != nil {
            throw S3Error(.invalidArgument, "\(other) is not supported: Shoebox delivers notifications to webhook queues (QueueConfiguration).")
        }
        var rules: [NotificationRule] = []
        for element in root.children("QueueConfiguration") {
            guard let arn = element.child("Queue")?.text.trimmingCharacters(in: .whitespacesAndNewlines) else { throw S3Error(.malformedXML) }
            guard let target = webhookId(arn: arn) else {
                throw S3Error(.invalidArgument, "A specified destination ARN does not exist or is not well-formed. Verify the destination ARN.",
                              details: [("ArgumentName", arn), ("ArgumentValue", "Invalid ARN")])
            }
            let events = element.children("Event").map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard !events.isEmpty else { throw S3Error(.malformedXML) }
            for event in events where !S3EventName.configurationNames.contains(event) {
                throw S3Error(.invalidArgument, "The event '\(event)' is not supported for notifications",
                              details: [("ArgumentName", event), ("ArgumentValue", event)])
            }
            var prefix = "", suffix = ""
            var seen: Set<String> = []
            for rule in element.child("Filter")?.child("S3Key")?.children("FilterRule") ?? [] {
                let ruleName = (rule.child("Name")?.text ?? "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
                let value = rule.child("Value")?.text ?? ""
                guard ruleName == "prefix" || ruleName == "suffix" else {
                    throw S3Error(.invalidArgument, "filter rule name must be either prefix or suffix")
                }
                guard seen.insert(ruleName).inserted else {
                    throw S3Error(.invalidArgument, "Cannot specify more than one \(ruleName) rule in a filter.")
                }
                if ruleName == "prefix" { prefix = value } else { suffix = value }
            }
            let id = element.child("Id")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
            rules.append(NotificationRule(id: id.flatMap { $0.isEmpty ? nil : $0 } ?? UUID().uuidString, queueArn: arn,
                                          targetId: target, events: events, prefix: prefix, suffix: suffix))
        }
        for (i, a) in rules.enumerated() {
            for b in rules[(i + 1)...] where Self.overlap(a, b) {
                throw S3Error(.invalidArgument, "Configurations overlap. Configurations on the same bucket cannot share a common event type.")
            }
        }
        let configured = rules
        try await store.updateBucket(name: bucket.name) { $0.notifications = configured.isEmpty ? nil : configured }
        return S3Response()
    }

    /// Two rules overlap when an event type of one covers one of the other and their key
    /// filters can both match one key (as AWS checks).
    static func overlap(_ a: NotificationRule, _ b: NotificationRule) -> Bool {
        let covers: (String, String) -> Bool = { x, y in
            x == y || (x.hasSuffix(":*") && y.hasPrefix(String(x.dropLast()))) || (y.hasSuffix(":*") && x.hasPrefix(String(y.dropLast())))
        }
        let eventsOverlap = a.events.contains { x in b.events.contains { y in covers(x, y) } }
        let prefixesOverlap = a.prefix.hasPrefix(b.prefix) || b.prefix.hasPrefix(a.prefix)
        let suffixesOverlap = a.suffix.hasSuffix(b.suffix) || b.suffix.hasSuffix(a.suffix)
        return eventsOverlap && prefixesOverlap && suffixesOverlap
    }

    func getBucketNotification(_ request: S3Request, bucket: BucketRecord) throws -> S3Response {
        var doc = XMLWriter()
        doc.element("NotificationConfiguration", namespace: true) { x in
            for rule in bucket.notifications ?? [] {
                x.element("QueueConfiguration") { x in
                    x.leaf("Id", rule.id)
                    x.leaf("Queue", rule.queueArn)
                    for event in rule.events { x.leaf("Event", event) }
                    if !rule.prefix.isEmpty || !rule.suffix.isEmpty {
                        x.element("Filter") { x in
                            x.element("S3Key") { x in
                                for (filterName, value) in [("prefix", rule.prefix), ("suffix", rule.suffix)] where !value.isEmpty {
                                    x.element("FilterRule") { x in
                                        x.leaf("Name", filterName)
                                        x.leaf("Value", value)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return .xml(doc)
    }

    /// The event context of a change made by `request`.
    /// - Parameter principal: who made the change when it is not the request's signer (a POST
    ///   form is signed by its policy).
    func eventContext(_ request: S3Request, _ eventName: S3EventName, principal: String? = nil) -> EventContext {
        EventContext(eventName: eventName, requestId: request.requestId, hostId: Self.hostId, sourceIP: request.sourceIP,
                     principalId: principal ?? request.user?.id ?? "anonymous", region: options.region)
    }
}
