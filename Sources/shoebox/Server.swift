import ShoeboxCommandLine
import ArgumentParser
import Foundation
import Logging
import Metrics
import ObjectStore
import Prometheus
import S3API

/// `shoebox server`: the S3 server alone.
struct Server: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the S3 server.")

    @Option(help: "Directory holding the LMDB store (created if missing).")
    var data: String

    @Option(help: "Address to listen on, host:port.")
    var address: String = "127.0.0.1:9000"

    @Option(help: "Region the server reports and expects in signatures.")
    var region: String = "us-east-1"

    @Option(help: "JSON configuration file (more users).")
    var config: String?

    @Option(help: "Domain for virtual-host style requests (bucket.<domain>).")
    var domain: String?

    @Option(help: "PEM certificate chain: serve https (with --tls-key).")
    var tlsCert: String?

    @Option(help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Option(help: "Largest size of the store (LMDB map size), e.g. 1TiB, 64GiB, 512MiB.", transform: ByteSize.parse)
    var mapSize: Int = 1 << 40

    @Option(help: "Seconds of silence from the client after which a connection is closed, unless a response to it is still being produced or sent.")
    var idleTimeout: Int = 300

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        var logger = Logger(label: "shoebox")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info

        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be at least 1 second") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        let (host, port) = try HostPort(address, option: "--address").pair
        let credentials = RootCredentials.fromEnvironment()
        let root = S3User(accessKey: credentials.accessKey, secretKey: credentials.secretKey, displayName: "root")
        let file = try config.map(ServerConfigFile.load) ?? ServerConfigFile()
        let users = try UserDirectory([root] + file.users)

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let store = try LMDBObjectStore(directory: data, mapSize: mapSize,
                                    eventTargets: Dictionary(uniqueKeysWithValues: file.webhooks.map { ($0.id, $0.queueLimit) }),
                                    logger: logger)
        defer { store.close() }
        var options = S3ServerOptions(host: host, port: port, region: region, domain: domain,
                                      tlsCertificate: tlsCert, tlsKey: tlsKey)
        options.idleTimeout = .seconds(idleTimeout)
        let server = S3Server(store: store, users: users, options: options,
                              webhooks: file.webhooks, metrics: registry, logger: logger)
        for webhook in file.webhooks {
            logger.info("webhook \(webhook.id) -> \(webhook.endpoint), queue \(webhook.arn(region: region)), limit \(webhook.queueLimit)")
        }
        let log = logger
        let scheme = tlsCert == nil ? "http" : "https"
        try await server.run { port in
            log.info("Shoebox S3 listening on \(scheme)://\(host):\(port) (data: \(data), region: \(region))")
        }
    }
}
