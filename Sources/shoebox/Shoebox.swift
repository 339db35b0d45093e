import ArgumentParser
import Digests
import Foundation
import IndexService
import ServiceLifecycle
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ObjectStore
import S3API

/// The `shoebox` command: argument parsing and wiring only.
@main
struct Shoebox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Shoebox: a self-hosted S3 server for images, on LMDB.",
        subcommands: [Server.self, Up.self]
    )

    static func main() async {
        // Swift Concurrency's jobs run on NIO's event loops instead of a second thread pool:
        // a request's handler then resumes on the loop that read it, with no thread hop
        // between the loop and the pool (5% of a small GET's CPU time on two cores, see
        // bench/README.md). Nothing in Shoebox blocks a task for long: LMDB writes go to
        // the write queue's own thread, and reads are short memory-map lookups.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }
}

struct Server: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the S3 server.")

    /// Root credentials when the environment does not set them. Documented in README; the
    /// server binds to loopback by default, so these only ever work from this machine unless
    /// the operator chooses otherwise.
    static let defaultAccessKey = "shoebox"
    static let defaultSecretKey = "shoebox-secret-key"

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
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw ValidationError("--address must be host:port")
        }
        let host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let environment = ProcessInfo.processInfo.environment
        let root = S3User(accessKey: environment["SHOEBOX_ACCESS_KEY"] ?? Self.defaultAccessKey,
                          secretKey: environment["SHOEBOX_SECRET_KEY"] ?? Self.defaultSecretKey,
                          displayName: "root")
        let file = try config.map(ServerConfigFile.load) ?? ServerConfigFile()
        let users = try UserDirectory([root] + file.users)

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let store = try ObjectStore(directory: data, mapSize: mapSize,
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

/// `shoebox up`: the S3 server and the gallery index together, with a ready `gallery` bucket.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the S3 server and the gallery index service together, with a ready 'gallery' bucket.")

    @Option(help: "Directory for everything (the S3 store in s3/, the index in index/).")
    var data: String

    @Option(help: "S3 address, host:port.")
    var address: String = "127.0.0.1:9000"

    @Option(help: "Gallery page and index service address, host:port.")
    var indexAddress: String = "127.0.0.1:9100"

    @Option(help: "Region.")
    var region: String = "us-east-1"

    @Option(help: "Largest size of the store (LMDB map size), e.g. 1TiB, 64GiB, 512MiB.", transform: ByteSize.parse)
    var mapSize: Int = 1 << 40

    static let bucketName = "gallery"
    static let targetId = "gallery-index"

    func run() async throws {
        let logger = Logger(label: "shoebox")
        guard let s3Colon = address.lastIndex(of: ":"), let s3Port = Int(address[address.index(after: s3Colon)...]),
              let indexColon = indexAddress.lastIndex(of: ":"), let indexPort = Int(indexAddress[indexAddress.index(after: indexColon)...]) else {
            throw ValidationError("addresses must be host:port")
        }
        let s3Host = String(address[..<s3Colon])
        let indexHost = String(indexAddress[..<indexColon])
        let environment = ProcessInfo.processInfo.environment
        let root = S3User(accessKey: environment["SHOEBOX_ACCESS_KEY"] ?? Server.defaultAccessKey,
                          secretKey: environment["SHOEBOX_SECRET_KEY"] ?? Server.defaultSecretKey, displayName: "root")
        // A fresh token each run: the index accepts events only from this server.
        let token = Hex.encode(randomBytes(16))
        let webhook = WebhookTarget(id: Self.targetId, endpoint: "http://\(indexAddress)/events", authToken: token)

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let store = try ObjectStore(directory: data + "/s3", mapSize: mapSize,
                                    eventTargets: [webhook.id: webhook.queueLimit], logger: logger)
        defer { store.close() }
        do {
            try await store.createBucket(name: Self.bucketName, ownerId: root.id, region: region)
        } catch ObjectStoreError.bucketAlreadyOwnedByYou {}
        let origins = ["http://\(indexAddress)", "http://localhost:\(indexPort)", "http://127.0.0.1:\(indexPort)"]
        let rule = NotificationRule(id: Self.targetId, queueArn: webhook.arn(region: region), targetId: webhook.id,
                                    events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
        try await store.updateBucket(name: Self.bucketName) { bucket in
            bucket.cors = [CORSRule(allowedOrigins: Array(Set(origins)).sorted(), allowedMethods: ["GET", "PUT", "POST", "HEAD"],
                                    allowedHeaders: ["*"], exposeHeaders: ["ETag"], maxAgeSeconds: 3000)]
            bucket.notifications = [rule]
        }
        let s3 = S3Server(store: store, users: try UserDirectory([root]),
                          options: S3ServerOptions(host: s3Host, port: s3Port, region: region),
                          webhooks: [webhook], metrics: registry, logger: logger)
        let index = try GalleryIndex(directory: data + "/index")
        let indexServer = IndexServer(
            index: index,
            configuration: IndexConfiguration(host: indexHost, port: indexPort, s3Endpoint: "http://\(address)", bucket: Self.bucketName,
                                              region: region, accessKey: root.accessKey, secretKey: root.secretKey, webhookToken: token),
            logger: logger)
        print("""
            Shoebox is up.
              Gallery page:  http://\(indexAddress)/
              S3 endpoint:   http://\(address)  (bucket '\(Self.bucketName)', region \(region))
              Access key:    \(root.accessKey)
              Secret key:    \(root.secretKey)
            """)
        fflush(nil)  // shown at once even when stdout is a file or a pipe (nil flushes every stream)
        let group = ServiceGroup(configuration: .init(services: try s3.services() + [indexServer.buildApplication()],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Sizes on the command line: a number with an optional unit (KiB, MiB, GiB, TiB).
enum ByteSize {
    static func parse(_ text: String) throws -> Int {
        let units: [(String, Int)] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)]
        for (unit, factor) in units where text.hasSuffix(unit) {
            if let n = Int(text.dropLast(unit.count).trimmingCharacters(in: .whitespaces)), n > 0 { return n * factor }
        }
        if let n = Int(text), n > 0 { return n }
        throw ValidationError("'\(text)' is not a size such as 64GiB or 512MiB")
    }
}
