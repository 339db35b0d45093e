import HTTPTypes
import NIOCore
@testable import S3API
import XCTest

/// ``HTTP1FrontStateMachine`` stepped without a channel: the tests play the handler (perform
/// each read action, answer or decline inline) and NIO's decoder (report what it read).
final class HTTP1FrontStateMachineTests: XCTestCase {
    private typealias Machine = HTTP1FrontStateMachine

    private let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    private let timeout = TimeAmount.seconds(30)

    /// What the handler did with a read, in order.
    private enum Step: Equatable {
        /// These bytes went to NIO.
        case pass(String)
        /// The request for this path was answered inline.
        case inline(String)
        /// The output side was closed after a `Connection: close` answer.
        case closeOutput
    }

    private func machine() -> Machine {
        Machine(idleTimeout: timeout, now: t0)
    }

    private func get(_ path: String, _ extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: h\r\n\(extra)\r\n"
    }

    private func put(_ path: String, length: Int, _ extra: String = "") -> String {
        "PUT \(path) HTTP/1.1\r\nHost: h\r\nContent-Length: \(length)\r\n\(extra)\r\n"
    }

    /// NIO's decoder as far as the machine sees it: a head passed on is read at once, and a
    /// request without a body ends with it. (Bodies are ended by the tests.)
    private static func decoder(_ text: String, _ machine: inout Machine) {
        guard let method = text.split(separator: " ", maxSplits: 1).first,
              ["GET", "HEAD", "PUT", "POST"].contains(method) else { return }
        machine.nioSideStarted()
        if !text.lowercased().contains("content-length") { machine.nioSideRead() }
    }

    /// Plays the handler for one read of `text`: answers inline the requests `answer`
    /// accepts, and lets `nio` react to each chunk passed on as NIO's decoder would.
    private func read(_ text: String, _ machine: inout Machine, at now: NIODeadline? = nil,
                      answer: (HTTPRequest) -> Bool = { _ in true },
                      nio: (String, inout Machine) -> Void = decoder) -> [Step] {
        var steps: [Step] = []
        var action = machine.read(ByteBuffer(string: text), now: now ?? t0)
        while true {
            switch action {
            case .passOn(let bytes):
                let passed = String(buffer: bytes)
                steps.append(.pass(passed))
                nio(passed, &machine)
                action = machine.passedOn()
            case .tryInline(let request):
                if answer(request) {
                    steps.append(.inline(request.path ?? ""))
                    action = machine.answeredInline()
                } else {
                    action = machine.declinedInline()
                }
            case .closeOutput:
                steps.append(.closeOutput)
                return steps
            case .awaitMore:
                return steps
            }
        }
    }

    // MARK: heads answered inline

    func testCompleteHeadIsAnsweredInlineAndFlushedAtTheEndOfTheTick() {
        var m = machine()
        XCTAssertEqual(read(get("/b/k"), &m), [.inline("/b/k")])
        XCTAssertEqual(m.readComplete(), .deferFlush)
        XCTAssertEqual(m.deferredFlushDue(), .flush)
        XCTAssertEqual(m.readComplete(), .none)
    }

    func testDeferredFlushIsQueuedOnce() {
        var m = machine()
        XCTAssertEqual(read(get("/a"), &m), [.inline("/a")])
        XCTAssertEqual(m.readComplete(), .deferFlush)
        XCTAssertEqual(read(get("/b"), &m), [.inline("/b")])
        XCTAssertEqual(m.readComplete(), .none)
        XCTAssertEqual(m.deferredFlushDue(), .flush)
        XCTAssertEqual(m.deferredFlushDue(), .none)
    }

    func testFlushBeforeTheDeferredOneLeavesItNothingToDo() {
        var m = machine()
        XCTAssertEqual(read(get("/a"), &m), [.inline("/a")])
        XCTAssertEqual(m.readComplete(), .deferFlush)
        XCTAssertEqual(m.flushRequested(), .flush)
        XCTAssertEqual(m.deferredFlushDue(), .none)
        XCTAssertEqual(read(get("/b"), &m), [.inline("/b")])
        XCTAssertEqual(m.flushRequested(), .flush)
        XCTAssertEqual(m.readComplete(), .none)
    }

