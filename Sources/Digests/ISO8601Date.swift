package import Foundation

/// ISO 8601 / RFC 3339 timestamps as S3 writes them in XML and event messages,
/// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, and as POST policies and listings give them back.
package enum ISO8601Date {
    /// `2015-10-21T07:28:00.250Z` (UTC, to the nearest millisecond within the second).
    package static func format(_ date: Date) -> String {
        let c = CivilTime(date)
        guard (0...9999).contains(c.year) else {
            return "\(c.year)-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second)).000Z"
        }
        return String(unsafeUninitializedCapacity: 24) { out in
            var w = ASCIIWriter(out)
            w.putDate(c, separator: "-")
            w.put("T")
            w.putTime(c, separator: ":")
            w.put(".")
            w.put(c.millisecond, digits: 3)
            w.put("Z")
            return w.count
        }
    }

    /// `2015-10-21T07:28:00Z`, the whole second (truncated): how S3 writes the times in an
    /// expired presigned URL's error.
    package static func formatSeconds(_ date: Date) -> String {
        let text = format(Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
        return text.hasSuffix(".000Z") ? String(text.dropLast(5)) + "Z" : text
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Parses `yyyy-MM-dd'T'HH:mm:ss`, optionally followed by `.` and 1 to 9 fraction digits,
    /// then `Z` or an offset `±HH:mm` / `±HHmm`. Nil for anything else.
    package static func parse(_ string: String) -> Date? {
        let b = Array(string.utf8)
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let year = asciiNumber(b[0..<4]), let month = asciiNumber(b[5..<7]), let day = asciiNumber(b[8..<10]),
              let hour = asciiNumber(b[11..<13]), let minute = asciiNumber(b[14..<16]), let second = asciiNumber(b[17..<19]),
              let whole = CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second).date
        else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == UInt8(ascii: ".") {
            let start = i + 1
            i = start
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
            guard (1...9).contains(i - start), let digits = asciiNumber(b[start..<i]) else { return nil }
            fraction = Double(digits) / pow(10, Double(i - start))
        }
        guard i < b.count else { return nil }
        var offset = 0
        switch b[i] {
        case UInt8(ascii: "Z"):
            guard i + 1 == b.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let zone = Array(b[(i + 1)...].filter { $0 != UInt8(ascii: ":") })
            let colons = b.count - i - 1 - zone.count
            guard zone.count == 4, colons <= 1, let hh = asciiNumber(zone[0..<2]), let mm = asciiNumber(zone[2..<4]),
                  hh < 24, mm < 60 else { return nil }
            offset = (hh * 3600 + mm * 60) * (b[i] == UInt8(ascii: "+") ? 1 : -1)
        default:
            return nil
        }
        return whole.addingTimeInterval(fraction - TimeInterval(offset))
    }
}
