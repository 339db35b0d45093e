import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOSSL
import ObjectStore
import Synchronization

/// Object reads answered on the event loop, without the async request machinery.
///
/// Hummingbird hands every request to a Swift task through an async sequence and takes the
/// response back through an async writer; for a 4 KiB GET that hand-over costs more CPU than
/// authenticating the request and reading the object from LMDB (both synchronous). So a GET or
/// HEAD of an object is first tried here, in the channel pipeline, with the same code as the
/// normal path: ``S3Request`` routing, ``S3Server/authenticate(_:)``,
/// ``S3Server/getObject(_:bucket:key:head:)`` and ``S3Server/finish(_:request:requestId:)``.
/// Sent from here: bodies of one slice of the map (copied into the response), and on plain
/// TCP bodies of 64 KiB or more sent from LMDB's data file with `sendfile`, never copied
/// through this process. Both only when the body is in the page cache. Anything else (an
/// error of any kind, a body that may have to come from disk, a request with a body or
/// `Expect`) is passed on to Hummingbird untouched, and the normal path answers it from
/// scratch: nothing has been written by then, so the client sees exactly what it would have
/// seen anyway.
extension S3Server {
    /// A response ``HTTP1FastPath`` writes itself.
    enum InlineAnswer {
        /// Head and body, written together.
        case whole(HTTPResponse, ByteBuffer?)
        /// Head, then the body sent from the store's data file (`sendfile`): no copy through
        /// this process. The reader's snapshot keeps those file pages unchanged until closed.
        case fromDataFile(HTTPResponse, ObjectReader, [Range<Int>])
    }

    /// Bodies at least this large, all in the page cache, go out with `sendfile`; smaller ones
    /// are copied into the response buffer, which costs less than a second system call.
    static let sendfileMinimum: UInt64 = 64 * 1024

    /// The whole response to `head` if it is a GET/HEAD of an object that can be answered at
    /// once, or nil to let the normal path answer. `mayUseDataFile`: the connection can take
    /// file regions (plain TCP, not TLS).
    func inlineResponse(to head: HTTPRequest, remoteAddress: SocketAddress?, mayUseDataFile: Bool) -> InlineAnswer? {
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
            if case .object(let reader, let range) = response.body, !isHead {
                // A body only partly in the page cache is left to the normal path, which reads
                // it on a thread pool: `sendfile` or a copy here would wait for the disk on
                // this event loop.
                if mayUseDataFile, UInt64(range.count) >= Self.sendfileMinimum, reader.isCached(range),
                   let fileRanges = try reader.fileRanges(range) {
                    finish(&response, request: request, requestId: requestId)
                    sendfileBytes.increment(by: Int64(range.count))
                    var headers = response.headers
                    headers[.contentLength] = String(range.count)
                    return .fromDataFile(HTTPResponse(status: response.status, headerFields: headers), reader, fileRanges)
                }
                // More than one chunk is never one slice: leave it to the streaming path.
                if range.count > UInt64(reader.record.chunkSize) {
                    reader.close()
                    return nil
                }
            }
            finish(&response, request: request, requestId: requestId)
            switch try response.prepare(isHead: isHead) {
            case .whole(let head, let body):
                return .whole(head, body)
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
    /// This event loop's descriptor of the store's data file, when bodies may go out as file
    /// regions (`sendfile`): plain TCP only, TLS has to encrypt them.
    private let dataFile: NIOFileHandle?
    private var mayUseDataFile: Bool { dataFile != nil }
    private var mode = Mode.heads
    /// Bytes read but not yet answered or passed on (an incomplete head).
    private var pending: ByteBuffer?
    /// Requests NIO's decoder has read whose response end has not been written yet. Passing a
    /// head's bytes on makes the decoder read it at once, so this counts every request passed
    /// on, also those after the connection is handed to NIO for good.
    private var nioInFlight = 0
    private var lastActivity = NIODeadline.now()
    private var idleTask: Scheduled<Void>?
    private var quiescing = false
    private var needsFlush = false
    private var flushScheduled = false
    /// This handler's context, while it is in the pipeline.
    private var context: ChannelHandlerContext?

    init(server: S3Server, idleTimeout: TimeAmount, dataFile: NIOFileHandle?) {
        self.server = server
        self.idleTimeout = idleTimeout
        self.dataFile = dataFile
    }

    /// ``NIOSideRequests`` saw NIO's decoder produce a request head.
    func nioSideStarted() {
        nioInFlight += 1
    }

    /// ``NIOSideRequests`` saw NIO's side write the end of a response.
    func nioSideEnded() {
        nioInFlight -= 1
        lastActivity = .now()
        if quiescing, nioInFlight == 0, let context { context.close(promise: nil) }
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
            buffer.writeBuffer(&bytes)
            bytes = buffer
        }
        process(&bytes, context: context)
        pending = bytes.readableBytes > 0 ? bytes : nil
    }

    private func process(_ bytes: inout ByteBuffer, context: ChannelHandlerContext) {
        while bytes.readableBytes > 0 {
            switch mode {
            case .passing, .closed:
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
                       let answer = server.inlineResponse(to: request, remoteAddress: context.channel.remoteAddress,
                                                          mayUseDataFile: mayUseDataFile) {
                        bytes.moveReaderIndex(forwardBy: head.length)
                        write(answer, context: context)
                        if head.wantsClose {
                            mode = .closed
                            context.flush()
                            context.close(promise: nil)
                            return
                        }
                        continue
                    }
                    context.fireChannelRead(wrapInboundOut(bytes.readSlice(length: head.length)!))
                    if head.bodyLength > 0 { mode = .body(remaining: head.bodyLength) }
                    // After `Connection: close` NIO's side closes once it has answered.
                    if head.wantsClose { mode = .passing }
                }
            }
        }
    }

