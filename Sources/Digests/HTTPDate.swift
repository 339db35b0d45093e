package import Foundation

/// HTTP dates (RFC 9110 section 5.6.7): `Wed, 21 Oct 2015 07:28:00 GMT` written in every
/// response (`Date`, `Last-Modified`), and read from `If-Modified-Since`-style headers and
/// the `Date` header SigV4 signs.
package enum HTTPDate {
    private static let cache = PerSecondCache { rfc1123(secondsSince1970: $0) }

    /// The `Date` header value for now, formatted once per second.
    package static func now() -> String { cache.now() }

    /// `Wed, 21 Oct 2015 07:28:00 GMT`
    package static func rfc1123(_ date: Date) -> String {
        rfc1123(secondsSince1970: Int(date.timeIntervalSince1970.rounded(.down)))
    }

    private static func rfc1123(secondsSince1970 seconds: Int) -> String {
        let c = CivilTime(secondsSince1970: seconds)
        let weekday = CivilTime.weekdayNames[c.weekday]
        let month = CivilTime.monthNames[c.month - 1]
        guard (0...9999).contains(c.year) else {
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
            return "\(weekday), \(two(c.day)) \(month) \(c.year) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) GMT"
        }
        // Written into one 29-byte string: every GET and HEAD formats its Last-Modified.
        return String(unsafeUninitializedCapacity: 29) { out in
            var w = ASCIIWriter(out)
            w.put(weekday)
            w.put(", ")
            w.put(c.day, digits: 2)
            w.put(" ")
            w.put(month)
            w.put(" ")
            w.put(c.year, digits: 4)
            w.put(" ")
            w.putTime(c, separator: ":")
            w.put(" GMT")
            return w.count
        }
    }

    /// Parses what conditional headers may carry: the HTTP date formats (RFC 1123, the
    /// obsolete RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994`),
    /// and, as S3 tolerates, ISO 8601 and `yyyyMMdd'T'HHmmss'Z'`. Surrounding spaces are ignored.
    package static func parse(_ string: String) -> Date? {
        let fields = string.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
            .flatMap { $0.split(separator: UInt8(ascii: "\t")) }.map(Array.init)
        switch fields.count {
        case 1:
            let text = String(decoding: fields[0], as: UTF8.self)
            return ISO8601Date.parse(text) ?? AMZDate.parse(text)
        case 4 where fields[0].last == UInt8(ascii: ","):
            return parseRFC850(fields[1...])
        case 5 where fields[0].last != UInt8(ascii: ",") && asciiNumber(fields[0]) == nil:
            return parseAsctime(fields)
        default:
            return parseRFC1123(fields)
        }
    }

    /// Parses an RFC 1123 date only, `Fri, 24 May 2013 00:00:00 GMT` (weekday optional and
    /// not checked; day of one or two digits; zone `GMT`, `UTC`, `Z` or a numeric offset such
    /// as `+0000`, `-0000` or `+0100`, RFC 5322's forms): the form SigV4 accepts in a signed
    /// `Date` header. botocore writes that header with Python's `formatdate`, `... -0000`.
    package static func parseRFC1123(_ string: String) -> Date? {
        parseRFC1123(string.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true).map(Array.init))
    }

    private static func parseRFC1123(_ fields: [[UInt8]]) -> Date? {
        var fields = fields[...]
        if let first = fields.first, first.last == UInt8(ascii: ",") { fields = fields.dropFirst() }
        guard fields.count == 5 else { return nil }
        let (day, month, year, time, zone) = (fields[fields.startIndex], fields[fields.startIndex + 1],
                                              fields[fields.startIndex + 2], fields[fields.startIndex + 3], fields[fields.startIndex + 4])
        guard (1...2).contains(day.count), let dayNumber = asciiNumber(day), year.count == 4, let yearNumber = asciiNumber(year),
              let offset = isGMT(zone) ? 0 : numericOffset(zone) else { return nil }
        return makeDate(year: yearNumber, month: month, day: dayNumber, time: time)?.addingTimeInterval(TimeInterval(-offset))
    }

    /// Seconds east of UTC of an RFC 5322 zone `+hhmm` / `-hhmm`; nil for anything else.
    private static func numericOffset(_ zone: [UInt8]) -> Int? {
        guard zone.count == 5, zone[0] == UInt8(ascii: "+") || zone[0] == UInt8(ascii: "-"),
              let hours = asciiNumber(zone[1..<3]), let minutes = asciiNumber(zone[3..<5]), hours < 24, minutes < 60
        else { return nil }
        return (zone[0] == UInt8(ascii: "-") ? -1 : 1) * (hours * 3600 + minutes * 60)
    }

    /// `06-Nov-94 08:49:37 GMT` (the weekday already dropped); a two-digit year more than
    /// 50 years ahead is taken as the previous century (RFC 9110).
    private static func parseRFC850(_ fields: ArraySlice<[UInt8]>) -> Date? {
        let (dayMonthYear, time, zone) = (fields[fields.startIndex], fields[fields.startIndex + 1], fields[fields.startIndex + 2])
        let parts = dayMonthYear.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard parts.count == 3, (1...2).contains(parts[0].count), let day = asciiNumber(parts[0]),
              parts[2].count == 2, let shortYear = asciiNumber(parts[2]), isGMT(zone) else { return nil }
        let thisYear = CivilTime(Date()).year
        var year = thisYear - thisYear % 100 + shortYear
        if year > thisYear + 50 { year -= 100 }
        return makeDate(year: year, month: Array(parts[1]), day: day, time: time)
    }

    /// `Sun Nov  6 08:49:37 1994` (weekday not checked).
    private static func parseAsctime(_ fields: [[UInt8]]) -> Date? {
        guard (1...2).contains(fields[2].count), let day = asciiNumber(fields[2]),
              fields[4].count == 4, let year = asciiNumber(fields[4]) else { return nil }
        return makeDate(year: year, month: fields[1], day: day, time: fields[3])
    }

    private static func isGMT(_ zone: [UInt8]) -> Bool {
        switch String(decoding: zone, as: UTF8.self).uppercased() {
        case "GMT", "UTC", "Z", "+0000": true
        default: false
        }
    }

    /// The date of `month` (a three-letter English name, any case) and `HH:mm:ss`.
    private static func makeDate(year: Int, month: [UInt8], day: Int, time: [UInt8]) -> Date? {
        let monthName = month.map { $0 | 0x20 }
        guard month.count == 3,
              let monthIndex = CivilTime.monthNames.firstIndex(where: { name in
                  (0..<3).allSatisfy { name.utf8Start[$0] | 0x20 == monthName[$0] }
              }),
              time.count == 8, time[2] == UInt8(ascii: ":"), time[5] == UInt8(ascii: ":"),
              let hour = asciiNumber(time[0..<2]), let minute = asciiNumber(time[3..<5]), let second = asciiNumber(time[6..<8])
        else { return nil }
        return CivilTime(year: year, month: monthIndex + 1, day: day, hour: hour, minute: minute, second: second).date
    }
}
