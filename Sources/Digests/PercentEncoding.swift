/// Percent-encoding and -decoding of URL parts (RFC 3986): the one implementation for
/// SigV4 canonicalisation, request paths and query parameters, listings, event keys and
/// the clients (index service, bench). These run on every request, so strings that need
/// no change are handed back as they are, without a copy.
///
/// The generic entry points are `@inlinable`: called from other modules (S3API, SigV4) they
/// would otherwise run unspecialized, through witness tables, on every request.
package enum PercentEncoding {
    /// RFC 3986 unreserved characters: `A-Z a-z 0-9 - _ . ~`.
    @inlinable @inline(__always)
    package static func isUnreserved(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// AWS `UriEncode`: every byte except the unreserved ones becomes `%XX` (uppercase);
    /// `/` is kept when `encodeSlash` is false (object keys in paths, `encoding-type=url`
    /// listings).
    package static func uriEncode(_ string: String, encodeSlash: Bool = true) -> String {
        encode(string, keepSlash: !encodeSlash, keepStar: false, spaceAsPlus: false)
    }

    /// AWS `UriEncode` of raw bytes, `/` included (SigV4 canonical URI segments and query).
    @inlinable
    package static func uriEncode(bytes: some Collection<UInt8>) -> String {
        if bytes.allSatisfy(isUnreserved) { return String(decoding: bytes, as: UTF8.self) }
        return escape(bytes, keepSlash: false, keepStar: false, spaceAsPlus: false)
    }

    /// Form-URL-encoding as S3 writes object keys in event messages: space becomes `+`,
    /// `/`, `*` and unreserved characters stay, everything else is `%XX`.
    package static func formEncode(_ string: String) -> String {
        encode(string, keepSlash: true, keepStar: true, spaceAsPlus: true)
    }

    private static func encode(_ string: String, keepSlash: Bool, keepStar: Bool, spaceAsPlus: Bool) -> String {
        // Most keys need no escaping: the same string, without a copy.
        if string.utf8.allSatisfy({ isKept($0, keepSlash: keepSlash, keepStar: keepStar) }) { return string }
        return escape(string.utf8, keepSlash: keepSlash, keepStar: keepStar, spaceAsPlus: spaceAsPlus)
    }

    @inlinable @inline(__always)
    static func isKept(_ c: UInt8, keepSlash: Bool, keepStar: Bool) -> Bool {
        isUnreserved(c) || (keepSlash && c == UInt8(ascii: "/")) || (keepStar && c == UInt8(ascii: "*"))
    }

    @inlinable
    static func escape(_ bytes: some Collection<UInt8>, keepSlash: Bool, keepStar: Bool, spaceAsPlus: Bool) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 3)
        for c in bytes {
            if isKept(c, keepSlash: keepSlash, keepStar: keepStar) {
                out.append(c)
            } else if spaceAsPlus && c == UInt8(ascii: " ") {
                out.append(UInt8(ascii: "+"))
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(Hex.uppercaseDigit(c >> 4))
                out.append(Hex.uppercaseDigit(c))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Strict decoding of `%XX` escapes (either case), and of `+` as a space when
    /// `plusAsSpace`; nil when an escape is malformed or the result is not UTF-8. Text with
    /// nothing to decode (most paths and parameters) comes back as it is.
    @inlinable
    package static func decode(_ s: some StringProtocol, plusAsSpace: Bool = false) -> String? {
        if !s.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) {
            return String(s)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hv = Hex.nibble(h), let lv = Hex.nibble(l) else { return nil }
                bytes.append(hv << 4 | lv)
            } else if plusAsSpace && b == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Lenient decoding, as SigV4 canonicalisation and S3 event consumers do it: a `%` not
    /// followed by two hex digits is kept literally, and the bytes need not be UTF-8.
    @inlinable
    package static func decodeLeniently(_ bytes: some Collection<UInt8>, plusAsSpace: Bool) -> [UInt8] {
        let input = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            let c = input[i]
            if c == UInt8(ascii: "%"), i + 2 < input.count, let high = Hex.nibble(input[i + 1]), let low = Hex.nibble(input[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else if c == UInt8(ascii: "+"), plusAsSpace {
                out.append(UInt8(ascii: " "))
                i += 1
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }
}
