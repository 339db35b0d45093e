import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import S3API
import XCTest

/// ``HTTP1RequestHead`` against NIO's own HTTP/1 decoder (llhttp), which reads every request
/// the fast path passes on. Wherever the scanner reads a head, NIO must read the same request
/// ending at the same byte; whatever the scanner is unsure of must be left to NIO.
final class HTTP1RequestHeadTests: XCTestCase {
    private func scan(_ text: String) -> HTTP1RequestHead.Scan {
        Array(text.utf8).withUnsafeBytes { HTTP1RequestHead.scan($0) }
    }

    private func head(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> HTTP1RequestHead {
        guard case .head(let head) = scan(text) else {
            XCTFail("not read as one head: \(text.debugDescription)", file: file, line: line)
            throw CancellationError()
        }
        return head
    }

    private func isUnframeable(_ text: String) -> Bool {
        if case .unframeable = scan(text) { return true }
        return false
    }

    /// What NIO's decoder reads from `bytes`: each request's head and its body byte count,
    /// or nil if it rejects the bytes.
    private func nioRequests(_ bytes: [UInt8]) -> [(head: HTTPRequestHead, body: Int)]? {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
        defer { _ = try? channel.finish() }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        do { try channel.writeInbound(buffer) } catch { return nil }
        var requests: [(head: HTTPRequestHead, body: Int)] = []
        var current: (head: HTTPRequestHead, body: Int)?
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let head): current = (head, 0)
            case .body(let body): current?.body += body.readableBytes
            case .end:
                if let done = current { requests.append(done) }
                current = nil
            }
        }
        return requests
    }

    /// The scanner reads `text` as one head, and NIO reads the same request from the same bytes
    /// followed by a second request: both agree where the first one ends. (After
    /// `Connection: close` NIO rightly rejects any further bytes, so no second request follows.)
    private func assertAgreesWithNIO(_ text: String, body: String = "", file: StaticString = #filePath, line: UInt = #line) throws {
        let parsed = try head(text, file: file, line: line)
        XCTAssertEqual(parsed.length, text.utf8.count, "head length", file: file, line: line)
        XCTAssertEqual(parsed.bodyLength, body.utf8.count, "body length", file: file, line: line)
        let next = parsed.wantsClose ? "" : "GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
        guard let requests = nioRequests(Array((text + body + next).utf8)) else {
            return XCTFail("NIO rejects what the scanner reads: \(text.debugDescription)", file: file, line: line)
        }
        let expected = parsed.wantsClose ? 1 : 2
        XCTAssertEqual(requests.count, expected, "NIO reads \(requests.count) requests", file: file, line: line)
        guard requests.count == expected else { return }
        XCTAssertEqual(requests[0].body, parsed.bodyLength, file: file, line: line)
        if !parsed.wantsClose { XCTAssertEqual(requests[1].head.uri, "/next", file: file, line: line) }
        if let request = parsed.request {
            // The same request as NIO's conversion to HTTPTypes makes of it.
            let converted = try HTTPRequest(requests[0].head, secure: false, splitCookie: true)
            XCTAssertEqual(request, converted, file: file, line: line)
        }
    }

    func testPlainRequestsAreReadLikeNIOReadsThem() throws {
        try assertAgreesWithNIO("GET /bucket/key HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nx-amz-date: 20261122T120000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/20261122/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\n\r\n")
        try assertAgreesWithNIO("HEAD /b/k?versionId=null HTTP/1.1\r\nHost: h\r\nRange:   bytes=0-9  \r\n\r\n")
        try assertAgreesWithNIO("GET /b/k HTTP/1.1\r\nhost:h\r\nX-Tab:\tv\t\r\nEmpty:\r\nContent-Length: 0\r\n\r\n")
        try assertAgreesWithNIO("PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", body: "hello")
        try assertAgreesWithNIO("POST /b?delete HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n", body: "<Delete/>\r\n")
        try assertAgreesWithNIO("GET /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n", body: "abc")
    }

    func testOnlyBodilessGetAndHeadAreOfferedToTheFastPath() throws {
        XCTAssertNotNil(try head("GET /b/k HTTP/1.1\r\nHost: h\r\n\r\n").request)
        XCTAssertNotNil(try head("HEAD /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").request)
        XCTAssertNil(try head("PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").request)
        XCTAssertNil(try head("DELETE /b/k HTTP/1.1\r\nHost: h\r\n\r\n").request)
        XCTAssertNil(try head("GET /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n").request)
        XCTAssertNil(try head("GET /b/k HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n").request)
        XCTAssertNil(try head("GET /b/k HTTP/1.1\r\nHost: h\r\nCookie: a=1; b=2\r\n\r\n").request)
        XCTAssertNil(try head("GET http://h/b/k HTTP/1.1\r\nHost: h\r\n\r\n").request, "absolute-form targets go to NIO")
        XCTAssertNil(try head("GET * HTTP/1.1\r\nHost: h\r\n\r\n").request)
        XCTAssertTrue(try head("GET /b/k HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n").wantsClose)
        XCTAssertFalse(try head("GET /b/k HTTP/1.1\r\nConnection: keep-alive\r\n\r\n").wantsClose)
        XCTAssertFalse(try head("GET /b/k HTTP/1.1\r\nConnection: x-close\r\n\r\n").wantsClose)
        XCTAssertTrue(try head("GET /b/k HTTP/1.1\r\nProxy-Connection: close\r\n\r\n").wantsClose)
    }

    func testAnIncompleteHeadWaitsForMoreBytes() {
        let text = "GET /b/k HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n"
        for end in 0..<text.utf8.count {
            let prefix = String(decoding: Array(text.utf8)[..<end], as: UTF8.self)
            guard case .incomplete = scan(prefix) else { return XCTFail("prefix of \(end) bytes is not incomplete") }
        }
        XCTAssertTrue(isUnframeable("GET /b/k HTTP/1.1\r\nX-Long: " + String(repeating: "a", count: HTTP1RequestHead.maxLength)))
    }

    /// Every visible ASCII character in the target and in a header value, one at a time.
    func testEveryVisibleCharacterIsReadLikeNIOReadsIt() throws {
        for c in UInt8(0x21)...UInt8(0x7e) {
            let char = String(UnicodeScalar(c))
            for text in ["GET /b/k\(char)x HTTP/1.1\r\nHost: h\r\n\r\n", "GET /b/k HTTP/1.1\r\nHost: h\r\nX-V: a\(char)b\r\n\r\n"] {
                if case .head = scan(text) {
                    try assertAgreesWithNIO(text)
                }
            }
        }
    }

    /// Whether NIO reads the connection as closed after a request must match: llhttp rejects
    /// any byte after a request it reads as the last one.
    func testConnectionTokensAreReadLikeNIOReadsThem() throws {
        for value in ["close", "Close", "keep-alive, close", "x-close", "closed", "close-ish", " close ", "upgrade"] {
            for name in ["Connection", "Proxy-Connection"] {
                try assertAgreesWithNIO("GET /b/k HTTP/1.1\r\nHost: h\r\n\(name): \(value)\r\n\r\n")
            }
        }
    }

    func testTooManyFieldsAreLeftToNIO() {
        let fields = String(repeating: "a:1\r\n", count: HTTP1RequestHead.maxFieldCount)
        XCTAssertTrue(isUnframeable("GET /b/k HTTP/1.1\r\n" + fields + "\r\n"))
        let fewer = String(repeating: "a:1\r\n", count: HTTP1RequestHead.maxFieldCount - 1)
        XCTAssertFalse(isUnframeable("GET /b/k HTTP/1.1\r\n" + fewer + "\r\n"))
    }

    /// Everything whose framing or meaning a parser could read differently goes to NIO.
    func testAnythingAmbiguousIsLeftToNIO() {
        let ambiguous = [
            "GET /b/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nContent-Length: 1 1\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nContent-Length:\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
            "CONNECT h:443 HTTP/1.1\r\n\r\n",
            "GET /b/k HTTP/1.0\r\n\r\n",
            "GET /b/k HTTP/2.0\r\n\r\n",
            "GET /b/k  HTTP/1.1\r\n\r\n",
            "GET /b/k HTTP/1.1\n\n",
            "GET /b/k HTTP/1.1\r\nX-A: 1\n\r\n",
            "GET /b/k HTTP/1.1\r\nX-A: 1\r\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nX-A: 1\r\n continued\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nX-A : 1\r\n\r\n",
            "GET /b/k HTTP/1.1\r\n: 1\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nX-A: caf\u{e9}\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nX-A: a\u{0}b\r\n\r\n",
            "GET /b/\u{e9} HTTP/1.1\r\n\r\n",
            " GET /b/k HTTP/1.1\r\n\r\n",
            "\r\nGET /b/k HTTP/1.1\r\n\r\n",
        ]
        for text in ambiguous {
            XCTAssertTrue(isUnframeable(text), "read as a head: \(text.debugDescription)")
        }
    }

    /// Random heads built from pieces, valid and not: whenever the scanner reads one, NIO reads
    /// the same request ending at the same byte.
    func testRandomHeadsAgreeWithNIO() throws {
        var generator = SystemRandomNumberGenerator()
        let methods = ["GET", "HEAD", "PUT", "POST", "DELETE", "G\u{e9}T", "GET "]
        let targets = ["/b/k", "/b/k?x=1&y", "/", "/b/%20k", "/b/k#f", "/b/k\u{7f}"]
        let fields = ["Host: h", "host:  h ", "X-Amz-Date: 20261122T000000Z", "Content-Length: 0", "Content-Length: 4",
                      "content-length: 12", "Content-Length: 4, 4", "Transfer-Encoding: chunked", "Connection: close",
                      "Expect: 100-continue", "Proxy-Connection: close", "Connection: x-close", "X-Empty:", "X-Sp : v", " X-Fold: v", "X-Tab:\tv", "Range: bytes=0-1",
                      "X-Bad: a\u{1}b", "Cookie: a=b"]
        var readByBoth = 0
        for _ in 0..<3000 {
            var text = "\(methods.randomElement(using: &generator)!) \(targets.randomElement(using: &generator)!) HTTP/1.1\r\n"
            for _ in 0..<Int.random(in: 0...5, using: &generator) { text += fields.randomElement(using: &generator)! + "\r\n" }
            text += "\r\n"
            guard case .head(let parsed) = scan(text) else { continue }
            let body = String(repeating: "b", count: parsed.bodyLength)
            try assertAgreesWithNIO(text, body: body)
            readByBoth += 1
        }
        XCTAssertGreaterThan(readByBoth, 300, "too few random heads were read to compare")
    }
}
