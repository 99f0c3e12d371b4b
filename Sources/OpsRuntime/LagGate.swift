import Foundation
import Kafka
import Logging

/// Holds a source back while its consumers lag: before each batch, every named consumer group must have committed
/// within `maxLag` messages of what the source has written on each partition of the topics it reads.
///
/// Without it a source at full speed runs arbitrarily far ahead of a slow service, and a broker that keeps only so
/// much per partition (the embedded one: about 5 MiB) drops data before that service has read it. The lag counts
/// messages the source itself wrote (it knows their offsets from the acknowledgements), so a check costs one
/// committed-offsets request per group.
public final class LagGate {
    struct Group {
        var id: String
        var topics: Set<String>
        var consumer: KafkaConsumer
    }

    let groups: [Group]
    public let maxLag: Int64
    let logger: Logger
    private var ends: [TopicPartition: Int64] = [:]
    public private(set) var waits = 0

    /// `groups`: each consumer group with the topics it reads.
    public init(client: KafkaClientConfig, groups: [(String, [String])], maxLag: Int64, logger: Logger) throws {
        self.groups = try groups.map { id, topics in
            Group(id: id, topics: Set(topics), consumer: try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: id), logger: logger))
        }
        self.maxLag = maxLag
        self.logger = logger
    }

    /// Notes acknowledged writes.
    public func wrote(_ reports: [DeliveryReport]) {
        for r in reports { ends[TopicPartition(topic: r.topic, partition: r.partition), default: 0] = max(ends[TopicPartition(topic: r.topic, partition: r.partition)] ?? 0, r.offset + 1) }
    }

    /// The partitions (and how far behind) where a group lags more than allowed; empty when the source may go on.
    public func behind() throws -> [String] {
        var out = [String]()
        for g in groups {
            let parts = ends.keys.filter { g.topics.contains($0.topic) }.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
            guard !parts.isEmpty else { continue }
            for c in try g.consumer.committed(parts, timeoutMs: 10_000) {
                let end = ends[c.topicPartition] ?? 0
                let lag = end - max(c.offset, 0)
                if lag > maxLag { out.append("\(g.id)@\(c.topic)/\(c.partition) \(lag) behind") }
            }
        }
        return out
    }

    /// Blocks until no group lags more than allowed (or `stop`); transient Kafka errors are retried.
    public func wait(stop: StopFlag?) throws {
        var logged = Date.distantPast
        while stop?.isStopped != true {
            let lagging: [String]
            do { lagging = try behind() } catch let e as KafkaError where e.action != .fatal {
                logger.warning("consumer lag check failed; retrying", metadata: ["kafka.error": .string(e.description)])
                Thread.sleep(forTimeInterval: 0.1)
                continue
            }
            if lagging.isEmpty { return }
            waits += 1
            if Date().timeIntervalSince(logged) > 10 {
                logger.info("waiting for consumers", metadata: ["lag": .string(lagging.prefix(4).joined(separator: "; "))])
                logged = Date()
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    public func close() { for g in groups { g.consumer.close() } }
}
