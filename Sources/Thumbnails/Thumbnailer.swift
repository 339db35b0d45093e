import CVips
import CVipsShim
import Foundation

/// Makes an image's derivatives (WebP thumbnail, JPEG preview, ThumbHash placeholder, upright
/// size) with libvips, refusing bad input with `Unprocessable`.
public struct Thumbnailer: Sendable {
    /// Loaders accepted (class-name prefixes from vips_foreign_find_load): the formats the
    /// gallery takes. libvips also reads SVG, PDF, FITS, Matlab, CSV... through libraries not
    /// meant for untrusted input; those are refused without being opened.
    static let acceptedLoaders = ["VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadWebp",
                                  "VipsForeignLoadGif", "VipsForeignLoadNsgif", "VipsForeignLoadTiff",
                                  "VipsForeignLoadHeif"]

    /// The limits and sizes used.
    public let limits: ThumbnailLimits

    /// Admits one whole-frame (HEIF) decode at a time, process-wide.
    private static let wholeFrameDecodes = DispatchSemaphore(value: 1)

    /// A thumbnailer with these limits; cheap (libvips starts on first use).
    public init(limits: ThumbnailLimits = .init()) {
        self.limits = limits
    }

    /// Synchronous, CPU-bound: call it off the event loops. Thread-safe (many at once).
    /// Throws Unprocessable for every bad input (never crashes).
    public func derivatives(ofFile path: String) throws -> Derivatives {
        try Vips.start()
        let (width, height, loader, hasProfile) = try uprightSize(ofFile: path)
        // libheif decodes a whole frame at full size (about 115 MB for 12 MP), where JPEG
        // shrinks on load: one HEIF decode at a time keeps the pipeline's memory bounded
        // whatever the concurrency (other formats go on in parallel).
        let wholeFrame = loader.hasPrefix("VipsForeignLoadHeif")
        if wholeFrame { Self.wholeFrameDecodes.wait() }
        defer {
            if wholeFrame {
                // glibc keeps freed memory in the arena of the thread that freed it: after
                // decodes on four threads, four arenas each held a frame's worth (311 MB RSS
                // for eight HEICs, 150 MB with one arena). Give it back before the next.
                shoebox_release_free_memory()
                Self.wholeFrameDecodes.signal()
            }
        }
        // One decode: the preview comes from the file with shrink-on-load (JPEG decodes at
        // 1/2, 1/4 or 1/8 scale), is rendered once into memory, and the thumbnail and the
        // placeholder are made from it. Rendering forces the whole decode, so truncated data
        // fails here (fail_on), before anything is encoded.
        let decoded = try Vips.image("cannot decode") { shoebox_vips_thumbnail_file(path, Int32(limits.previewEdge), hasProfile ? 1 : 0, $0) }
        let srgb = try Vips.image("cannot convert to sRGB") { shoebox_vips_srgb8(decoded.pointer, $0) }
        guard let rendered = vips_image_copy_memory(srgb.pointer) else { throw Vips.takeError(context: "cannot decode") }
        let preview = VipsImageHandle(rendered)
        shoebox_vips_remove_metadata(preview.pointer)  // the thumbnail inherits the preview's
        let jpeg = try Vips.bytes("cannot encode the preview") {
            shoebox_vips_jpeg(preview.pointer, Int32(limits.previewQuality), $0, $1)
        }
        let small = try Vips.image("cannot scale the thumbnail") {
            shoebox_vips_thumbnail_image(preview.pointer, Int32(limits.thumbnailEdge), $0)
        }
        let webp = try Vips.bytes("cannot encode the thumbnail") { shoebox_vips_webp(small.pointer, $0, $1) }
        return Derivatives(thumbnail: WebPMetadata.removing(from: webp), preview: jpeg, width: width, height: height,
                           placeholder: try placeholder(of: preview))
    }

    /// Reads the header only and refuses what must not be decoded; returns the upright size, the loader and whether an ICC profile is embedded.
    func uprightSize(ofFile path: String) throws(Unprocessable) -> (width: Int, height: Int, loader: String, hasProfile: Bool) {
        guard let loader = vips_foreign_find_load(path) else {
            throw Vips.takeError(context: "not an image (unknown format)")
        }
        let name = String(cString: loader)
        guard Self.acceptedLoaders.contains(where: name.hasPrefix) else {
            throw Unprocessable(reason: "unsupported format (\(name))")
        }
        let header = try Vips.image("cannot read the header") { shoebox_vips_open_header(path, $0) }
        let (width, height) = (header.width, header.height)
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !overflow, pixels <= limits.maxPixels else {
            throw Unprocessable(reason: "\(width)x\(height) pixels is over the limit of \(limits.maxPixels)")
        }
        let pages = Int(vips_image_get_n_pages(header.pointer))
        guard pages <= limits.maxFrames else {
            throw Unprocessable(reason: "\(pages) frames is over the limit of \(limits.maxFrames)")
        }
        let hasProfile = vips_image_get_typeof(header.pointer, VIPS_META_ICC_NAME) != 0
        return vips_image_get_orientation_swap(header.pointer) != 0 ? (height, width, name, hasProfile) : (width, height, name, hasProfile)
    }

    /// ThumbHash of the preview scaled into 100x100 (the most ThumbHash reads), as base64.
    func placeholder(of preview: VipsImageHandle) throws(Unprocessable) -> String {
        let tiny = try Vips.image("cannot scale the placeholder") { shoebox_vips_thumbnail_image(preview.pointer, 100, $0) }
        let rgba = try Vips.image("cannot convert the placeholder") { shoebox_vips_rgba8(tiny.pointer, $0) }
        let pixels = try Vips.bytes("cannot render the placeholder") { buffer, length in
            buffer.pointee = vips_image_write_to_memory(rgba.pointer, length)
            return buffer.pointee == nil ? -1 : 0
        }
        return Data(ThumbHash.encode(width: rgba.width, height: rgba.height, rgba: pixels)).base64EncodedString()
    }
}
