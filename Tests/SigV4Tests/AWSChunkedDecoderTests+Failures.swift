import Digests
import SigV4
import XCTest

extension AWSChunkedDecoderTests {
    // MARK: Tampering

    func testTamperedChunkData() {
        // A byte inside the first chunk, its last byte, and a byte of the second chunk.
        let firstData = Self.bytes("10000;chunk-signature=\(Self.streamingSignatures[0])\r\n").count
        for offset in [firstData + 100, firstData + 65535, Self.streamingBody.count - 100] {
            var body = Self.streamingBody
            XCTAssertEqual(body[offset], UInt8(ascii: "a"))
            body[offset] = UInt8(ascii: "b")
            Self.assertFails(
                body, signing: .signed(Self.streamingContext), expectTrailer: false, decodedLength: 66560,
                splits: [.whole, .random(21), .random(22)], .signatureMismatch, "offset \(offset)")
        }
    }

    func testTamperedChunkSignatures() {
        for signature in Self.streamingSignatures {
            var tampered = Array(signature)
            tampered[17] = tampered[17] == "0" ? "1" : "0"
            let body = Self.replacing(signature, with: String(tampered), in: Self.streamingBody)
            Self.assertFails(
                body, signing: .signed(Self.streamingContext), expectTrailer: false, decodedLength: 66560,
                splits: [.whole, .random(31)], .signatureMismatch, signature)
        }
        // The right body against another seed (the trailer example's).
        Self.assertFails(
            Self.streamingBody, signing: .signed(Self.trailerContext), expectTrailer: false, decodedLength: 66560,
            splits: [.whole], .signatureMismatch)
        // Chunks in the wrong order: each signature is genuine, but not chained as sent.
        let context = Self.streamingContext
        let (first, second) = (Self.bytes("first"), Self.bytes("second"))
        let sig1 = context.chunkSignature(
            previousSignature: context.seedSignature, chunkSHA256: Hex.encode(Digest.sha256(first)))
        let sig2 = context.chunkSignature(previousSignature: sig1, chunkSHA256: Hex.encode(Digest.sha256(second)))
        let sig3 = context.chunkSignature(previousSignature: sig2, chunkSHA256: SigV4.emptyPayloadSHA256)
        let good = Self.frame(first[...], signature: sig1) + Self.frame(second[...], signature: sig2)
            + Self.frame([], signature: sig3) + Self.crlf
        XCTAssertEqual(good, Self.signedBody(context, chunks: [first, second]))
        XCTAssertNoThrow(
            try Self.decode(good, signing: .signed(context), expectTrailer: false, decodedLength: 11, split: .whole))
        let swapped = Self.frame(second[...], signature: sig2) + Self.frame(first[...], signature: sig1)
            + Self.frame([], signature: sig3) + Self.crlf
        Self.assertFails(swapped, signing: .signed(context), expectTrailer: false, decodedLength: 11, .signatureMismatch)
        // The final chunk dropped: the 0-chunk signature of the first chunk's successor is wrong.
        let dropped = Self.frame(first[...], signature: sig1) + Self.frame([], signature: sig3) + Self.crlf
        Self.assertFails(dropped, signing: .signed(context), expectTrailer: false, .signatureMismatch)
    }

    func testTamperedTrailer() {
        let signing = AWSChunkedDecoder.Signing.signed(Self.trailerContext)
        let sig = Self.trailerSignature
        let cases: [(String, AWSChunkedError)] = [
            // Another checksum value.
            ("x-amz-checksum-crc32c:AAAAAA==\r\nx-amz-trailer-signature:\(sig)\r\n", .signatureMismatch),
            // An added trailing header.
            (
                "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-meta-x:1\r\nx-amz-trailer-signature:\(sig)\r\n",
                .signatureMismatch
            ),
            // No trailing header at all.
            ("x-amz-trailer-signature:\(sig)\r\n", .signatureMismatch),
            // Another trailer signature.
            (
                "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(String(sig.dropLast()))0\r\n",
                .signatureMismatch
            ),
            // No trailer signature.
            ("x-amz-checksum-crc32c:sOO8/Q==\r\n", .malformed("")),
            // Trailer signature not 64 hex digits.
            ("x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(sig.dropLast())\r\n", .malformed("")),
            ("x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(sig.dropLast())g\r\n", .malformed("")),
            // Twice.
            (
                "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(sig)\r\nx-amz-trailer-signature:\(sig)\r\n",
                .malformed("")
            ),
        ]
        for (lines, expected) in cases {
            Self.assertFails(
                Self.trailerBody(trailerLines: lines), signing: signing, expectTrailer: true, decodedLength: 66560,
                splits: [.whole, .random(41)], expected, lines)
        }
    }

