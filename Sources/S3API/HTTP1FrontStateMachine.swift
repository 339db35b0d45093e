import HTTPTypes
import NIOCore

/// Every decision of ``HTTP1FrontHandler``, as a value stepped by events: which bytes go to
/// NIO's codec, which heads may be answered inline, when to flush, when to close.
///
/// It holds no channel, so tests step it without one. The handler reports what happens on
/// the channel (bytes read, NIO's side starting or ending a request, writability, timers,
/// shutdown) and performs the action each event returns. The bytes of a read are worked
/// through one ``ReadAction`` at a time (``read(_:now:)``, then the call each action names),
/// so a read costs no array of actions; between two steps the handler performs the action,
/// during which NIO's side may report events (its decoder reads what was passed on at once).
///
/// HTTP/1.1 answers requests in order: a head is answered inline only when every request
/// passed on before it has had its response end written and the connection is writable;
/// otherwise it is passed on too. Because requests answered inline never reach Hummingbird's
/// connection-state handler, the idle timeout and the graceful-shutdown close live here.
struct HTTP1FrontStateMachine {
    /// What to do next with the bytes of a read.
    enum ReadAction {
        /// Pass these bytes on to NIO's decoder, then call ``passedOn()``.
        case passOn(ByteBuffer)
        /// See whether the server answers this request whole. If it does, write the answer
        /// and call ``answeredInline()``, else call ``declinedInline()``.
        case tryInline(HTTPRequest)
        /// A request answered inline said `Connection: close`: flush and close the output
        /// side (the answer goes out whole first, as on NIO's side). The read is over.
        case closeOutput
        /// Nothing more to do until more bytes arrive.
        case awaitMore
    }

    /// What to do on any other event.
    enum Action: Equatable {
        /// Nothing to do.
        case none
        /// Flush what was written.
        case flush
        /// Flush once the event loop has read every connection that was ready, then call
        /// ``deferredFlushDue()``.
        case deferFlush
        /// Flush, then close the channel.
        case close
        /// On the next event-loop tick (this comes from within a write), call
        /// ``deferredCloseDue()``.
        case deferCloseAfterSending
        /// Flush and close the output side (NIO shuts it down after the pending writes);
        /// close the whole channel after `forceAfter` if the client has not closed its side.
        case closeAfterSending(forceAfter: TimeAmount)
        /// Arm the idle timer: call ``idleCheckDue(now:)`` after this long.
        case scheduleIdleCheck(in: TimeAmount)
        /// Disarm the idle timer.
        case cancelIdleCheck
    }

    /// Where the reading of the connection's bytes stands.
    private enum ReadState {
        /// At the start of a request head (`unread` may hold the part of one that arrived).
        case heads
        /// ``ReadAction/tryInline(_:)`` was returned for this head.
        case decidingInline(HTTP1RequestHead)
        /// The head's bytes were returned as ``ReadAction/passOn(_:)``; NIO's decoder, which
        /// reads them at once, had this many requests in flight before.
        case headPassedOn(HTTP1RequestHead, inFlightBefore: Int)
        /// Inside the body of a request passed on: this many bytes of it still go to NIO.
        case body(remaining: Int)
        /// Everything goes to NIO from here on.
        case passing
        /// A response here said `Connection: close`; nothing more is read.
        case closed
    }

    /// Whether what was written has been flushed.
    private enum FlushState {
        case flushed
        case unflushed
        /// A flush at the end of the loop tick is queued; `unflushed` whether there is
        /// something for it to flush.
        case deferred(unflushed: Bool)
    }

    /// What NIO's side (its decoder and Hummingbird) holds, as ``NIOSideRequests`` reports.
    private struct NIOSide {
        /// Requests NIO's decoder has read whose response end has not been written yet.
        /// Passing a head's bytes on makes the decoder read it at once, so this counts every
        /// request passed on, also those after the connection is handed to NIO for good.
        var inFlight = 0
        /// NIO's side is still reading a request (its head arrived, its end not yet).
        var reading = false
        /// NIO's decoder rejected the bytes: Hummingbird answers 400 and the connection only
        /// waits to be closed.
        var failed = false
    }

    private let idleTimeout: TimeAmount
    private var state = ReadState.heads
    /// Bytes read but not yet answered or passed on: the read being worked through, or an
    /// incomplete head between reads. Nil when empty, so the read buffer is not held.
    private var unread: ByteBuffer?
    private var nio = NIOSide()
    private var flush = FlushState.flushed
    private var quiescing = false
    private var isWritable = true
    private var idleCheckArmed = false
    private var lastActivity: NIODeadline

