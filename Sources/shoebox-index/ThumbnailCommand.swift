import ArgumentParser
import Foundation
import Synchronization
import Thumbnails

/// `shoebox-index thumbnail`: runs the derivative pipeline on local files, N at once, and
/// reports images/s (what bench/thumbnails measures; also a way to try a file by hand).
struct ThumbnailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thumbnail",
        abstract: "Make thumbnails and previews of local image files and print images/s."
    )

    @Option(help: "How many files to process at once (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Directory to write NAME.thumb.webp and NAME.preview.jpg into (default: nothing written).")
    var out: String?

    @Argument(help: "Image files.")
    var files: [String]

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        let thumbnailer = Thumbnailer()
        let next = Mutex(0)
        let failures = Mutex(0)
        let start = ContinuousClock.now
        // Plain threads, not a dispatch queue: concurrentPerform would cap the width at the
        // core count, and --jobs above it is a thing to measure.
        let workers = (0..<min(jobs, files.count)).map { _ in
            WorkerThread {
                while true {
                    let index = next.withLock { index in defer { index += 1 }; return index }
                    guard index < files.count else { return }
                    if !process(files[index], with: thumbnailer) { failures.withLock { $0 += 1 } }
                }
            }
        }
        workers.forEach { $0.join() }
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        let failed = failures.withLock { $0 }
        print(String(format: "%d images (%d unprocessable) in %.3f s: %.2f images/s with %d jobs",
                     files.count, failed, seconds, Double(files.count) / seconds, min(jobs, files.count)))
    }

    /// Makes one file's derivatives and writes them if asked; false if it was unprocessable.
    func process(_ file: String, with thumbnailer: Thumbnailer) -> Bool {
        do {
            let derivatives = try thumbnailer.derivatives(ofFile: file)
            if let out {
                let name = URL(fileURLWithPath: out).appendingPathComponent(URL(fileURLWithPath: file).lastPathComponent).path
                try Data(derivatives.thumbnail).write(to: URL(fileURLWithPath: name + ".thumb.webp"))
                try Data(derivatives.preview).write(to: URL(fileURLWithPath: name + ".preview.jpg"))
            }
            return true
        } catch {
            FileHandle.standardError.write(Data("\(file): \(error)\n".utf8))
            return false
        }
    }
}