    // MARK: Truncation

    func testTruncatedAtEveryByte() throws {
        let chunks = [Self.bytes("hello"), Self.bytes("wor"), Self.bytes("ld!")]
        let crc = "x-amz-checksum-crc32"
        let streams: [(String, [UInt8], AWSChunkedDecoder.Signing, Bool)] = [
            ("signed", Self.signedBody(Self.streamingContext, chunks: chunks), .signed(Self.streamingContext), false),
            (
                "signed trailer",
                Self.signedBody(Self.trailerContext, chunks: chunks, trailers: [(crc, "AAAAAA==")]),
                .signed(Self.trailerContext), true
            ),
            (
                "unsigned trailer",
                Self.bytes("5\r\nhello\r\n3\r\nwor\r\n3\r\nld!\r\n0\r\n\(crc):AAAAAA==\r\n\r\n"),
                .unsigned, true
            ),
        ]
        for (name, body, signing, expectTrailer) in streams {
            // The whole stream decodes...
            let decoded = try Self.decode(
                body, signing: signing, expectTrailer: expectTrailer, decodedLength: 11, split: .whole)
            XCTAssertEqual(decoded.payload, Self.bytes("helloworld!"), name)
            // ...and no proper prefix does: every prefix of a valid stream is accepted by
            // `feed` and rejected by `finish` as truncated.
            var rng = SplitMix64(state: 99)
            for length in 0..<body.count {
                for split in [false, true] {
                    var decoder = AWSChunkedDecoder(signing: signing, expectTrailer: expectTrailer, decodedLength: 11)
                    let cut = split && length > 0 ? Int.random(in: 0...length, using: &rng) : length
                    try body.withUnsafeBytes { buffer in
                        XCTAssertNoThrow(
                            try decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<cut])) { _ in },
                            "\(name) length \(length)")
                        XCTAssertNoThrow(
                            try decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[cut..<length])) { _ in },
                            "\(name) length \(length)")
                    }
                    XCTAssertThrowsError(try decoder.finish(), "\(name) length \(length)") { error in
                        XCTAssertEqual(error as? AWSChunkedError, .truncated, "\(name) length \(length)")
                    }
                }
            }
            // Without x-amz-decoded-content-length as well.
            for length in 0..<body.count {
                var decoder = AWSChunkedDecoder(signing: signing, expectTrailer: expectTrailer, decodedLength: nil)
                var threw = false
                body.withUnsafeBytes { buffer in
                    do { try decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<length])) { _ in } } catch {
                        threw = true
                    }
                }
                if !threw { XCTAssertThrowsError(try decoder.finish(), "\(name) length \(length)") }
            }
        }
    }

    func testMissingFinalEmptyLineIsTruncated() {
        // AWS requires the empty line that ends the trailer section; the decoder is strict.
        Self.assertFails(
            Self.bytes("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n"), signing: .unsigned,
            expectTrailer: true, decodedLength: 5, .truncated)
        Self.assertFails(
            Array(Self.streamingBody.dropLast(2)), signing: .signed(Self.streamingContext), expectTrailer: false,
            decodedLength: 66560, splits: [.whole], .truncated)
        Self.assertFails(
            Array(Self.trailerBody(trailerLines: Self.documentedTrailerLines).dropLast(2)),
            signing: .signed(Self.trailerContext), expectTrailer: true, decodedLength: 66560, splits: [.whole],
            .truncated)
    }

    // MARK: Lengths and limits

    func testDecodedLengthMismatch() throws {
        let signing = AWSChunkedDecoder.Signing.signed(Self.streamingContext)
        // Declared longer than sent: detected at the final chunk.
        Self.assertFails(
            Self.streamingBody, signing: signing, expectTrailer: false, decodedLength: 66561,
            splits: [.whole, .random(51)], .decodedLengthMismatch)
        // Declared shorter: detected at the chunk header that would overshoot, before its
        // bytes are handed out.
        var decoder = AWSChunkedDecoder(signing: signing, expectTrailer: false, decodedLength: 66559)
        var delivered = 0
        try Self.streamingBody.withUnsafeBytes { buffer in
            XCTAssertThrowsError(try decoder.feed(buffer) { delivered += $0.count }) { error in
                XCTAssertEqual(error as? AWSChunkedError, .decodedLengthMismatch)
            }
        }
        XCTAssertEqual(delivered, 65536)
        XCTAssertEqual(decoder.decodedBytes, 65536)
        Self.assertFails(
            Self.bytes("5\r\nhello\r\n0\r\n\r\n"), signing: .unsigned, expectTrailer: true, decodedLength: 0,
            .decodedLengthMismatch)
        Self.assertFails(
            Self.bytes("5\r\nhello\r\n0\r\n\r\n"), signing: .unsigned, expectTrailer: true, decodedLength: 6,
            .decodedLengthMismatch)
    }

    func testChunkTooLarge() throws {
        let signing = AWSChunkedDecoder.Signing.signed(Self.streamingContext)
        Self.assertFails(
            Self.streamingBody, signing: signing, expectTrailer: false, decodedLength: 66560, maxChunkSize: 65535,
            splits: [.whole, .byteByByte], .chunkTooLarge)
        XCTAssertNoThrow(
            try Self.decode(
                Self.streamingBody, signing: signing, expectTrailer: false, decodedLength: 66560,
                maxChunkSize: 65536, split: .whole))
        // Sizes that do not fit in 64 bits must not overflow.
        Self.assertFails(
            Self.bytes("ffffffffffffffffffffffffffffffff\r\n"), signing: .unsigned, expectTrailer: true,
            .chunkTooLarge)
        Self.assertFails(
            Self.bytes("1000001\r\n"), signing: .unsigned, expectTrailer: true, .chunkTooLarge)
    }

    // MARK: Malformed framing

    func testMalformedUnsignedFraming() {
        let longLine = String(repeating: "0", count: 5000) + "5\r\nhello\r\n0\r\n\r\n"
        let cases: [(String, Bool)] = [
            ("zz\r\n", true),
            ("\r\n", true),
            ("-1\r\n", true),
            ("0x5\r\nhello\r\n0\r\n\r\n", true),
            (" 5\r\nhello\r\n0\r\n\r\n", true),
            ("5 \r\nhello\r\n0\r\n\r\n", true),
            ("5\nhello\r\n0\r\n\r\n", true),  // bare LF after the size
            ("5\r\r\nhello\r\n0\r\n\r\n", true),
            ("5\r\nhelloX\r\n0\r\n\r\n", true),  // data longer than declared
            ("5\r\nhello\n0\r\n\r\n", true),  // LF without CR after the data
            ("5\r\nhello\r\n0\r\n\r\nextra", true),  // data after the end
            ("5\r\nhello\r\n0\r\n\r\n\r\n", true),
            ("5;chunk-signature=\(Self.streamingSignatures[0])\r\nhello\r\n0\r\n\r\n", true),
            ("5;foo=bar\r\nhello\r\n0\r\n\r\n", true),
            ("5\r\nhello\r\n0\r\nno colon here\r\n\r\n", true),
            ("5\r\nhello\r\n0\r\n:value\r\n\r\n", true),
            ("5\r\nhello\r\n0\r\nbad name:value\r\n\r\n", true),
            ("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AA\u{01}A\r\n\r\n", true),
            ("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", true),
            ("5\r\nhello\r\n0\r\nx-amz-trailer-signature:\(Self.trailerSignature)\r\n\r\n", true),
            ("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", false),  // trailer not expected
            ("5\r\nhello\r\n0\r\nx:" + String(repeating: "v", count: 5000) + "\r\n\r\n", true),
            (longLine, true),
        ]
        for (body, expectTrailer) in cases {
            Self.assertFails(
                Self.bytes(body), signing: .unsigned, expectTrailer: expectTrailer,
                splits: [.whole, .byteByByte, .random(61)], .malformed(""), body.debugDescription)
        }
        // Many trailer lines: the section as a whole is capped.
        let manyTrailers = (0..<1000).map { "x-amz-meta-\($0):value\r\n" }.joined()
        Self.assertFails(
            Self.bytes("0\r\n" + manyTrailers + "\r\n"), signing: .unsigned, expectTrailer: true,
            splits: [.whole], .malformed(""))
    }

    func testMalformedSignedFraming() {
        let signing = AWSChunkedDecoder.Signing.signed(Self.streamingContext)
        let sig = Self.streamingSignatures[0]
        let cases = [
            "400\r\n",  // no signature
            "400;chunk-signature=abc\r\n",
            "400;chunk-signature=\(sig)0\r\n",
            "400;chunk-signature=\(String(repeating: "z", count: 64))\r\n",
            "400;chunk-signature =\(sig)\r\n",
            "400; chunk-signature=\(sig)\r\n",
            "400;chunk-signature=\(sig) \r\n",
            "400;chunk-signature:\(sig)\r\n",
            "400;\r\n",
            "0\r\n\r\n",
        ]
        for header in cases {
            Self.assertFails(
                Self.bytes(header), signing: signing, expectTrailer: false, splits: [.whole, .byteByByte],
                .malformed(""), header)
        }
        // A trailer in a stream signed without one.
        let body = Self.signedBody(Self.streamingContext, chunks: [Self.bytes("x")])
        var withTrailer = Array(body.dropLast(2))
        withTrailer += Self.bytes("x-amz-checksum-crc32:AAAAAA==\r\n\r\n")
        Self.assertFails(withTrailer, signing: signing, expectTrailer: false, splits: [.whole], .malformed(""))
    }

    // MARK: Error handling

    func testErrorsAreSticky() throws {
        var body = Self.streamingBody
        body[200] = UInt8(ascii: "b")
        var decoder = AWSChunkedDecoder(
            signing: .signed(Self.streamingContext), expectTrailer: false, decodedLength: 66560)
        try body.withUnsafeBytes { buffer in
            XCTAssertThrowsError(try decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<66000])) { _ in }) {
                XCTAssertEqual($0 as? AWSChunkedError, .signatureMismatch)
            }
            XCTAssertThrowsError(try decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[66000...])) { _ in }) {
                XCTAssertEqual($0 as? AWSChunkedError, .signatureMismatch)
            }
        }
        XCTAssertThrowsError(try decoder.finish()) { XCTAssertEqual($0 as? AWSChunkedError, .signatureMismatch) }
    }

    func testPayloadConsumerErrorPropagates() throws {
        struct Full: Error {}
        var decoder = AWSChunkedDecoder(signing: .unsigned, expectTrailer: true, decodedLength: nil)
        let body = Self.bytes("5\r\nhello\r\n0\r\n\r\n")
        try body.withUnsafeBytes { buffer in
            XCTAssertThrowsError(try decoder.feed(buffer) { _ in throw Full() }) { XCTAssertTrue($0 is Full) }
            XCTAssertThrowsError(try decoder.feed(buffer) { _ in }) {
                guard case .malformed = $0 as? AWSChunkedError else { return XCTFail("\($0)") }
            }
        }
        XCTAssertThrowsError(try decoder.finish())
    }

    func testFeedAfterFinishedBodyIsRejected() throws {
        var decoder = AWSChunkedDecoder(signing: .unsigned, expectTrailer: true, decodedLength: 5)
        try Self.bytes("5\r\nhello\r\n0\r\n\r\n").withUnsafeBytes { try decoder.feed($0) { _ in } }
        // Empty feeds are harmless.
        try [UInt8]().withUnsafeBytes { try decoder.feed($0) { _ in } }
        XCTAssertEqual(try decoder.finish().count, 0)
        try Self.bytes("x").withUnsafeBytes { buffer in
            XCTAssertThrowsError(try decoder.feed(buffer) { _ in })
        }
    }
}