    /// A machine for a connection that has seen no activity since `now`.
    init(idleTimeout: TimeAmount, now: NIODeadline) {
        self.idleTimeout = idleTimeout
        self.lastActivity = now
    }

    // MARK: reading

    /// Bytes arrived from the client.
    mutating func read(_ bytes: ByteBuffer, now: NIODeadline) -> ReadAction {
        lastActivity = now
        switch state {
        case .passing: return .passOn(bytes)
        case .closed: return .awaitMore
        case .heads, .decidingInline, .headPassedOn, .body: break
        }
        var bytes = bytes
        if var buffer = unread, buffer.readableBytes > 0 {
            unread = nil
            let searched = buffer.readableBytes
            buffer.writeBuffer(&bytes)
            bytes = buffer
            if case .heads = state, bytes.readableBytes <= HTTP1RequestHead.maxLength,
               !bytes.withUnsafeReadableBytes({ HTTP1RequestHead.containsLineFeed($0, from: searched) }) {
                unread = bytes
                return .awaitMore
            }
        }
        unread = bytes
        return next()
    }

    /// The bytes of the last ``ReadAction/passOn(_:)`` went to NIO.
    mutating func passedOn() -> ReadAction {
        if case .headPassedOn(let head, let inFlightBefore) = state {
            if nio.inFlight == inFlightBefore {
                // Never the case for a head NIO reads (it decodes it at once): leave the
                // connection to NIO rather than answer past a request it holds.
                state = .passing
            } else if head.wantsClose {
                // After `Connection: close` NIO's side closes once it has answered; what
                // follows (the body included) is NIO's to read or refuse.
                state = .passing
            } else {
                state = head.bodyLength > 0 ? .body(remaining: head.bodyLength) : .heads
            }
        }
        // Otherwise NIO's decoder rejected the head (``nioSideFailed()``: passing) or these
        // were body bytes.
        return next()
    }

    /// The request of the last ``ReadAction/tryInline(_:)`` was answered, its answer written.
    mutating func answeredInline() -> ReadAction {
        guard case .decidingInline(let head) = state else { return next() }
        unread!.moveReaderIndex(forwardBy: head.length)
        wrote()
        if head.wantsClose {
            // What NIO's side does too: the answer goes out whole, then the output side closes.
            state = .closed
            unread = nil
            flushed()
            return .closeOutput
        }
        state = .heads
        return next()
    }

    /// The request of the last ``ReadAction/tryInline(_:)`` is left to NIO's side.
    mutating func declinedInline() -> ReadAction {
        guard case .decidingInline(let head) = state else { return next() }
        return passOn(head)
    }

    /// The next step with `unread`.
    private mutating func next() -> ReadAction {
        while let readable = unread?.readableBytes, readable > 0 {
            switch state {
            case .passing:
                return passOnAll()
            case .closed:
                unread = nil
                return .awaitMore
            case .body(let remaining):
                let count = min(remaining, readable)
                state = remaining == count ? .heads : .body(remaining: remaining - count)
                return .passOn(unread!.readSlice(length: count)!)
            case .heads, .decidingInline, .headPassedOn:
                // (The last two are left by their own steps before this runs.)
                let scan = unread!.withUnsafeReadableBytes { HTTP1RequestHead.scan($0) }
                switch scan {
                case .incomplete:
                    state = .heads
                    return .awaitMore
                case .unframeable:
                    state = .passing
                    return passOnAll()
                case .head(let head):
                    if let request = head.request, nio.inFlight == 0, !quiescing, isWritable {
                        state = .decidingInline(head)
                        return .tryInline(request)
                    }
                    return passOn(head)
                }
            }
        }
        unread = nil
        return .awaitMore
    }

    private mutating func passOn(_ head: HTTP1RequestHead) -> ReadAction {
        state = .headPassedOn(head, inFlightBefore: nio.inFlight)
        return .passOn(unread!.readSlice(length: head.length)!)
    }

    private mutating func passOnAll() -> ReadAction {
        let all = unread!
        unread = nil
        return .passOn(all)
    }

    // MARK: NIO's side

    /// NIO's decoder produced a request head.
    mutating func nioSideStarted() {
        nio.inFlight += 1
        nio.reading = true
    }

