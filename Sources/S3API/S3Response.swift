import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOPosix
import ObjectStore

/// A response to write: status, headers and where the body comes from.
struct S3Response: Sendable {
    enum Body: Sendable {
        case empty
        case bytes(ByteBuffer)
        /// Bytes `range` of an object, streamed from its LMDB snapshot.
        case object(any ObjectReader, Range<UInt64>)
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

    /// A response ready for the wire: whole (head and all of the body, written at once),
    /// mapped (an object body that is one cached slice of the map, to be copied once to where
    /// it goes, then the reader closed), or streamed (the first slice of an object now, the
    /// rest read from the snapshot as the connection takes it). A first slice that is not in
    /// the page cache is not read here at all (`first` is nil): the async path reads it off
    /// the event loops.
    enum Prepared {
        case whole(HTTPResponse, ByteBuffer?)
        case mapped(HTTPResponse, any ObjectReader, UnsafeRawBufferPointer)
        case streamed(HTTPResponse, any ObjectReader, first: ByteBuffer?, rest: Range<UInt64>)
    }

    /// Sets Content-Length and takes the first slice of an object body (unless reading it may
    /// wait for the disk). HEAD responses carry the headers (Content-Length included) only.
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
            if !reader.isCached(at: range.lowerBound, end: range.upperBound) {
                return .streamed(head, reader, first: nil, rest: range)
            }
            let slice: UnsafeRawBufferPointer
            do {
                slice = try reader.slice(at: range.lowerBound, end: range.upperBound)
            } catch {
                reader.close()
                throw error
            }
            // The whole range in one slice of the map (every small object): head, body and
            // end go out in one write, one syscall per response instead of three.
            if UInt64(slice.count) == range.count { return .mapped(head, reader, slice) }
            let first = ByteBuffer(bytes: slice)
            reader.release(slice)
            return .streamed(head, reader, first: first, rest: (range.lowerBound + UInt64(first.readableBytes))..<range.upperBound)
        }
    }

    /// Writes head and body.
    consuming func write(to writer: consuming ResponseWriter, isHead: Bool) async throws {
        switch try prepare(isHead: isHead) {
        case .whole(let head, let body):
            try await writer.write(response: head, body: body.map { ResponseBody(byteBuffer: $0) } ?? ResponseBody())
        case .mapped(let head, let reader, let slice):
            let body = ByteBuffer(bytes: slice)
            reader.release(slice)
            reader.close()
            try await writer.write(response: head, body: ResponseBody(byteBuffer: body))
        case .streamed(let head, let reader, let first, var rest):
            defer { reader.close() }
            // The first slice is read before the head goes out, so that a storage error still
            // gets an error response rather than a cut-off body.
            let firstSlice: ByteBuffer
            if let first {
                firstSlice = first
            } else {
                let range = rest
                firstSlice = try await reader.readingMap(at: range.lowerBound, end: range.upperBound) {
                    try Self.copySlice(reader, at: range.lowerBound, end: range.upperBound)
                }
                rest = (rest.lowerBound + UInt64(firstSlice.readableBytes))..<rest.upperBound
            }
            var bodyWriter = try await writer.writeHead(head)
            try await bodyWriter.write(firstSlice)
            try await Self.stream(reader, range: rest, to: &bodyWriter)
            try await bodyWriter.finish(nil)
        }
    }

    /// Bytes of `reader`'s body from `offset`, up to `end` or the end of a chunk, copied out of
    /// the map; the map's pages then leave this process's resident set.
    static func copySlice(_ reader: any ObjectReader, at offset: UInt64, end: UInt64) throws -> ByteBuffer {
        let slice = try reader.slice(at: offset, end: end)
        let buffer = ByteBuffer(bytes: slice)
        reader.release(slice)
        return buffer
    }

    /// Streams an object range; each write waits for the connection to take it (backpressure),
    /// so at most one chunk per connection is in flight.
    private static func stream(_ reader: any ObjectReader, range: Range<UInt64>, to bodyWriter: inout some ResponseBodyWriter) async throws {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let from = offset
            let buffer = try await reader.readingMap(at: from, end: range.upperBound) { try copySlice(reader, at: from, end: range.upperBound) }
            try await bodyWriter.write(buffer)
            offset += UInt64(buffer.readableBytes)
        }
    }
}

extension ObjectReader {
    /// Runs `read`, which reads the slice of this reader's body at `offset` (up to `end`) out
    /// of the memory map. A slice that is not all in the page cache (see
    /// ``ObjectReader/isCached(at:end:)``) is read on NIO's thread pool for blocking work:
    /// its page faults wait for the disk, and the event loops must not wait with them (in
    /// `shoebox` they also run Swift's tasks: Shoebox.swift makes them the global executor).
    /// A cached slice is read in place: the hop to another thread cost a 64 MiB GET about a
    /// quarter more CPU.
    func readingMap<T: Sendable>(at offset: UInt64, end: UInt64, _ read: @escaping @Sendable () throws -> T) async throws -> T {
        if isCached(at: offset, end: end) { return try read() }
        return try await NIOThreadPool.singleton.runIfActive(read)
    }
}
