/// The JSON bodies of the index API, as the gallery page and the conformance tests read them.
///
/// Responses are encoded with sorted keys and unescaped slashes (see ``IndexServer/json(_:status:)``),
/// the same bytes the API produced when it built dictionaries for `JSONSerialization`.
public enum IndexAPI {
    /// `GET /api/galleries`.
    public struct GalleryList: Codable, Sendable, Equatable {
        public var galleries: [Gallery]
    }

    /// One gallery in ``GalleryList``.
    public struct Gallery: Codable, Sendable, Equatable {
        public var name: String
        public var imageCount: Int
        /// ISO 8601 with milliseconds.
        public var lastUpdate: String
    }

    /// `GET /api/galleries/:gallery/images`: one page, newest first.
    public struct ImagePage: Codable, Sendable, Equatable {
        public var gallery: String
        public var images: [Image]
        /// The cursor of the next page; encoded as `null` (not left out) on the last page,
        /// which the page's JS and the tests both check for.
        public var nextCursor: String?

        /// Explicit so that a missing cursor is written as `null`: the synthesized encoder omits nil.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(gallery, forKey: .gallery)
            try container.encode(images, forKey: .images)
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }

    /// One image in ``ImagePage``.
    public struct Image: Codable, Sendable, Equatable {
        public var key: String
        /// The key without its `gallery/` prefix.
        public var name: String
        public var size: UInt64
        public var etag: String
        public var contentType: String
        /// ISO 8601 with milliseconds.
        public var uploaded: String
        public var metadata: [String: String]
        /// Where a browser loads the image (the bucket is public-read for gallery objects).
        public var url: String
    }

    /// `POST /events`: how many records of the message changed the index.
    public struct EventsResult: Codable, Sendable, Equatable {
        public var applied: Int
        public var ignored: Int
    }

    /// `POST /api/uploads`: a presigned PUT and an equivalent POST form, for one key.
    public struct UploadGrant: Codable, Sendable, Equatable {
        public var key: String
        public var expiresIn: Int
        public var maxSize: UInt64
        public var put: PutGrant
        public var post: PostGrant
    }

    /// The PUT half of ``UploadGrant``: the URL and the headers it was signed with.
    public struct PutGrant: Codable, Sendable, Equatable {
        public var url: String
        public var headers: [String: String]
    }

    /// The POST half of ``UploadGrant``: the form's action and its hidden fields.
    public struct PostGrant: Codable, Sendable, Equatable {
        public var url: String
        public var fields: [String: String]
    }

    /// Every 4xx body: `{"error": {"code": ..., "message": ...}}`.
    public struct ErrorBody: Codable, Sendable, Equatable {
        public var error: Detail

        /// The code (stable, for programs) and message (for people).
        public struct Detail: Codable, Sendable, Equatable {
            public var code: String
            public var message: String
        }
    }
}
