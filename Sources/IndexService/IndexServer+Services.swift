import Hummingbird
import NIOCore
public import ServiceLifecycle

extension IndexServer {
    /// What runs the index service: the HTTP application and the thumbnail pipeline, to run
    /// together in one ServiceGroup.
    public func services() -> [any Service] {
        [buildApplication(), DerivativeWorker(index: index, configuration: configuration, metrics: metrics, logger: logger)]
    }

    /// `GET /metrics`: the pipeline's metrics in Prometheus' text format.
    func metricsResponse() -> Response {
        var buffer: [UInt8] = []
        metrics.registry.emit(into: &buffer)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}
