public import ArgumentParser

/// A `host:port` option of the executables (`--address`, `--index-address`), parsed in one
/// place. Brackets around an IPv6 host (`[::1]:9000`) are removed.
public struct HostPort: Sendable, Equatable {
    public var host: String
    public var port: Int

    /// Parses `text`; the error names `option`.
    public init(_ text: String, option: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65_535).contains(port) else {
            throw ValidationError("\(option) must be host:port, not '\(text)'")
        }
        var host = Substring(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        self.host = String(host)
        self.port = port
    }

    /// `(host, port)`, for destructuring.
    public var pair: (String, Int) { (host, port) }
}
