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
    let consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: groupId), logger: logger)
    defer { consumer.close() }
    var partitions: [TopicPartition] = []
    for topic in topics {
        let count = try consumer.partitionCount(topic: topic, timeoutMs: timeoutMs)
        partitions += (0..<Int32(count)).map { TopicPartition(topic: topic, partition: $0) }
    }
    var result: [TopicPartition: (committed: Int64?, end: Int64)] = [:]
    let committed = try consumer.committed(partitions, timeoutMs: timeoutMs)
    for entry in committed {
        let end = try consumer.watermarkOffsets(topic: entry.topic, partition: entry.partition, timeoutMs: timeoutMs).high
        result[entry.topicPartition] = (committed: entry.offset >= 0 ? entry.offset : nil, end: end)
    }
    return result
}
