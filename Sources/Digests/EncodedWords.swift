/// RFC 2047 encoded words (`=?UTF-8?B?w6k=?=`), as S3 uses them for user metadata that is not
/// US-ASCII: HTTP header values are ASCII, so clients (boto3 refuses anything else) send
/// `=?charset?B|Q?text?=`, and AWS decodes such values before storing them and encodes
/// non-ASCII values the same way when returning them
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html).
package enum EncodedWords {
    /// The text of a value made only of encoded words (separated by spaces or tabs, which
    /// RFC 2047 drops between adjacent words), in UTF-8 or US-ASCII, B or Q encoded; nil for
    /// any other value, which is then meant as sent.
    package static func decode(_ value: String) -> String? {
        let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard !words.isEmpty else { return nil }
        var bytes: [UInt8] = []
        for word in words {
            guard let decoded = decodeWord(word) else { return nil }
            bytes += decoded
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// `value` as it may go into an HTTP header: unchanged when it is printable ASCII,
    /// otherwise one B-encoded UTF-8 word, as AWS returns it.
    package static func encodeIfNeeded(_ value: String) -> String {
        if value.utf8.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }) { return value }
        return "=?UTF-8?B?" + Base64.encode(Array(value.utf8)) + "?="
    }

    /// The bytes of one `=?charset?encoding?text?=`, nil when it is not one.
    private static func decodeWord(_ word: Substring) -> [UInt8]? {
        guard word.hasPrefix("=?"), word.hasSuffix("?="), word.count >= 8 else { return nil }
        let parts = word.dropFirst(2).dropLast(2).split(separator: "?", omittingEmptySubsequences: false)
        guard parts.count == 3, ["utf-8", "us-ascii"].contains(parts[0].lowercased()) else { return nil }
        switch parts[1] {
        case "B", "b":
            return Base64.decode(String(parts[2]))
        case "Q", "q":
            var out: [UInt8] = []
            var it = parts[2].utf8.makeIterator()
            while let c = it.next() {
                if c == UInt8(ascii: "_") {
                    out.append(0x20)
                } else if c == UInt8(ascii: "=") {
                    guard let h = it.next(), let l = it.next(), let hv = Hex.nibble(h), let lv = Hex.nibble(l) else { return nil }
                    out.append(hv << 4 | lv)
                } else {
                    out.append(c)
                }
            }
            return out
        default:
            return nil
        }
    }
}
