import NIOCore

/// The front of every HTTP/1 connection: answers small object reads straight from the bytes
/// on the wire and hands every other request to NIO's codec and Hummingbird, untouched.
///
/// It sits next to the socket (after TLS, before NIO's HTTP/1 encoder and decoder). What to
/// do is decided by ``HTTP1FrontStateMachine``; this handler only tells it what happens on
/// the channel and performs the actions it returns. A GET or HEAD that
/// ``S3Server/inlineResponse(to:remoteAddress:)`` can answer whole is answered here and its
/// bytes never reach NIO's codec. Any other request (its head, then exactly `Content-Length`
/// bytes of body) is passed on as the bytes that arrived, so NIO parses it as if this handler
/// were not there. A head outside the subset ``HTTP1RequestHead`` reads hands the rest of the
/// connection to NIO for good.
///
/// Because requests answered here never reach Hummingbird's connection-state handler, the idle
/// timeout and the graceful-shutdown close live here (that handler gets no idle timeout).
final class HTTP1FrontHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let server: S3Server
    private var machine: HTTP1FrontStateMachine
    private var idleTask: Scheduled<Void>?
    /// This handler's context, while it is in the pipeline.
    private var context: ChannelHandlerContext?

    init(server: S3Server, idleTimeout: TimeAmount) {
        self.server = server
        self.machine = HTTP1FrontStateMachine(idleTimeout: idleTimeout, now: .now())
    }

    // MARK: NIO's side, as NIOSideRequests reports it

    /// NIO's decoder produced a request head.
    func nioSideStarted() {
        machine.nioSideStarted()
    }

    /// NIO's decoder produced a request end.
    func nioSideRead() {
        machine.nioSideRead()
    }

    /// NIO's decoder rejected the bytes.
    func nioSideFailed() {
        machine.nioSideFailed()
    }

    /// NIO's side wrote the end of a response.
    func nioSideEnded() {
        let action = machine.nioSideEnded(now: .now())
        if let context { perform(action, context: context) }
    }

    // MARK: reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // One step at a time: passing bytes on lets NIO's decoder read them at once, and it
        // reports what it read (NIOSideRequests) before the machine takes the next step.
        var action = machine.read(unwrapInboundIn(data), now: .now())
        while true {
            switch action {
            case .passOn(let bytes):
                context.fireChannelRead(wrapInboundOut(bytes))
                action = machine.passedOn()
            case .tryInline(let request):
                if let answer = server.inlineResponse(to: request, remoteAddress: context.channel.remoteAddress) {
                    context.write(wrapOutboundOut(.byteBuffer(answer.encode(allocator: context.channel.allocator))), promise: nil)
                    action = machine.answeredInline()
                } else {
                    action = machine.declinedInline()
                }
            case .closeOutput:
                context.flush()
                context.close(mode: .output, promise: nil)
                return
            case .awaitMore:
                return
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        perform(machine.readComplete(), context: context)
        context.fireChannelReadComplete()
    }

    func flush(context: ChannelHandlerContext) {
        perform(machine.flushRequested(), context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        machine.writabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    // MARK: lifecycle, idle timeout and graceful shutdown

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        perform(machine.added(isActive: context.channel.isActive, isWritable: context.channel.isWritable), context: context)
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(machine.channelActive(), context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        perform(machine.channelInactive(), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(machine.channelInactive(), context: context)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            perform(machine.inputClosed(), context: context)
        }
        if event is ChannelShouldQuiesceEvent {
            perform(machine.quiesce(), context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Does what the machine decided.
    private func perform(_ action: HTTP1FrontStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .flush:
            context.flush()
        case .deferFlush:
            context.eventLoop.assumeIsolatedUnsafeUnchecked().execute { [self] in
                let action = machine.deferredFlushDue()
                if let context = self.context { perform(action, context: context) }
            }
        case .close:
            context.flush()
            context.close(promise: nil)
        case .deferCloseAfterSending:
            context.eventLoop.assumeIsolatedUnsafeUnchecked().execute { [self] in
                if let context = self.context { perform(machine.deferredCloseDue(), context: context) }
            }
        case .closeAfterSending(let forceAfter):
            context.flush()
            context.close(mode: .output, promise: nil)
            context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: forceAfter) {
                context.close(promise: nil)
            }
        case .scheduleIdleCheck(let delay):
            idleTask = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: delay) { [self] in
                idleTask = nil
                perform(machine.idleCheckDue(now: .now()), context: context)
            }
        case .cancelIdleCheck:
            idleTask?.cancel()
            idleTask = nil
        }
    }
}
