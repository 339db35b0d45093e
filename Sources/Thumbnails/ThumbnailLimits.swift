/// What `Thumbnailer` accepts and what it makes: refusal limits checked from the header
/// before any pixel is decoded, and the derivatives' sizes.
public struct ThumbnailLimits: Sendable {
    /// Largest width * height (from the header) decoded; a bigger image is a decompression bomb.
    public var maxPixels: Int = 100_000_000
    /// Most pages/frames accepted; more (a 1000-frame GIF) is refused rather than scanned.
    public var maxFrames: Int = 256
    /// Long edge of the WebP thumbnail.
    public var thumbnailEdge: Int = 360
    /// Long edge of the JPEG preview.
    public var previewEdge: Int = 1440
    /// JPEG quality of the preview.
    public var previewQuality: Int = 80

    /// The defaults above.
    public init() {}
}