    /// NIO's decoder produced a request end.
    mutating func nioSideRead() {
        nio.reading = false
    }

    /// NIO's decoder rejected the bytes: its 400 goes first, so the connection is NIO's.
    mutating func nioSideFailed() {
        nio.failed = true
        state = .passing
    }

    /// NIO's side wrote the end of a response. (Hummingbird's answer to a rejected request
    /// has an end but no head, hence the floor.)
    mutating func nioSideEnded(now: NIODeadline) -> Action {
        nio.inFlight = max(0, nio.inFlight - 1)
        lastActivity = now
        // Called from within that write; Hummingbird flushes right after it.
        return quiescing && nio.inFlight == 0 ? .deferCloseAfterSending : .none
    }

    /// The close ``Action/deferCloseAfterSending`` queued is due.
    mutating func deferredCloseDue() -> Action {
        flushed()
        return .closeAfterSending(forceAfter: .seconds(5))
    }

    // MARK: writing

    private mutating func wrote() {
        switch flush {
        case .flushed, .unflushed: flush = .unflushed
        case .deferred: flush = .deferred(unflushed: true)
        }
    }

    /// The handler's outbound side was asked to flush.
    mutating func flushRequested() -> Action {
        flushed()
        return .flush
    }

    private mutating func flushed() {
        switch flush {
        case .flushed, .unflushed: flush = .flushed
        case .deferred: flush = .deferred(unflushed: false)
        }
    }

    /// The channel read everything it had for now.
    mutating func readComplete() -> Action {
        guard case .unflushed = flush else { return .none }
        // Flushed once the event loop has read every connection that was ready, which is
        // when the async path's responses go out too: written in one burst, a client finds
        // several responses per wake-up instead of one.
        flush = .deferred(unflushed: true)
        return .deferFlush
    }

    /// The flush ``Action/deferFlush`` queued is due.
    mutating func deferredFlushDue() -> Action {
        let needed = needsFlush
        flush = .flushed
        return needed ? .flush : .none
    }

    /// The channel became writable or stopped being writable.
    mutating func writabilityChanged(isWritable: Bool) {
        self.isWritable = isWritable
    }

    /// The client closed its side of the connection.
    mutating func inputClosed() -> Action {
        guard needsFlush else { return .none }
        // The client is done sending: its answers go out before NIO's side may close.
        flushed()
        return .flush
    }

    /// Whether something written waits for a flush.
    private var needsFlush: Bool {
        switch flush {
        case .unflushed, .deferred(unflushed: true): return true
        case .flushed, .deferred(unflushed: false): return false
        }
    }

    // MARK: idle timeout and graceful shutdown

    /// Whether the connection may be closed for idleness, by the rule of Hummingbird's own
    /// idle check: no request in flight on NIO's side, or one whose head or body is still
    /// being read (a stalled upload), or a connection NIO has already failed. Requests
    /// answered inline are never in flight: they are answered within the read that completed
    /// them. A partial head does not count either.
    private var isIdle: Bool { nio.inFlight == 0 || nio.reading || nio.failed }

    /// The handler joined the pipeline of a channel in this state.
    mutating func added(isActive: Bool, isWritable: Bool) -> Action {
        self.isWritable = isWritable
        return isActive ? armIdleCheck(in: idleTimeout) : .none
    }

    /// The channel became active.
    mutating func channelActive() -> Action {
        armIdleCheck(in: idleTimeout)
    }

    /// The channel became inactive, or the handler left the pipeline: no more idle checks.
    mutating func channelInactive() -> Action {
        idleCheckArmed = false
        return .cancelIdleCheck
    }

    private mutating func armIdleCheck(in delay: TimeAmount) -> Action {
        guard !idleCheckArmed else { return .none }
        idleCheckArmed = true
        return .scheduleIdleCheck(in: delay)
    }

    /// The idle timer fired.
    mutating func idleCheckDue(now: NIODeadline) -> Action {
        idleCheckArmed = false
        let idleFor = now - lastActivity
        if idleFor >= idleTimeout, isIdle {
            flushed()
            return .close
        }
        return armIdleCheck(in: max(idleTimeout - idleFor, .seconds(1)))
    }

    /// The server is shutting down gracefully: close now if nothing is in flight, else once
    /// the last passed-on response ends.
    mutating func quiesce() -> Action {
        quiescing = true
        guard nio.inFlight == 0 || nio.failed else { return .none }
        flushed()
        return .close
    }
}
