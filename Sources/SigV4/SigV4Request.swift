/// What the HTTP layer hands over for verification. No HTTP framework types.
public struct SigV4Request: Sendable {
    /// The request method, e.g. "GET".
    public var method: String
    /// The path exactly as on the request line, still percent-encoded, without the query.
    public var rawPath: String
    /// The query string as sent, without the leading '?'; may be "".
    public var rawQuery: String
    /// All headers in arrival order; names in any case; repeats allowed.
    public var headers: [(name: String, value: String)]

    public init(method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)]) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
    }

    /// All values of the header `name` (compared case-insensitively), in arrival order.
    public func headerValues(_ name: String) -> [String] {
        headers.compactMap { asciiCaseInsensitiveEqual($0.name, name) ? $0.value : nil }
    }

    /// The first value of the header `name` (compared case-insensitively).
    public func firstHeader(_ name: String) -> String? {
        headers.first { asciiCaseInsensitiveEqual($0.name, name) }?.value
    }
}

/// Header names compared without allocating (these lookups run several times per request).
func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    return a.utf8.elementsEqual(b.utf8) { x, y in
        x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= UInt8(ascii: "a") && (x | 0x20) <= UInt8(ascii: "z"))
    }
}

private func isWhitespace(_ c: Character) -> Bool { c == " " || c == "\t" }

/// Trims leading and trailing spaces and tabs (header values, as SigV4 canonicalises them).
func trimWhitespace<S: StringProtocol>(_ s: S) -> String {
    let string = String(s)
    guard let first = string.utf8.first, let last = string.utf8.last else { return "" }
    let blank = { (c: UInt8) in c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") }
    if !blank(first) && !blank(last) { return string }
    guard let start = s.firstIndex(where: { !isWhitespace($0) }),
        let end = s.lastIndex(where: { !isWhitespace($0) })
    else { return "" }
    return String(s[start...end])
}
