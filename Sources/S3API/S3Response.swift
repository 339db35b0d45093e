import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import ObjectStore

/// A response to write: status, headers and where the body comes from.
struct S3Response: Sendable {
    enum Body: Sendable {
        case empty
        case bytes(ByteBuffer)
        /// Bytes `range` of an object, streamed from its LMDB snapshot.
        case object(ObjectReader, Range<UInt64>)
    }

    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: Body

    init(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], body: Body = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// An XML document response.
    static func xml(_ document: XMLWriter, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> S3Response {
        var headers = headers
        headers[.contentType] = "application/xml"
        return S3Response(status: status, headers: headers, body: .bytes(ByteBuffer(string: document.text)))
    }

    /// The S3 `<Error>` document for `error`.
    static func error(_ error: S3Error, resource: String, requestId: String) -> S3Response {
        let status = HTTPResponse.Status(code: error.code.status)
        var headers = HTTPFields()
        for (name, value) in error.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        if error.code == .notModified { return S3Response(status: status, headers: headers) }
        var doc = XMLWriter()
        doc.element("Error") { x in
            x.leaf("Code", error.code.rawValue)
            x.leaf("Message", error.message)
            for (name, value) in error.details { x.leaf(name, value) }
            x.leaf("Resource", resource)
            x.leaf("RequestId", requestId)
        }
        return .xml(doc, status: status, headers: headers)
    }

    /// A response ready for the wire: whole (head and all of the body, written at once), or
    /// streamed (the first slice of an object now, the rest read from the snapshot as the
    /// connection takes it).
    enum Prepared {
        case whole(HTTPResponse, ByteBuffer?)
        case streamed(HTTPResponse, ObjectReader, first: ByteBuffer, rest: Range<UInt64>)
    }

    /// Sets Content-Length and takes the first slice of an object body. HEAD responses carry
    /// the headers (Content-Length included) only.
    consuming func prepare(isHead: Bool) throws -> Prepared {
        var headers = headers
        switch body {
        case .empty:
            if headers[.contentLength] == nil && status.code != 204 && status.code != 304 { headers[.contentLength] = "0" }
        case .bytes(let buffer):
            if headers[.contentLength] == nil { headers[.contentLength] = String(buffer.readableBytes) }
        case .object(_, let range):
            headers[.contentLength] = String(range.count)
        }
        let head = HTTPResponse(status: status, headerFields: headers)
        switch body {
        case .empty:
            return .whole(head, nil)
        case .bytes(let buffer):
            return .whole(head, isHead ? nil : buffer)
        case .object(let reader, let range):
            if isHead {
                reader.close()
                return .whole(head, nil)
            }
            let first: ByteBuffer
            do {
                let slice = try reader.slice(at: range.lowerBound, end: range.upperBound)
                first = ByteBuffer(bytes: slice)
                reader.release(slice)
            } catch {
                reader.close()
                throw error
            }
            // The whole range in one slice of the map (every small object): head, body and
            // end go out in one write, one syscall per response instead of three.
            if UInt64(first.readableBytes) == range.count {
                reader.close()
                return .whole(head, first)
            }
            return .streamed(head, reader, first: first, rest: (range.lowerBound + UInt64(first.readableBytes))..<range.upperBound)
        }
    }

    /// Writes head and body.
    consuming func write(to writer: consuming ResponseWriter, isHead: Bool) async throws {
        switch try prepare(isHead: isHead) {
        case .whole(let head, let body):
            try await writer.write(response: head, body: body.map { ResponseBody(byteBuffer: $0) } ?? ResponseBody())
        case .streamed(let head, let reader, let first, let rest):
            defer { reader.close() }
            var bodyWriter = try await writer.writeHead(head)
            try await bodyWriter.write(first)
            try await Self.stream(reader, range: rest, to: &bodyWriter)
            try await bodyWriter.finish(nil)
        }
    }

    /// Streams an object range; each write waits for the connection to take it (backpressure),
    /// so at most one chunk per connection is in flight.
    private static func stream(_ reader: ObjectReader, range: Range<UInt64>, to bodyWriter: inout some ResponseBodyWriter) async throws {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let slice = try reader.slice(at: offset, end: range.upperBound)
            let buffer = ByteBuffer(bytes: slice)
            reader.release(slice)
            try await bodyWriter.write(buffer)
            offset += UInt64(slice.count)
        }
    }
}
