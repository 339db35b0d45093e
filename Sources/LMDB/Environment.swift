import CLMDB
import Foundation

/// An LMDB environment: one memory-mapped file holding named databases.
///
/// Opened with `MDB_NOTLS` so read transactions may move between threads (Swift tasks hop
/// threads), and with default syncing: a committed write transaction is durable.
/// All write transactions run on one dedicated thread (see ``WriteQueue``), as LMDB ties a
/// write transaction to the thread that began it.
public final class Environment: @unchecked Sendable {
    let handle: OpaquePointer
    /// Largest key LMDB accepts in this build (511 with the default compile options).
    public let maxKeySize: Int
    /// The data file's page size.
    let pageSize: Int
    /// The address of the data file's memory map (see ``dropFromPageCache(_:)``).
    private let mapBase: Int?

    /// Opens (creating if needed) the environment in directory `path`.
    /// - Parameters:
    ///   - mapSize: the largest size the data file may grow to, in bytes.
    ///   - maxDatabases: how many named databases may be opened.
    ///   - maxReaders: how many read transactions may be open at once.
    public init(path: String, mapSize: Int, maxDatabases: UInt32 = 32, maxReaders: UInt32 = 4096) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var env: OpaquePointer?
        try check(mdb_env_create(&env))
        guard let env else { throw LMDBError(code: 12 /* ENOMEM */) }
        do {
            try check(mdb_env_set_mapsize(env, mapSize))
            try check(mdb_env_set_maxdbs(env, maxDatabases))
            try check(mdb_env_set_maxreaders(env, maxReaders))
            try check(mdb_env_open(env, path, UInt32(MDB_NOTLS), 0o644))
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.maxKeySize = Int(mdb_env_get_maxkeysize(env))
        var stat = MDB_stat()
        self.pageSize = mdb_env_stat(env, &stat) == 0 ? Int(stat.ms_psize) : 4096
        self.mapBase = Self.mapBase(of: env)
    }

    deinit {
        mdb_env_close(handle)
    }

    /// Opens (creating) a named database. Call before concurrent use, from one thread.
    public func openDatabase(_ name: String) throws -> Database {
        let txn = try Transaction(environment: self, parent: nil, readOnly: false)
        var dbi: MDB_dbi = 0
        do {
            try check(mdb_dbi_open(txn.handle, name, UInt32(MDB_CREATE), &dbi))
            try txn.commit()
        } catch {
            txn.abort()
            throw error
        }
        return Database(dbi: dbi)
    }

    /// Runs `body` in a short read-only transaction on the calling thread.
    /// Pointers handed out by the transaction are valid only inside `body`.
    public func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        let txn = try Transaction(environment: self, parent: nil, readOnly: true)
        defer { txn.abort() }
        return try body(txn)
    }

    /// Begins a read-only transaction the caller ends with ``Transaction/abort()``
    /// (or lets deinit end it). Used to stream an object as one consistent snapshot.
    public func beginRead() throws -> Transaction {
        try Transaction(environment: self, parent: nil, readOnly: true)
    }

    /// Runs a write transaction on the calling thread. Only for setup and tests: in a server,
    /// writes go through a ``WriteQueue`` so they share one thread and one durable commit.
    public func writeSynchronously<T>(_ body: (Transaction) throws -> T) throws -> T {
        let txn = try Transaction(environment: self, parent: nil, readOnly: false)
        do {
            let result = try body(txn)
            try txn.commit()
            return result
        } catch {
            txn.abort()
            throw error
        }
    }

    /// Flushes the data file to disk (a no-op in effect with default syncing, kept for shutdown).
    public func sync() throws {
        try check(mdb_env_sync(handle, 1))
    }

    /// The data file's descriptor (owned by LMDB: never close it).
    var dataFileDescriptor: Int32? {
        var fd: Int32 = -1
        return mdb_env_get_fd(handle, &fd) == 0 && fd >= 0 ? fd : nil
    }

    /// Asks the kernel to drop the pages holding these values from its page cache, and
    /// returns how many bytes it asked about. Call only once they are durably committed: the
    /// pages are then clean, so this loses nothing, and a later read fetches them from disk.
    ///
    /// Why: the write queue calls this for the large values (object chunks) of each commit.
    /// A freshly written page is a new page-cache page, and filling new pages is what large
    /// writes spend most of their time on: on the VMs measured in bench/README.md, copying into
    /// pages the guest kernel just freed runs ~7x faster per CPU-second than into pages it
    /// never used (the host backs guest memory lazily). Bulk data written once is also the
    /// least likely to be read again soon, so it should not push the index out of the cache.
    /// MinIO makes the same choice for object data (O_DIRECT writes), which LMDB cannot.
    /// Pages mapped by a reader at that moment are left in place by the kernel.
    @discardableResult
    func dropFromPageCache(_ values: [(db: Database, key: [UInt8])]) -> Int {
        guard !values.isEmpty, let fd = dataFileDescriptor, let map = mapBase else { return 0 }
        var ranges: [Range<Int>] = []
        try? read { txn in
            for (db, key) in values {
                guard let value = try key.withUnsafeBytes({ try txn.get(db, key: $0) }), let base = value.baseAddress else {
                    continue
                }
                // A value this large lives in overflow pages of its own: from the page with
                // its header and first byte to the end of the page with its last byte.
                let offset = Int(bitPattern: base) - map
                ranges.append(offset / pageSize * pageSize..<(offset + value.count + pageSize - 1) / pageSize * pageSize)
            }
        }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for range in ranges {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        for range in merged {
            _ = posix_fadvise(fd, off_t(range.lowerBound), off_t(range.count), POSIX_FADV_DONTNEED)
        }
        return merged.reduce(0) { $0 + $1.count }
    }

    /// Where the data file of `env` is mapped in this process, read from /proc/self/maps
    /// (LMDB's `me_mapaddr` is only filled in for MDB_FIXEDMAP); nil where that cannot be
    /// found. The map does not move: the map size is set once, before the environment opens.
    private static func mapBase(of env: OpaquePointer) -> Int? {
        var fd: Int32 = -1
        var st = stat()
        var info = MDB_envinfo()
        guard mdb_env_get_fd(env, &fd) == 0, fstat(fd, &st) == 0, mdb_env_info(env, &info) == 0,
              let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return nil }
        // "start-end perms offset major:minor inode path"
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, UInt64(fields[4]) == UInt64(st.st_ino), UInt64(fields[2], radix: 16) == 0 else { continue }
            let bounds = fields[0].split(separator: "-").compactMap { Int($0, radix: 16) }
            if bounds.count == 2 && bounds[1] - bounds[0] == info.me_mapsize { return bounds[0] }
        }
        return nil
    }

    /// Bytes in use by the data file (last used page × page size), for space accounting.
    public func usedBytes() throws -> Int {
        var info = MDB_envinfo()
        var stat = MDB_stat()
        try check(mdb_env_info(handle, &info))
        try check(mdb_env_stat(handle, &stat))
        return (info.me_last_pgno + 1) * Int(stat.ms_psize)
    }
}

/// A handle to a named database inside an ``Environment``.
public struct Database: Sendable, Hashable {
    let dbi: MDB_dbi
}
