/// An input that yields no derivatives: not an image, an unsupported format, corrupt or
/// truncated data, a decompression bomb, too many frames. Final: retrying gives the same.
public struct Unprocessable: Error, Sendable, Equatable {
    /// Why, for people (shown in the gallery API's `reason`).
    public var reason: String

    /// An input refused for `reason`.
    public init(reason: String) {
        self.reason = reason
    }
}
