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
