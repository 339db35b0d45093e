import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1 child channel with an ``HTTP1FrontHandler`` in front of NIO's codec.
struct InlineReadsHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    /// Hummingbird's channel, which sets up NIO's codec and runs the async path.
    let base: HTTP1Channel
    /// Answers the requests the front handler may answer inline.
    let server: S3Server
    /// How long a connection may stay idle (kept by the front handler, see its docs).
    let idleTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let encoder = try pipeline.handler(type: HTTPResponseEncoder.self)
            let front = HTTP1FrontHandler(server: server, idleTimeout: idleTimeout)
            try pipeline.addHandler(front, position: .before(encoder))
            let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            try pipeline.addHandler(NIOSideRequests(front: front), position: .after(state))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
