import HTTPTypes
import HummingbirdCore
import NIOCore
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
    /// A response ``HTTP1FrontHandler`` writes whole: ``S3Response/Prepared`` but never
    /// streamed. A mapped body is copied from the map straight into the response's buffer.
    enum InlineAnswer {
        case whole(HTTPResponse, ByteBuffer?)
        case mapped(HTTPResponse, any ObjectReader, UnsafeRawBufferPointer)

        /// The response as HTTP/1.1 bytes (what NIO's encoder writes for the same head), in
        /// one buffer with the body, so it goes out in one write. A mapped body's slice is
        /// released and its reader closed once copied.
        func encode(allocator: ByteBufferAllocator) -> ByteBuffer {
            let head: HTTPResponse
            let bodySize: Int
            switch self {
            case .whole(let h, let body): (head, bodySize) = (h, body?.readableBytes ?? 0)
            case .mapped(let h, _, let slice): (head, bodySize) = (h, slice.count)
            }
            var out = allocator.buffer(capacity: 512 + bodySize)
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
            switch self {
            case .whole(_, let body):
                if let body { out.writeImmutableBuffer(body) }
            case .mapped(_, let reader, let slice):
                out.writeBytes(slice)
                reader.release(slice)
                reader.close()
            }
            return out
        }
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
