// Incremental decoder for the S3 `aws-chunked` content encoding.
//
// References: "Transferring Payload in Multiple Chunks (Chunked Upload)" and "Signature
// calculations for trailing headers (chunked uploads)" in the Amazon S3 API reference.
//
// Wire format (the frames do not line up with the slices the network delivers):
//
//     <hex-size>[;chunk-signature=<64 hex>]\r\n <size bytes> \r\n     ... repeated
//     0[;chunk-signature=<64 hex>]\r\n                                 final chunk
//     <name>:<value>\r\n ...                                           trailers (-TRAILER variants)
//     [x-amz-trailer-signature:<64 hex>\r\n]                           signed -TRAILER only
//     \r\n                                                             end of body
//
// Without trailers the body therefore ends `0;chunk-signature=...\r\n\r\n` (signed) or
// `0\r\n\r\n` (unsigned); with them, the empty line after the trailer lines ends it. The
// decoder is strict: every line must end in CRLF, the final empty line is required (AWS
// requires it; a body that stops right after the last trailer line is `truncated`), and
// an unsigned stream must not carry signatures.

import Digests

public enum AWSChunkedError: Error, Equatable, Sendable {
    /// Bad framing -> 400 IncompleteBody / InvalidRequest. The string says what is wrong.
    case malformed(String)
    /// A chunk or trailer signature is wrong -> 403 SignatureDoesNotMatch.
    case signatureMismatch
    /// The stream ended before the final 0-size chunk (and trailers) -> 400 IncompleteBody.
    case truncated
    /// Payload bytes != `x-amz-decoded-content-length` -> 400 IncompleteBody.
    case decodedLengthMismatch
    /// A declared chunk size above the limit.
    case chunkTooLarge
}

/// A pure state machine: feed it the raw body in slices of any size (even byte by byte),
/// it hands out the decoded payload as slices of the input, hashes signed chunks
/// incrementally and verifies their signatures as soon as each chunk is complete.
///
/// Only chunk-header and trailer lines are buffered (at most `maxLineLength` bytes each,
/// `maxTrailerSectionLength` in all); chunk data never is.
///
/// Once `feed` or `finish` has thrown, the decoder stays failed and throws the same
/// error again. A copy of a decoder shares the running SHA-256 of the current chunk with
/// the original: keep using one of them only.
public struct AWSChunkedDecoder: Sendable {
    public enum Signing: Sendable {
        /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: no `;chunk-signature`, no trailer signature.
        case unsigned
        /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: every chunk signature is verified,
        /// chained from `seedSignature`.
        case signed(SigV4SigningContext)
    }

    /// Longest chunk-header or trailer line accepted, CRLF excluded.
    public static let maxLineLength = 4096
    /// Most bytes accepted for all trailer lines together (CRLFs included).
    public static let maxTrailerSectionLength = 16 * 1024

    private enum State {
        case chunkHeader
        case chunkData
        case chunkDataCR
        case chunkDataLF
        case trailer
        case done
    }

    private let context: SigV4SigningContext?
    private let expectTrailer: Bool
    private let decodedLength: UInt64?
    private let maxChunkSize: Int

    private var state = State.chunkHeader
    private var failure: AWSChunkedError?
    /// Bytes of the current chunk's data still to come.
    private var remaining = 0
    /// The current header or trailer line, CR included, LF not.
    private var line: [UInt8] = []

    /// Signed only: the signature the next chunk (or the trailer) chains from.
    private var previousSignature: String
    /// Signed only: running SHA-256 of the current chunk's data.
    private var chunkDigest: Digest?
    /// Signed only: the current chunk's `chunk-signature`, decoded.
    private var chunkSignature: [UInt8] = []

    private var trailers: [(name: String, value: String)] = []
    private var trailerSignature: [UInt8]?
    private var trailerSectionLength = 0

    /// Payload bytes decoded so far.
    public private(set) var decodedBytes: UInt64 = 0

    /// - expectTrailer: true for the -TRAILER variants (trailing headers after the 0 chunk;
    ///   for signed, a final `x-amz-trailer-signature` line is required and verified).
    /// - decodedLength: `x-amz-decoded-content-length` if sent.
    /// - maxChunkSize: largest declared chunk size accepted (`chunkTooLarge` above it).
    public init(signing: Signing, expectTrailer: Bool, decodedLength: UInt64?, maxChunkSize: Int = 16 << 20) {
        switch signing {
        case .unsigned:
            context = nil
            previousSignature = ""
        case .signed(let signingContext):
            context = signingContext
            previousSignature = signingContext.seedSignature
        }
        self.expectTrailer = expectTrailer
        self.decodedLength = decodedLength
        self.maxChunkSize = max(0, maxChunkSize)
        line.reserveCapacity(128)
    }

