import CLMDB

/// An LMDB transaction (read-only or read-write).
///
/// Buffers returned by ``get(_:key:)`` and cursors point into the memory map and stay valid
/// until the transaction ends or (for write transactions) the same key is written again.
public final class Transaction: @unchecked Sendable {
    let handle: OpaquePointer
    public let isReadOnly: Bool
    private var finished = false
    /// Value bytes stored by this transaction and its committed children: about how much its
    /// commit will write.
    private(set) var bytesStored = 0
    /// Where this transaction and its committed children stored values of at least
    /// ``largeValueSize`` bytes: the write queue drops their pages from the page cache once
    /// they are durable (see ``Environment/dropFromPageCache(_:)``).
    private(set) var largeValues: [(db: Database, key: [UInt8])] = []
    private let parent: Transaction?
    /// Values this large are bulk data (object chunks), not index pages.
    public static let largeValueSize = 256 << 10

    init(environment: Environment, parent: Transaction?, readOnly: Bool) throws(LMDBError) {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(environment.handle, parent?.handle, readOnly ? UInt32(MDB_RDONLY) : 0, &txn))
        self.handle = txn!
        self.isReadOnly = readOnly
        self.parent = parent
    }

    deinit {
        if !finished { mdb_txn_abort(handle) }
    }

    /// Begins a nested write transaction: its changes join this one on commit, or vanish on abort.
    public func child(environment: Environment) throws -> Transaction {
        try Transaction(environment: environment, parent: self, readOnly: false)
    }

    /// Commits. For a top-level write transaction this is the durable point (fsync).
    public func commit() throws {
        finished = true
        try check(mdb_txn_commit(handle))
        parent?.bytesStored &+= bytesStored
        parent?.largeValues.append(contentsOf: largeValues)
    }

    /// Abandons the transaction and its changes.
    public func abort() {
        guard !finished else { return }
        finished = true
        mdb_txn_abort(handle)
    }

    /// The value stored under `key`, pointing into the map, or nil.
    public func get(_ db: Database, key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(handle, db.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc)
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// How many entries `db` holds (from the database's statistics: no scan).
    public func count(_ db: Database) throws -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, db.dbi, &stat))
        return stat.ms_entries
    }

    /// The value stored under `key`, copied out, or nil.
    public func get(_ db: Database, key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { k in try get(db, key: k).map { Array($0) } }
    }

    /// Stores `value` under `key`. With `noOverwrite`, throws ``LMDBError/keyExists`` if present.
    public func put(_ db: Database, key: [UInt8], value: UnsafeRawBufferPointer, noOverwrite: Bool = false) throws {
        try key.withUnsafeBytes { k in
            var kv = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var vv = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
            try check(mdb_put(handle, db.dbi, &kv, &vv, noOverwrite ? UInt32(MDB_NOOVERWRITE) : 0))
            stored(db, key: key, size: value.count)
        }
    }

    /// Stores `value` under `key`.
    public func put(_ db: Database, key: [UInt8], value: [UInt8], noOverwrite: Bool = false) throws {
        try value.withUnsafeBytes { try put(db, key: key, value: $0, noOverwrite: noOverwrite) }
    }

    /// Reserves `size` bytes for `key` and lets `fill` write them in place (no intermediate copy).
    public func putReserved(_ db: Database, key: [UInt8], size: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        try key.withUnsafeBytes { k in
            var kv = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var vv = MDB_val(mv_size: size, mv_data: nil)
            try check(mdb_put(handle, db.dbi, &kv, &vv, UInt32(MDB_RESERVE)))
            stored(db, key: key, size: size)
            try fill(UnsafeMutableRawBufferPointer(start: vv.mv_data, count: size))
        }
    }

    private func stored(_ db: Database, key: [UInt8], size: Int) {
        bytesStored &+= size
        if size >= Self.largeValueSize { largeValues.append((db, key)) }
    }

    /// Deletes `key`; returns false when it was not there.
    @discardableResult
    public func delete(_ db: Database, key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { k in
            var kv = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            let rc = mdb_del(handle, db.dbi, &kv, nil)
            if rc == MDB_NOTFOUND { return false }
            try check(rc)
            return true
        }
    }

    /// Opens a cursor on `db`, valid until the transaction ends.
    public func cursor(_ db: Database) throws -> Cursor {
        try Cursor(transaction: self, db: db)
    }
}
