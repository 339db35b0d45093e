import Foundation
import SigV4

/// Builds a SigV4Request from a raw HTTP/1.1 request head as written in the AWS SigV4
/// test suite (`.req` files): request line, then `Name:value` lines.
func parseRawRequest(_ raw: String) -> SigV4Request {
    let lines = raw.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let requestLine = lines[0]
    let firstSpace = requestLine.firstIndex(of: " ")!
    let method = String(requestLine[..<firstSpace])
    // The target may itself contain a space (get-space); the version is the last word.
    let lastSpace = requestLine.lastIndex(of: " ")!
    let target = String(requestLine[requestLine.index(after: firstSpace)..<lastSpace])
    let path: String
    let query: String
    if let question = target.firstIndex(of: "?") {
        path = String(target[..<question])
        query = String(target[target.index(after: question)...])
    } else {
        path = target
        query = ""
    }
    var headers: [(name: String, value: String)] = []
    for line in lines.dropFirst() {
        if line.isEmpty { break }
        let colon = line.firstIndex(of: ":")!
        headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
    }
    return SigV4Request(method: method, rawPath: path, rawQuery: query, headers: headers)
}

/// Parses `yyyyMMdd'T'HHmmss'Z'` with Foundation's formatter, independently of SigV4.parseAmzDate.
func referenceDate(_ amzDate: String) -> Date {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
    return formatter.date(from: amzDate)!
}

extension SigV4Request {
    func adding(_ name: String, _ value: String) -> SigV4Request {
        var copy = self
        copy.headers.append((name, value))
        return copy
    }

    func removing(_ name: String) -> SigV4Request {
        var copy = self
        copy.headers.removeAll { $0.name.lowercased() == name.lowercased() }
        return copy
    }

    func replacing(_ name: String, with value: String) -> SigV4Request {
        removing(name).adding(name, value)
    }
}
