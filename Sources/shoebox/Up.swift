import ShoeboxCommandLine
import ArgumentParser
import Digests
import Foundation
import IndexService
import Logging
import Metrics
import ObjectStore
import Prometheus
import S3API
import ServiceLifecycle
import ShoeboxHost

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

    func run() async throws {
        let logger = Logger(label: "shoebox")
        let (s3Host, s3Port) = try HostPort(address, option: "--address").pair
        let (indexHost, indexPort) = try HostPort(indexAddress, option: "--index-address").pair
        let credentials = RootCredentials.fromEnvironment()
        let root = S3User(accessKey: credentials.accessKey, secretKey: credentials.secretKey, displayName: "root")
        // A fresh token each run: the index accepts events only from this server.
        let token = Hex.encode(randomBytes(16))
        let gallery = GalleryBucketProvisioner(indexAddress: indexAddress, indexPort: indexPort, region: region, webhookToken: token)
        let webhook = gallery.webhook

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let store = try LMDBObjectStore(directory: data + "/s3", mapSize: mapSize,
                                    eventTargets: [webhook.id: webhook.queueLimit], logger: logger)
        defer { store.close() }
        try await gallery.provision(in: store, ownerId: root.id)
        let s3 = S3Server(store: store, users: try UserDirectory([root]),
                          options: S3ServerOptions(host: s3Host, port: s3Port, region: region),
                          webhooks: [webhook], metrics: registry, logger: logger)
        let index = try GalleryIndex(directory: data + "/index")
        var indexConfiguration = IndexConfiguration(
            host: indexHost, port: indexPort, s3Endpoint: "http://\(address)", bucket: GalleryBucketProvisioner.bucketName,
            region: region, accessKey: root.accessKey, secretKey: root.secretKey, webhookToken: token)
        indexConfiguration.scratchDirectory = data + "/index-scratch"
        let indexServer = IndexServer(index: index, configuration: indexConfiguration, logger: logger)
        print("""
            Shoebox is up.
              Gallery page:  http://\(indexAddress)/
              S3 endpoint:   http://\(address)  (bucket '\(GalleryBucketProvisioner.bucketName)', region \(region))
              Access key:    \(root.accessKey)
              Secret key:    \(root.secretKey)
            """)
        fflush(nil)  // shown at once even when stdout is a file or a pipe (nil flushes every stream)
        let group = ServiceGroup(configuration: .init(services: try s3.services() + indexServer.services(),
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
