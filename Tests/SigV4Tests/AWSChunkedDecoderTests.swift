import Digests
import SigV4
import XCTest

/// Tests of the aws-chunked decoder. The signed examples are the ones in the Amazon S3 API
/// reference ("Transferring Payload in Multiple Chunks" and "Signature calculations for
/// trailing headers"); their seed, chunk and trailer signatures are the documented values.
final class AWSChunkedDecoderTests: XCTestCase {
    // MARK: Fixtures

    static let signingKey = SigV4.signingKey(
        secretKey: S3ExamplesTests.secretKey, date: "20130524", region: "us-east-1", service: "s3")

    static func context(seed: String, payloadHash: String) -> SigV4SigningContext {
        SigV4SigningContext(
            signingKey: signingKey, amzDate: S3ExamplesTests.amzDate, scope: S3ExamplesTests.scope,
            seedSignature: seed, payloadHash: payloadHash)
    }

    // STREAMING-AWS4-HMAC-SHA256-PAYLOAD example: 66,560 bytes of 'a' in 64 KiB + 1 KiB + 0 chunks.
    static let streamingSeed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    static let streamingSignatures = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ]
    static let streamingContext = context(seed: streamingSeed, payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")

    // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER example: same object, CRC32C trailer.
    static let trailerSeed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
    static let trailerChunkSignatures = [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ]
    static let trailerSignature = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
    static let trailerContext = context(
        seed: trailerSeed, payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")

    static let exampleObject = [UInt8](repeating: UInt8(ascii: "a"), count: 66560)
    static let crlf: [UInt8] = [13, 10]

    /// `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`; for an empty `data` only the header line.
    static func frame(_ data: ArraySlice<UInt8>, signature: String? = nil) -> [UInt8] {
        var out = Array(String(data.count, radix: 16).utf8)
        if let signature { out += Array(";chunk-signature=\(signature)".utf8) }
        out += crlf
        if !data.isEmpty { out += data + crlf }
        return out
    }

    static func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

    /// The body of the documented STREAMING-AWS4-HMAC-SHA256-PAYLOAD example.
    static let streamingBody: [UInt8] =
        frame(exampleObject[0..<65536], signature: streamingSignatures[0])
        + frame(exampleObject[65536...], signature: streamingSignatures[1])
        + frame([], signature: streamingSignatures[2]) + crlf

    /// The body of the documented trailer example.
    static func trailerBody(trailerLines: String) -> [UInt8] {
        frame(exampleObject[0..<65536], signature: trailerChunkSignatures[0])
            + frame(exampleObject[65536...], signature: trailerChunkSignatures[1])
            + frame([], signature: trailerChunkSignatures[2]) + bytes(trailerLines) + crlf
    }
    static let documentedTrailerLines =
        "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(trailerSignature)\r\n"

    /// Builds a signed stream with the signer helpers (themselves checked against the
    /// documented values in S3ExamplesTests).
    static func signedBody(
        _ context: SigV4SigningContext, chunks: [[UInt8]], trailers: [(name: String, value: String)]? = nil
    ) -> [UInt8] {
        var previous = context.seedSignature
        var out: [UInt8] = []
        for chunk in chunks + [[]] {
            let signature = context.chunkSignature(
                previousSignature: previous, chunkSHA256: Hex.encode(Digest.sha256(chunk)))
            out += frame(chunk[...], signature: signature)
            previous = signature
        }
        if let trailers {
            for (name, value) in trailers { out += bytes("\(name):\(value)\r\n") }
            let hash = Hex.encode(Digest.sha256(SigV4.canonicalTrailer(trailers)))
            let signature = context.trailerSignature(previousSignature: previous, trailerSHA256: hash)
            out += bytes("x-amz-trailer-signature:\(signature)\r\n")
        }
        return out + crlf
    }

    /// What aws-cli sends over https: `<hex>\r\n<bytes>\r\n ... 0\r\nx-amz-checksum-crc32:<b64>\r\n\r\n`.
    static func unsignedBody(_ data: [UInt8], frameSize: Int, trailerLines: String) -> [UInt8] {
        var out: [UInt8] = []
        var start = 0
        while start < data.count {
            let end = min(data.count, start + frameSize)
            out += frame(data[start..<end])
            start = end
        }
        return out + bytes("0\r\n") + bytes(trailerLines) + crlf
    }

    // MARK: Feeding

    enum Split: CustomStringConvertible {
        case whole, byteByByte, random(UInt64)
        var description: String {
            switch self {
            case .whole: return "whole"
            case .byteByByte: return "byte by byte"
            case .random(let seed): return "random(\(seed))"
            }
        }
    }
    static let splits: [Split] = [.whole, .byteByByte, .random(1), .random(2), .random(3), .random(4)]

    /// Deterministic SplitMix64, so that failures are reproducible.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func pieces(_ count: Int, _ split: Split) -> [Range<Int>] {
        switch split {
        case .whole:
            return [0..<count]
        case .byteByByte:
            return (0..<count).map { $0..<($0 + 1) }
        case .random(let seed):
            var rng = SplitMix64(state: seed)
            var out: [Range<Int>] = []
            var start = 0
            while start < count {
                // Mostly tiny pieces (to split headers, CRLFs and signatures), some large ones.
                let size = Bool.random(using: &rng) ? Int.random(in: 1...9, using: &rng)
                    : Int.random(in: 1...40_000, using: &rng)
                let end = min(count, start + size)
                out.append(start..<end)
                start = end
            }
            return out
        }
    }

    struct Decoded {
        var payload: [UInt8]
        var trailers: [(name: String, value: String)]
        var decodedBytes: UInt64
    }

    /// Feeds `body` in the pieces given by `split` and finishes. Also checks that every
    /// payload run is a non-empty slice of the piece just fed (no copy).
    static func decode(
        _ body: [UInt8], signing: AWSChunkedDecoder.Signing, expectTrailer: Bool, decodedLength: UInt64?,
        maxChunkSize: Int = 16 << 20, split: Split, file: StaticString = #filePath, line: UInt = #line
    ) throws -> Decoded {
        var decoder = AWSChunkedDecoder(
            signing: signing, expectTrailer: expectTrailer, decodedLength: decodedLength, maxChunkSize: maxChunkSize)
        var payload: [UInt8] = []
        try body.withUnsafeBytes { buffer in
            for range in pieces(body.count, split) {
                let piece = UnsafeRawBufferPointer(rebasing: buffer[range])
                try decoder.feed(piece) { run in
                    XCTAssertGreaterThan(run.count, 0, "empty payload run", file: file, line: line)
                    if let base = run.baseAddress, let pieceBase = piece.baseAddress {
                        XCTAssert(
                            base >= pieceBase && base + run.count <= pieceBase + piece.count,
                            "payload run is not a slice of the input", file: file, line: line)
                    }
                    payload.append(contentsOf: run)
                }
            }
        }
        let trailers = try decoder.finish()
        return Decoded(payload: payload, trailers: trailers, decodedBytes: decoder.decodedBytes)
    }

    /// Asserts that decoding fails with `expected` (any message for `.malformed` when
    /// `expected` is `.malformed("")`).
    static func assertFails(
        _ body: [UInt8], signing: AWSChunkedDecoder.Signing, expectTrailer: Bool, decodedLength: UInt64? = nil,
        maxChunkSize: Int = 16 << 20, splits: [Split] = AWSChunkedDecoderTests.splits,
        _ expected: AWSChunkedError, _ message: String = "", file: StaticString = #filePath, line: UInt = #line
    ) {
        for split in splits {
            do {
                _ = try decode(
                    body, signing: signing, expectTrailer: expectTrailer, decodedLength: decodedLength,
                    maxChunkSize: maxChunkSize, split: split, file: file, line: line)
                XCTFail("decoding succeeded, expected \(expected) [\(split)] \(message)", file: file, line: line)
            } catch let error as AWSChunkedError {
                if case .malformed = expected, case .malformed = error { continue }
                XCTAssertEqual(error, expected, "[\(split)] \(message)", file: file, line: line)
            } catch {
                XCTFail("unexpected error \(error) [\(split)] \(message)", file: file, line: line)
            }
        }
    }

    static func assertTrailers(
        _ actual: [(name: String, value: String)], _ expected: [(String, String)], file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertEqual(actual.map(\.name), expected.map(\.0), file: file, line: line)
        XCTAssertEqual(actual.map(\.value), expected.map(\.1), file: file, line: line)
    }

    static func randomData(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(state: seed)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// Replaces the first occurrence of `old` in `body` by `new` (same length).
    static func replacing(_ old: String, with new: String, in body: [UInt8]) -> [UInt8] {
        let needle = bytes(old)
        precondition(needle.count == new.utf8.count)
        for start in 0...(body.count - needle.count) where body[start..<(start + needle.count)].elementsEqual(needle) {
            var copy = body
            copy.replaceSubrange(start..<(start + needle.count), with: bytes(new))
            return copy
        }
        preconditionFailure("'\(old)' not found")
    }

    // MARK: Documented examples

    func testAWSStreamingExample() throws {
        // The documented Content-Length of the example request.
        XCTAssertEqual(Self.streamingBody.count, 66824)
        for split in Self.splits {
            let decoded = try Self.decode(
                Self.streamingBody, signing: .signed(Self.streamingContext), expectTrailer: false,
                decodedLength: 66560, split: split)
            XCTAssertEqual(decoded.payload, Self.exampleObject, "\(split)")
            XCTAssertEqual(decoded.decodedBytes, 66560)
            XCTAssertTrue(decoded.trailers.isEmpty)
        }
        // Without x-amz-decoded-content-length too.
        let decoded = try Self.decode(
            Self.streamingBody, signing: .signed(Self.streamingContext), expectTrailer: false, decodedLength: nil,
            split: .random(9))
        XCTAssertEqual(decoded.payload.count, 66560)
    }

    func testAWSTrailerExample() throws {
        let body = Self.trailerBody(trailerLines: Self.documentedTrailerLines)
        for split in Self.splits {
            let decoded = try Self.decode(
                body, signing: .signed(Self.trailerContext), expectTrailer: true, decodedLength: 66560, split: split)
            XCTAssertEqual(decoded.payload, Self.exampleObject, "\(split)")
            Self.assertTrailers(decoded.trailers, [("x-amz-checksum-crc32c", "sOO8/Q==")])
            var crc = CRC32C()
            crc.update(decoded.payload)
            XCTAssertEqual(Base64.encode(crc.bytes), decoded.trailers.first?.value)
        }
    }

    func testTrailerNamesAreCaseInsensitiveAndValuesTrimmed() throws {
        // The canonical trailer lowercases names and trims values, so this still verifies.
        let body = Self.trailerBody(
            trailerLines: "X-Amz-Checksum-CRC32C: \t sOO8/Q== \r\nx-amz-trailer-signature:\(Self.trailerSignature)\r\n")
        let decoded = try Self.decode(
            body, signing: .signed(Self.trailerContext), expectTrailer: true, decodedLength: 66560, split: .random(5))
        Self.assertTrailers(decoded.trailers, [("x-amz-checksum-crc32c", "sOO8/Q==")])
    }

    // MARK: Unsigned, as aws-cli sends it

    func testUnsignedTrailerLikeAWSCLI() throws {
        let data = Self.randomData(2 * 1_048_576 + 300_017, seed: 42)
        var crc = CRC32()
        crc.update(data)
        let checksum = Base64.encode(crc.bytes)
        let body = Self.unsignedBody(
            data, frameSize: 1_048_576, trailerLines: "x-amz-checksum-crc32:\(checksum)\r\n")
        XCTAssertTrue(body.starts(with: Self.bytes("100000\r\n")))
        let tail = Self.bytes("\r\n0\r\nx-amz-checksum-crc32:\(checksum)\r\n\r\n")
        XCTAssertTrue(body.suffix(tail.count).elementsEqual(tail))
        for split in [Split.whole, .random(11), .random(12), .random(13)] {
            let decoded = try Self.decode(
                body, signing: .unsigned, expectTrailer: true, decodedLength: UInt64(data.count), split: split)
            XCTAssertEqual(decoded.payload, data, "\(split)")
            XCTAssertEqual(decoded.decodedBytes, UInt64(data.count))
            Self.assertTrailers(decoded.trailers, [("x-amz-checksum-crc32", checksum)])
        }
    }

    func testUnsignedSmallBodyByteByByte() throws {
        let data = Self.randomData(1000, seed: 7)
        var crc = CRC32()
        crc.update(data)
        let body = Self.unsignedBody(
            data, frameSize: 300, trailerLines: "x-amz-checksum-crc32:\(Base64.encode(crc.bytes))\r\n")
        XCTAssertTrue(body.starts(with: Self.bytes("12c\r\n")))  // lowercase hex, as botocore writes it
        let decoded = try Self.decode(
            body, signing: .unsigned, expectTrailer: true, decodedLength: 1000, split: .byteByByte)
        XCTAssertEqual(decoded.payload, data)
        Self.assertTrailers(decoded.trailers, [("x-amz-checksum-crc32", Base64.encode(crc.bytes))])
        // Upper-case hex sizes are accepted too.
        let upper = Self.bytes("A\r\n0123456789\r\n0\r\n\r\n")
        XCTAssertEqual(
            try Self.decode(upper, signing: .unsigned, expectTrailer: true, decodedLength: 10, split: .whole).payload,
            Self.bytes("0123456789"))
    }

    func testEmptyObjects() throws {
        let unsigned = try Self.decode(
            Self.bytes("0\r\n\r\n"), signing: .unsigned, expectTrailer: true, decodedLength: 0, split: .byteByByte)
        XCTAssertEqual(unsigned.payload, [])
        XCTAssertTrue(unsigned.trailers.isEmpty)

        let signed = Self.signedBody(Self.streamingContext, chunks: [])
        let decoded = try Self.decode(
            signed, signing: .signed(Self.streamingContext), expectTrailer: false, decodedLength: 0,
            split: .byteByByte)
        XCTAssertEqual(decoded.decodedBytes, 0)

        let signedTrailer = Self.signedBody(Self.trailerContext, chunks: [], trailers: [])
        XCTAssertNoThrow(
            try Self.decode(
                signedTrailer, signing: .signed(Self.trailerContext), expectTrailer: true, decodedLength: 0,
                split: .whole))
    }
}
