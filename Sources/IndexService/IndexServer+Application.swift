public import Hummingbird
import Foundation
import Logging

/// The routes and the Hummingbird application, built by one function that the executables run
/// and the tests drive (`app.test(.router)`), as in hummingbird-project/template.
extension IndexServer {
    /// Every route of the index service: the webhook receiver, the gallery API and the page.
    package func buildRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("events") { request, _ in try await self.events(request) }
        router.head("events") { _, _ in Response(status: .ok) }
        router.get("api/galleries") { _, _ in try self.galleries() }
        router.get("api/galleries/:gallery/images") { request, context in
            try self.images(request, gallery: context.parameters.get("gallery") ?? "")
        }
        router.post("api/uploads") { request, _ in try await self.uploads(request) }
        router.get("metrics") { _, _ in self.metricsResponse() }
        for asset in WebAssets.all {
            router.get(RouterPath(asset.path)) { _, _ in Self.response(for: asset) }
            router.head(RouterPath(asset.path)) { _, _ in Self.response(for: asset) }
        }
        // A gallery's own address, and an image's (its lightbox): the same page, which reads
        // its location.
        if let page = WebAssets.all.first(where: { $0.path == "/" }) {
            for path in ["g/:gallery", "g/:gallery/**"] {
                router.get(RouterPath(path)) { request, context in Self.galleryPage(page, request, context) }
                router.head(RouterPath(path)) { request, context in Self.galleryPage(page, request, context) }
            }
        }
        return router
    }

    /// The page at `g/<gallery>[/<image name>]`, or 404 when the gallery name is not valid.
    ///
    /// The page's relative URLs (its assets, `api/...`) must resolve from the page's root, so
    /// a relative `<base href="../">` (one `../` per directory level of the raw path, where an
    /// encoded `%2F` is no separator) goes first in its head: relative, so the page also works
    /// behind a path prefix, and in the markup, so the browser's preload scanner sees it too.
    static func galleryPage(_ page: WebAssets.Asset, _ request: Request, _ context: BasicRequestContext) -> Response {
        guard let gallery = context.parameters.get("gallery"), isValidGallery(gallery) else {
            return error("InvalidGallery", "Gallery names are 1-63 of a-z, 0-9 and '-', starting with a letter or digit.", status: .notFound)
        }
        let path = (request.head.path ?? "/").prefix { $0 != "?" && $0 != "#" }
        let levels = max(1, path.filter { $0 == "/" }.count - 1)
        let base = "<head>\n<base href=\"\(String(repeating: "../", count: levels))\">"
        let html = String(buffer: page.body).replacingOccurrences(of: "<head>", with: base, options: [], range: nil)
        return Response(status: .ok, headers: [.contentType: page.contentType, .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The HTTP service on `configuration.host:port`, to run in a ServiceGroup; once listening
    /// it resyncs from the bucket when the index is empty.
    public func buildApplication() -> some ApplicationProtocol {
        let logger = logger
        let index = index
        let resync = Resync(index: index, configuration: configuration, logger: logger)
        return Application(
            router: buildRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in
                let address = channel.localAddress
                logger.info("shoebox-index listening on http://\(address?.ipAddress ?? "?"):\(address?.port ?? 0)")
                if (try? index.isEmpty()) == true {
                    Task {
                        // Retried: the S3 server may still be starting (as with `shoebox up`).
                        for attempt in 1...10 {
                            do {
                                try await resync.run()
                                return
                            } catch {
                                logger.warning("start-up resync failed (attempt \(attempt)): \(error)")
                                try? await Task.sleep(for: .seconds(2))
                            }
                        }
                    }
                }
            },
            logger: logger)
    }
}
