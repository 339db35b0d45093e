/// A small tagged binary format for stored records.
///
/// Why not JSON or Codable: records are decoded on every GET, HEAD and listed key, and this
/// format decodes with no allocation beyond the strings themselves. Layout: one format-version
/// byte, then fields as `tag (UInt8) | length (UInt32 LE) | bytes`. Readers skip tags they do not
/// know, so a newer writer's extra fields never break an older reader, and a reader that sees a
/// newer version than it knows refuses the record instead of misreading it.
struct RecordWriter {
    private(set) var bytes: [UInt8]

    init(version: UInt8) {
        bytes = [version]
        bytes.reserveCapacity(256)
    }

    mutating func field(_ tag: UInt8, _ value: some Collection<UInt8>) {
        bytes.append(tag)
        let n = UInt32(value.count)
        bytes.append(contentsOf: [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8(n >> 24)])
        bytes.append(contentsOf: value)
    }

    mutating func field(_ tag: UInt8, _ value: String) { field(tag, Array(value.utf8)) }

    mutating func field(_ tag: UInt8, _ value: UInt64) { field(tag, value.bigEndianBytes) }

    mutating func field(_ tag: UInt8, _ value: Int64) { field(tag, UInt64(bitPattern: value).bigEndianBytes) }

    /// A list of string pairs, encoded as a nested sequence of length-prefixed strings.
    mutating func field(_ tag: UInt8, pairs: [(String, String)]) {
        var nested = RecordWriter(version: 0)
        nested.bytes.removeAll(keepingCapacity: true)
        for (name, value) in pairs {
            nested.field(0, name)
            nested.field(1, value)
        }
        field(tag, nested.bytes)
    }
}

/// Reads what ``RecordWriter`` wrote.
struct RecordReader {
    let version: UInt8
    private let bytes: UnsafeRawBufferPointer
    private var offset: Int

    init(_ bytes: UnsafeRawBufferPointer) throws(ObjectStoreError) {
        guard let v = bytes.first else { throw .corruptRecord }
        self.version = v
        self.bytes = bytes
        self.offset = 1
    }

    private init(nested bytes: UnsafeRawBufferPointer) {
        self.version = 0
        self.bytes = bytes
        self.offset = 0
    }

    /// The next field, or nil at the end.
    mutating func next() throws(ObjectStoreError) -> (tag: UInt8, value: UnsafeRawBufferPointer)? {
        guard offset < bytes.count else { return nil }
        guard offset + 5 <= bytes.count else { throw .corruptRecord }
        let tag = bytes[offset]
        let n = Int(bytes[offset + 1]) | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3]) << 16 | Int(bytes[offset + 4]) << 24
        let start = offset + 5
        guard start + n <= bytes.count else { throw .corruptRecord }
        offset = start + n
        return (tag, UnsafeRawBufferPointer(rebasing: bytes[start..<start + n]))
    }

    static func string(_ value: UnsafeRawBufferPointer) -> String {
        String(decoding: value, as: UTF8.self)
    }

    static func uint64(_ value: UnsafeRawBufferPointer) throws(ObjectStoreError) -> UInt64 {
        guard value.count == 8 else { throw .corruptRecord }
        return UInt64(bigEndianBytes: value)
    }

    static func int64(_ value: UnsafeRawBufferPointer) throws(ObjectStoreError) -> Int64 {
        Int64(bitPattern: try uint64(value))
    }

    static func pairs(_ value: UnsafeRawBufferPointer) throws(ObjectStoreError) -> [(String, String)] {
        var reader = RecordReader(nested: value)
        var result: [(String, String)] = []
        while let name = try reader.next() {
            guard let v = try reader.next() else { throw .corruptRecord }
            result.append((string(name.value), string(v.value)))
        }
        return result
    }
}

extension UInt64 {
    /// The 8 big-endian bytes, so that byte order is numeric order in LMDB keys.
    var bigEndianBytes: [UInt8] {
        (0..<8).map { UInt8((self >> (56 - 8 * UInt64($0))) & 0xff) }
    }

    init(bigEndianBytes b: UnsafeRawBufferPointer) {
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(b[i]) }
        self = v
    }
}

extension UInt32 {
    var bigEndianBytes: [UInt8] {
        [UInt8(self >> 24), UInt8((self >> 16) & 0xff), UInt8((self >> 8) & 0xff), UInt8(self & 0xff)]
    }
}