    /// The response as HTTP/1.1 bytes: what NIO's encoder writes for the same head.
    private func write(_ answer: S3Server.InlineAnswer, context: ChannelHandlerContext) {
        let head: HTTPResponse
        switch answer {
        case .whole(let h, _), .fromDataFile(let h, _, _): head = h
        }
        var out = context.channel.allocator.buffer(capacity: 512)
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
        context.write(wrapOutboundOut(.byteBuffer(out)), promise: nil)
        switch answer {
        case .whole(_, let body):
            if let body { context.write(wrapOutboundOut(.byteBuffer(body)), promise: nil) }
        case .fromDataFile(_, let reader, let ranges):
            guard let file = dataFile else { return }
            // The snapshot stays open until the last region is sent or the write fails.
            let sent = context.eventLoop.makePromise(of: Void.self)
            sent.futureResult.whenComplete { _ in reader.close() }
            for (index, range) in ranges.enumerated() {
                let region = FileRegion(fileHandle: file, readerIndex: range.lowerBound, endIndex: range.upperBound)
                context.write(wrapOutboundOut(.fileRegion(region)), promise: index == ranges.count - 1 ? sent : nil)
            }
        }
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

    /// No request in flight on NIO's side (a body still being passed on belongs to one, unless
    /// its response has already ended). Requests answered here are never in flight: they are
    /// answered within the read that completed them. A partial head does not count, as with
    /// Hummingbird's own idle check.
    private var isIdle: Bool { nioInFlight == 0 }

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
                if needsFlush { context.flush() }
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
            if isIdle {
                if needsFlush { context.flush() }
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
        if case .head = unwrapInboundIn(data) { front.nioSideStarted() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd { front.nioSideEnded() }
    }
}

/// One descriptor of the store's data file per event loop, for `sendfile`. A `NIOFileHandle`
/// may be used by one thread at a time (a second concurrent use fails the write), and every
/// write of a connection happens on its event loop, so the connections of one loop share one.
final class DataFileHandles: Sendable {
    private let store: ObjectStore
    private let handles = Mutex<[ObjectIdentifier: NIOFileHandle]>([:])

    init(store: ObjectStore) {
        self.store = store
    }

    /// The handle for `loop`, opened on first use; nil if no descriptor can be had.
    func handle(for loop: any EventLoop) -> NIOFileHandle? {
        handles.withLock { handles in
            if let handle = handles[ObjectIdentifier(loop)] { return handle }
            guard let descriptor = store.duplicateDataFileDescriptor() else { return nil }
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
            handles[ObjectIdentifier(loop)] = handle
            return handle
        }
    }

    deinit {
        handles.withLock { handles in
            for handle in handles.values { try? handle.close() }
        }
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
            let isTLS = (try? pipeline.handler(type: NIOSSLServerHandler.self)) != nil
            let front = HTTP1FastPath(server: server, idleTimeout: idleTimeout,
                                      dataFile: isTLS ? nil : server.dataFiles.handle(for: channel.eventLoop))
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
