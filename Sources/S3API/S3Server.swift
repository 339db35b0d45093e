public import Foundation
import Digests
import HTTPTypes
import HummingbirdCore
import HummingbirdTLS
import Metrics
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
public import ObjectStore
public import Prometheus
public import ServiceLifecycle
import SigV4
import Synchronization

/// Options of the S3 HTTP server.
public struct S3ServerOptions: Sendable {
    public var host: String
    public var port: Int
    public var region: String
    /// With a domain, `bucket.<domain>` hosts address buckets virtual-host style.
    public var domain: String?
    public var maxClockSkew: TimeInterval = 900
    /// A connection that has sent nothing for this long is closed, unless a response to it is
    /// still being produced or sent (a request stalled mid-body is closed).
    public var idleTimeout: Duration = .seconds(300)
    /// PEM certificate chain and private key files: serve https when both are set.
    public var tlsCertificate: String?
    public var tlsKey: String?

    public init(host: String, port: Int, region: String, domain: String? = nil, tlsCertificate: String? = nil, tlsKey: String? = nil) {
        self.host = host
        self.port = port
        self.region = region
        self.domain = domain
        self.tlsCertificate = tlsCertificate
        self.tlsKey = tlsKey
    }
}

/// The S3 REST server: parses each request into an ``Endpoint``, authenticates it, checks
/// access once, and dispatches to the handler of that S3 area.
public final class S3Server: Sendable {
    let store: any ObjectStore
    let users: UserDirectory
    let options: S3ServerOptions
    let logger: Logger
    let webhooks: [WebhookTarget]
    /// Where `GET /_shoebox/metrics` reads Prometheus metrics from, if bootstrapped.
    let metrics: PrometheusCollectorRegistry?

    public init(store: any ObjectStore, users: UserDirectory, options: S3ServerOptions, webhooks: [WebhookTarget] = [],
                metrics: PrometheusCollectorRegistry? = nil, logger: Logger) {
        self.store = store
        self.users = users
        self.options = options
        self.webhooks = webhooks
        self.metrics = metrics
        self.logger = logger
    }

