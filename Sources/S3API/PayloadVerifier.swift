import Digests
import Foundation
import ObjectStore

/// Verifies a request body as it streams: `Content-MD5`, a signed `x-amz-content-sha256` and
/// one `x-amz-checksum-*` value, each computed only when the request asks for it.
struct PayloadVerifier {
    private enum Running {
        case crc32(CRC32), crc32c(CRC32C), crc64(CRC64NVME), digest(Digest)

        init(_ algorithm: ChecksumAlgorithm) {
            switch algorithm {
            case .crc32: self = .crc32(CRC32())
            case .crc32c: self = .crc32c(CRC32C())
            case .crc64nvme: self = .crc64(CRC64NVME())
            case .sha1: self = .digest(Digest(.sha1))
            case .sha256: self = .digest(Digest(.sha256))
            }
        }

        mutating func update(_ bytes: UnsafeRawBufferPointer) {
            switch self {
            case .crc32(var c): c.update(bytes); self = .crc32(c)
            case .crc32c(var c): c.update(bytes); self = .crc32c(c)
            case .crc64(var c): c.update(bytes); self = .crc64(c)
            case .digest(let d): d.update(bytes)
            }
        }

        func finalize() -> [UInt8] {
            switch self {
            case .crc32(let c): c.bytes
            case .crc32c(let c): c.bytes
            case .crc64(let c): c.bytes
            case .digest(let d): d.finalize()
            }
        }
    }

    private let expectedMD5: [UInt8]?
    private let expectedSHA256: [UInt8]?
    private let sha256: Digest?
    private let checksumAlgorithm: ChecksumAlgorithm?
    private var expectedChecksum: [UInt8]?
    private var checksum: Running?
    /// The trailing header that will carry the checksum, when announced by `x-amz-trailer`.
    private var trailerName: String?

    /// Reads what to verify from the request headers.
    /// - Throws: InvalidDigest for a malformed Content-MD5, InvalidRequest for malformed or
    ///   conflicting checksum headers.
    init(_ request: S3Request) throws {
        if let md5 = request.header("content-md5") {
            guard let bytes = Base64.decode(md5), bytes.count == 16 else { throw S3Error(.invalidDigest) }
            expectedMD5 = bytes
        } else {
            expectedMD5 = nil
        }
        if request.payloadMode == .plain, let hash = request.payloadHash, hash != "UNSIGNED-PAYLOAD", let bytes = Hex.decode(hash) {
            expectedSHA256 = bytes
            sha256 = Digest(.sha256)
        } else {
            expectedSHA256 = nil
            sha256 = nil
        }
        if let trailer = request.header("x-amz-trailer")?.lowercased().trimmingCharacters(in: .whitespaces), trailer.hasPrefix("x-amz-checksum-") {
            // The value arrives after the body, in the aws-chunked trailer.
            guard case .awsChunked(_, true) = request.payloadMode,
                  let algorithm = ChecksumAlgorithm.allCases.first(where: { "x-amz-checksum-\($0.headerSuffix)" == trailer }) else {
                throw S3Error(.invalidRequest, "The value specified in the x-amz-trailer header is not supported")
            }
            guard try Self.declaredChecksum(.headers(request))?.1 == nil else {
                throw S3Error(.invalidRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
            }
            checksumAlgorithm = algorithm
            expectedChecksum = nil
            trailerName = trailer
        } else {
            let declared = try Self.declaredChecksum(.headers(request))
            checksumAlgorithm = declared?.0
            expectedChecksum = declared?.1
        }
        checksum = checksumAlgorithm.map(Running.init)
    }

    /// Reads what to verify from a browser form's fields: POST carries `x-amz-checksum-*`
    /// (and `x-amz-checksum-algorithm`) as fields, verified as the headers of a PUT are.
    init(form fields: [String: String]) throws {
        expectedMD5 = nil
        expectedSHA256 = nil
        sha256 = nil
        let declared = try Self.declaredChecksum(.form(fields))
        checksumAlgorithm = declared?.0
        expectedChecksum = declared?.1
        checksum = checksumAlgorithm.map(Running.init)
    }

    /// The checksum a write declares: one `x-amz-checksum-*` value, or only an algorithm
    /// (`x-amz-sdk-checksum-algorithm`, `x-amz-checksum-algorithm`) to compute and store.
    /// - Throws: InvalidRequest for several values, a malformed value or an unknown algorithm.
    private static func declaredChecksum(_ source: WriteOptionSource) throws -> (ChecksumAlgorithm, [UInt8]?)? {
        let given = ChecksumAlgorithm.allCases.compactMap { algorithm in
            source.value("x-amz-checksum-\(algorithm.headerSuffix)").map { (algorithm, $0) }
        }
        guard given.count <= 1 else {
            throw S3Error(.invalidRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
        }
        if let (algorithm, value) = given.first {
            guard let bytes = Base64.decode(value), bytes.count == length(algorithm) else {
                throw S3Error(.invalidRequest, "Value for x-amz-checksum-\(algorithm.headerSuffix) header is invalid.")
            }
            return (algorithm, bytes)
        }
        if let name = source.value("x-amz-sdk-checksum-algorithm") ?? source.value("x-amz-checksum-algorithm") {
            // The client names an algorithm without a value: compute and store it.
            guard let algorithm = ChecksumAlgorithm(rawValue: name.uppercased()) else {
                throw S3Error(.invalidRequest, "Checksum algorithm \(name) is not supported.")
            }
            return (algorithm, nil)
        }
        return nil
    }

    /// Takes the checksum value announced in `x-amz-trailer` from the trailing headers.
    mutating func applyTrailers(_ trailers: [(name: String, value: String)]) throws {
        guard let trailerName, let checksumAlgorithm else { return }
        guard let value = trailers.first(where: { $0.name == trailerName })?.value else {
            throw S3Error(.invalidRequest, "The trailing header \(trailerName) announced in x-amz-trailer is missing.")
        }
        guard let bytes = Base64.decode(value), bytes.count == Self.length(checksumAlgorithm) else {
            throw S3Error(.invalidRequest, "Value for \(trailerName) trailing header is invalid.")
        }
        expectedChecksum = bytes
    }

    private static func length(_ algorithm: ChecksumAlgorithm) -> Int {
        switch algorithm {
        case .crc32, .crc32c: 4
        case .crc64nvme: 8
        case .sha1: 20
        case .sha256: 32
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        sha256?.update(bytes)
        checksum?.update(bytes)
    }

    /// Compares what was computed with what the client declared.
    /// - Parameter md5: the body's MD5 (computed by the store for the ETag).
    /// - Returns: the checksum to store with the object, if any.
    func verify(md5: [UInt8]) throws -> StoredChecksum? {
        if let expectedMD5, expectedMD5 != md5 { throw S3Error(.badDigest) }
        if let expectedSHA256, let sha256, sha256.finalize() != expectedSHA256 {
            throw S3Error(.xAmzContentSHA256Mismatch)
        }
        guard let checksumAlgorithm, let checksum else { return nil }
        let computed = checksum.finalize()
        if let expectedChecksum, expectedChecksum != computed {
            throw S3Error(.badDigest, "The \(checksumAlgorithm.rawValue) you specified did not match the calculated checksum.")
        }
        return StoredChecksum(algorithm: checksumAlgorithm, base64: Base64.encode(computed))
    }
}
