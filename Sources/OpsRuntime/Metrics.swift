import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Prometheus metrics for one service: bootstraps swift-metrics once and serves `GET /metrics`.
public struct MetricsEndpoint: Service {
    public let registry: PrometheusCollectorRegistry
    public let port: Int
    let logger: Logger

    /// Bootstraps the metrics system with a Prometheus factory (once per process) and binds the port
    /// (0 picks a free one; the chosen port is logged).
    public static func bootstrap(port: Int?, logger: Logger) throws -> MetricsEndpoint? {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        guard let port else { return nil }
        return MetricsEndpoint(registry: registry, port: port, logger: logger)
    }

    public func run() async throws {
        let registry = self.registry
        let server = try TinyTCPServer(host: "0.0.0.0", port: port, isComplete: { req in
            req.count >= 4 && req.suffix(4).elementsEqual([13, 10, 13, 10])
        }, handler: { req in
            let line = String(decoding: req.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
            guard line.hasPrefix("GET /metrics") else {
                return Array("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
            }
            let body = registry.emitToBuffer()
            return Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8) + body
        })
        logger.info("metrics on http://0.0.0.0:\(server.port)/metrics")
        try? await gracefulShutdown()
        server.stop()
    }
}
