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
        try TopicFollower(client: client, topics: topics, following: false, logger: logger).finish(timeoutMs: timeoutMs)
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
    static func drain(_ consumer: KafkaConsumer, to ends: [TopicPartition: Int64], timeoutMs: Int32) throws -> [KafkaMessage] {
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
        decoded(try readAll(client: client, topics: topics, logger: logger))
    }

    /// Each topic's messages decoded (as `envelopes`).
    static func decoded(_ messages: [String: [KafkaMessage]]) -> [String: [AnyEnvelope]] {
        messages.reduce(into: [:]) { out, entry in out[entry.key] = decoded(entry.value, topic: entry.key) }
    }

    private static func decoded(_ messages: [KafkaMessage], topic: String) -> [AnyEnvelope] {
        let decoder = Topics.decoder(for: topic)
        return messages.compactMap { m in
            guard let e = try? decoder.decode(m.value), !(e.payload is Watermark) else { return nil }
            return e
        }
    }
}

/// Whole topics read from their oldest retained message while they are still written, on a thread of its own, so
/// that reading them to their end (`finish`) costs only what came last: `opsctl up` reads its summary's topics so
/// during the run, decoding them as they come (`keep`). Joins no group and commits nothing.
public final class TopicFollower<Item: Sendable>: @unchecked Sendable {
    private let consumer: KafkaConsumer
    private let parts: [TopicPartition]
    /// What a message becomes (nil: left out).
    private let keep: @Sendable (KafkaMessage) -> Item?
    /// What the thread has kept and where each partition stands; the error that stopped it.
    private let read: Mutex<(items: [String: [Item]], next: [TopicPartition: Int64], error: (any Error)?)>
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let following: Bool

    /// `following: false` reads nothing before `finish` (no thread).
    public init(client: KafkaClientConfig, topics: [String], following: Bool = true, logger: Logger,
                keep: @escaping @Sendable (KafkaMessage) -> Item?) throws {
        // While following, an empty fetch waits 20 ms at the broker rather than the services' 3 (fewer idle round
        // trips competing with them); the wait at `finish` is at most that.
        var properties = KafkaConsumerConfig.defaultProperties
        if following { properties["fetch.wait.max.ms"] = "20" }
        consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "topic-reader", properties: properties), logger: logger)
        // Each query is a round trip of its own (~40 ms on the embedded broker): asked all at once.
        let names = Array(Set(topics)).sorted()
        let counts = try eachOnItsOwnThread(names) { [consumer] in try Int32(consumer.partitionCount(topic: $0)) }
        parts = TopicPartition.all(Array(zip(names, counts)))
        read = Mutex((Dictionary(uniqueKeysWithValues: names.map { ($0, [Item]()) }), [:], nil))
        self.keep = keep
        self.following = following
        try consumer.assign(parts.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: KafkaOffset.beginning) })
        guard following else { return }
        Thread { [self] in
            while !stopping.load(ordering: .acquiring) {
                do { try take(consumer.pollBatch(max: 5000, timeoutMs: 100)) } catch {
                    read.withLock { $0.error = error }
                    break
                }
            }
            stopped.signal()
        }.start()
    }

    private func take(_ batch: [KafkaMessage]) {
        let kept = batch.map { ($0, keep($0)) }
        read.withLock { r in
            for (m, item) in kept {
                if let item { r.items[m.topic, default: []].append(item) }
                r.next[TopicPartition(topic: m.topic, partition: m.partition)] = m.offset + 1
            }
        }
    }

    /// Everything kept up to each partition's end as it is now, keyed by topic (a topic without any maps to []).
    public func finish(timeoutMs: Int32 = 30_000) throws -> [String: [Item]] {
        defer { consumer.close() }
        if following {
            stopping.store(true, ordering: .releasing)
            stopped.wait()
        }
        if let error = read.withLock({ $0.error }) { throw error }
        let next = read.withLock { $0.next }
        let marks = try eachOnItsOwnThread(parts) { [consumer] in try consumer.watermarkOffsets(topic: $0.topic, partition: $0.partition) }
        var ends = [TopicPartition: Int64]()
        for (tp, w) in zip(parts, marks) where w.high > max(w.low, next[tp] ?? 0) { ends[tp] = w.high }
        take(try TopicReader.drain(consumer, to: ends, timeoutMs: timeoutMs))
        return read.withLock { $0.items }
    }
}

extension TopicFollower where Item == KafkaMessage {
    /// Keeps the messages as they are.
    public convenience init(client: KafkaClientConfig, topics: [String], following: Bool = true, logger: Logger) throws {
        try self.init(client: client, topics: topics, following: following, logger: logger) { $0 }
    }
}

extension TopicFollower where Item == AnyEnvelope {
    /// Keeps the envelopes (what does not decode and watermarks left out), decoded as they come.
    public static func envelopes(client: KafkaClientConfig, topics: [String], logger: Logger) throws -> TopicFollower<AnyEnvelope> {
        let decoders = Dictionary(uniqueKeysWithValues: Set(topics).map { ($0, Topics.decoder(for: $0)) })
        return try TopicFollower(client: client, topics: topics, logger: logger) { m in
            guard let e = try? decoders[m.topic]?.decode(m.value), !(e.payload is Watermark) else { return nil }
            return e
        }
    }
}