    func testInputClosedFlushesWhatWasAnswered() {
        var m = machine()
        XCTAssertEqual(m.inputClosed(), .none)
        XCTAssertEqual(read(get("/a"), &m), [.inline("/a")])
        XCTAssertEqual(m.inputClosed(), .flush)
        XCTAssertEqual(m.readComplete(), .none)
    }

    func testDeclinedHeadIsPassedOnAndLaterHeadsFollowIt() {
        var m = machine()
        let steps = read(get("/a") + get("/b"), &m, answer: { $0.path != "/a" })
        XCTAssertEqual(steps, [.pass(get("/a")), .pass(get("/b"))])
        XCTAssertEqual(m.readComplete(), .none)
    }

    func testPartialHeadThenTheRest() {
        var m = machine()
        let head = get("/a")
        let cut = head.index(head.startIndex, offsetBy: 20)
        XCTAssertEqual(read(String(head[..<cut]), &m), [])
        XCTAssertEqual(read(String(head[cut...]), &m), [.inline("/a")])
        XCTAssertEqual(read(get("/b"), &m), [.inline("/b")])
    }

    func testHeadArrivingByteByByte() {
        var m = machine()
        let head = get("/a")
        for (i, c) in head.enumerated() {
            XCTAssertEqual(read(String(c), &m), i == head.count - 1 ? [.inline("/a")] : [], "byte \(i)")
        }
    }

    func testIncompleteHeadIsReadAgainOnlyWhenALineFeedArrives() {
        var m = machine()
        // "GET /\rX" is outside the subset as soon as the X is read (a bare CR), but it is
        // looked at again only when a line feed comes.
        for c in ["G", "E", "T", " ", "/", "\r", "X", "Y"] {
            XCTAssertEqual(read(c, &m), [], c.debugDescription)
        }
        XCTAssertEqual(read("\n", &m), [.pass("GET /\rXY\n")])
        XCTAssertEqual(read(get("/b"), &m), [.pass(get("/b"))])
    }

    func testHeadLongerThanTheLimitGoesToNIO() {
        var m = machine()
        let chunk = String(repeating: "a", count: 4096)
        XCTAssertEqual(read("GET /", &m), [])
        var sent = "GET /"
        while sent.utf8.count + chunk.utf8.count <= HTTP1RequestHead.maxLength {
            XCTAssertEqual(read(chunk, &m), [])
            sent += chunk
        }
        XCTAssertEqual(read(chunk, &m), [.pass(sent + chunk)])
    }

    // MARK: pipelining

    func testTwoHeadsInOneReadAreAnsweredInOrder() {
        var m = machine()
        XCTAssertEqual(read(get("/a") + get("/b"), &m), [.inline("/a"), .inline("/b")])
    }

    func testHeadsBehindARequestOnNIOsSideArePassedOnUntilItsResponseEnds() {
        var m = machine()
        let steps = read(put("/b/k", length: 3) + "abc" + get("/a") + get("/b"), &m, nio: { text, m in
            Self.decoder(text, &m)
            if text == "abc" { m.nioSideRead() }
        })
        XCTAssertEqual(steps, [.pass(put("/b/k", length: 3)), .pass("abc"), .pass(get("/a")), .pass(get("/b"))])
        XCTAssertEqual(m.nioSideEnded(now: t0), .none)
        XCTAssertEqual(m.nioSideEnded(now: t0), .none)
        XCTAssertEqual(read(get("/c"), &m), [.pass(get("/c"))])
        XCTAssertEqual(m.nioSideEnded(now: t0), .none)
        XCTAssertEqual(read(get("/d"), &m), [.pass(get("/d"))])
        XCTAssertEqual(m.nioSideEnded(now: t0), .none)
        XCTAssertEqual(m.nioSideEnded(now: t0), .none)
        XCTAssertEqual(read(get("/e") + get("/f"), &m), [.inline("/e"), .inline("/f")])
    }

    func testEndWithoutHeadNeverMakesTheCountNegative() {
        var m = machine()
        XCTAssertEqual(m.nioSideEnded(now: t0), .none)
        XCTAssertEqual(read(get("/a"), &m), [.inline("/a")])
    }

    // MARK: bodies

    func testBodyIsPassedOnByContentLengthThenHeadsAreReadAgain() {
        var m = machine()
        XCTAssertEqual(read(put("/b/k", length: 5) + "ab", &m), [.pass(put("/b/k", length: 5)), .pass("ab")])
        XCTAssertEqual(read("c", &m), [.pass("c")])
        // The response may end before the whole body is read (an error, say).
        XCTAssertEqual(m.nioSideEnded(now: t0), .none)
        XCTAssertEqual(read("de" + get("/a"), &m), [.pass("de"), .inline("/a")])
    }

