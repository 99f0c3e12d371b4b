import Logging

/// Committed and end offsets of every partition of `topics` for a consumer
/// group, e.g. to tell when a group has caught up (`committed == end`).
///
/// Creates a short-lived consumer with `group.id = groupId` that does **not**
/// join the group (no subscription, so it does not disturb the members),
/// reads partition counts from metadata, the group's committed offsets and
/// the partitions' high watermarks. Blocking; call from a dedicated thread.
///
/// - Returns: per partition, `committed` (`nil` when the group has no commit
///   for it) and `end` (the high watermark, i.e. next offset to be written).
public func consumerGroupLag(
    client: KafkaClientConfig,
    groupId: String,
    topics: [String],
    timeoutMs: Int32 = 10_000,
    logger: Logger
) throws -> [TopicPartition: (committed: Int64?, end: Int64)] {
    let probe = ConsumerGroupLagProbe(client: client, logger: logger, timeoutMs: timeoutMs)
    defer { probe.close() }
    return try probe.lag(groups: [(groupId, topics)])[groupId] ?? [:]
}

/// Asks the same questions as `consumerGroupLag` again and again (e.g. every few hundred milliseconds until a run
/// has drained) without paying for a new client each time: one consumer per group is kept (finding a group's
/// coordinator is the slow part of the first question), partition counts are read once, and each partition's end
/// offset once per call however many groups read it.
public final class ConsumerGroupLagProbe {
    private let client: KafkaClientConfig
    private let logger: Logger
    private let timeoutMs: Int32
    private var consumers: [String: KafkaConsumer] = [:]
    private var partitionCounts: [String: Int] = [:]

    public init(client: KafkaClientConfig, logger: Logger, timeoutMs: Int32 = 10_000) {
        self.client = client
        self.logger = logger
        self.timeoutMs = timeoutMs
    }

    /// Per group, per partition of its topics: its committed offset (nil: none) and the partition's end offset.
    public func lag(groups: [(groupId: String, topics: [String])]) throws -> [String: [TopicPartition: (committed: Int64?, end: Int64)]] {
        var ends = [TopicPartition: Int64]()
        var out = [String: [TopicPartition: (committed: Int64?, end: Int64)]]()
        for (group, topics) in groups {
            let consumer = try self.consumer(group)
            var partitions = [TopicPartition]()
            for topic in topics {
                let count = try partitionCounts[topic] ?? consumer.partitionCount(topic: topic, timeoutMs: timeoutMs)
                partitionCounts[topic] = count
                partitions += (0..<Int32(count)).map { TopicPartition(topic: topic, partition: $0) }
            }
            // One ListOffsets request (timestamp -1: the end) for the partitions not asked about yet in this call.
            let unknown = partitions.filter { ends[$0] == nil }
            if !unknown.isEmpty {
                ends.merge(try consumer.offsetsForTimes(Dictionary(uniqueKeysWithValues: unknown.map { ($0, KafkaOffset.end) }), timeoutMs: timeoutMs)) { $1 }
            }
            var result = [TopicPartition: (committed: Int64?, end: Int64)]()
            for entry in try consumer.committed(partitions, timeoutMs: timeoutMs) {
                let tp = entry.topicPartition
                result[tp] = (committed: entry.offset >= 0 ? entry.offset : nil, end: ends[tp] ?? 0)
            }
            out[group] = result
        }
        return out
    }

    private func consumer(_ group: String) throws -> KafkaConsumer {
        if let c = consumers[group] { return c }
        let c = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: group), logger: logger)
        consumers[group] = c
        return c
    }

    public func close() {
        for c in consumers.values { c.close() }
        consumers = [:]
    }

    deinit { close() }
}
