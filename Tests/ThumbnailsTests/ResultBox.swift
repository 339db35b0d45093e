import Foundation
import Thumbnails

/// Results written from several threads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Result<Derivatives, any Error>?]

    init(count: Int) { stored = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Derivatives, any Error>) {
        lock.withLock { stored[index] = result }
    }

    var values: [Result<Derivatives, any Error>?] { lock.withLock { stored } }
}
