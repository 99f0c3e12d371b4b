import CRdKafka
import Foundation
import Logging

/// An in-process Kafka cluster (librdkafka's mock cluster) speaking the real
/// Kafka protocol over loopback TCP, for tests.
///
/// Facts about librdkafka 2.0.2's mock: listener ports are random; it has no
/// CreateTopics API (unknown topics auto-create with 4 partitions on a
/// metadata request), so use `createTopic` first; each partition keeps only
/// about 5 MiB of log; ListOffsets by timestamp is not implemented (always
/// answers -1); produce responses claim log-append time 1234, so delivery
/// report timestamps are meaningless (consumed messages keep the real
/// timestamps). Commit metadata is stored and returned. The group
/// coordinator takes ~3 s for a group's first join and
/// `session.timeout.ms - 1000` for each later rebalance. Broker ids are
/// 1...brokers.
public final class MockCluster: @unchecked Sendable {
    private let context: ClientContext
    private let handle: OpaquePointer
    private let cluster: OpaquePointer
    private let guardian = HandleGuard(name: "MockCluster")
    /// Comma-separated `host:port` bootstrap list of the mock brokers.
    public let bootstrapServers: String
    /// Receives the mock's log lines.
    public let logger: Logger

    /// Starts a mock cluster with `brokers` brokers.
    public init(brokers: Int = 1, logger: Logger) throws {
        self.logger = logger
        let context = ClientContext(logger: logger)
        self.context = context
        // A throwaway producer handle hosts the mock cluster's thread.
        let conf = try makeConf([("client.id", "mock-cluster-host")], context: context)
        let rk = try makeHandle(type: RD_KAFKA_PRODUCER, conf: conf)
        guard let cluster = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
            rd_kafka_destroy(rk)
            throw KafkaError(code: RD_KAFKA_RESP_ERR__FAIL.rawValue, message: "rd_kafka_mock_cluster_new failed")
        }
        handle = rk
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        Self.disableNagle(onListenersAt: Set(listenerPorts))
    }

    /// The mock brokers' listening ports.
    var listenerPorts: [UInt16] {
        bootstrapServers.split(separator: ",").compactMap { hostPort -> UInt16? in hostPort.split(separator: ":").last.flatMap { UInt16($0) } }
    }

    /// Sets TCP_NODELAY on the mock brokers' listening sockets, which every accepted connection inherits (Linux).
    /// librdkafka's mock leaves Nagle's algorithm on: a response written while the client has not yet acknowledged
    /// the previous one waits for the client's delayed ACK (40 ms), so a producer with several requests in flight got
    /// each round's acknowledgements ~40 ms late, and a client that pipelines nothing still paid it now and then.
    /// The sockets are librdkafka's own, so they are found among the process's descriptors by their ports.
    static func disableNagle(onListenersAt ports: Set<UInt16>) {
        for fd in sockets(boundTo: ports, listening: true) {
            var on: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// This process's IPv4 sockets bound to one of `ports`: the listening ones, or those accepted from them.
    static func sockets(boundTo ports: Set<UInt16>, listening: Bool) -> [Int32] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap { Int32($0) } ?? Array(0..<1024)
        return fds.filter { fd in
            var accepting: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0, (accepting == 1) == listening else { return false }
            var addr = sockaddr_in()
            var alen = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &alen) } }
            return named == 0 && addr.sin_family == sa_family_t(AF_INET) && ports.contains(UInt16(bigEndian: addr.sin_port))
        }
    }

    deinit {
        close()
    }

    /// Creates a topic with an explicit partition count.
    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws {
        try guardian.use {
            let err = rd_kafka_mock_topic_create(cluster, name, partitions, replicationFactor)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.from(err, context: "mock topic create '\(name)'")
            }
        }
    }

    /// Creates several topics at once. librdkafka 2.0.2's mock thread sometimes misses the wake-up for a request and
    /// serves it at its next 1 s poll timeout (measured: 0–5 s for the project's topics, one by one); a connection to
    /// a mock broker wakes it, so while the creations wait, each broker is connected to (and let go) every few ms.
    public func createTopics(_ topics: [(name: String, partitions: Int32)]) throws {
        let listeners = listenerPorts
        _ = try eachOnItsOwnThread(topics, whileWaiting: { for port in listeners { Self.poke(port: port) } }) { t in
            try self.createTopic(t.name, partitions: t.partitions)
        }
    }

    /// Opens and closes a loopback TCP connection to `port`.
    static func poke(port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { Glibc.close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }

    /// Takes broker `id` down: its connections are closed and new ones refused.
    public func setBrokerDown(_ id: Int32) {
        mockCall("set broker \(id) down") { rd_kafka_mock_broker_set_down(cluster, id) }
    }

    /// Brings broker `id` back up.
    public func setBrokerUp(_ id: Int32) {
        mockCall("set broker \(id) up") { rd_kafka_mock_broker_set_up(cluster, id) }
    }

    /// Adds `ms` of round-trip latency to broker `broker`'s responses.
    public func setRtt(broker: Int32, ms: Int32) {
        mockCall("set broker \(broker) rtt") { rd_kafka_mock_broker_set_rtt(cluster, broker, ms) }
    }

    /// Kafka protocol API keys whose requests tests make fail (`pushRequestErrors`).
    public enum ApiKey: Int16, Sendable {
        case produce = 0
        case offsetCommit = 8
        case offsetFetch = 9
        case heartbeat = 12
    }

    /// Makes the next `codes.count` requests of `api` (from any client) fail with these Kafka error codes, in order.
    public func pushRequestErrors(_ api: ApiKey, _ codes: [Int32]) {
        let errors = codes.map { rd_kafka_resp_err_t(rawValue: $0) }
        mockCall("push \(api) errors") {
            errors.withUnsafeBufferPointer { rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, errors.count, $0.baseAddress) }
            return RD_KAFKA_RESP_ERR_NO_ERROR
        }
    }

    private func mockCall(_ what: String, _ body: () -> rd_kafka_resp_err_t) {
        do {
            try guardian.use {
                let err = body()
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.warning("mock cluster: \(what) failed", metadata: ["kafka.error": "\(KafkaError.from(err))"])
                }
            }
        } catch {
            logger.warning("mock cluster: \(what) after close")
        }
    }

    /// Stops the mock brokers and destroys the host handle. Idempotent.
    /// Close clients first, or they will log connection errors.
    public func close() {
        guardian.close {
            rd_kafka_mock_cluster_destroy(cluster)
            rd_kafka_destroy(handle)
        }
    }
}
