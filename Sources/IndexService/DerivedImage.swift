/// What the thumbnail pipeline made of one version (ETag) of an image.
public struct DerivedImage: Codable, Sendable, Equatable {
    /// The outcome.
    public enum Status: String, Codable, Sendable {
        /// The thumbnail and preview are stored; size and placeholder are known.
        case ready
        /// The file cannot be made into derivatives (corrupt, not an image, over a limit).
        case unprocessable
    }

    /// The ETag of the content the derivatives were made from: for another ETag they are stale.
    public var etag: String
    /// The outcome.
    public var status: Status
    /// The original's upright pixel size (ready only).
    public var width: Int?
    /// See `width`.
    public var height: Int?
    /// The ThumbHash, standard base64 (ready only).
    public var placeholder: String?
    /// Why the image is unprocessable.
    public var reason: String?

    /// A result for version `etag`.
    public init(etag: String, status: Status, width: Int? = nil, height: Int? = nil, placeholder: String? = nil, reason: String? = nil) {
        self.etag = etag
        self.status = status
        self.width = width
        self.height = height
        self.placeholder = placeholder
        self.reason = reason
    }

    /// The key of an image's thumbnail: under `_derived/`, which is not a gallery name, so the
    /// events of derivatives are never indexed as images.
    public static func thumbnailKey(of key: String) -> String { "_derived/\(key)/thumb.webp" }
    /// The key of an image's preview (see ``thumbnailKey(of:)``).
    public static func previewKey(of key: String) -> String { "_derived/\(key)/preview.jpg" }
}

/// A durable piece of work on an image's derivatives, kept in the index's `jobs` database
/// under the image key, in the same transaction as the event that caused it: an event the
/// index acknowledged leads to derivatives even if the service is killed right after.
/// A newer job for the key replaces an older one.
public struct DerivativeJob: Codable, Sendable, Equatable {
    /// What to do.
    public enum Kind: String, Codable, Sendable {
        /// Make the derivatives of version `etag`.
        case make
        /// Delete the derivatives (the image was removed).
        case remove
    }

    /// What to do.
    public var kind: Kind
    /// The version to make derivatives of ("" for `remove`).
    public var etag: String

    /// A job of `kind` for version `etag`.
    public init(kind: Kind, etag: String) {
        self.kind = kind
        self.etag = etag
    }
}
