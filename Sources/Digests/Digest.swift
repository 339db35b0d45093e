import COpenSSL

/// Incremental message digest (MD5, SHA-1, SHA-256) backed by libcrypto's `EVP_MD_CTX`.
///
/// Not thread-safe: one instance must be used by one task at a time. It is marked
/// `@unchecked Sendable` so that it can be handed from one task to another.
public final class Digest: @unchecked Sendable {
    public enum Algorithm: Sendable {
        case md5, sha1, sha256

        var evp: OpaquePointer {
            switch self {
            case .md5: return EVP_md5()
            case .sha1: return EVP_sha1()
            case .sha256: return EVP_sha256()
            }
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

    private static func oneShot(_ algorithm: Algorithm, _ bytes: [UInt8]) -> [UInt8] {
        let digest = Digest(algorithm)
        digest.update(bytes)
        return digest.finalize()
    }
}

/// HMAC (RFC 2104) via libcrypto's one-shot `HMAC()`.
public enum HMAC {
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        compute(EVP_sha256(), key: key, message: message)
    }

    public static func sha256(key: [UInt8], message: String) -> [UInt8] {
        compute(EVP_sha256(), key: key, message: Array(message.utf8))
    }

    public static func sha1(key: [UInt8], message: [UInt8]) -> [UInt8] {
        compute(EVP_sha1(), key: key, message: message)
    }

    private static func compute(_ md: OpaquePointer, key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // A zero-length array may hand out a nil base address; libcrypto wants a valid pointer.
        let one: [UInt8] = [0]
        let result = out.withUnsafeMutableBufferPointer { outBuffer in
            (key.isEmpty ? one : key).withUnsafeBytes { keyBuffer in
                (message.isEmpty ? one : message).withUnsafeBytes { messageBuffer in
                    COpenSSL.HMAC(
                        md,
                        keyBuffer.baseAddress, Int32(key.count),
                        messageBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self), message.count,
                        outBuffer.baseAddress, &length)
                }
            }
        }
        guard result != nil else { fatalError("Digests: HMAC failed") }
        out.removeSubrange(Int(length)...)
        return out
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
