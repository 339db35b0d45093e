import CVips

/// Owns one reference to a VipsImage and drops it when done (g_object_unref), so every path
/// out of the pipeline, errors included, frees what it made.
final class VipsImageHandle {
    /// The image; valid while this handle lives.
    let pointer: UnsafeMutablePointer<VipsImage>

    /// Takes over a reference the caller owns.
    init(_ pointer: UnsafeMutablePointer<VipsImage>) {
        self.pointer = pointer
    }

    deinit {
        g_object_unref(pointer)
    }

    /// Pixel width.
    var width: Int { Int(vips_image_get_width(pointer)) }
    /// Pixel height.
    var height: Int { Int(vips_image_get_height(pointer)) }
}
