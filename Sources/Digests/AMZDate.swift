package import Foundation

/// SigV4's request time format, `yyyyMMdd'T'HHmmss'Z'` (UTC): parsed on every signed request,
/// formatted by every client request the bench and the index service sign.
package enum AMZDate {
    /// Parses `yyyyMMdd'T'HHmmss'Z'`; nil for any other shape or an impossible date.
    package static func parse(_ string: String) -> Date? {
        var string = string
        return string.withUTF8 { b -> Date? in
            guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z"),
                  let year = asciiNumber(b[0..<4]), let month = asciiNumber(b[4..<6]), let day = asciiNumber(b[6..<8]),
                  let hour = asciiNumber(b[9..<11]), let minute = asciiNumber(b[11..<13]), let second = asciiNumber(b[13..<15])
            else { return nil }
            return CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second).date
        }
    }

    /// Formats `date` (whole seconds, rounded down) as `yyyyMMdd'T'HHmmss'Z'`.
    package static func format(_ date: Date) -> String {
        format(secondsSince1970: Int(date.timeIntervalSince1970.rounded(.down)))
    }

    /// Formats a whole number of seconds since 1970 as `yyyyMMdd'T'HHmmss'Z'`.
    package static func format(secondsSince1970 seconds: Int) -> String {
        let c = CivilTime(secondsSince1970: seconds)
        return String(unsafeUninitializedCapacity: 16) { out in
            var w = ASCIIWriter(out)
            w.putDate(c)
            w.put("T")
            w.putTime(c)
            w.put("Z")
            return w.count
        }
    }

    private static let cache = PerSecondCache { format(secondsSince1970: $0) }

    /// The current time as `yyyyMMdd'T'HHmmss'Z'`, formatted once a second (clients sign
    /// thousands of requests a second with it).
    package static func now() -> String { cache.now() }
}
