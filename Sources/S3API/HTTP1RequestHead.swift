import Foundation
import HTTPTypes
import NIOCore

/// A strict reader of one HTTP/1.1 request head, for ``HTTP1FrontHandler`` (through ``HTTP1FrontStateMachine``).
///
/// Written by hand because what it is for is skipping NIO's HTTP/1 codec (llhttp, then
/// `HTTPHeaders`, then the `HTTPTypes` conversion, then the same three steps back for the
/// response), which cost more CPU than answering a small GET. It does not replace that
/// codec: it accepts only a plain subset of HTTP/1.1 and, for anything outside it, tells the
/// caller to hand the connection to NIO for good (``Scan/unframeable``).
/// Within the subset a request ends where every HTTP/1.1 parser says it does: no
/// `Transfer-Encoding`, at most one `Content-Length` of plain digits, no folded lines, no bare
/// CR or LF, no whitespace before a colon, visible ASCII only. So the fast path and llhttp can
/// never disagree about where one request ends and the next begins.
struct HTTP1RequestHead {
    /// Bytes of the head, up to and including the empty line.
    var length: Int
    /// Bytes of body that follow the head (`Content-Length`, 0 without one).
    var bodyLength: Int
    /// The request, when it is a GET or HEAD the fast path may answer: no body, no `Expect`,
    /// no `Cookie` (NIO's conversion splits those), origin-form target. Otherwise nil.
    var request: HTTPRequest?
    /// `Connection: close` was sent.
    var wantsClose: Bool

    enum Scan {
        /// The head is not complete yet.
        case incomplete
        /// One head, read whole.
        case head(HTTP1RequestHead)
        /// Outside the subset: only NIO's parser may read this connection from here on.
        case unframeable
    }

    /// Longest head read here; a longer one goes to NIO, whose limit (80 KiB) answers it.
    static let maxLength = 16 * 1024
    /// Hummingbird's default `maxHeaderFieldCount` for NIO's decoder: a head with this many
    /// fields or more is left to NIO, which answers it.
    static let maxFieldCount = 1000

    /// Whether `bytes` hold a line feed at `offset` or later. A head still arriving is read
    /// again only when new bytes bring one: only then can it be complete, or be found
    /// outside the subset (a bare LF), so a head sent a byte at a time costs one reading per
    /// line rather than one per byte.
    static func containsLineFeed(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Bool {
        var i = max(0, offset)
        while i < bytes.count {
            if bytes[i] == 10 { return true }
            i += 1
        }
        return false
    }

    /// Reads the head at the start of `bytes`.
    static func scan(_ bytes: UnsafeRawBufferPointer) -> Scan {
        var reader = Reader(bytes: bytes)
        return reader.head()
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        /// The end of the line starting at `index` (the index of its CR), or nil when the
        /// buffer ends first. A bare CR or LF makes the line invalid (-1).
        func lineEnd() -> Int? {
            var i = index
            while i < bytes.count {
                let c = bytes[i]
                if c == 13 {
                    guard i + 1 < bytes.count else { return nil }
                    return bytes[i + 1] == 10 ? i : -1
                }
                if c == 10 { return -1 }
                i += 1
            }
            return nil
        }

        mutating func head() -> Scan {
            // The request line: method SP origin-form target SP "HTTP/1.1".
            guard let lineEnd = lineEnd() else { return incompleteOrTooLong() }
            guard lineEnd >= 0 else { return .unframeable }
            var i = index
            while i < lineEnd, isTokenCharacter(bytes[i]) { i += 1 }
            let methodEnd = i
            guard methodEnd > index, i < lineEnd, bytes[i] == 32 else { return .unframeable }
            i += 1
            let targetStart = i
            while i < lineEnd, bytes[i] > 32, bytes[i] < 127 { i += 1 }
            let targetEnd = i
            guard targetEnd > targetStart, lineEnd - i == 9, bytes[i] == 32,
                  matches(i + 1, "HTTP/1.1") else { return .unframeable }
            let method = string(index, methodEnd)
            if method == "CONNECT" { return .unframeable }
            index = lineEnd + 2

            var fields = HTTPFields()
            var authority: String?
            var contentLength: Int?
            var answerable = (method == "GET" || method == "HEAD") && bytes[targetStart] == UInt8(ascii: "/")
            var wantsClose = false
            var fieldCount = 0
            while true {
                guard let end = self.lineEnd() else { return incompleteOrTooLong() }
                guard end >= 0 else { return .unframeable }
                if end == index {
                    index = end + 2
                    break
                }
                // NIO's decoder, as Hummingbird configures it, rejects more fields than this.
                fieldCount += 1
                guard fieldCount < HTTP1RequestHead.maxFieldCount else { return .unframeable }
                // name ":" OWS value OWS
                let nameStart = index
                var i = index
                while i < end, isTokenCharacter(bytes[i]) { i += 1 }
                guard i > index, i < end, bytes[i] == UInt8(ascii: ":") else { return .unframeable }
                let nameEnd = i
                i += 1
                while i < end, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
                let valueStart = i
                var valueEnd = i
                while i < end {
                    let c = bytes[i]
                    guard c == 9 || (c >= 32 && c < 127) else { return .unframeable }
                    i += 1
                    if c != 32 && c != 9 { valueEnd = i }
                }
                // Token characters only, so always a valid name; its canonical form is lowercase.
                guard let name = HTTPField.Name(string(nameStart, nameEnd)) else { return .unframeable }
                let value = string(valueStart, valueEnd)
                index = end + 2
                switch name.canonicalName {
                case "transfer-encoding", "upgrade":
                    return .unframeable
                case "content-length":
                    guard contentLength == nil, valueEnd > valueStart, valueEnd - valueStart <= 15,
                          (valueStart..<valueEnd).allSatisfy({ bytes[$0] >= 48 && bytes[$0] <= 57 }),
                          let length = Int(value) else { return .unframeable }
                    contentLength = length
                    if length != 0 { answerable = false }
                case "host":
                    // NIO's conversion moves the first Host into the authority.
                    guard authority == nil else { return .unframeable }
                    authority = value
                    continue
                case "expect", "cookie":
                    answerable = false
                case "connection", "proxy-connection":
                    // llhttp reads both, as comma-separated tokens.
                    if value.split(separator: ",").contains(where: {
                        $0.trimmingCharacters(in: .whitespaces).lowercased() == "close"
                    }) { wantsClose = true }
                default:
                    break
                }
                if answerable { fields.append(HTTPField(name: name, value: value)) }
            }
            let request = answerable
                ? HTTPRequest(method: method == "GET" ? .get : .head, scheme: "http", authority: authority,
                              path: string(targetStart, targetEnd), headerFields: fields)
                : nil
            return .head(HTTP1RequestHead(length: index, bodyLength: contentLength ?? 0, request: request, wantsClose: wantsClose))
        }

        func incompleteOrTooLong() -> Scan {
            bytes.count > HTTP1RequestHead.maxLength ? .unframeable : .incomplete
        }

        func matches(_ at: Int, _ literal: StaticString) -> Bool {
            guard at + literal.utf8CodeUnitCount <= bytes.count else { return false }
            for k in 0..<literal.utf8CodeUnitCount where bytes[at + k] != literal.utf8Start[k] { return false }
            return true
        }

        func string(_ start: Int, _ end: Int) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
    }
}

/// RFC 9110 `tchar`.
@inline(__always)
func isTokenCharacter(_ c: UInt8) -> Bool {
    switch c {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
         UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
         UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}
