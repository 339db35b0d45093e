import AsyncHTTPClient
import Foundation
public import Logging
import NIOPosix
public import ServiceLifecycle
import Synchronization
import Thumbnails

/// The thumbnail pipeline: takes jobs from the index's durable queue, downloads each original
/// (streamed to a temporary file), makes its derivatives with ``Thumbnailer`` on a thread pool
/// of `concurrency` threads (never on an event loop), stores them next to the gallery in S3
/// and records the result in the index. A job leaves the queue only once its result is
/// recorded, so a kill at any moment redoes it at the next start.
public final class DerivativeWorker: Service, Sendable {
    let index: GalleryIndex
    let configuration: IndexConfiguration
    let thumbnailer: Thumbnailer
    let concurrency: Int
    let metrics: DerivativeMetrics
    let logger: Logger
    /// Where originals are downloaded to while they are processed.
    let scratch: String
    /// Keys being worked on, and when a key that failed for a passing reason may be retried.
    private let state = Mutex<(working: Set<String>, retryAt: [String: ContinuousClock.Instant], attempts: [String: Int])>(([], [:], [:]))

    /// A worker for `index`; `scratch` is a directory it may fill with temporary files.
    init(index: GalleryIndex, configuration: IndexConfiguration, metrics: DerivativeMetrics, logger: Logger) {
        self.index = index
        self.configuration = configuration
        self.thumbnailer = Thumbnailer(limits: configuration.thumbnailLimits)
        self.concurrency = max(1, configuration.thumbnailConcurrency)
        self.metrics = metrics
        self.logger = logger
        self.scratch = configuration.scratchDirectory
    }

    /// Runs until graceful shutdown: first queues images indexed without derivatives, then
    /// `concurrency` loops each take one job at a time.
    public func run() async throws {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        // Leftovers of a run that was killed: their jobs are still queued and will be redone.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? [] {
            try? FileManager.default.removeItem(atPath: scratch + "/" + name)
        }
        let queued = try await index.enqueueMissingDerivatives()
        if queued > 0 { logger.info("thumbnails: \(queued) indexed images without derivatives queued") }
        let pool = NIOThreadPool(numberOfThreads: concurrency)
        pool.start()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let s3 = S3Client(configuration: configuration, client: client)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<self.concurrency {
                    group.addTask { await self.loop(s3: s3, pool: pool) }
                }
            }
        }
        try? await client.shutdown()
        try? await pool.shutdownGracefully()
    }

    /// One worker: claims a job, does it, until cancelled; idles briefly when nothing is queued.
    private func loop(s3: S3Client, pool: NIOThreadPool) async {
        while !Task.isCancelled {
            guard let (key, job) = claim() else {
                metrics.queueDepth.set(Double((try? index.pendingJobCount()) ?? 0))
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            let started = ContinuousClock.now
            do {
                let derived = try await perform(job, key: key, s3: s3, pool: pool)
                try await index.complete(job, key: key, derived: derived)
                if let derived {
                    metrics.seconds.record(ContinuousClock.now - started)
                    (derived.status == .ready ? metrics.processed : metrics.unprocessable).increment()
                }
                release(key, failed: false)
            } catch {
                metrics.retried.increment()
                logger.warning("thumbnails: \(job.kind) \(key) failed, will retry: \(error)")
                release(key, failed: true)
            }
            metrics.queueDepth.set(Double((try? index.pendingJobCount()) ?? 0))
        }
    }

    /// The next queued job no other loop works on and not waiting for a retry; marks it taken.
    private func claim() -> (String, DerivativeJob)? {
        state.withLock { state in
            let now = ContinuousClock.now
            let busy = state.working.union(state.retryAt.filter { $0.value > now }.keys)
            guard let next = try? index.pendingJobs(excluding: busy, limit: 1).first else { return nil }
            state.working.insert(next.key)
            return (next.key, next.job)
        }
    }

    /// Frees `key`; after a failure it waits (2 s, doubling up to a minute) before a retry.
    private func release(_ key: String, failed: Bool) {
        state.withLock { state in
            state.working.remove(key)
            if failed {
                let attempt = (state.attempts[key] ?? 0) + 1
                state.attempts[key] = attempt
                state.retryAt[key] = .now + .seconds(min(60, 1 << min(attempt, 6)))
            } else {
                state.attempts[key] = nil
                state.retryAt[key] = nil
            }
        }
    }

    /// Does one job. - Returns: the result to record (nil for a removal).
    /// - Throws: for passing failures (S3 unreachable, a 5xx), to be retried.
    func perform(_ job: DerivativeJob, key: String, s3: S3Client, pool: NIOThreadPool) async throws -> DerivedImage? {
        switch job.kind {
        case .remove:
            try await s3.delete(DerivedImage.thumbnailKey(of: key))
            try await s3.delete(DerivedImage.previewKey(of: key))
            return nil
        case .make:
            let file = scratch + "/" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: file) }
            let status = try await s3.download(key, etag: job.etag, to: file)
            switch status {
            case 200: break
            // Overwritten or removed since: the event saying so brings the job that replaces this one.
            case 404, 412: return DerivedImage(etag: job.etag, status: .unprocessable, reason: "the original is no longer there")
            default: throw S3ClientError.status("GET", key, status, "")
            }
            let made: Result<Derivatives, Unprocessable>
            do {
                made = .success(try await pool.runIfActive { [thumbnailer] in try thumbnailer.derivatives(ofFile: file) })
            } catch let error as Unprocessable {
                made = .failure(error)
            }
            switch made {
            case .failure(let error):
                // The API shows the reason: it names the image, not this service's scratch files
                // (libvips' error buffer is per process, so another file's name can appear too).
                let reason = Self.withoutScratchPaths(error.reason, scratch: scratch)
                logger.info("thumbnails: \(key) is unprocessable: \(reason)")
                return DerivedImage(etag: job.etag, status: .unprocessable, reason: reason)
            case .success(let derivatives):
                // Public like the originals the page shows.
                try await s3.put(DerivedImage.thumbnailKey(of: key), body: derivatives.thumbnail,
                                 headers: [(name: "content-type", value: "image/webp"), (name: "x-amz-acl", value: "public-read")])
                try await s3.put(DerivedImage.previewKey(of: key), body: derivatives.preview,
                                 headers: [(name: "content-type", value: "image/jpeg"), (name: "x-amz-acl", value: "public-read")])
                return DerivedImage(etag: job.etag, status: .ready, width: derivatives.width, height: derivatives.height,
                                    placeholder: derivatives.placeholder)
            }
        }
    }

    /// `text` with the names of scratch files (`<scratch>/<UUID>`, quoted or not) replaced by "the file".
    static func withoutScratchPaths(_ text: String, scratch: String) -> String {
        let pattern = "\"?" + NSRegularExpression.escapedPattern(for: scratch) + "/[0-9A-Fa-f-]{36}\"?"
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return text }
        return regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "the file")
    }
}
