import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Tells ``HTTP1FrontHandler`` when NIO's side starts a request and when it has written the
/// response's end. Sits after Hummingbird's connection-state handler, where requests and
/// responses are `HTTPTypes` parts.
final class NIOSideRequests: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let front: HTTP1FrontHandler

    init(front: HTTP1FrontHandler) {
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