    /// Serves until SIGTERM/SIGINT. `onListening` receives the bound port (useful with port 0).
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let group = ServiceGroup(configuration: .init(services: try services(onListening: onListening),
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The HTTP server and the notification delivery, to run in a ServiceGroup.
    public func services(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> [any Service] {
        var builder = HTTPServerBuilder { responder in
            // The idle timeout is kept by the fast path, which sees every request.
            InlineReadsHTTP1Channel(base: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: nil)),
                                    server: self, idleTimeout: TimeAmount(self.options.idleTimeout))
        }
        if let certificate = options.tlsCertificate, let key = options.tlsKey {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            builder = try .tls(builder, tlsConfiguration: tls)
        }
        let server = try builder.buildServer(
            configuration: ServerConfiguration(address: .hostname(options.host, port: options.port), serverName: nil),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger,
            responder: { request, writer, channel in
                await self.respond(to: request, writer: writer, channel: channel)
            },
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) }
        )
        // A service that returns ends the group, so delivery runs only when there is a target.
        return webhooks.isEmpty ? [server] : [server, EventDelivery(outbox: store, targets: webhooks, logger: logger)]
    }

    // MARK: request handling

    func respond(to request: Request, writer: consuming ResponseWriter, channel: any Channel) async {
        let requestId = Self.newRequestId()
        var expectContinue = request.headers[.expect]?.lowercased() == "100-continue"
        var response: S3Response
        var isHead = request.method == .head
        var endpoint: Endpoint?
        var parsed: S3Request?
        do {
            if request.method == .get, request.head.path == "/_shoebox/metrics", let metrics {
                // Not a bucket: '_' is never in a bucket name.
                // Queue depths are read now, so the figure is never stale while a target is down.
                for webhook in webhooks {
                    if let depth = try? store.outboxDepth(target: webhook.id) {
                        Gauge(label: "shoebox_outbox_depth", dimensions: [("target", webhook.id)]).record(depth)
                    }
                }
                var buffer: [UInt8] = []
                metrics.emit(into: &buffer)
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; version=0.0.4"
                try? await S3Response(headers: headers, body: .bytes(ByteBuffer(bytes: buffer))).write(to: writer, isHead: false)
                return
            }
            var s3 = try S3Request(request, requestId: requestId, domain: options.domain)
            s3.remoteAddress = channel.remoteAddress
            parsed = s3
            endpoint = s3.endpoint
            isHead = s3.method == "HEAD"
            if case .preflight = s3.endpoint {} else { try authenticate(&s3) }
            // Access is checked before `100 Continue`: a request it refuses gets its 403
            // without the client sending a body that would only be thrown away.
            let resolved = try authorize(s3)
            if expectContinue && s3.endpoint.takesBody {
                do {
                    try await writer.writeInformationalHead(HTTPResponse(status: .continue))
                } catch {
                    resolved.object?.close()
                    throw error
                }
                expectContinue = false
            }
            response = try await dispatch(s3, resolved)
        } catch {
            var s3Error = S3Error.from(error)
            // Name what was missing, as AWS does.
            if s3Error.code == .noSuchKey, let key = endpoint?.key, !s3Error.details.contains(where: { $0.0 == "Key" }) {
                s3Error.details.append(("Key", key))
            }
            if s3Error.code == .noSuchBucket, let bucket = endpoint?.bucket, !s3Error.details.contains(where: { $0.0 == "BucketName" }) {
                s3Error.details.append(("BucketName", bucket))
            }
            if s3Error.code == .internalError { logger.error("request \(requestId) failed: \(error)") }
            response = S3Response.error(s3Error, resource: request.uri.path, requestId: requestId)
        }
        finish(&response, request: parsed, requestId: requestId)
        do {
            try await response.write(to: writer, isHead: isHead)
        } catch {
            logger.debug("request \(requestId): response not completed: \(error)")
            channel.close(promise: nil)
            return
        }
        // Rejected before `100 Continue`: the client will not send its body, so this
        // connection cannot carry another request. Close it rather than wait for the body.
        if expectContinue && request.headers[.contentLength] != "0" {
            channel.close(promise: nil)
        }
    }

    /// What every response carries: CORS headers for a matching origin, ids, server and date.
    func finish(_ response: inout S3Response, request: S3Request?, requestId: String) {
        if let request {
            if case .preflight = request.endpoint {} else { addCORSHeaders(&response, request: request) }
        }
        // No handler sets these: appended (assigning searches and removes first).
        response.headers.append(HTTPField(name: Self.requestIdField, value: requestId))
        response.headers.append(HTTPField(name: Self.hostIdField, value: Self.hostId))
        response.headers.append(HTTPField(name: .server, value: "Shoebox"))
        response.headers.append(HTTPField(name: .date, value: HTTPDate.now()))
    }

    static let requestIdField = HTTPField.Name("x-amz-request-id")!
    static let hostIdField = HTTPField.Name("x-amz-id-2")!
    static let hostId = Base64.encode(randomBytes(24))

    /// 16 uppercase hex digits, unique per process and unpredictable from outside: a
    /// counter from a random start, scrambled by SplitMix64's bijective finalizer (no
    /// random bytes drawn per request).
    static func newRequestId() -> String {
        let z = splitMix64(requestCounter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue)
        return Hex.uppercase(z)
    }

    private static let requestCounter = Atomic<UInt64>(randomBytes(8).withUnsafeBytes { $0.load(as: UInt64.self) })

    /// Runs the handler of the request's S3 area with what ``authorize(_:)`` resolved for it
    /// (its bucket and object, looked up and checked once).
    func dispatch(_ request: S3Request, _ resolved: ResolvedRequest) async throws -> S3Response {
        switch request.endpoint {
        case .listBuckets: return try listBuckets(request, user: resolved.signedInUser)
        case .createBucket(let bucket): return try await createBucket(request, name: bucket, user: resolved.signedInUser)
        case .deleteBucket: return try await deleteBucket(request, bucket: resolved.bucket)
        case .headBucket: return headBucket(request, bucket: resolved.bucket)
        case .getBucketLocation: return getBucketLocation(request, bucket: resolved.bucket)
        case .getBucketVersioning: return getBucketVersioning(request, bucket: resolved.bucket)
        case .listObjects: return try listObjects(request, bucket: resolved.bucket, version: .v1)
        case .listObjectsV2: return try listObjects(request, bucket: resolved.bucket, version: .v2)
        case .listObjectVersions: return try listObjects(request, bucket: resolved.bucket, version: .versions)
        case .deleteObjects: return try await deleteObjects(request, bucket: resolved.bucket)
        case .putObject(_, let key): return try await putObject(request, bucket: resolved.bucket, key: key)
        case .copyObject(_, let key): return try await copyObject(request, bucket: resolved.bucket, key: key)
        case .getObject: return try getObject(request, resolved, head: false)
        case .headObject: return try getObject(request, resolved, head: true)
        case .deleteObject(_, let key): return try await deleteObject(request, bucket: resolved.bucket, key: key)
        case .createMultipartUpload(_, let key): return try await createMultipartUpload(request, bucket: resolved.bucket, key: key)
        case .uploadPart(_, let key): return try await uploadPart(request, bucket: resolved.bucket, key: key)
        case .uploadPartCopy(_, let key): return try await uploadPartCopy(request, bucket: resolved.bucket, key: key)
        case .completeMultipartUpload(_, let key): return try await completeMultipartUpload(request, bucket: resolved.bucket, key: key)
        case .abortMultipartUpload(_, let key): return try await abortMultipartUpload(request, bucket: resolved.bucket, key: key)
        case .listParts(_, let key): return try listParts(request, bucket: resolved.bucket, key: key)
        case .listMultipartUploads: return try listMultipartUploads(request, bucket: resolved.bucket)
        case .getBucketACL: return try getBucketACL(request, bucket: resolved.bucket)
        case .putBucketACL: return try await putBucketACL(request, bucket: resolved.bucket)
        case .getObjectACL: return try getObjectACL(request, object: resolved.reader)
        case .putObjectACL: return try await putObjectACL(request, object: resolved.reader)
        case .getObjectAttributes: return try getObjectAttributes(request, object: resolved.reader)
        case .getBucketCORS: return try getBucketCORS(request, bucket: resolved.bucket)
        case .putBucketCORS: return try await putBucketCORS(request, bucket: resolved.bucket)
        case .deleteBucketCORS: return try await deleteBucketCORS(request, bucket: resolved.bucket)
        case .preflight: return try preflight(request, bucket: resolved.existingBucket)
        case .postObject(let bucket): return try await postObject(request, name: bucket, bucket: resolved.existingBucket)
        case .getBucketNotification: return try getBucketNotification(request, bucket: resolved.bucket)
        case .putBucketNotification: return try await putBucketNotification(request, bucket: resolved.bucket)
        case .notImplemented(let operation, _):
            // Reached after the bucket and owner checks: S3 reports those first.
            throw S3Error.notImplemented(operation)
        }
    }
}
