/// Hexadecimal: the one implementation for digests, ETags, upload ids, request ids and
/// percent-escapes.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)
    @usableFromInline static let upperDigits: StaticString = "0123456789ABCDEF"

    /// Lowercase hex of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Accepts upper- and lowercase digits; nil on odd length or any other character.
    public static func decode(_ s: String) -> [UInt8]? {
        let utf8 = Array(s.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    /// `value` as exactly 16 uppercase hex digits (zero-padded), written in place: request
    /// ids and event sequencers are made on every request or change.
    package static func uppercase(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { out in
            for i in 0..<16 { out[i] = upperDigits.utf8Start[Int((value >> (60 - 4 * UInt64(i))) & 0xF)] }
            return 16
        }
    }

    /// The uppercase hex digit of `value & 0xF` (for `%XX` escapes).
    @inlinable @inline(__always)
    package static func uppercaseDigit(_ value: UInt8) -> UInt8 { upperDigits.utf8Start[Int(value & 0xF)] }

    /// The value of one hex digit (either case), nil for anything else.
    @inlinable @inline(__always)
    package static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
