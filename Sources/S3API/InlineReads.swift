import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import ObjectStore

/// Small object reads answered on the event loop, without the async request machinery.
///
/// Hummingbird hands every request to a Swift task through an async sequence and takes the
/// response back through an async writer; for a 4 KiB GET that hand-over costs more CPU than
/// authenticating the request and reading the object from LMDB (both synchronous). So a GET or
/// HEAD of an object is first tried here, in the channel pipeline, with the same code as the
/// normal path: ``S3Request`` routing, ``S3Server/authenticate(_:)``,
/// ``S3Server/authorize(_:)``, ``S3Server/getObject(_:_:head:)`` and ``S3Server/finish(_:request:requestId:)``.
/// Only a response that can be written whole is sent from here. Anything else (an error of
/// any kind, a body larger than one slice of the map or not in the page cache, a request
/// with a body or `Expect`) is passed on to Hummingbird untouched, and the normal path
/// answers it from scratch: nothing has been written by then, so the client sees exactly what
/// it would have seen anyway.
extension S3Server {
    /// A response ``HTTP1FastPath`` writes whole: ``S3Response/Prepared`` but never streamed.
    /// A mapped body is copied from the map straight into the response's buffer.
    enum InlineAnswer {
        case whole(HTTPResponse, ByteBuffer?)
        case mapped(HTTPResponse, any ObjectReader, UnsafeRawBufferPointer)
    }

    /// The whole response to `head` if it is a GET/HEAD of an object that can be answered at
    /// once, or nil to let the normal path answer.
    func inlineResponse(to head: HTTPRequest, remoteAddress: SocketAddress?) -> InlineAnswer? {
        let requestId = Self.newRequestId()
        do {
            var request = try S3Request(head: head, body: RequestBody(buffer: ByteBuffer()), requestId: requestId, domain: options.domain)
            let isHead: Bool
            switch request.endpoint {
            case .getObject: isHead = false
            case .headObject: isHead = true
            default: return nil
            }
            request.remoteAddress = remoteAddress
            try authenticate(&request)
            var response = try getObject(request, authorize(request), head: isHead)
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
                return .whole(head, body)
            case .mapped(let head, let reader, let slice):
                return .mapped(head, reader, slice)
            case .streamed(_, let reader, _, _):
                reader.close()
                return nil
            }
        } catch {
            return nil
        }
    }
}

