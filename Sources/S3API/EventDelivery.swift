import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import ObjectStore
import ServiceLifecycle

/// Delivers each webhook target's outbox in order: POSTs every event as JSON with
/// `Authorization: Bearer <token>`, removes it only after a 2xx, and retries failures with
/// capped exponential backoff. The outbox lives in LMDB, so delivery resumes after a restart
/// where it stopped: a consumer may see an event twice, never miss one.
final class EventDelivery: Service {
    private let outbox: any EventOutbox
    private let targets: [WebhookTarget]
    private let logger: Logger
    /// Events sent per request to the store's outbox reader.
    private let batchSize = 64

    init(outbox: any EventOutbox, targets: [WebhookTarget], logger: Logger) {
        self.outbox = outbox
        self.targets = targets
        self.logger = logger
    }

    func run() async throws {
        guard !targets.isEmpty else {
            try await gracefulShutdown()
            return
        }
        // A short connect timeout: a target that is down counts as a failure quickly.
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(10))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for target in targets {
                    group.addTask { await self.deliver(target, client: client) }
                }
            }
        } onGracefulShutdown: {}
        try? await client.shutdown()
    }

    private func deliver(_ target: WebhookTarget, client: HTTPClient) async {
        let dimensions = [("target", target.id)]
        let depthGauge = Gauge(label: "shoebox_outbox_depth", dimensions: dimensions)
        let failures = Counter(label: "shoebox_event_delivery_failures_total", dimensions: dimensions)
        let delivered = Counter(label: "shoebox_events_delivered_total", dimensions: dimensions)
        Gauge(label: "shoebox_outbox_limit", dimensions: dimensions).record(target.queueLimit)
        var backoff: Duration = .milliseconds(250)
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let batch: [(sequence: UInt64, body: [UInt8])]
            do {
                batch = try outbox.outboxPeek(target: target.id, max: batchSize)
                depthGauge.record(try outbox.outboxDepth(target: target.id))
            } catch {
                logger.error("notification outbox of \(target.id) unreadable: \(error)")
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            if batch.isEmpty {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            var last: UInt64?
            var failed = false
            for event in batch {
                if await post(event.body, to: target, client: client) {
                    last = event.sequence
                    delivered.increment()
                } else {
                    failed = true
                    failures.increment()
                    break
                }
            }
            if let last {
                do {
                    try await outbox.outboxRemove(target: target.id, through: last)
                } catch {
                    logger.error("could not remove delivered events of \(target.id): \(error)")
                }
                if failing {
                    logger.info("webhook \(target.id) is delivering again")
                    failing = false
                }
                backoff = .milliseconds(250)
            }
            if failed {
                if !failing {
                    logger.warning("webhook \(target.id) failed; retrying with backoff (events are kept, in order)")
                    failing = true
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(30))
            }
        }
    }

    private func post(_ body: [UInt8], to target: WebhookTarget, client: HTTPClient) async -> Bool {
        var request = HTTPClientRequest(url: target.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Shoebox")
        if let token = target.authToken { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            if (200..<300).contains(Int(response.status.code)) { return true }
            logger.debug("webhook \(target.id) answered \(response.status.code)")
            return false
        } catch {
            logger.debug("webhook \(target.id) unreachable: \(error)")
            return false
        }
    }
}
