import CVips
import CVipsShim

/// The process-wide libvips runtime: started once, and how its errors become `Unprocessable`.
enum Vips {
    /// vips_init runs once per process (a Swift static is initialised exactly once, thread-safely);
    /// a failure is kept and reported by every call.
    private static let started: Unprocessable? = {
        shoebox_vips_start("shoebox") == 0 ? nil : takeError(context: "libvips did not start")
    }()

    /// Starts libvips if it is not yet running.
    static func start() throws(Unprocessable) {
        if let failure = started { throw failure }
    }

    /// The message libvips left for the failed call, cleared so the next call starts empty.
    /// (vips_error_buffer_copy copies and clears under libvips's lock; the buffer is shared by
    /// all threads, so a message can rarely name another call's failure as well.)
    static func takeError(context: String) -> Unprocessable {
        var message = ""
        if let copy = vips_error_buffer_copy() {
            message = String(cString: copy).trimmingCharacters(in: .whitespacesAndNewlines)
            g_free(copy)
        }
        return Unprocessable(reason: message.isEmpty ? context : "\(context): \(message)")
    }

    /// Runs a shim call that fills in an image, turning a failure into `Unprocessable`.
    static func image(_ context: String,
                      _ call: (UnsafeMutablePointer<UnsafeMutablePointer<VipsImage>?>) -> Int32) throws(Unprocessable) -> VipsImageHandle {
        var out: UnsafeMutablePointer<VipsImage>?
        guard call(&out) == 0, let out else { throw takeError(context: context) }
        return VipsImageHandle(out)
    }

    /// Runs a shim call that fills in a g_malloc'd buffer and copies it out.
    static func bytes(_ context: String,
                      _ call: (UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeMutablePointer<Int>) -> Int32) throws(Unprocessable) -> [UInt8] {
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        guard call(&buffer, &length) == 0, let buffer else { throw takeError(context: context) }
        defer { g_free(buffer) }
        return Array(UnsafeRawBufferPointer(start: buffer, count: length))
    }
}
