import LMDB

extension LMDBObjectStore {
    /// Lists one page of `bucket` in UTF-8 byte order, rolling keys up into common prefixes at
    /// the delimiter. Work is proportional to the page: a whole common-prefix group is skipped
    /// with one cursor seek, whatever it holds.
    public func list(bucket: BucketRecord, query: ListQuery) throws -> ListPage {
        try read { txn in try list(txn, bucket: bucket, query: query) }
    }

    func list(_ txn: Transaction, bucket: BucketRecord, query: ListQuery) throws -> ListPage {
        let bucketPrefix = bucket.id.bigEndianBytes
        let start = bucketPrefix + Array(query.prefix.utf8)
        let marker = query.after.map { Array($0.utf8) }
        let delimiter = query.delimiter.map { Array($0.utf8) }
        let prefixCount = query.prefix.utf8.count
        let cursor = try txn.cursor(objects)

        var seekKey = start
        if let marker, (bucketPrefix + marker).lexicographicallyPrecedes(start) == false {
            seekKey = bucketPrefix + marker
        }
        var items: [ListItem] = []
        var truncated = false
        var entry = try cursor.seek(atOrAfter: seekKey)
        while let e = entry, e.key.starts(with: start) {
            let keyBytes = UnsafeRawBufferPointer(rebasing: e.key[8...])
            if let marker, !marker.lexicographicallyPrecedes(keyBytes) {
                entry = try cursor.next()  // at or before the marker
                continue
            }
            if let delimiter, let cut = Self.firstRange(of: delimiter, in: keyBytes, from: prefixCount) {
                let commonPrefix = Array(keyBytes[..<cut])
                // Skip the whole group with one seek: no UTF-8 byte is 0xFF, so every key that
                // starts with the prefix sorts before prefix ‖ 0xFF.
                let skipTo = bucketPrefix + commonPrefix + [0xFF]
                if let marker, !marker.lexicographicallyPrecedes(commonPrefix) {
                    entry = try cursor.seek(atOrAfter: skipTo)
                    continue
                }
                if items.count >= query.maxKeys { truncated = true; break }
                items.append(.commonPrefix(String(decoding: commonPrefix, as: UTF8.self)))
                entry = try cursor.seek(atOrAfter: skipTo)
                continue
            }
            if items.count >= query.maxKeys { truncated = true; break }
            items.append(.object(key: String(decoding: keyBytes, as: UTF8.self), record: try ObjectRecord(decoding: e.value)))
            entry = try cursor.next()
        }
        return ListPage(items: items, isTruncated: truncated)
    }

    /// The end index (exclusive) of the first occurrence of `needle` in `bytes` at or after `from`.
    static func firstRange(of needle: [UInt8], in bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard !needle.isEmpty, bytes.count - from >= needle.count else { return nil }
        var i = from
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0] {
                var match = true
                for j in 1..<needle.count where bytes[i + j] != needle[j] { match = false; break }
                if match { return i + needle.count }
            }
            i += 1
        }
        return nil
    }
}
