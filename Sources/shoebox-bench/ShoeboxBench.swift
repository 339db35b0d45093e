// shoebox-bench: a load generator for any S3 endpoint, in the spirit of MinIO's warp.
//
//   shoebox-bench put   --endpoint http://127.0.0.1:9000 --bucket bench --size 4KiB --concurrency 32 --duration 10s
//   shoebox-bench get   ... [--objects N]        (uploads the N objects first unless already there)
//   shoebox-bench mixed ... [--objects N]        (45% GET, 30% HEAD, 15% PUT, 10% DELETE)
//   shoebox-bench list  ... [--keys N] [--max-keys 1000]
//
// Reports ops/s, MB/s (10^6 bytes/s) and latency p50/p99/max, as text or --json.

import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

@main
struct ShoeboxBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoebox-bench",
        abstract: "Load generator for S3 endpoints (put, get, mixed, list), SigV4-signed.",
        discussion: """
            Credentials: --access-key/--secret-key, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, \
            else SHOEBOX_ACCESS_KEY/SHOEBOX_SECRET_KEY, else Shoebox's defaults. \
            Exit status 1 when any request failed (non-2xx, short body, transport error).
            """,
        subcommands: [Put.self, Get.self, Mixed.self, List.self]
    )
}

/// A byte count such as 4KiB, 64MiB, 1MB, 4k, 0.
struct ByteSize: ExpressibleByArgument, Sendable {
    var bytes: Int
    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000),
            ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("B", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let n = Double(text.dropLast(suffix.count)), n >= 0 else { return nil }
            bytes = Int(n * Double(factor))
            return
        }
        guard let n = Int(text), n >= 0 else { return nil }
        bytes = n
    }
    init(bytes: Int) { self.bytes = bytes }
    var defaultValueDescription: String { label.replacingOccurrences(of: " ", with: "") }

    var label: String {
        for (unit, factor) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= factor && bytes % factor == 0 {
            return "\(bytes / factor) \(unit)"
        }
        return "\(bytes) B"
    }
}

/// A duration such as 10s, 500ms, 2m, 10 (seconds).
struct Seconds: ExpressibleByArgument, Sendable {
    var value: Double
    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where text.hasSuffix(suffix) {
            guard let n = Double(text.dropLast(suffix.count)), n > 0 else { return nil }
            value = n * factor
            return
        }
        guard let n = Double(text), n > 0 else { return nil }
        value = n
    }
    var defaultValueDescription: String { "\(value.formatted())s" }
}

enum ClientKind: String, ExpressibleByArgument, Sendable {
    case nio, ahc
}

struct CommonOptions: ParsableArguments {
    @Option(help: "S3 endpoint URL.")
    var endpoint: String = "http://127.0.0.1:9000"

    @Option(help: "Bucket (created if missing, unless --no-sign).")
    var bucket: String = "bench"

    @Option(help: "Number of requests in flight (task loops, and HTTP/1.1 connections).")
    var concurrency: Int = 32

    @Option(help: "How long to run: 10s, 500ms, 2m.")
    var duration: Seconds = Seconds(argument: "10s")!

    @Option(help: "Access key (else env AWS_ACCESS_KEY_ID, SHOEBOX_ACCESS_KEY, or 'shoebox').")
    var accessKey: String?

    @Option(help: "Secret key (else env AWS_SECRET_ACCESS_KEY, SHOEBOX_SECRET_KEY, or 'shoebox-secret-key').")
    var secretKey: String?

    @Option(help: "Region in the signature scope.")
    var region: String = "us-east-1"

    @Flag(help: "Send plain unsigned requests (for a static file server such as nginx); skips preparation.")
    var noSign = false

    @Option(help: "Event-loop threads of the client (default: number of cores).")
    var threads: Int?

    @Option(help: "Load engine: nio (connections driven from their event loops, like wrk) or ahc (AsyncHTTPClient, one async task per request loop; needed for https).")
    var client: ClientKind = .nio

    @Option(help: "PID of the server (repeatable; children included): report its CPU time per operation.")
    var serverPid: [Int32] = []

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func credentials() -> Credentials? {
        if noSign { return nil }
        let env = ProcessInfo.processInfo.environment
        return Credentials(
            accessKey: accessKey ?? env["AWS_ACCESS_KEY_ID"] ?? env["SHOEBOX_ACCESS_KEY"] ?? "shoebox",
            secretKey: secretKey ?? env["AWS_SECRET_ACCESS_KEY"] ?? env["SHOEBOX_SECRET_KEY"] ?? "shoebox-secret-key")
    }

    func validate() throws {
        guard concurrency > 0 else { throw ValidationError("--concurrency must be at least 1") }
    }
}

/// The client, the target and the shared random payload of one run.
struct Session {
    let options: CommonOptions
    let client: HTTPClient
    let group: MultiThreadedEventLoopGroup
    let target: S3Target