    func testBodyBytesThatLookLikeAHeadAreBody() {
        var m = machine()
        let body = get("/x")
        let steps = read(put("/b/k", length: body.utf8.count) + body, &m)
        XCTAssertEqual(steps, [.pass(put("/b/k", length: body.utf8.count)), .pass(body)])
    }

    // MARK: the connection handed to NIO

    func testHeadOutsideTheSubsetHandsTheConnectionToNIOForGood() {
        var m = machine()
        let chunked = "POST /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        XCTAssertEqual(read(chunked + get("/a"), &m), [.pass(chunked + get("/a"))])
        XCTAssertEqual(m.nioSideEnded(now: t0), .none)
        XCTAssertEqual(m.nioSideEnded(now: t0), .none)
        XCTAssertEqual(read(get("/b"), &m), [.pass(get("/b"))])
    }

    func testHeadNIODoesNotReadHandsTheConnectionToNIO() {
        var m = machine()
        let steps = read(get("/a") + get("/b"), &m, answer: { _ in false }, nio: { _, _ in })
        XCTAssertEqual(steps, [.pass(get("/a")), .pass(get("/b"))])
        XCTAssertEqual(read(get("/c"), &m), [.pass(get("/c"))])
    }

    func testDecoderFailureHandsTheConnectionToNIO() {
        var m = machine()
        XCTAssertEqual(read(get("/a"), &m, answer: { _ in false }), [.pass(get("/a"))])
        let steps = read(get("/b") + get("/c"), &m, nio: { [self] text, m in
            if text == get("/b") { m.nioSideFailed() }
        })
        XCTAssertEqual(steps, [.pass(get("/b")), .pass(get("/c"))])
        XCTAssertEqual(m.nioSideEnded(now: t0), .none)
        XCTAssertEqual(read(get("/d"), &m), [.pass(get("/d"))])
    }

    func testDecoderFailureMakesTheConnectionIdleAndQuiescingClosesIt() {
        var m = machine()
        XCTAssertEqual(m.added(isActive: true, isWritable: true), .scheduleIdleCheck(in: timeout))
        XCTAssertEqual(read(get("/a"), &m, answer: { _ in false }), [.pass(get("/a"))])
        XCTAssertEqual(m.idleCheckDue(now: t0 + timeout), .scheduleIdleCheck(in: .seconds(1)))
        m.nioSideFailed()
        XCTAssertEqual(m.idleCheckDue(now: t0 + timeout + .seconds(1)), .close)
        var quiescing = machine()
        _ = read(get("/a"), &quiescing, answer: { _ in false })
        quiescing.nioSideFailed()
        XCTAssertEqual(quiescing.quiesce(), .close)
    }

    // MARK: Connection: close

    func testConnectionCloseAnsweredInlineClosesTheOutputAndReadsNothingMore() {
        var m = machine()
        let steps = read(get("/a", "Connection: close\r\n") + get("/b"), &m)
        XCTAssertEqual(steps, [.inline("/a"), .closeOutput])
        XCTAssertEqual(m.readComplete(), .none)
        XCTAssertEqual(read(get("/c"), &m), [])
    }

    func testConnectionClosePassedOnLeavesTheRestToNIO() {
        var m = machine()
        let head = put("/b/k", length: 3, "Connection: close\r\n")
        XCTAssertEqual(read(head + "abc" + get("/a"), &m), [.pass(head), .pass("abc" + get("/a"))])
        XCTAssertEqual(read(get("/b"), &m), [.pass(get("/b"))])
    }

    // MARK: writability

    func testHeadsArePassedOnWhileTheChannelIsNotWritable() {
        var m = machine()
        XCTAssertEqual(m.added(isActive: true, isWritable: false), .scheduleIdleCheck(in: timeout))
        XCTAssertEqual(read(get("/a"), &m), [.pass(get("/a"))])
        XCTAssertEqual(m.nioSideEnded(now: t0), .none)
        m.writabilityChanged(isWritable: true)
        XCTAssertEqual(read(get("/b"), &m), [.inline("/b")])
        m.writabilityChanged(isWritable: false)
        XCTAssertEqual(read(get("/c"), &m), [.pass(get("/c"))])
    }

