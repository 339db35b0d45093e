import CLMDB

/// An error returned by LMDB, carrying its return code.
///
/// Higher layers map the interesting cases (`mapFull`, `notFound`) to their own domain errors;
/// nothing here knows about HTTP.
public struct LMDBError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The raw LMDB (or errno) return code.
    public let code: Int32

    /// The map is full: the store has reached its configured map size.
    public static let mapFull = LMDBError(code: MDB_MAP_FULL)
    /// The key was not found.
    public static let notFound = LMDBError(code: MDB_NOTFOUND)
    /// The key already exists (with `MDB_NOOVERWRITE`).
    public static let keyExists = LMDBError(code: MDB_KEYEXIST)
    /// The key is too long or empty.
    public static let badValueSize = LMDBError(code: MDB_BAD_VALSIZE)

    public init(code: Int32) { self.code = code }

    public var description: String {
        String(cString: mdb_strerror(code))
    }

    /// True when the error means the store ran out of room (map full or disk full).
    public var isOutOfSpace: Bool {
        code == MDB_MAP_FULL || code == 28 /* ENOSPC */ || code == MDB_TXN_FULL
    }
}

@inline(__always)
func check(_ rc: Int32) throws(LMDBError) {
    if rc != 0 { throw LMDBError(code: rc) }
}
