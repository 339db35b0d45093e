// The default load engine: like wrk, every connection is driven from its event loop, one
// request after the other, with no task or continuation per request. A request costs the
// client a few microseconds of CPU instead of the ~100 us that AsyncHTTPClient's async API
// costs here, which matters when client and server share two cores (see bench/README.md).

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One of the `concurrency` request loops: owns one connection at a time (reconnecting
/// when the server closes it) and its own tallies. Confined to its event loop.
final class LoadSlot {
    let index: Int
    let loop: any EventLoop
    let target: S3Target
    let workload: any Workload
    let deadline: UInt64
    let limit: Int?
    let issued: Counter
    let done: EventLoopPromise<TaskStats>
    var stats = TaskStats()
    var sequence = 0
    var finished = false
    var channel: (any Channel)?
    var watchdog: Scheduled<Void>?

    // The request in flight.
    var step: Step?
    var began: UInt64 = 0
    var status: UInt = 0
    var keepAlive = true
    var bodyBytes = 0
    var kept = ByteBuffer()

    init(index: Int, loop: any EventLoop, target: S3Target, workload: any Workload, deadline: UInt64, limit: Int?, issued: Counter) {
        self.index = index
        self.loop = loop
        self.target = target
        self.workload = workload
        self.deadline = deadline
        self.limit = limit
        self.issued = issued
        self.done = loop.makePromise()
    }

    func connect() {
        let bound = NIOLoopBound(self, eventLoop: loop)
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(SlotHandler(slot: bound.value))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(host: target.host, port: target.port)
            .whenComplete { result in
                let slot = bound.value
                switch result {
                case .success(let channel):
                    slot.channel = channel
                case .failure(let error):
                    slot.stats.record(.connect, micros: 0, bytes: 0, ok: false, error: "connect: \(error)")
                    if monotonicMicros() < slot.deadline {
                        slot.loop.scheduleTask(in: .milliseconds(100)) { bound.value.connect() }
                    } else {
                        slot.finish()
                    }
                }
            }
    }

    /// Sends the next request on `context`, or ends the slot when the run is over.
    func sendNext(_ context: ChannelHandlerContext, handler: SlotHandler) {
        guard !finished else { return }
        if monotonicMicros() >= deadline || (limit.map { issued.next() >= $0 } ?? false) {
            finish()
            context.close(promise: nil)
            return
        }
        let step = workload.next(task: index, sequence: sequence)
        sequence += 1
        self.step = step
        status = 0
        bodyBytes = 0
        keepAlive = true
        kept.clear()
        began = monotonicMicros()
        var head = HTTPRequestHead(version: .http1_1, method: step.request.method, uri: step.request.uri)
        head.headers = step.request.headers
        context.write(handler.wrapOutboundOut(.head(head)), promise: nil)
        if let body = step.request.body, body.readableBytes > 0 {
            context.write(handler.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
    }

    func responseHead(_ head: HTTPResponseHead) {
        status = head.status.code
        keepAlive = head.isKeepAlive
    }

    func responseBody(_ buffer: ByteBuffer) {
        bodyBytes += buffer.readableBytes
        guard let step else { return }
        let limit = (200..<300).contains(status) ? step.keep : max(step.keep, 512)
        if kept.readableBytes < limit {
            var slice = buffer
            if var part = slice.readSlice(length: min(limit - kept.readableBytes, slice.readableBytes)) {
                kept.writeBuffer(&part)
            }
        }
    }

    func responseEnd(_ context: ChannelHandlerContext, handler: SlotHandler) {
        guard let step else { return }
        self.step = nil
        let outcome = Outcome(status: status, bodyBytes: bodyBytes, bodyPrefix: kept.readableBytes > 0 ? String(buffer: kept) : "")
        var ok = outcome.ok
        var message = ""
        if ok, let problem = step.check?(outcome) {
            ok = false
            message = problem
        } else if !ok {
            message = "HTTP \(outcome.status) \(summarise(outcome.bodyPrefix))"
        }
        step.finish?(ok)
        stats.record(step.kind, micros: monotonicMicros() - began,
                     bytes: ok ? (step.kind == .put ? step.sentBytes : outcome.bodyBytes) : 0, ok: ok, error: message)
        if keepAlive {
            sendNext(context, handler: handler)
        } else {
            context.close(promise: nil)   // reconnects in closed()
        }
    }

    func failed(_ error: any Error) {
        guard let step else { return }
        self.step = nil
        step.finish?(false)
        stats.record(step.kind, micros: monotonicMicros() - began, bytes: 0, ok: false, error: "\(error)")
    }

    func closed() {
        channel = nil
        if step != nil { failed(BenchError("connection closed by the server")) }
        guard !finished else { return }
        if monotonicMicros() < deadline { connect() } else { finish() }
    }

    func finish() {
        guard !finished else { return }
        finished = true
        watchdog?.cancel()
        done.succeed(stats)
    }

    /// Past the deadline and the grace period: stop waiting for a hung server.
    func abandon() {
        guard !finished else { return }
        if step != nil { failed(BenchError("no answer \(Int(Double(monotonicMicros() - began) / 1e6)) s after the request")) }
        finish()
        channel?.close(promise: nil)
    }
}

final class SlotHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    let slot: LoadSlot

    init(slot: LoadSlot) { self.slot = slot }

    func channelActive(context: ChannelHandlerContext) {
        slot.sendNext(context, handler: self)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): slot.responseHead(head)
        case .body(let buffer): slot.responseBody(buffer)
        case .end: slot.responseEnd(context, handler: self)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        slot.closed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        slot.failed(error)
        context.close(promise: nil)
    }
}

/// Runs `workload` on `concurrency` event-loop-driven connections (spread over the
/// group's loops) until `duration` seconds have passed or `limit` operations were started.
func runLoadOnEventLoops(group: MultiThreadedEventLoopGroup, target: S3Target, workload: some Workload,
                         concurrency: Int, duration: Double, limit: Int?) async throws -> RunResult {
    let start = monotonicMicros()
    let deadline = duration.isFinite ? start + UInt64(duration * 1_000_000) : UInt64.max
    let grace = TimeAmount.seconds(Int64(max(60, min(duration, 600))))
    let issued = Counter()
    var futures: [EventLoopFuture<TaskStats>] = []
    for index in 0..<concurrency {
        let loop = group.next()
        let future = loop.flatSubmit {
            let slot = LoadSlot(index: index, loop: loop, target: target, workload: workload, deadline: deadline,
                                limit: limit, issued: issued)
            slot.connect()
            if duration.isFinite {
                let bound = NIOLoopBound(slot, eventLoop: loop)
                slot.watchdog = loop.scheduleTask(in: .microseconds(Int64(duration * 1_000_000)) + grace) { bound.value.abandon() }
            }
            return slot.done.futureResult
        }
        futures.append(future)
    }
    var all = TaskStats()
    for future in futures { all.merge(try await future.get()) }
    return RunResult(stats: all, elapsed: Double(monotonicMicros() - start) / 1_000_000)
}
