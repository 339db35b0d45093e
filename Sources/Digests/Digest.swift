import COpenSSL

/// Incremental message digest (MD5, SHA-1, SHA-256) backed by libcrypto's `EVP_MD_CTX`.
///
/// Not thread-safe: one instance must be used by one task at a time. It is marked
/// `@unchecked Sendable` so that it can be handed from one task to another.
public final class Digest: @unchecked Sendable {
    public enum Algorithm: Sendable {
        case md5, sha1, sha256

        /// The implementation, fetched once: with OpenSSL 3, handing `EVP_sha256()` to every
        /// init makes libcrypto look the implementation up again each time (a locked query),
        /// which cost more than hashing a request's few hundred bytes.
        var evp: OpaquePointer {
            switch self {
            case .md5: return Fetched.md5
            case .sha1: return Fetched.sha1
            case .sha256: return Fetched.sha256
            }
        }
    }

    private enum Fetched {
        nonisolated(unsafe) static let md5: OpaquePointer = fetch("MD5", fallback: EVP_md5())
        nonisolated(unsafe) static let sha1: OpaquePointer = fetch("SHA1", fallback: EVP_sha1())
        nonisolated(unsafe) static let sha256: OpaquePointer = fetch("SHA256", fallback: EVP_sha256())

        /// Never freed: the process keeps them for its lifetime.
        static func fetch(_ name: String, fallback: OpaquePointer) -> OpaquePointer {
            EVP_MD_fetch(nil, name, nil) ?? fallback
        }
    }

    private let context: OpaquePointer
    private var result: [UInt8]?

    public init(_ algorithm: Algorithm) {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("Digests: EVP_MD_CTX_new failed (out of memory)")
        }
        guard EVP_DigestInit_ex(context, algorithm.evp, nil) == 1 else {
            EVP_MD_CTX_free(context)
            fatalError("Digests: EVP_DigestInit_ex failed")
        }
        self.context = context
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(result == nil, "Digest.update called after finalize()")
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard EVP_DigestUpdate(context, base, bytes.count) == 1 else {
            fatalError("Digests: EVP_DigestUpdate failed")
        }
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds the UTF-8 bytes of `string`.
    public func update(_ string: String) {
        var string = string
        string.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Returns the digest. Meant to be called once; later calls return the same value.
    public func finalize() -> [UInt8] {
        if let result { return result }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        guard ok == 1 else { fatalError("Digests: EVP_DigestFinal_ex failed") }
        out.removeSubrange(Int(length)...)
        result = out
        return out
    }

    public static func md5(_ bytes: [UInt8]) -> [UInt8] { oneShot(.md5, bytes) }
    public static func sha1(_ bytes: [UInt8]) -> [UInt8] { oneShot(.sha1, bytes) }
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { oneShot(.sha256, bytes) }

    public static func sha256(_ string: String) -> [UInt8] {
        let digest = Digest(.sha256)
        digest.update(string)
        return digest.finalize()
    }

    static func oneShot(_ algorithm: Algorithm, _ bytes: [UInt8]) -> [UInt8] {
        let digest = Digest(algorithm)
        digest.update(bytes)
        return digest.finalize()
    }
}

/// HMAC (RFC 2104) over libcrypto's digests.
///
/// Composed here from two digest passes rather than calling libcrypto's one-shot `HMAC()`:
/// in OpenSSL 3 that call fetches the MAC and digest implementations by name on every use,
/// and SigV4 computes an HMAC per request. The hashing itself is libcrypto's.
public enum HMAC {
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { compute(.sha256, key: key, message: $0) }
    }

    public static func sha256(key: [UInt8], message: String) -> [UInt8] {
        var message = message
        return message.withUTF8 { compute(.sha256, key: key, message: UnsafeRawBufferPointer($0)) }
    }

    public static func sha1(key: [UInt8], message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { compute(.sha1, key: key, message: $0) }
    }

    /// H((K ^ opad) || H((K ^ ipad) || message)), K the key padded to the 64-byte block of
    /// SHA-1 and SHA-256 (hashed first when longer).
    private static func compute(_ algorithm: Digest.Algorithm, key: [UInt8], message: UnsafeRawBufferPointer) -> [UInt8] {
        let blockSize = 64
        var block = key.count > blockSize ? Digest.oneShot(algorithm, key) : key
        block.append(contentsOf: repeatElement(0, count: blockSize - block.count))
        guard let context = EVP_MD_CTX_new() else { fatalError("Digests: EVP_MD_CTX_new failed (out of memory)") }
        defer { EVP_MD_CTX_free(context) }
        func pass(_ pad: UInt8, _ data: UnsafeRawBufferPointer) -> [UInt8] {
            var padded = block
            for i in 0..<blockSize { padded[i] ^= pad }
            var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            let ok = EVP_DigestInit_ex(context, algorithm.evp, nil) == 1
                && padded.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, blockSize) } == 1
                && (data.isEmpty || EVP_DigestUpdate(context, data.baseAddress, data.count) == 1)
                && out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) } == 1
            guard ok else { fatalError("Digests: HMAC digest pass failed") }
            out.removeSubrange(Int(length)...)
            return out
        }
        let inner = pass(0x36, message)
        return inner.withUnsafeBytes { pass(0x5C, $0) }
    }
}

/// Compares two byte strings in time independent of their contents (`CRYPTO_memcmp`).
/// Returns false when the lengths differ.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return a.withUnsafeBytes { pa in
        b.withUnsafeBytes { pb in
            CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0
        }
    }
}

/// Cryptographically secure random bytes (`RAND_bytes`).
public func randomBytes(_ count: Int) -> [UInt8] {
    precondition(count >= 0, "randomBytes: negative count")
    if count == 0 { return [] }
    var out = [UInt8](repeating: 0, count: count)
    let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
    guard ok == 1 else { fatalError("Digests: RAND_bytes failed") }
    return out
}

/// SplitMix64's finalizer: a bijection of 64-bit values that scatters neighbouring inputs
/// (counters, indices) over the whole range. Not for secrets: see `randomBytes`.
@inlinable
public func splitMix64(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
