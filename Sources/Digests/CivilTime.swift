package import Foundation
import Synchronization

/// A UTC calendar date and time of day, converted to and from seconds since 1970 by hand
/// (Howard Hinnant's civil-date algorithms): every wire date format (`AMZDate`, `HTTPDate`,
/// `ISO8601Date`) is built on it, because Foundation's formatters are slow, allocate, and
/// are not safe to share between threads.
package struct CivilTime: Equatable, Sendable {
    /// The year (proleptic Gregorian), e.g. 2015.
    package var year: Int
    /// 1...12
    package var month: Int
    /// 1...31
    package var day: Int
    /// 0...23
    package var hour: Int
    /// 0...59
    package var minute: Int
    /// 0...59 (60 accepted by `date` for a leap second).
    package var second: Int
    /// Milliseconds within the second.
    package var millisecond: Int = 0

    /// The fields as given; `date` checks them.
    package init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int = 0) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second, self.millisecond) = (hour, minute, second, millisecond)
    }

    /// The UTC fields of a whole number of seconds since 1970.
    package init(secondsSince1970 seconds: Int) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
    }

    /// The UTC fields of `date`, to the nearest millisecond within its second. (Nearest, not
    /// truncated: a stored whole-millisecond time such as `.123` is the double `.12299...`,
    /// which truncation would write as `.122`.)
    package init(_ date: Date) {
        let t = date.timeIntervalSince1970
        let whole = t.rounded(.down)
        self.init(secondsSince1970: Int(whole))
        millisecond = min(999, Int(((t - whole) * 1000).rounded()))
    }

    /// Days since 1970-01-01 of the (proleptic Gregorian) date.
    package var daysSince1970: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday).
    package var weekday: Int { ((daysSince1970 % 7) + 11) % 7 }

    /// The instant, or nil when a field is out of range (month 13, 31 June, hour 24...);
    /// second 60 (a leap second) is accepted, as the parsers always did.
    package var date: Date? {
        guard (1...12).contains(month), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
              (0...999).contains(millisecond)
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthLengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...monthLengths[month - 1]).contains(day) else { return nil }
        let seconds = daysSince1970 * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(millisecond) / 1000)
    }

    /// English month abbreviations, as HTTP dates spell them.
    package static let monthNames: [StaticString] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    /// English weekday abbreviations from Sunday.
    package static let weekdayNames: [StaticString] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
}

/// Writes ASCII into a string's uninitialised storage: the formatters build their fixed-width
/// output in one allocation instead of concatenating pieces.
package struct ASCIIWriter: ~Copyable {
    private let out: UnsafeMutableBufferPointer<UInt8>
    /// Bytes written so far.
    package private(set) var count = 0

    package init(_ out: UnsafeMutableBufferPointer<UInt8>) { self.out = out }

    /// Appends the literal's bytes.
    package mutating func put(_ text: StaticString) {
        for k in 0..<text.utf8CodeUnitCount { out[count] = text.utf8Start[k]; count += 1 }
    }

    /// Appends `yyyy<separator>MM<separator>dd`.
    package mutating func putDate(_ c: CivilTime, separator: StaticString = "") {
        putFields(c.year, firstDigits: 4, c.month, c.day, separator: separator)
    }

    /// Appends `HH<separator>mm<separator>ss`.
    package mutating func putTime(_ c: CivilTime, separator: StaticString = "") {
        putFields(c.hour, firstDigits: 2, c.minute, c.second, separator: separator)
    }

    /// Three numbers, the last two of two digits, with `separator` between them.
    private mutating func putFields(_ first: Int, firstDigits: Int, _ second: Int, _ third: Int, separator: StaticString) {
        put(first, digits: firstDigits)
        put(separator)
        put(second, digits: 2)
        put(separator)
        put(third, digits: 2)
    }

    /// Appends the last `digits` decimal digits of `value` (>= 0), zero-padded.
    package mutating func put(_ value: Int, digits: Int) {
        var divisor = 1
        for _ in 1..<digits { divisor *= 10 }
        while divisor > 0 {
            out[count] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
            count += 1
            divisor /= 10
        }
    }
}

/// Reads the decimal number in `bytes` (digits only, at least one), nil otherwise.
@inlinable
package func asciiNumber(_ bytes: some Collection<UInt8>) -> Int? {
    guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
    var value = 0
    for c in bytes {
        guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int(c - UInt8(ascii: "0"))
    }
    return value
}

/// Caches a text derived from the current second (the `Date` response header, the bench's
/// `x-amz-date`): formatting it once a second instead of on every request.
package final class PerSecondCache: Sendable {
    private let current = Mutex<(second: Int, text: String)>((Int.min, ""))
    private let make: @Sendable (Int) -> String

    /// `make` formats a whole number of seconds since 1970.
    package init(_ make: @escaping @Sendable (Int) -> String) { self.make = make }

    /// The text for the current second.
    package func now() -> String {
        let second = Int(Date().timeIntervalSince1970.rounded(.down))
        return current.withLock { cached in
            if cached.second != second { cached = (second, make(second)) }
            return cached.text
        }
    }
}
