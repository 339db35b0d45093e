/// What the gallery shows of one image instead of the original.
public struct Derivatives: Sendable {
    /// WebP, long edge <= `ThumbnailLimits.thumbnailEdge`, never upscaled, no metadata.
    public var thumbnail: [UInt8]
    /// Progressive JPEG, long edge <= `ThumbnailLimits.previewEdge`, never upscaled, no metadata.
    public var preview: [UInt8]
    /// The original's pixel width, upright (after EXIF orientation).
    public var width: Int
    /// The original's pixel height, upright (after EXIF orientation).
    public var height: Int
    /// ThumbHash of the image, standard base64: the page paints it before the thumbnail loads.
    public var placeholder: String

    /// Bundles the pieces (built by `Thumbnailer`; public so callers can build test values).
    public init(thumbnail: [UInt8], preview: [UInt8], width: Int, height: Int, placeholder: String) {
        self.thumbnail = thumbnail
        self.preview = preview
        self.width = width
        self.height = height
        self.placeholder = placeholder
    }
}
