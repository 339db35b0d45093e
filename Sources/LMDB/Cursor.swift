import CLMDB

/// A position in a database, ordered by key bytes (memcmp order).
///
/// Entries returned point into the memory map: copy what must outlive the transaction.
public final class Cursor {
    /// One key/value pair under the cursor.
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    private let handle: OpaquePointer
    // Keep the transaction alive as long as the cursor.
    private let transaction: Transaction

    init(transaction: Transaction, db: Database) throws {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(transaction.handle, db.dbi, &cursor))
        self.handle = cursor!
        self.transaction = transaction
    }

    deinit {
        mdb_cursor_close(handle)
    }

    private func op(_ operation: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil) throws -> Entry? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: key.flatMap { UnsafeMutableRawPointer(mutating: $0.baseAddress) })
        var v = MDB_val()
        let rc = mdb_cursor_get(handle, &k, &v, operation)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc)
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    /// Moves to the first entry whose key is >= `key`.
    public func seek(atOrAfter key: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { try op(MDB_SET_RANGE, key: $0) }
    }

    /// Moves to the next entry.
    public func next() throws -> Entry? { try op(MDB_NEXT) }

    /// Moves to the previous entry.
    public func previous() throws -> Entry? { try op(MDB_PREV) }

    /// Moves to the last entry of the database.
    public func last() throws -> Entry? { try op(MDB_LAST) }

    /// Moves to the first entry of the database.
    public func first() throws -> Entry? { try op(MDB_FIRST) }

    /// Deletes the entry under the cursor (write transactions only).
    public func deleteCurrent() throws {
        try check(mdb_cursor_del(handle, 0))
    }
}
