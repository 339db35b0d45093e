// The load loop: N tasks issuing requests back to back until the deadline, each with its
// own histograms, merged at the end.

import AsyncHTTPClient
import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import Synchronization

enum OpKind: String, Sendable, CaseIterable, Codable {
    case put = "PUT", get = "GET", head = "HEAD", delete = "DELETE", list = "LIST", connect = "CONNECT"

    var slot: Int {
        switch self {
        case .put: 0
        case .get: 1
        case .head: 2
        case .delete: 3
        case .list: 4
        case .connect: 5
        }
    }
}

/// Per-operation tallies of one task (merged across tasks afterwards).
struct OpStats: Sendable {
    var ops = 0
    var bytes = 0
    var errors = 0
    /// Latency in microseconds, 1 us .. 1 h, three significant digits.
    var latency = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000,
                                    numberOfSignificantValueDigits: .three)

    mutating func merge(_ other: OpStats) {
        ops += other.ops
        bytes += other.bytes
        errors += other.errors
        latency.add(other.latency)
    }
}

struct TaskStats: Sendable {
    /// Indexed by `OpKind.slot`; mutated in place (a histogram is tens of KiB: copying it
    /// per request would cost more than the request).
    private var slots: [OpStats?] = Array(repeating: nil, count: OpKind.allCases.count)
    var errorSamples: [String] = []

    var byOp: [OpKind: OpStats] {
        var out: [OpKind: OpStats] = [:]
        for kind in OpKind.allCases { if let stats = slots[kind.slot] { out[kind] = stats } }
        return out
    }

    var total: OpStats {
        var all = OpStats()
        for stats in slots { if let stats { all.merge(stats) } }
        return all
    }

    mutating func record(_ kind: OpKind, micros: UInt64, bytes: Int, ok: Bool, error: @autoclosure () -> String) {
        let slot = kind.slot
        if slots[slot] == nil { slots[slot] = OpStats() }
        slots[slot]!.ops += 1
        slots[slot]!.bytes += bytes
        _ = slots[slot]!.latency.record(max(micros, 1))
        if !ok {
            slots[slot]!.errors += 1
            if errorSamples.count < 5 { errorSamples.append("\(kind.rawValue): \(error())") }
        }
    }

    mutating func merge(_ other: TaskStats) {
        for kind in OpKind.allCases {
            guard let theirs = other.slots[kind.slot] else { continue }
            if slots[kind.slot] == nil { slots[kind.slot] = OpStats() }
            slots[kind.slot]!.merge(theirs)
        }
        for sample in other.errorSamples where errorSamples.count < 10 && !errorSamples.contains(sample) {
            errorSamples.append(sample)
        }
    }
}

/// One operation chosen by a workload: the request and what to do once it is answered.
struct Step: Sendable {
    var kind: OpKind
    var request: RequestSpec
    /// Bytes to count as transferred when the answer is a success (PUT body size; GET counts the body).
    var sentBytes: Int = 0
    /// Keep this much of the response body for `check`.
    var keep: Int = 0
    /// Called with the outcome; returns an error message to count the operation as failed.
    var check: (@Sendable (Outcome) -> String?)? = nil
    var finish: (@Sendable (Bool) -> Void)? = nil
}

protocol Workload: Sendable {
    /// The next operation for task `task`, its `sequence`-th.
    func next(task: Int, sequence: Int) -> Step
}

struct RunResult: Sendable {
    var stats: TaskStats
    var elapsed: Double
    var cpu: CPUUsage? = nil
}

/// A shared atomic counter.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    /// The value before adding one.
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
    var current: Int { value.load(ordering: .relaxed) }
}

func monotonicMicros() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
}

