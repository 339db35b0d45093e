import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// Small object reads answered on the event loop, without the async request machinery.
///
/// Hummingbird hands every request to a Swift task through an async sequence and takes the
/// response back through an async writer; for a 4 KiB GET that hand-over costs more CPU than
/// authenticating the request and reading the object from LMDB (both synchronous). So a GET or
/// HEAD of an object is first tried here, in the channel pipeline, with the same code as the
/// normal path: ``S3Request`` routing, ``S3Server/authenticate(_:)``,
/// ``S3Server/getObject(_:bucket:key:head:)`` and ``S3Server/finish(_:request:requestId:)``.
/// Only a response that can be written whole is sent from here. Anything else (an error of
/// any kind, a body larger than one slice of the map or not in the page cache, a request
/// with a body or `Expect`) is passed on to Hummingbird untouched, and the normal path
/// answers it from scratch: nothing has been written by then, so the client sees exactly what
/// it would have seen anyway.
extension S3Server {
    /// The whole response to `head` if it is a GET/HEAD of an object that can be answered at
    /// once, or nil to let the normal path answer.
    func inlineResponse(to head: HTTPRequest, remoteAddress: SocketAddress?) -> (head: HTTPResponse, body: ByteBuffer?)? {
        guard InlineReadHandler.mayAnswer(head) else { return nil }
        let requestId = Self.newRequestId()
        do {
            var request = try S3Request(head: head, body: RequestBody(buffer: ByteBuffer()), requestId: requestId, domain: options.domain)
            let isHead: Bool
            let bucket: String, key: String
            switch request.endpoint {
            case .getObject(let b, let k): (bucket, key, isHead) = (b, k, false)
            case .headObject(let b, let k): (bucket, key, isHead) = (b, k, true)
            default: return nil
            }
            request.remoteAddress = remoteAddress
            try authenticate(&request)
            var response = try getObject(request, bucket: bucket, key: key, head: isHead)
            // More than one chunk is never one slice: leave it to the streaming path at once.
            // (A slice not in the page cache comes back from `prepare` as streamed: the normal
            // path reads it on a thread pool, not on this event loop.)
            if case .object(let reader, let range) = response.body, range.count > UInt64(reader.record.chunkSize) {
                reader.close()
                return nil
            }
            finish(&response, request: request, requestId: requestId)
            switch try response.prepare(isHead: isHead) {
            case .whole(let head, let body):
                return (head, body)
            case .streamed(_, let reader, _, _):
                reader.close()
                return nil
            }
        } catch {
            return nil
        }
    }
}

/// Sits between Hummingbird's connection-state handler and its async channel; answers what
/// ``S3Server/inlineResponse(to:remoteAddress:)`` can and passes every other request on whole.
///
/// HTTP/1.1 answers requests in order, so a request is answered here only when every request
/// passed on before it has had its response written (responses pass back through this
/// handler, which counts them), and only while the connection is writable (otherwise the
/// async path's backpressure applies). The connection-state handler sees every request and
/// response either way, so idle timeouts and graceful shutdown behave the same.
final class InlineReadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let server: S3Server
    /// The head of a request that may be answered here, held until its end arrives.
    private var held: HTTPRequest?
    /// Inside a request being passed on (its remaining parts follow it).
    private var passing = false
    /// Requests passed on whose response end has not yet been written.
    private var unanswered = 0
    private var needsFlush = false
    private var flushScheduled = false
    private var removed = false

    init(server: S3Server) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if unanswered == 0, !passing, context.channel.isWritable, Self.mayAnswer(head) {
                held = head
                return
            }
            pass(head, context: context)
        case .body:
            if let head = held {
                held = nil
                pass(head, context: context)
            }
            context.fireChannelRead(data)
        case .end:
            if let head = held {
                held = nil
                if let answer = server.inlineResponse(to: head, remoteAddress: context.channel.remoteAddress) {
                    context.write(wrapOutboundOut(.head(answer.head)), promise: nil)
                    if let body = answer.body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
                    if Self.wantsClose(head) {
                        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                        context.close(promise: nil)
                    } else {
                        context.write(wrapOutboundOut(.end(nil)), promise: nil)
                        needsFlush = true
                    }
                    return
                }
                pass(head, context: context)
            }
            passing = false
            context.fireChannelRead(data)
        }
    }

    private func pass(_ head: HTTPRequest, context: ChannelHandlerContext) {
        passing = true
        unanswered += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush && !flushScheduled {
            // Flushed once the event loop has read every connection that was ready, which is
            // when the async path's responses go out too: written in one burst, a client
            // finds several responses per wake-up instead of one.
            flushScheduled = true
            context.eventLoop.assumeIsolatedUnsafeUnchecked().execute { [self] in
                flushScheduled = false
                needsFlush = false
                if !removed { context.flush() }
            }
        }
        context.fireChannelReadComplete()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), unanswered > 0 { unanswered -= 1 }
        context.write(data, promise: promise)
    }

    /// GET and HEAD without `Expect` (a client waiting for `100 Continue` would wait forever
    /// for a request held until its end).
    static func mayAnswer(_ head: HTTPRequest) -> Bool {
        (head.method == .get || head.method == .head) && head.headerFields[.expect] == nil
    }

    /// `Connection: close` (the async path checks the same header).
    static func wantsClose(_ head: HTTPRequest) -> Bool {
        head.headerFields[.connection]?.lowercased().contains("close") ?? false
    }
}

/// Hummingbird's HTTP/1 child channel with an ``InlineReadHandler`` in front of the async
/// channel.
struct InlineReadsHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel
    let server: S3Server

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            try pipeline.addHandler(InlineReadHandler(server: server), position: .after(state))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
