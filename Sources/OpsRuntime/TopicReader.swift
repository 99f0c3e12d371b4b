import Kafka
import Logging
import OpsModel

/// Reads a whole topic as it is now: every partition from the oldest retained message to the current end.
/// Joins no group and commits nothing.
public enum TopicReader {
    public static func readAll(client: KafkaClientConfig, topic: String, logger: Logger, timeoutMs: Int32 = 30_000) throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "topic-reader"), logger: logger)
        defer { consumer.close() }
        let n = Int32(try consumer.partitionCount(topic: topic))
        var remaining = [Int32: Int64]()
        var assign = [TopicPartitionOffset]()
        for p in 0..<n {
            let w = try consumer.watermarkOffsets(topic: topic, partition: p)
            if w.high > w.low { remaining[p] = w.high }
            assign.append(TopicPartitionOffset(topic: topic, partition: p, offset: KafkaOffset.beginning))
        }
        guard !remaining.isEmpty else { return [] }
        try consumer.assign(assign)
        return try drain(consumer, to: remaining, topic: topic, timeoutMs: timeoutMs)
    }

    /// One partition from `offset` to its current end (what a restore reads of the snapshot topic).
    public static func read(client: KafkaClientConfig, topic: String, partition: Int32, from offset: Int64, logger: Logger,
                            timeoutMs: Int32 = 30_000) throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "topic-reader"), logger: logger)
        defer { consumer.close() }
        let end = try consumer.watermarkOffsets(topic: topic, partition: partition).high
        guard end > offset else { return [] }
        try consumer.assign([TopicPartitionOffset(topic: topic, partition: partition, offset: offset)])
        return try drain(consumer, to: [partition: end], topic: topic, timeoutMs: timeoutMs)
    }

    /// Polls until every partition in `ends` has been read up to its end offset.
    private static func drain(_ consumer: KafkaConsumer, to ends: [Int32: Int64], topic: String, timeoutMs: Int32) throws -> [KafkaMessage] {
        var remaining = ends
        var out = [KafkaMessage]()
        var idle: Int32 = 0
        while !remaining.isEmpty {
            guard let m = try consumer.poll(timeoutMs: 100) else {
                idle += 100
                if idle > timeoutMs { throw KafkaError(code: -185, message: "timed out reading \(topic): partitions \(remaining.keys.sorted()) not read to their end") }
                continue
            }
            idle = 0
            out.append(m)
            if let end = remaining[m.partition], m.offset + 1 >= end { remaining[m.partition] = nil }
        }
        return out
    }

    /// The envelopes of a topic, decoded (what does not decode is skipped), watermarks left out.
    public static func envelopes(client: KafkaClientConfig, topic: String, logger: Logger) throws -> [AnyEnvelope] {
        let decoder = Topics.decoder(for: topic)
        return try readAll(client: client, topic: topic, logger: logger).compactMap { m in
            guard let e = try? decoder.decode(m.value), !(e.payload is Watermark) else { return nil }
            return e
        }
    }
}
