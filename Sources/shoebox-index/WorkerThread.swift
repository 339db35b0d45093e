import Foundation

/// A thread running one closure, which the caller can wait for (Foundation's Thread has no join).
final class WorkerThread: Sendable {
    private let done = DispatchSemaphore(value: 0)

    /// Starts `body` on a new thread at once.
    init(_ body: @escaping @Sendable () -> Void) {
        let done = self.done
        let thread = Thread {
            body()
            done.signal()
        }
        thread.start()
    }

    /// Blocks until the closure has returned.
    func join() {
        done.wait()
    }
}
