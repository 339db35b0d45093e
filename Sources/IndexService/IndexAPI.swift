/// The JSON bodies of the index API, as the gallery page and the conformance tests read them.
///
/// Responses are encoded with sorted keys and unescaped slashes (see ``IndexServer/json(_:status:)``),
/// the same bytes the API produced when it built dictionaries for `JSONSerialization`.
package enum IndexAPI {
    /// `GET /api/galleries`.
    package struct GalleryList: Codable, Sendable, Equatable {
        /// Every gallery with at least one image, by name.
        package var galleries: [Gallery]
    }

    /// One gallery in ``GalleryList``.
    package struct Gallery: Codable, Sendable, Equatable {
        /// The gallery name (the keys' first path segment).
        package var name: String
        /// How many images it holds.
        package var imageCount: Int
        /// ISO 8601 with milliseconds.
        package var lastUpdate: String
    }

    /// `GET /api/galleries/:gallery/images`: one page, newest first.
    package struct ImagePage: Codable, Sendable, Equatable {
        /// The gallery asked for.
        package var gallery: String
        /// This page's images.
        package var images: [Image]
        /// The cursor of the next page; encoded as `null` (not left out) on the last page,
        /// which the page's JS and the tests both check for.
        package var nextCursor: String?

        /// Explicit so that a missing cursor is written as `null`: the synthesized encoder omits nil.
        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(gallery, forKey: .gallery)
            try container.encode(images, forKey: .images)
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }

    /// One image in ``ImagePage``.
    package struct Image: Codable, Sendable, Equatable {
        /// The object key, `gallery/name`.
        package var key: String
        /// The key without its `gallery/` prefix.
        package var name: String
        /// The object size in bytes.
        package var size: UInt64
        /// The object ETag, without quotes.
        package var etag: String
        /// The object's `Content-Type`.
        package var contentType: String
        /// ISO 8601 with milliseconds.
        package var uploaded: String
        /// The `x-amz-meta-*` values, by name without the prefix.
        package var metadata: [String: String]
        /// Where a browser loads the image (the bucket is public-read for gallery objects).
        package var url: String
        /// `processing` (no derivatives yet), `ready` or `unprocessable`.
        package var status: String
        /// Why the image is unprocessable; else null.
        package var reason: String?
        /// The WebP thumbnail (long edge about 360 px) when ready; else null.
        package var thumbnailUrl: String?
        /// The JPEG preview (long edge 1440 px) when ready; else null.
        package var previewUrl: String?
        /// The original's upright pixel width when ready; else null.
        package var width: Int?
        /// The original's upright pixel height when ready; else null.
        package var height: Int?
        /// A ThumbHash of the image (standard base64) when ready; else null.
        package var placeholder: String?

        /// Explicit so that absent values are written as `null`, as the page expects.
        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(key, forKey: .key)
            try container.encode(name, forKey: .name)
            try container.encode(size, forKey: .size)
            try container.encode(etag, forKey: .etag)
            try container.encode(contentType, forKey: .contentType)
            try container.encode(uploaded, forKey: .uploaded)
            try container.encode(metadata, forKey: .metadata)
            try container.encode(url, forKey: .url)
            try container.encode(status, forKey: .status)
            try container.encode(reason, forKey: .reason)
            try container.encode(thumbnailUrl, forKey: .thumbnailUrl)
            try container.encode(previewUrl, forKey: .previewUrl)
            try container.encode(width, forKey: .width)
            try container.encode(height, forKey: .height)
            try container.encode(placeholder, forKey: .placeholder)
        }
    }

    /// `POST /events`: how many records of the message changed the index.
    package struct EventsResult: Codable, Sendable, Equatable {
        /// Records that changed the index.
        package var applied: Int
        /// Records that were older than what the index has (replays, reordered deliveries).
        package var ignored: Int
    }

    /// `POST /api/uploads`: a presigned PUT and an equivalent POST form, for one key.
    package struct UploadGrant: Codable, Sendable, Equatable {
        /// The key the grant is for, `gallery/filename`.
        package var key: String
        /// Seconds the signatures stay valid.
        package var expiresIn: Int
        /// The largest body the POST policy allows.
        package var maxSize: UInt64
        /// How to upload with a presigned PUT.
        package var put: PutGrant
        /// How to upload with a POST form.
        package var post: PostGrant
    }

    /// The PUT half of ``UploadGrant``: the URL and the headers it was signed with.
    package struct PutGrant: Codable, Sendable, Equatable {
        /// The presigned URL.
        package var url: String
        /// Headers the PUT must send exactly (they are signed).
        package var headers: [String: String]
    }

    /// The POST half of ``UploadGrant``: the form's action and its hidden fields.
    package struct PostGrant: Codable, Sendable, Equatable {
        /// The bucket URL to POST the form to.
        package var url: String
        /// Form fields to send before the file, policy and signature included.
        package var fields: [String: String]
    }

    /// Every 4xx body: `{"error": {"code": ..., "message": ...}}`.
    package struct ErrorBody: Codable, Sendable, Equatable {
        /// What went wrong.
        package var error: Detail

        /// The code (stable, for programs) and message (for people).
        package struct Detail: Codable, Sendable, Equatable {
            /// E.g. `InvalidGallery`.
            package var code: String
            /// A sentence for people.
            package var message: String
        }
    }
}
