import Foundation
import Synchronization

/// Date formats used on the wire: RFC 1123 for HTTP headers, ISO 8601 with milliseconds in XML.
/// Formatting is done by hand because DateFormatter is slow and not thread-safe to share.
enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func components(_ date: Date) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int, millis: Int) {
        let t = date.timeIntervalSince1970
        let secs = Int(floor(t))
        let millis = Int((t - floor(t)) * 1000)
        var days = secs / 86400
        var rem = secs % 86400
        if rem < 0 { rem += 86400; days -= 1 }
        let weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday (4)
        // Civil-from-days (Howard Hinnant's algorithm).
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60, weekday, millis)
    }

    private static func pad(_ v: Int, _ width: Int = 2) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// The `Date` header value for now, formatted once per second.
    static func now() -> String {
        let second = Int(Date().timeIntervalSince1970)
        if let cached = current.withLock({ $0.second == second ? $0.text : nil }) { return cached }
        let text = rfc1123(Date(timeIntervalSince1970: TimeInterval(second)))
        current.withLock { $0 = (second, text) }
        return text
    }

    private static let current = Mutex<(second: Int, text: String)>((0, ""))

    /// `Wed, 21 Oct 2015 07:28:00 GMT`
    static func rfc1123(_ date: Date) -> String {
        let c = components(date)
        guard (0...9999).contains(c.year) else {
            return "\(days[c.weekday]), \(pad(c.day)) \(months[c.month - 1]) \(c.year) \(pad(c.hour)):\(pad(c.minute)):\(pad(c.second)) GMT"
        }
        // Written into one 29-byte string: every GET and HEAD formats its Last-Modified.
        return String(unsafeUninitializedCapacity: 29) { out in
            var i = 0
            func put(_ text: StaticString) {
                for k in 0..<text.utf8CodeUnitCount { out[i] = text.utf8Start[k]; i += 1 }
            }
            func put(_ value: Int, digits: Int) {
                var divisor = 1
                for _ in 1..<digits { divisor *= 10 }
                while divisor > 0 {
                    out[i] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
                    i += 1
                    divisor /= 10
                }
            }
            for byte in days[c.weekday].utf8 { out[i] = byte; i += 1 }
            put(", ")
            put(c.day, digits: 2)
            put(" ")
            for byte in months[c.month - 1].utf8 { out[i] = byte; i += 1 }
            put(" ")
            put(c.year, digits: 4)
            put(" ")
            put(c.hour, digits: 2)
            put(":")
            put(c.minute, digits: 2)
            put(":")
            put(c.second, digits: 2)
            put(" GMT")
            return i
        }
    }

    /// `2015-10-21T07:28:00.000Z`
    static func iso8601(_ date: Date) -> String {
        let c = components(date)
        return "\(c.year)-\(pad(c.month))-\(pad(c.day))T\(pad(c.hour)):\(pad(c.minute)):\(pad(c.second)).\(pad(c.millis, 3))Z"
    }

    /// Parses the HTTP date formats (RFC 1123, RFC 850, asctime) and ISO 8601.
    static func parse(_ string: String) -> Date? {
        let s = string.trimmingCharacters(in: .whitespaces)
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy",
                       "yyyy-MM-dd'T'HH:mm:ss.SSSX", "yyyy-MM-dd'T'HH:mm:ssX", "yyyyMMdd'T'HHmmssX"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: s) { return date }
        }
        return nil
    }
}