/// Runs `workload` with `concurrency` async task loops on AsyncHTTPClient until `duration` seconds have passed (an
/// operation started before the deadline is waited for and counted), or until `limit`
/// operations in total were started, whichever comes first.
func runLoadWithAsyncHTTPClient(client: HTTPClient, target: S3Target, workload: some Workload, concurrency: Int, duration: Double,
             limit: Int? = nil) async -> RunResult {
    let start = monotonicMicros()
    let deadline = duration.isFinite ? start + UInt64(duration * 1_000_000) : UInt64.max
    let issued = Counter()
    let stats = await withTaskGroup(of: TaskStats.self) { group in
        for task in 0..<concurrency {
            group.addTask {
                var mine = TaskStats()
                var sequence = 0
                while monotonicMicros() < deadline {
                    if let limit {
                        let n = issued.next()
                        if n >= limit { break }
                    }
                    let step = workload.next(task: task, sequence: sequence)
                    sequence += 1
                    let began = monotonicMicros()
                    var ok = false
                    var bytes = 0
                    var message = ""
                    do {
                        let outcome = try await client.perform(step.request, on: target, keep: step.keep)
                        ok = outcome.ok
                        if ok, let problem = step.check?(outcome) {
                            ok = false
                            message = problem
                        } else if !ok {
                            message = "HTTP \(outcome.status) \(summarise(outcome.bodyPrefix))"
                        }
                        if ok { bytes = step.kind == .put ? step.sentBytes : outcome.bodyBytes }
                    } catch {
                        message = "\(error)"
                    }
                    step.finish?(ok)
                    mine.record(step.kind, micros: monotonicMicros() - began, bytes: bytes, ok: ok, error: message)
                }
                return mine
            }
        }
        var all = TaskStats()
        for await one in group { all.merge(one) }
        return all
    }
    return RunResult(stats: stats, elapsed: Double(monotonicMicros() - start) / 1_000_000)
}

/// The S3 error code and message of an XML error body, or its start.
func summarise(_ body: String) -> String {
    if let code = xmlValue(body, "Code") {
        return code + (xmlValue(body, "Message").map { ": " + $0 } ?? "")
    }
    return String(body.prefix(120)).replacingOccurrences(of: "\n", with: " ")
}

func xmlValue(_ body: String, _ element: String) -> String? {
    guard let open = body.range(of: "<\(element)>"),
          let close = body.range(of: "</\(element)>", range: open.upperBound..<body.endIndex) else { return nil }
    return String(body[open.upperBound..<close.lowerBound])
}

// MARK: Key pool for get/mixed

/// Keys `0..<count` of a prepared set, with who is using them, so that a DELETE in the
/// mixed workload never races a GET or HEAD of the same key (which would be a false 404):
/// reads take live keys, a delete takes a live key nobody reads and parks it as deleted,
/// a PUT recreates a deleted key (or overwrites a live one).
final class KeyPool: Sendable {
    private struct State {
        var live: [Int]
        var position: [Int]      // index in live, or -1
        var readers: [Int32]
        var deleted: [Int] = []
        var rng = SystemRandomNumberGenerator()
    }
    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(live: Array(0..<count), position: Array(0..<count), readers: Array(repeating: 0, count: count)))
    }

    func acquireRead() -> Int? {
        state.withLock { s in
            guard !s.live.isEmpty else { return nil }
            let key = s.live[Int.random(in: 0..<s.live.count, using: &s.rng)]
            s.readers[key] += 1
            return key
        }
    }

    func releaseRead(_ key: Int) {
        state.withLock { $0.readers[key] -= 1 }
    }

    /// A live key nobody reads, taken out of the live set; nil if none was found quickly.
    func acquireDelete() -> Int? {
        state.withLock { s in
            guard s.live.count > 1 else { return nil }
            for _ in 0..<8 {
                let index = Int.random(in: 0..<s.live.count, using: &s.rng)
                let key = s.live[index]
                guard s.readers[key] == 0 else { continue }
                let last = s.live.removeLast()
                if last != key {
                    s.live[index] = last
                    s.position[last] = index
                }
                s.position[key] = -1
                return key
            }
            return nil
        }
    }

    func finishDelete(_ key: Int) {
        state.withLock { $0.deleted.append(key) }
    }

    /// (key, isRecreate): a deleted key to recreate, else a random live key to overwrite.
    func acquirePut() -> (Int, Bool) {
        state.withLock { s in
            if let key = s.deleted.popLast() { return (key, true) }
            return (s.live[Int.random(in: 0..<s.live.count, using: &s.rng)], false)
        }
    }

    /// After a recreating PUT: success makes the key live again, failure parks it again.
    func finishRecreate(_ key: Int, ok: Bool) {
        state.withLock { s in
            if ok {
                s.position[key] = s.live.count
                s.live.append(key)
            } else {
                s.deleted.append(key)
            }
        }
    }
}
