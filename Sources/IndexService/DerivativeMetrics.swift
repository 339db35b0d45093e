import Prometheus

/// The thumbnail pipeline's Prometheus metrics, in the index service's own registry (served
/// at `/metrics`): the index may share a process with the S3 server (`shoebox up`), whose
/// metrics system is bootstrapped separately.
struct DerivativeMetrics: Sendable {
    /// Where the metrics are kept and rendered from.
    let registry: PrometheusCollectorRegistry
    /// Pending jobs.
    let queueDepth: Gauge
    /// Images whose derivatives were made.
    let processed: Counter
    /// Images found unprocessable.
    let unprocessable: Counter
    /// Attempts that failed for a passing reason (S3 unreachable...), retried later.
    let retried: Counter
    /// Seconds per image (download, decode, encode, upload).
    let seconds: DurationHistogram

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        queueDepth = registry.makeGauge(name: "shoebox_index_thumbnail_queue_depth", help: "Images waiting for derivatives.")
        processed = registry.makeCounter(name: "shoebox_index_thumbnails_processed_total", help: "Images whose derivatives were made.")
        unprocessable = registry.makeCounter(name: "shoebox_index_thumbnails_unprocessable_total", help: "Images that cannot be made into derivatives.")
        retried = registry.makeCounter(name: "shoebox_index_thumbnail_retries_total", help: "Attempts that failed for a passing reason and are retried.")
        seconds = registry.makeDurationHistogram(
            name: "shoebox_index_thumbnail_seconds",
            buckets: [.milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30)],
            help: "Seconds per image.")
    }
}
