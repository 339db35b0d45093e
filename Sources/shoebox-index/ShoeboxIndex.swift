import ShoeboxCommandLine
import ArgumentParser
import Foundation
import IndexService
import Logging
import ServiceLifecycle

/// `shoebox-index`: the gallery index service (argument parsing and wiring only).
@main
struct ShoeboxIndex: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoebox-index",
        abstract: "The Shoebox gallery index: S3 event webhook, gallery queries, upload signing and the gallery page.",
        subcommands: [Serve.self, ResyncCommand.self, ThumbnailCommand.self],
        defaultSubcommand: Serve.self
    )
}

struct Options: ParsableArguments {
    @Option(help: "Directory of the index's LMDB store.")
    var data: String

    @Option(help: "Address to listen on, host:port.")
    var address: String = "127.0.0.1:9100"

    @Option(help: "S3 endpoint URL, as browsers reach it.")
    var s3Endpoint: String = "http://127.0.0.1:9000"

    @Option(help: "Bucket holding the galleries.")
    var bucket: String = "gallery"

    @Option(help: "Region of the S3 endpoint.")
    var region: String = "us-east-1"

    @Option(help: "Images the thumbnail pipeline works on at once (default: the number of cores).")
    var thumbnailJobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Bearer token the S3 server's webhook sends.")
    var webhookToken: String = ProcessInfo.processInfo.environment["SHOEBOX_WEBHOOK_TOKEN"] ?? ""

    func configuration() throws -> IndexConfiguration {
        let listen = try HostPort(address, option: "--address")
        guard !webhookToken.isEmpty else { throw ValidationError("--webhook-token (or SHOEBOX_WEBHOOK_TOKEN) is required") }
        let credentials = RootCredentials.fromEnvironment()
        var configuration = IndexConfiguration(host: listen.host, port: listen.port, s3Endpoint: s3Endpoint, bucket: bucket, region: region,
                                               accessKey: credentials.accessKey, secretKey: credentials.secretKey,
                                               webhookToken: webhookToken)
        guard thumbnailJobs >= 1 else { throw ValidationError("--thumbnail-jobs must be at least 1") }
        configuration.thumbnailConcurrency = thumbnailJobs
        configuration.scratchDirectory = data + "/scratch"
        return configuration
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the index service (resyncs at start when the index is empty).")
    @OptionGroup var options: Options

    func run() async throws {
        let logger = Logger(label: "shoebox-index")
        let index = try GalleryIndex(directory: options.data)
        let server = IndexServer(index: index, configuration: try options.configuration(), logger: logger)
        let group = ServiceGroup(configuration: .init(services: server.services(), gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct ResyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resync", abstract: "Rebuild the index from ListObjectsV2 and exit.")
    @OptionGroup var options: Options

    func run() async throws {
        let logger = Logger(label: "shoebox-index")
        let index = try GalleryIndex(directory: options.data)
        let result = try await Resync(index: index, configuration: try options.configuration(), logger: logger).run()
        print("resync: \(result.added) added or updated, \(result.removed) removed")
    }
}