    static func with<T>(_ options: CommonOptions, connections: Int, _ body: (Session) async throws -> T) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads ?? System.coreCount)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        configuration.decompression = .disabled
        configuration.httpVersion = .http1Only
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(300))
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroup: group, configuration: configuration)
        let target = try S3Target(endpoint: options.endpoint, bucket: options.bucket, region: options.region,
                                  credentials: options.credentials())
        let session = Session(options: options, client: client, group: group, target: target)
        do {
            let result = try await body(session)
            try await client.shutdown()
            try await group.shutdownGracefully()
            return result
        } catch {
            try? await client.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Runs `workload` on the chosen engine (AsyncHTTPClient for https).
    func run(_ workload: some Workload, concurrency: Int, duration: Double, limit: Int? = nil) async throws -> RunResult {
        let before = CPUSnapshot.take(serverPIDs: options.serverPid)
        var result: RunResult
        if options.client == .ahc || target.scheme != "http" {
            result = await runLoadWithAsyncHTTPClient(client: client, target: target, workload: workload,
                                                      concurrency: concurrency, duration: duration, limit: limit)
        } else {
            result = try await runLoadOnEventLoops(group: group, target: target, workload: workload,
                                                   concurrency: concurrency, duration: duration, limit: limit)
        }
        result.cpu = CPUUsage(from: before, to: CPUSnapshot.take(serverPIDs: options.serverPid))
        return result
    }

    func log(_ message: String) {
        FileHandle.standardError.write(Data(("shoebox-bench: " + message + "\n").utf8))
    }

    /// PUT bucket; an existing bucket of ours is fine.
    func ensureBucket() async throws {
        guard options.credentials() != nil else { return }
        let outcome = try await client.perform(target.request(.PUT, key: nil), on: target)
        let code = xmlValue(outcome.bodyPrefix, "Code")
        guard outcome.ok || code == "BucketAlreadyOwnedByYou" else {
            throw BenchError("creating bucket \(options.bucket): HTTP \(outcome.status) \(summarise(outcome.bodyPrefix))")
        }
    }

    /// Whether the marker object saying "`count` keys under `prefix` were all written" exists.
    func isPrepared(prefix: String, count: Int, size: Int) async throws -> Bool {
        let outcome = try await client.perform(target.request(.HEAD, key: Self.marker(prefix, count, size)), on: target)
        return outcome.ok
    }

    static func marker(_ prefix: String, _ count: Int, _ size: Int) -> String {
        "_bench-ready/\(prefix)\(count)x\(size)"
    }

    /// Writes keys `prefix + 0..<count` with `payload` (with `concurrency` uploads in flight),
    /// then the marker. Skipped when the marker is there and `force` is false.
    func prepare(prefix: String, count: Int, payload: ByteBuffer, concurrency: Int, force: Bool) async throws {
        if !force, try await isPrepared(prefix: prefix, count: count, size: payload.readableBytes) {
            log("\(count) objects under \(prefix) already there")
            return
        }
        log("writing \(count) objects of \(ByteSize(bytes: payload.readableBytes).label) under \(prefix) (\(concurrency) in flight)")
        let fill = FillWorkload(target: target, payload: payload, prefix: prefix)
        let started = Date()
        let progress = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(10))
                let done = fill.done.current
                let rate = Double(done) / Date().timeIntervalSince(started)
                log("  \(done) / \(count) (\(Int(rate))/s)")
            }
        }
        let result = try await run(fill, concurrency: min(concurrency, max(count, 1)), duration: .infinity, limit: count)
        progress.cancel()
        let total = result.stats.total
        guard total.errors == 0 else {
            throw BenchError("preparation failed: \(total.errors) errors, e.g. \(result.stats.errorSamples.first ?? "")")
        }
        log(String(format: "  done: %d objects in %.1f s (%.0f/s)", total.ops, result.elapsed, Double(total.ops) / result.elapsed))
        let outcome = try await client.perform(target.request(.PUT, key: Self.marker(prefix, count, payload.readableBytes)), on: target)
        guard outcome.ok else { throw BenchError("writing the preparation marker: HTTP \(outcome.status)") }
    }
}

/// `count` random bytes, generated once and shared by every request.
func randomPayload(_ count: Int) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: count)
    var rng = SystemRandomNumberGenerator()
    var left = count
    while left >= 8 {
        buffer.writeInteger(rng.next() as UInt64)
        left -= 8
    }
    for _ in 0..<left { buffer.writeInteger(UInt8.random(in: 0...255, using: &rng)) }
    return buffer
}

func runID() -> String {
    String(UInt32.random(in: 0...UInt32.max), radix: 16)
}

// MARK: Subcommands

