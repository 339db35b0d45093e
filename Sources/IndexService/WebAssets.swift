import NIOCore

/// The gallery page, served by the index service at `/`: plain HTML, CSS and JS, no build step.
///
/// The files live in `Resources/` and are compiled into the binary by SwiftPM
/// (`.embedInCode`, generated as `PackageResources.<file_name>`), so the executable stays
/// self-contained: nothing is looked up in a bundle at run time.
///
/// Everything is ASCII and self-contained (no CDN, no web fonts). The page talks to the index
/// API on its own origin with relative URLs (`api/...`), so it also works behind a path prefix;
/// the S3 endpoint (another origin) is reached only through the presigned PUT URLs and image
/// URLs the API returns. Element ids and classes used by tests: `#gallery-select`,
/// `#gallery-name`, `#photographer`, `#event`, `#files`, `#upload`, `.upload-status`
/// (`data-key`, `data-state` = queued | signing | uploading | done | error), `#grid`, `.tile`
/// (`data-key`), `.tile img`, `.tile .photographer`, `.tile .event`.
enum WebAssets {
    /// One file of the page: where it is served, as what, and its bytes.
    struct Asset: Sendable {
        /// The router path (`/` or a name relative to it).
        let path: String
        /// The `Content-Type` it is served with.
        let contentType: String
        /// The file, built once; responses share its storage.
        let body: ByteBuffer
    }

    /// Every file of the page.
    static let all: [Asset] = [
        Asset(path: "/", contentType: "text/html; charset=utf-8", body: ByteBuffer(bytes: PackageResources.index_html)),
        Asset(path: "app.js", contentType: "application/javascript; charset=utf-8", body: ByteBuffer(bytes: PackageResources.app_js)),
        Asset(path: "thumbhash.js", contentType: "application/javascript; charset=utf-8", body: ByteBuffer(bytes: PackageResources.thumbhash_js)),
        Asset(path: "grid.js", contentType: "application/javascript; charset=utf-8", body: ByteBuffer(bytes: PackageResources.grid_js)),
        Asset(path: "lightbox.js", contentType: "application/javascript; charset=utf-8", body: ByteBuffer(bytes: PackageResources.lightbox_js)),
        Asset(path: "uploads.js", contentType: "application/javascript; charset=utf-8", body: ByteBuffer(bytes: PackageResources.uploads_js)),
        Asset(path: "style.css", contentType: "text/css; charset=utf-8", body: ByteBuffer(bytes: PackageResources.style_css)),
    ]
}
