// Joining CRCs without the bytes: the CRC of A‖B from crc(A), crc(B) and the length of B.
// This is zlib's crc32_combine (multiplication by x^(8·len(B)) modulo the polynomial, in
// the reflected bit order), valid for every reflected CRC whose initial value and final
// xor are all ones: CRC32, CRC32C and CRC64NVME alike. S3's FULL_OBJECT multipart checksum
// is the CRC of the whole object; completing an upload builds it from the parts' CRCs
// instead of reading every part again.

extension CRC32 {
    /// The CRC32 (4 big-endian bytes) of A‖B from those of A and B and the length of B.
    public static func combine(_ first: [UInt8], _ second: [UInt8], lengthOfSecond: UInt64) -> [UInt8] {
        crcCombine(first, second, lengthOfSecond, polynomial: polynomial)
    }
}

extension CRC32C {
    /// The CRC32C (4 big-endian bytes) of A‖B from those of A and B and the length of B.
    public static func combine(_ first: [UInt8], _ second: [UInt8], lengthOfSecond: UInt64) -> [UInt8] {
        crcCombine(first, second, lengthOfSecond, polynomial: polynomial)
    }
}

extension CRC64NVME {
    /// The CRC64NVME (8 big-endian bytes) of A‖B from those of A and B and the length of B.
    public static func combine(_ first: [UInt8], _ second: [UInt8], lengthOfSecond: UInt64) -> [UInt8] {
        crcCombine(first, second, lengthOfSecond, polynomial: polynomial)
    }
}

private func crcCombine<T: FixedWidthInteger & UnsignedInteger>(_ first: [UInt8], _ second: [UInt8], _ length: UInt64, polynomial: T) -> [UInt8] {
    let a = first.reduce(T(0)) { $0 << 8 | T($1) }
    let b = second.reduce(T(0)) { $0 << 8 | T($1) }
    return bigEndianBytes(multiplyModP(xPower8n(length, polynomial), a, polynomial) ^ b)
}

/// a·b modulo the polynomial; bit `bitWidth - 1` holds x^0 (reflected order).
private func multiplyModP<T: FixedWidthInteger & UnsignedInteger>(_ a: T, _ b: T, _ polynomial: T) -> T {
    var b = b
    var product: T = 0
    var mask = T(1) << (T.bitWidth - 1)
    while mask != 0 {
        if a & mask != 0 { product ^= b }
        mask >>= 1
        b = (b & 1) != 0 ? (b >> 1) ^ polynomial : b >> 1
    }
    return product
}

/// x^(8·n) modulo the polynomial, by squaring from x^8.
private func xPower8n<T: FixedWidthInteger & UnsignedInteger>(_ n: UInt64, _ polynomial: T) -> T {
    var result = T(1) << (T.bitWidth - 1)
    var power = T(1) << (T.bitWidth - 9)
    var n = n
    while n != 0 {
        if n & 1 != 0 { result = multiplyModP(power, result, polynomial) }
        power = multiplyModP(power, power, polynomial)
        n >>= 1
    }
    return result
}