/// The front of every HTTP/1 connection: answers small object reads straight from the bytes
/// on the wire and hands every other request to NIO's codec and Hummingbird, untouched.
///
/// It sits next to the socket (after TLS, before NIO's HTTP/1 encoder and decoder). Each
/// request head is read with ``HTTP1RequestHead`` (a strict subset of HTTP/1.1). A GET or
/// HEAD that ``S3Server/inlineResponse(to:remoteAddress:)`` can answer whole is answered here
/// and its bytes never reach NIO's codec. Any other request (its head, then exactly
/// `Content-Length` bytes of body) is passed on as the bytes that arrived, so NIO parses it as
/// if this handler were not there. A head outside the subset hands the rest of the connection
/// to NIO for good.
///
/// HTTP/1.1 answers requests in order: a request is answered here only when every request
/// passed on before it has had its response end written (``NIOSideRequests`` reports each)
/// and the connection is writable; otherwise it is passed on too.
///
/// Because requests answered here never reach Hummingbird's connection-state handler, the idle
/// timeout and the graceful-shutdown close live here (that handler gets no idle timeout).
final class HTTP1FastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum Mode {
        /// At the start of a request head.
        case heads
        /// Inside the body of a request passed on: this many bytes of it still go to NIO.
        case body(remaining: Int)
        /// Everything goes to NIO from here on.
        case passing
        /// A response here said `Connection: close`; nothing more is read.
        case closed
    }

    private let server: S3Server
    private let idleTimeout: TimeAmount
    private var mode = Mode.heads
    /// Bytes read but not yet answered or passed on (an incomplete head).
    private var pending: ByteBuffer?
    /// Requests NIO's decoder has read whose response end has not been written yet. Passing a
    /// head's bytes on makes the decoder read it at once, so this counts every request passed
    /// on, also those after the connection is handed to NIO for good.
    private var nioInFlight = 0
    /// NIO's side is still reading a request (its head arrived, its end not yet).
    private var nioReading = false
    /// NIO's decoder rejected the bytes: Hummingbird answers 400 and the connection only waits
    /// to be closed.
    private var nioFailed = false
    private var lastActivity = NIODeadline.now()
    private var idleTask: Scheduled<Void>?
    private var quiescing = false
    private var needsFlush = false
    private var flushScheduled = false
    /// This handler's context, while it is in the pipeline.
    private var context: ChannelHandlerContext?

    init(server: S3Server, idleTimeout: TimeAmount) {
        self.server = server
        self.idleTimeout = idleTimeout
    }

    /// ``NIOSideRequests`` saw NIO's decoder produce a request head.
    func nioSideStarted() {
        nioInFlight += 1
        nioReading = true
    }

    /// ``NIOSideRequests`` saw NIO's decoder produce a request end.
    func nioSideRead() {
        nioReading = false
    }

    /// ``NIOSideRequests`` saw NIO's decoder reject the bytes.
    func nioSideFailed() {
        nioFailed = true
        mode = .passing
    }

    /// ``NIOSideRequests`` saw NIO's side write the end of a response. (Hummingbird's answer to
    /// a rejected request has an end but no head, hence the floor.)
    func nioSideEnded() {
        nioInFlight = max(0, nioInFlight - 1)
        lastActivity = .now()
        if quiescing, nioInFlight == 0, let context {
            // Called from within that write; Hummingbird flushes right after it.
            context.eventLoop.assumeIsolatedUnsafeUnchecked().execute { [self] in
                if self.context != nil { closeAfterSending(context) }
            }
        }
    }

    /// Closes once every response written so far has gone out: the output side first
    /// (NIO shuts it down after the pending writes), the rest when the client closes its side,
    /// or after a few seconds if it does not.
    private func closeAfterSending(_ context: ChannelHandlerContext) {
        needsFlush = false
        context.flush()
        context.close(mode: .output, promise: nil)
        context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .seconds(5)) {
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch mode {
        case .passing:
            context.fireChannelRead(data)
            return
        case .closed:
            return
        case .heads, .body:
            break
        }
        var bytes = unwrapInboundIn(data)
        if var buffer = pending, buffer.readableBytes > 0 {
            pending = nil
            let searched = buffer.readableBytes
            buffer.writeBuffer(&bytes)
            bytes = buffer
            if case .heads = mode, bytes.readableBytes <= HTTP1RequestHead.maxLength,
               !bytes.withUnsafeReadableBytes({ HTTP1RequestHead.containsLineFeed($0, from: searched) }) {
                pending = bytes
                return
            }
        }
        process(&bytes, context: context)
        pending = bytes.readableBytes > 0 ? bytes : nil
    }

    private func process(_ bytes: inout ByteBuffer, context: ChannelHandlerContext) {
        while bytes.readableBytes > 0 {
            switch mode {
            case .passing:
                context.fireChannelRead(wrapInboundOut(bytes))
                bytes.moveReaderIndex(to: bytes.writerIndex)
                return
            case .closed:
                bytes.moveReaderIndex(to: bytes.writerIndex)
                return
            case .body(let remaining):
                let count = min(remaining, bytes.readableBytes)
                context.fireChannelRead(wrapInboundOut(bytes.readSlice(length: count)!))
                mode = remaining == count ? .heads : .body(remaining: remaining - count)
            case .heads:
                let scan = bytes.withUnsafeReadableBytes { HTTP1RequestHead.scan($0) }
                switch scan {
                case .incomplete:
                    return
                case .unframeable:
                    mode = .passing
                    context.fireChannelRead(wrapInboundOut(bytes))
                    bytes.moveReaderIndex(to: bytes.writerIndex)
                    return
                case .head(let head):
                    if let request = head.request, nioInFlight == 0, !quiescing, context.channel.isWritable,
                       let answer = server.inlineResponse(to: request, remoteAddress: context.channel.remoteAddress) {
                        bytes.moveReaderIndex(forwardBy: head.length)
                        write(answer, context: context)
                        if head.wantsClose {
                            // What NIO's side does too: the answer goes out whole, then the
                            // output side closes.
                            mode = .closed
                            needsFlush = false
                            context.flush()
                            context.close(mode: .output, promise: nil)
                            return
                        }
                        continue
                    }
                    let started = nioInFlight
                    context.fireChannelRead(wrapInboundOut(bytes.readSlice(length: head.length)!))
                    if case .passing = mode { continue }  // NIO's decoder rejected it
                    if nioInFlight == started {
                        // Never the case for a head NIO reads (it decodes it at once): leave
                        // the connection to NIO rather than answer past a request it holds.
                        mode = .passing
                        continue
                    }
                    if head.bodyLength > 0 { mode = .body(remaining: head.bodyLength) }
                    // After `Connection: close` NIO's side closes once it has answered; what
                    // follows (the body included) is NIO's to read or refuse.
                    if head.wantsClose { mode = .passing }
                }
            }
        }
    }

    /// The response as HTTP/1.1 bytes (what NIO's encoder writes for the same head), in one
    /// buffer with the body.
    private func write(_ answer: S3Server.InlineAnswer, context: ChannelHandlerContext) {
        let head: HTTPResponse
        let bodySize: Int
        switch answer {
        case .whole(let h, let body): (head, bodySize) = (h, body?.readableBytes ?? 0)
        case .mapped(let h, _, let slice): (head, bodySize) = (h, slice.count)
        }
        var out = context.channel.allocator.buffer(capacity: 512 + bodySize)
        out.writeStaticString("HTTP/1.1 ")
        out.writeString(String(head.status.code))
        out.writeStaticString(" ")
        out.writeString(head.status.reasonPhrase)
        out.writeStaticString("\r\n")
        for field in head.headerFields {
            out.writeString(field.name.rawName)
            out.writeStaticString(": ")
            out.writeString(field.value)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("\r\n")
        switch answer {
        case .whole(_, let body):
            if let body { out.writeImmutableBuffer(body) }
        case .mapped(_, let reader, let slice):
            out.writeBytes(slice)
            reader.release(slice)
            reader.close()
        }
        context.write(wrapOutboundOut(.byteBuffer(out)), promise: nil)
        needsFlush = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush && !flushScheduled {
            // Flushed once the event loop has read every connection that was ready, which is
            // when the async path's responses go out too: written in one burst, a client
            // finds several responses per wake-up instead of one.
            flushScheduled = true
            context.eventLoop.assumeIsolatedUnsafeUnchecked().execute { [self] in
                flushScheduled = false
                if needsFlush, self.context != nil {
                    needsFlush = false
                    context.flush()
                }
            }
        }
        context.fireChannelReadComplete()
    }

    func flush(context: ChannelHandlerContext) {
        needsFlush = false
        context.flush()
    }

    // MARK: idle timeout and graceful shutdown

    /// Whether the connection may be closed for idleness, by the rule of Hummingbird's own
    /// idle check: no request in flight on NIO's side, or one whose head or body is still
    /// being read (a stalled upload), or a connection NIO has already failed. Requests
    /// answered here are never in flight: they are answered within the read that completed
    /// them. A partial head does not count either.
    private var isIdle: Bool { nioInFlight == 0 || nioReading || nioFailed }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { scheduleIdleCheck(context: context, in: idleTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        scheduleIdleCheck(context: context, in: idleTimeout)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        idleTask?.cancel()
        idleTask = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTask?.cancel()
        idleTask = nil
        context.fireChannelInactive()
    }

    private func scheduleIdleCheck(context: ChannelHandlerContext, in delay: TimeAmount) {
        guard idleTask == nil else { return }
        idleTask = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: delay) { [self] in
            idleTask = nil
            let idleFor = NIODeadline.now() - lastActivity
            if idleFor >= idleTimeout, isIdle {
                needsFlush = false
                context.flush()
                context.close(promise: nil)
            } else {
                scheduleIdleCheck(context: context, in: max(idleTimeout - idleFor, .seconds(1)))
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, needsFlush {
            // The client is done sending: its answers go out before NIO's side may close.
            needsFlush = false
            context.flush()
        }
        if event is ChannelShouldQuiesceEvent {
            // Close now if nothing is in flight, else once the last passed-on response ends.
            quiescing = true
            if nioInFlight == 0 || nioFailed {
                needsFlush = false
                context.flush()
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Tells ``HTTP1FastPath`` when NIO's side starts a request and when it has written the
/// response's end. Sits after Hummingbird's connection-state handler, where requests and
/// responses are `HTTPTypes` parts.
final class NIOSideRequests: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let front: HTTP1FastPath

    init(front: HTTP1FastPath) {
        self.front = front
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: front.nioSideStarted()
        case .end: front.nioSideRead()
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError { front.nioSideFailed() }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd { front.nioSideEnded() }
    }
}

/// Hummingbird's HTTP/1 child channel with an ``HTTP1FastPath`` in front of NIO's codec.
struct InlineReadsHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel
    let server: S3Server
    let idleTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let encoder = try pipeline.handler(type: HTTPResponseEncoder.self)
            let front = HTTP1FastPath(server: server, idleTimeout: idleTimeout)
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