    /// Feeds raw body bytes; calls `payload` with each run of decoded payload bytes (slices
    /// of the input, no copy). For signed streams the bytes of a chunk are delivered before
    /// its signature is known to be good; the caller must not publish anything until
    /// `finish()` succeeds.
    ///
    /// Throws an `AWSChunkedError`, or whatever `payload` throws (after which the decoder
    /// is failed too).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, payload: (UnsafeRawBufferPointer) throws -> Void) throws {
        if let failure { throw failure }
        do {
            try decode(bytes, payload)
        } catch let error as AWSChunkedError {
            failure = error
            throw error
        } catch {
            failure = .malformed("aborted: the payload consumer failed")
            throw error
        }
    }

    /// Call at end of stream: checks the final chunk was seen (and trailers complete, and
    /// the decoded length), returns the trailing headers (names lowercased, values trimmed,
    /// in arrival order, excluding `x-amz-trailer-signature`).
    public mutating func finish() throws(AWSChunkedError) -> [(name: String, value: String)] {
        if let failure { throw failure }
        guard case .done = state else {
            failure = .truncated
            throw .truncated
        }
        if let decodedLength, decodedLength != decodedBytes {
            failure = .decodedLengthMismatch
            throw .decodedLengthMismatch
        }
        return trailers
    }

    // MARK: - State machine

    private mutating func decode(
        _ bytes: UnsafeRawBufferPointer, _ payload: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let count = bytes.count
        var i = 0
        while i < count {
            switch state {
            case .chunkData:
                let take = min(remaining, count - i)
                let run = UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)])
                i += take
                remaining -= take
                decodedBytes += UInt64(take)
                chunkDigest?.update(run)
                try payload(run)
                if remaining == 0 {
                    try endOfChunkData()
                    state = .chunkDataCR
                }

            case .chunkDataCR:
                guard bytes[i] == cr else { throw AWSChunkedError.malformed("chunk data not followed by CRLF") }
                i += 1
                state = .chunkDataLF

            case .chunkDataLF:
                guard bytes[i] == lf else { throw AWSChunkedError.malformed("chunk data not followed by CRLF") }
                i += 1
                state = .chunkHeader

            case .chunkHeader, .trailer:
                // Look for the LF, but never further than the line limit allows
                // (+1 for the CR that must precede the LF).
                let room = Self.maxLineLength + 1 - line.count
                let scanEnd = min(count, i + room + 1)
                var j = i
                while j < scanEnd, bytes[j] != lf { j += 1 }
                if j - i > room {
                    throw AWSChunkedError.malformed(
                        state == .chunkHeader ? "chunk header line too long" : "trailer line too long")
                }
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<j]))
                guard j < count else { return }  // the line continues in the next feed
                i = j + 1
                guard line.last == cr else { throw AWSChunkedError.malformed("line not terminated by CRLF") }
                line.removeLast()
                if state == .chunkHeader {
                    try chunkHeaderLine()
                } else {
                    try trailerLine()
                }
                line.removeAll(keepingCapacity: true)

            case .done:
                throw AWSChunkedError.malformed("data after the end of the aws-chunked body")
            }
        }
    }

    /// `<hex-size>[;chunk-signature=<64 hex>]`, in `line`.
    private mutating func chunkHeaderLine() throws(AWSChunkedError) {
        var k = 0
        var size = 0
        var tooLarge = false
        while k < line.count, let digit = hexNibble(line[k]) {
            if !tooLarge {
                if size > Int.max >> 4 {
                    tooLarge = true
                } else {
                    size = size << 4 | Int(digit)
                    tooLarge = size > maxChunkSize
                }
            }
            k += 1
        }
        guard k > 0 else { throw .malformed("chunk size is not hexadecimal") }

        var signature: [UInt8]?
        if k < line.count {
            guard line[k] == semicolon else { throw .malformed("chunk size is not hexadecimal") }
            guard context != nil else { throw .malformed("chunk extension in an unsigned aws-chunked body") }
            let prefix = chunkSignaturePrefix
            let value = k + 1 + prefix.count
            guard line.count == value + 64, line[(k + 1)..<value].elementsEqual(prefix) else {
                throw .malformed("expected ;chunk-signature=<64 hex digits>")
            }
            signature = hexDecode(line[value...])
            guard signature != nil else { throw .malformed("chunk-signature is not hexadecimal") }
        } else if context != nil {
            throw .malformed("missing chunk-signature")
        }

        if tooLarge { throw .chunkTooLarge }
        if let decodedLength, decodedBytes + UInt64(size) > decodedLength { throw .decodedLengthMismatch }

        if size == 0 {
            // The final chunk: its data is empty, so its signature can be checked right away.
            if let signature {
                try verifyChunk(signature: signature, dataSHA256: SigV4.emptyPayloadSHA256)
            }
            if let decodedLength, decodedBytes != decodedLength { throw .decodedLengthMismatch }
            state = .trailer
        } else {
            if let signature {
                chunkSignature = signature
                chunkDigest = Digest(.sha256)
            }
            remaining = size
            state = .chunkData
        }
    }

    private mutating func endOfChunkData() throws(AWSChunkedError) {
        guard let digest = chunkDigest else { return }
        chunkDigest = nil
        try verifyChunk(signature: chunkSignature, dataSHA256: Hex.encode(digest.finalize()))
    }

    private mutating func verifyChunk(signature: [UInt8], dataSHA256: String) throws(AWSChunkedError) {
        guard let context else { return }
        let expected = context.chunkSignature(previousSignature: previousSignature, chunkSHA256: dataSHA256)
        guard let expectedBytes = Hex.decode(expected), constantTimeEqual(expectedBytes, signature) else {
            throw .signatureMismatch
        }
        previousSignature = expected
    }

    /// A line after the final chunk, in `line`: `name:value`, or empty for the end of the body.
    private mutating func trailerLine() throws(AWSChunkedError) {
        if line.isEmpty {
            try endOfTrailers()
            state = .done
            return
        }
        trailerSectionLength += line.count + 2
        guard trailerSectionLength <= Self.maxTrailerSectionLength else { throw .malformed("trailers too large") }
        guard expectTrailer else { throw .malformed("trailing headers in an aws-chunked body without trailer") }
        guard let colon = line.firstIndex(of: colonByte) else { throw .malformed("trailer line without ':'") }
        let nameBytes = line[..<colon]
        guard !nameBytes.isEmpty, nameBytes.allSatisfy(isTokenCharacter) else {
            throw .malformed("bad trailer name")
        }
        var valueBytes = line[(colon + 1)...]
        guard valueBytes.allSatisfy(isFieldValueCharacter) else { throw .malformed("bad trailer value") }
        while let first = valueBytes.first, first == space || first == tab { valueBytes.removeFirst() }
        while let last = valueBytes.last, last == space || last == tab { valueBytes.removeLast() }
        let name = String(decoding: nameBytes, as: UTF8.self).lowercased()

        if name == "x-amz-trailer-signature" {
            guard context != nil else { throw .malformed("x-amz-trailer-signature in an unsigned aws-chunked body") }
            guard trailerSignature == nil else { throw .malformed("x-amz-trailer-signature given twice") }
            guard valueBytes.count == 64, let signature = hexDecode(valueBytes) else {
                throw .malformed("x-amz-trailer-signature is not 64 hex digits")
            }
            trailerSignature = signature
            return
        }
        guard !trailers.contains(where: { $0.name == name }) else { throw .malformed("trailer \(name) given twice") }
        trailers.append((name: name, value: String(decoding: valueBytes, as: UTF8.self)))
    }

    private mutating func endOfTrailers() throws(AWSChunkedError) {
        guard expectTrailer, let context else { return }
        guard let signature = trailerSignature else { throw .malformed("missing x-amz-trailer-signature") }
        let trailerHash = Hex.encode(Digest.sha256(SigV4.canonicalTrailer(trailers)))
        let expected = context.trailerSignature(previousSignature: previousSignature, trailerSHA256: trailerHash)
        guard let expectedBytes = Hex.decode(expected), constantTimeEqual(expectedBytes, signature) else {
            throw .signatureMismatch
        }
        previousSignature = expected
    }
}

// MARK: - Byte helpers

private let cr = UInt8(ascii: "\r")
private let lf = UInt8(ascii: "\n")
private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")
private let semicolon = UInt8(ascii: ";")
private let colonByte = UInt8(ascii: ":")
private let chunkSignaturePrefix: [UInt8] = Array("chunk-signature=".utf8)

private func hexNibble(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}

/// Decodes an even number of hex digits; nil on anything else.
private func hexDecode(_ digits: ArraySlice<UInt8>) -> [UInt8]? {
    guard digits.count % 2 == 0 else { return nil }
    var out = [UInt8]()
    out.reserveCapacity(digits.count / 2)
    var i = digits.startIndex
    while i < digits.endIndex {
        guard let high = hexNibble(digits[i]), let low = hexNibble(digits[i + 1]) else { return nil }
        out.append(high << 4 | low)
        i += 2
    }
    return out
}

/// RFC 9110 token characters.
private func isTokenCharacter(_ c: UInt8) -> Bool {
    switch c {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"),
        UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
        UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
        UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

/// RFC 9110 field-value characters: visible ASCII, space, tab, obs-text; no controls.
private func isFieldValueCharacter(_ c: UInt8) -> Bool {
    c == tab || (c >= 0x20 && c != 0x7F)
}