struct Put: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "PUT objects of --size, to new keys (or to --objects N keys, overwriting).")
    @OptionGroup var common: CommonOptions
    @Option(help: "Object size: 4KiB, 64MiB, 1MB, 0.") var size: ByteSize = ByteSize(bytes: 4096)
    @Option(help: "Overwrite random keys among N instead of writing new keys.") var objects: Int?
    @Option(help: "Key prefix (default put-<random>/).") var prefix: String?

    func run() async throws {
        let payload = randomPayload(size.bytes)
        let result = try await Session.with(common, connections: common.concurrency) { session in
            try await session.ensureBucket()
            let workload = PutWorkload(target: session.target, payload: payload, prefix: prefix ?? "put-\(runID())/", pool: objects)
            return try await session.run(workload, concurrency: common.concurrency, duration: common.duration.value)
        }
        try Report(op: "put", common: common, size: size.bytes, result: result).emit()
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "GET random objects of a prepared set (uploaded first if missing).")
    @OptionGroup var common: CommonOptions
    @Option(help: "Object size: 4KiB, 64MiB, 1MB.") var size: ByteSize = ByteSize(bytes: 4096)
    @Option(help: "Objects in the set (default 1000, or 1 GiB worth of large objects).") var objects: Int?
    @Option(help: "Key prefix of the set (default obj-<size>/); keys are <prefix>00000000...") var prefix: String?
    @Flag(help: "Upload the set again even if its marker is there.") var reprepare = false
    @Option(help: "Uploads in flight while preparing.") var prepareConcurrency: Int = 16

    func run() async throws {
        let count = objects ?? defaultObjectCount(size.bytes)
        let keyPrefix = prefix ?? "obj-\(size.bytes)/"
        let result = try await Session.with(common, connections: max(common.concurrency, prepareConcurrency)) { session in
            if !common.noSign {
                try await session.ensureBucket()
                try await session.prepare(prefix: keyPrefix, count: count, payload: randomPayload(size.bytes),
                                          concurrency: prepareConcurrency, force: reprepare)
            }
            let workload = GetWorkload(target: session.target, prefix: keyPrefix, objects: count, expectedSize: size.bytes)
            return try await session.run(workload, concurrency: common.concurrency, duration: common.duration.value)
        }
        try Report(op: "get", common: common, size: size.bytes, result: result).emit()
    }
}

func defaultObjectCount(_ size: Int) -> Int {
    size <= 1 << 20 ? 1000 : max(4, (1 << 30) / max(size, 1))
}

struct Mixed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "warp's mixed load over a prepared set: 45% GET, 30% HEAD, 15% PUT, 10% DELETE.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Object size.") var size: ByteSize = ByteSize(bytes: 4096)
    @Option(help: "Objects in the set (default 1000, or 1 GiB worth of large objects).") var objects: Int?
    @Option(help: "Key prefix of the set (default mixed-<random>/).") var prefix: String?
    @Option(help: "Uploads in flight while preparing.") var prepareConcurrency: Int = 16

    func run() async throws {
        guard !common.noSign else { throw ValidationError("mixed writes: it needs signed requests") }
        let count = objects ?? defaultObjectCount(size.bytes)
        let keyPrefix = prefix ?? "mixed-\(runID())/"
        let payload = randomPayload(size.bytes)
        let result = try await Session.with(common, connections: max(common.concurrency, prepareConcurrency)) { session in
            try await session.ensureBucket()
            // Always written afresh: an earlier mixed run deleted some of them.
            try await session.prepare(prefix: keyPrefix, count: count, payload: payload,
                                      concurrency: prepareConcurrency, force: true)
            let workload = MixedWorkload(target: session.target, payload: payload, prefix: keyPrefix, pool: KeyPool(count: count))
            return try await session.run(workload, concurrency: common.concurrency, duration: common.duration.value)
        }
        try Report(op: "mixed", common: common, size: size.bytes, result: result).emit()
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "ListObjectsV2 pages (--max-keys) at random places in a set of --keys keys (0-byte objects, written first if missing).")
    @OptionGroup var common: CommonOptions
    @Option(help: "Keys under the prefix.") var keys: Int = 10_000
    @Option(help: "Keys per page.") var maxKeys: Int = 1000
    @Option(help: "Key prefix of the set; keys are <prefix>00000000...") var prefix: String = "list/"
    @Option(help: "0-byte PUTs in flight while creating the keys.") var prepareConcurrency: Int = 64

    func run() async throws {
        let result = try await Session.with(common, connections: max(common.concurrency, prepareConcurrency)) { session in
            if !common.noSign {
                try await session.ensureBucket()
                try await session.prepare(prefix: prefix, count: keys, payload: ByteBuffer(),
                                          concurrency: prepareConcurrency, force: false)
            }
            let workload = ListWorkload(target: session.target, prefix: prefix, keys: keys, maxKeys: maxKeys)
            return try await session.run(workload, concurrency: common.concurrency, duration: common.duration.value)
        }
        var report = Report(op: "list", common: common, size: 0, result: result)
        report.extra = ["keys": .int(keys), "maxKeys": .int(maxKeys)]
        try report.emit()
    }
}
