import ArgumentParser
import NIOCore
import NIOPosix

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
