// What each subcommand sends: put, get, mixed (warp's 45/30/15/10), list, and the
// preparation uploads.

import AsyncHTTPClient
import Digests
import NIOCore
import NIOHTTP1
import Synchronization

/// A pseudo-random number in `0..<bound` for request `sequence` of `task`: SplitMix64 of the
/// pair and a per-process seed. Cheap and thread-safe; `Int.random` draws from the kernel
/// (a `getrandom` call per request) and its cost would be counted against the server.
func requestRandom(_ bound: Int, task: Int, sequence: Int) -> Int {
    let z = splitMix64(requestSeed &+ UInt64(truncatingIfNeeded: task) &* 0x9E37_79B9_7F4A_7C15
        &+ UInt64(truncatingIfNeeded: sequence) &* 0xD1B5_4A32_D192_ED03)
    return Int(z % UInt64(bound))
}

private let requestSeed = UInt64.random(in: 0...UInt64.max)

/// `prefix` followed by `n` zero-padded to 8 digits ("obj-4096/00000042").
func numberedKey(_ prefix: String, _ n: Int) -> String {
    let digits = String(n)
    return prefix + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

/// PUT of the shared payload to a new key each time ("<prefix><task>-<seq>"), or, with a
/// pool, to random keys of the pool (overwrites).
struct PutWorkload: Workload {
    let target: S3Target
    let payload: ByteBuffer
    let prefix: String
    let pool: Int?

    func next(task: Int, sequence: Int) -> Step {
        let key = pool.map { numberedKey(prefix, requestRandom($0, task: task, sequence: sequence)) } ?? "\(prefix)\(task)-\(sequence)"
        return Step(kind: .put, request: target.request(.PUT, key: key, body: payload), sentBytes: payload.readableBytes)
    }
}

/// PUT of keys `prefix + 00000000 ..< count` in order, each once, shared by all tasks
/// (preparation of get/mixed objects and of the list bucket's keys).
struct FillWorkload: Workload {
    let target: S3Target
    let payload: ByteBuffer
    let prefix: String
    let counter = Counter()
    let done = Counter()

    func next(task: Int, sequence: Int) -> Step {
        let n = counter.next()
        let done = self.done
        return Step(kind: .put, request: target.request(.PUT, key: numberedKey(prefix, n), body: payload),
                    sentBytes: payload.readableBytes,
                    finish: { _ in _ = done.next() })
    }
}

/// GET of random keys of the prepared set; the body is streamed and counted.
struct GetWorkload: Workload {
    let target: S3Target
    let prefix: String
    let objects: Int
    let expectedSize: Int

    func next(task: Int, sequence: Int) -> Step {
        let key = numberedKey(prefix, requestRandom(objects, task: task, sequence: sequence))
        let expected = expectedSize
        return Step(kind: .get, request: target.request(.GET, key: key),
                    check: { $0.bodyBytes == expected ? nil : "short body: \($0.bodyBytes) of \(expected) bytes" })
    }
}

/// warp's mixed distribution: 45% GET, 30% HEAD (stat), 15% PUT, 10% DELETE, over a prepared
/// key set, never reading a key while it is being deleted.
struct MixedWorkload: Workload {
    let target: S3Target
    let payload: ByteBuffer
    let prefix: String
    let pool: KeyPool

    func next(task: Int, sequence: Int) -> Step {
        let roll = requestRandom(100, task: task, sequence: sequence)
        let pool = self.pool
        if roll >= 90, let key = pool.acquireDelete() {
            return Step(kind: .delete, request: target.request(.DELETE, key: numberedKey(prefix, key)),
                        finish: { _ in pool.finishDelete(key) })
        }
        // A PUT when rolled, and when no key is free to read.
        guard roll < 75, let key = pool.acquireRead() else {
            let (key, recreate) = pool.acquirePut()
            return Step(kind: .put, request: target.request(.PUT, key: numberedKey(prefix, key), body: payload),
                        sentBytes: payload.readableBytes,
                        finish: { ok in if recreate { pool.finishRecreate(key, ok: ok) } })
        }
        let expected = payload.readableBytes
        if roll >= 45 {
            return Step(kind: .head, request: target.request(.HEAD, key: numberedKey(prefix, key)),
                        finish: { _ in pool.releaseRead(key) })
        }
        return Step(kind: .get, request: target.request(.GET, key: numberedKey(prefix, key)),
                    check: { $0.bodyBytes == expected ? nil : "short body: \($0.bodyBytes) of \(expected) bytes" },
                    finish: { _ in pool.releaseRead(key) })
    }
}

/// One ListObjectsV2 page of `maxKeys` keys under `prefix`, starting after a random key of
/// the `keys` numbered ones, so that every page is full; checks the page's KeyCount.
struct ListWorkload: Workload {
    let target: S3Target
    let prefix: String
    let keys: Int
    let maxKeys: Int

    func next(task: Int, sequence: Int) -> Step {
        let first = Int.random(in: 0...max(0, keys - maxKeys))
        var query = "list-type=2&max-keys=\(maxKeys)&prefix=\(queryEncode(prefix))"
        if first > 0 { query += "&start-after=\(queryEncode(numberedKey(prefix, first - 1)))" }
        let expected = min(maxKeys, keys)
        return Step(kind: .list, request: target.request(.GET, key: nil, rawQuery: query), keep: 1 << 24,
                    check: { outcome in
                        guard let count = xmlValue(outcome.bodyPrefix, "KeyCount").flatMap(Int.init) else {
                            return "no KeyCount in the answer"
                        }
                        return count == expected ? nil : "page of \(count) keys, expected \(expected)"
                    })
    }
}

/// Percent-encoding for a query value (RFC 3986 unreserved kept).
func queryEncode(_ value: String) -> String { PercentEncoding.uriEncode(value) }
