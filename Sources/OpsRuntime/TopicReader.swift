import Foundation
import Synchronization
import Kafka
import Logging
import OpsModel

/// Reads a whole topic as it is now: every partition from the oldest retained message to the current end.
/// Joins no group and commits nothing.
public enum TopicReader {
    public static func readAll(client: KafkaClientConfig, topic: String, logger: Logger, timeoutMs: Int32 = 30_000) throws -> [KafkaMessage] {
        try readAll(client: client, topics: [topic], logger: logger, timeoutMs: timeoutMs)[topic] ?? []
    }

    /// Several whole topics with one consumer (a consumer per topic costs a connection, metadata and a close each:
    /// most of the time of reading a short run's topics). Keyed by topic; a topic without messages maps to [].
    public static func readAll(client: KafkaClientConfig, topics: [String], logger: Logger, timeoutMs: Int32 = 30_000) throws -> [String: [KafkaMessage]] {
        let consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "topic-reader"), logger: logger)
        defer { consumer.close() }
        // Each query is a round trip of its own (~40 ms on the embedded broker): asked all at once.
        let names = Array(Set(topics)).sorted()
        let counts = try concurrently(names) { try Int32(consumer.partitionCount(topic: $0)) }
        let parts = zip(names, counts).flatMap { topic, n in (0..<n).map { TopicPartition(topic: topic, partition: $0) } }
        let marks = try concurrently(parts) { try consumer.watermarkOffsets(topic: $0.topic, partition: $0.partition) }
        var ends = [TopicPartition: Int64]()
        for (tp, w) in zip(parts, marks) where w.high > w.low { ends[tp] = w.high }
        var out = Dictionary(uniqueKeysWithValues: names.map { ($0, [KafkaMessage]()) })
        guard !ends.isEmpty else { return out }
        try consumer.assign(parts.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: KafkaOffset.beginning) })
        for m in try drain(consumer, to: ends, timeoutMs: timeoutMs) { out[m.topic, default: []].append(m) }
        return out
    }

    /// `body` over every item at once, results in order; the first error is thrown.
    private static func concurrently<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) throws -> R) throws -> [R] {
        // A thread each: the work is waiting, and a dispatch queue would run only as many as there are cores.
        let results = Mutex([Result<R, Error>?](repeating: nil, count: items.count))
        let done = DispatchGroup()
        for i in items.indices {
            done.enter()
            Thread {
                let r = Result { try body(items[i]) }
                results.withLock { $0[i] = r }
                done.leave()
            }.start()
        }
        done.wait()
        return try results.withLock { $0 }.map { try $0!.get() }
    }

    /// One partition from `offset` to its current end (what a restore reads of the snapshot topic).
    public static func read(client: KafkaClientConfig, topic: String, partition: Int32, from offset: Int64, logger: Logger,
                            timeoutMs: Int32 = 30_000) throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "topic-reader"), logger: logger)
        defer { consumer.close() }
        let end = try consumer.watermarkOffsets(topic: topic, partition: partition).high
        guard end > offset else { return [] }
        try consumer.assign([TopicPartitionOffset(topic: topic, partition: partition, offset: offset)])
        return try drain(consumer, to: [TopicPartition(topic: topic, partition: partition): end], timeoutMs: timeoutMs)
    }

    /// Polls until every partition in `ends` has been read up to its end offset; the messages in the order polled.
    private static func drain(_ consumer: KafkaConsumer, to ends: [TopicPartition: Int64], timeoutMs: Int32) throws -> [KafkaMessage] {
        var remaining = ends
        var out = [KafkaMessage]()
        var idle: Int32 = 0
        while !remaining.isEmpty {
            let batch = try consumer.pollBatch(max: 5000, timeoutMs: 100)
            guard !batch.isEmpty else {
                idle += 100
                if idle > timeoutMs {
                    throw KafkaError(code: -185, message: "timed out reading \(remaining.keys.map { "\($0.topic)/\($0.partition)" }.sorted()): not read to their end")
                }
                continue
            }
            idle = 0
            for m in batch {
                let tp = TopicPartition(topic: m.topic, partition: m.partition)
                guard let end = remaining[tp] else { continue }
                out.append(m)
                if m.offset + 1 >= end { remaining[tp] = nil }
            }
        }
        return out
    }

    /// The envelopes of a topic, decoded (what does not decode is skipped), watermarks left out.
    public static func envelopes(client: KafkaClientConfig, topic: String, logger: Logger) throws -> [AnyEnvelope] {
        decoded(try readAll(client: client, topic: topic, logger: logger), topic: topic)
    }

    /// The envelopes of several topics read with one consumer (as `envelopes(client:topic:logger:)` each).
    public static func envelopes(client: KafkaClientConfig, topics: [String], logger: Logger) throws -> [String: [AnyEnvelope]] {
        var out = [String: [AnyEnvelope]]()
        for (topic, messages) in try readAll(client: client, topics: topics, logger: logger) { out[topic] = decoded(messages, topic: topic) }
        return out
    }

    private static func decoded(_ messages: [KafkaMessage], topic: String) -> [AnyEnvelope] {
        let decoder = Topics.decoder(for: topic)
        return messages.compactMap { m in
            guard let e = try? decoder.decode(m.value), !(e.payload is Watermark) else { return nil }
            return e
        }
    }
}
