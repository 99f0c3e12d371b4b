/// Settings shared by producers and consumers.
public struct KafkaClientConfig: Sendable {
    /// Comma-separated `host:port` list (`bootstrap.servers`).
    public var brokers: String
    /// `client.id`, shown in broker logs and used in log metadata.
    public var clientId: String
    /// Any further librdkafka property, passed through verbatim
    /// (e.g. `security.protocol`, `sasl.mechanisms`, `sasl.username`,
    /// `ssl.ca.location`, `log_level`, `debug`). These are applied last and
    /// therefore override the role defaults of producer/consumer configs.
    public var additional: [String: String]

    public init(brokers: String, clientId: String, additional: [String: String] = [:]) {
        self.brokers = brokers
        self.clientId = clientId
        self.additional = additional
    }
}

/// Producer configuration.
///
/// Effective librdkafka properties are, in increasing precedence:
/// `bootstrap.servers`/`client.id` from `client`, then `properties`
/// (initialised to `KafkaProducerConfig.defaultProperties`), then
/// `client.additional`.
public struct KafkaProducerConfig: Sendable {
    /// Idempotent, fully acknowledged, lz4-compressed writes, sent at once, up to five requests in flight per
    /// connection (the idempotent producer keeps each partition's order). librdkafka 2.0 puts one partition in a
    /// request, so a service's round — a few messages and a watermark on every partition of its outputs — is several
    /// requests: in flight together they are acknowledged about as fast as one. lz4, not zstd: librdkafka builds a
    /// fresh zstd context for every batch, which made compression the larger part of a round's write (a minute's
    /// option chains took the feed 4–10 ms to write with zstd level 1, 1.3–2 ms with lz4); lz4 shrinks the JSON about
    /// 3.6× (chains; zstd level 1: 6.5×), so the embedded broker, which keeps about 5 MiB a partition, holds about half
    /// as much history (`--kafka compression.type=zstd` for more).
    public static let defaultProperties: [String: String] = [
        "enable.idempotence": "true",
        "acks": "all",
        "linger.ms": "0",
        "max.in.flight.requests.per.connection": "5",
        "compression.type": "lz4",
        "socket.nagle.disable": "true",
    ]

    /// Connection settings.
    public var client: KafkaClientConfig
    /// Producer-role properties (defaults included; edit freely).
    public var properties: [String: String]

    public init(client: KafkaClientConfig, properties: [String: String] = KafkaProducerConfig.defaultProperties) {
        self.client = client
        self.properties = properties
    }

    /// The property list handed to librdkafka, in application order.
    public var effectiveProperties: [(String, String)] {
        mergeProperties(client: client, role: properties)
    }
}

/// Consumer configuration.
///
/// Effective librdkafka properties are, in increasing precedence:
/// `bootstrap.servers`/`client.id` from `client`, `group.id`, then
/// `properties` (initialised to `KafkaConsumerConfig.defaultProperties`),
/// then `client.additional`.
public struct KafkaConsumerConfig: Sendable {
    /// Manual commits, earliest reset, and short group timeouts.
    ///
    /// The short session/heartbeat timeouts matter for librdkafka's mock
    /// cluster, whose coordinator waits `session.timeout.ms - 1000` for
    /// members on each rebalance after the first (about 44 s with the 45 s
    /// default). Its first join of a group always takes about 3 s, so
    /// `session.timeout.ms` must stay above ~3000 there (2000 never
    /// completes the first join).
    public static let defaultProperties: [String: String] = [
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "earliest",
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "500",
        // The embedded mock broker answers an empty fetch only after this long and does not wake it on new data, so
        // each hop of the dispatcher → broker → position-manager loop waits half of it on average: 3 ms instead of
        // 10 took a 3-session `opsctl up` from 55 s to 40 s, and 2 instead of 3 took bar → decision at 60× on
        // minutes without chains from 11 to 9–10 ms p50 (1 ms: 7, but three times the idle fetches took the CPU
        // that chain minutes need). A real broker wakes long-polls itself, so raise it there with
        // --kafka fetch.wait.max.ms=500.
        "fetch.wait.max.ms": "2",
        // Range assignment gives partition i of every subscribed topic to the same member: topics keyed alike with
        // equal partition counts stay co-partitioned, so a replica joining bars with sentiment sees both of a ticker.
        "partition.assignment.strategy": "range",
        "socket.nagle.disable": "true",
    ]

    /// Connection settings.
    public var client: KafkaClientConfig
    /// Consumer group id (`group.id`). Required for `subscribe`, `commit`
    /// and `committed`; a consumer that only uses `assign` may pass any value.
    public var groupId: String
    /// Consumer-role properties (defaults included; edit freely).
    public var properties: [String: String]

    public init(client: KafkaClientConfig, groupId: String, properties: [String: String] = KafkaConsumerConfig.defaultProperties) {
        self.client = client
        self.groupId = groupId
        self.properties = properties
    }

    /// The property list handed to librdkafka, in application order.
    public var effectiveProperties: [(String, String)] {
        var role = properties
        if role["group.id"] == nil { role["group.id"] = groupId }
        return mergeProperties(client: client, role: role)
    }
}

private func mergeProperties(client: KafkaClientConfig, role: [String: String]) -> [(String, String)] {
    var result: [(String, String)] = [
        ("bootstrap.servers", client.brokers),
        ("client.id", client.clientId),
    ]
    result += role.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    result += client.additional.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    return result
}