    // MARK: idle timeout

    func testIdleCheckIsArmedOnce() {
        var m = machine()
        XCTAssertEqual(m.added(isActive: false, isWritable: true), .none)
        XCTAssertEqual(m.channelActive(), .scheduleIdleCheck(in: timeout))
        XCTAssertEqual(m.channelActive(), .none)
        XCTAssertEqual(m.channelInactive(), .cancelIdleCheck)
        XCTAssertEqual(m.channelActive(), .scheduleIdleCheck(in: timeout))
    }

    func testIdleConnectionIsClosed() {
        var m = machine()
        XCTAssertEqual(m.channelActive(), .scheduleIdleCheck(in: timeout))
        XCTAssertEqual(m.idleCheckDue(now: t0 + timeout), .close)
    }

    func testActivityPostponesTheIdleCheck() {
        var m = machine()
        XCTAssertEqual(m.channelActive(), .scheduleIdleCheck(in: timeout))
        XCTAssertEqual(read(get("/a"), &m, at: t0 + .seconds(10)), [.inline("/a")])
        XCTAssertEqual(m.idleCheckDue(now: t0 + timeout), .scheduleIdleCheck(in: .seconds(10)))
        XCTAssertEqual(m.idleCheckDue(now: t0 + .seconds(40)), .close)
    }

    func testPartialHeadDoesNotKeepTheConnectionOpen() {
        var m = machine()
        XCTAssertEqual(m.channelActive(), .scheduleIdleCheck(in: timeout))
        XCTAssertEqual(read("GET /a HT", &m), [])
        XCTAssertEqual(m.idleCheckDue(now: t0 + timeout), .close)
    }

    func testConnectionWithAResponseGoingOutStays() {
        var m = machine()
        XCTAssertEqual(m.channelActive(), .scheduleIdleCheck(in: timeout))
        XCTAssertEqual(read(get("/a"), &m, answer: { _ in false }), [.pass(get("/a"))])
        XCTAssertEqual(m.idleCheckDue(now: t0 + .seconds(90)), .scheduleIdleCheck(in: .seconds(1)))
        XCTAssertEqual(m.nioSideEnded(now: t0 + .seconds(91)), .none)
        XCTAssertEqual(m.idleCheckDue(now: t0 + .seconds(92)), .scheduleIdleCheck(in: .seconds(29)))
        XCTAssertEqual(m.idleCheckDue(now: t0 + .seconds(121)), .close)
    }

    func testStalledUploadIsClosed() {
        var m = machine()
        XCTAssertEqual(m.channelActive(), .scheduleIdleCheck(in: timeout))
        XCTAssertEqual(read(put("/b/k", length: 100) + "ab", &m), [.pass(put("/b/k", length: 100)), .pass("ab")])
        XCTAssertEqual(m.idleCheckDue(now: t0 + timeout), .close)
    }

    // MARK: graceful shutdown

    func testQuiescingIdleConnectionClosesAtOnce() {
        var m = machine()
        XCTAssertEqual(m.quiesce(), .close)
    }

    func testQuiescingBusyConnectionClosesAfterTheLastResponseEnds() {
        var m = machine()
        XCTAssertEqual(read(get("/a"), &m, answer: { _ in false }), [.pass(get("/a"))])
        XCTAssertEqual(m.quiesce(), .none)
        // No more inline answers once quiescing: this one goes behind the first.
        XCTAssertEqual(read(get("/b"), &m), [.pass(get("/b"))])
        XCTAssertEqual(m.nioSideEnded(now: t0), .none)
        XCTAssertEqual(m.nioSideEnded(now: t0), .deferCloseAfterSending)
        XCTAssertEqual(m.deferredCloseDue(), .closeAfterSending(forceAfter: .seconds(5)))
    }

    func testQuiescingStopsInlineAnswers() {
        var m = machine()
        XCTAssertEqual(m.quiesce(), .close)
        XCTAssertEqual(read(get("/a"), &m), [.pass(get("/a"))])
    }

    func testCloseAfterSendingFlushesFirst() {
        var m = machine()
        XCTAssertEqual(read(get("/a"), &m), [.inline("/a")])
        XCTAssertEqual(m.deferredCloseDue(), .closeAfterSending(forceAfter: .seconds(5)))
        XCTAssertEqual(m.readComplete(), .none)
    }
}
