import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime
import Testing

/// `opsctl up` reads its summary's topics while the run goes: what is read then and what `finish` reads after must
/// together be every message once, in offset order per partition, against librdkafka's mock cluster.
@Suite("Topic follower")
struct TopicFollowerTests {
    /// A mock cluster with `topics`, a producer to it and a reader's client settings.
    final class Cluster {
        let logger: Logger
        let mock: MockCluster
        let producer: KafkaProducer
        var client: KafkaClientConfig { KafkaClientConfig(brokers: mock.bootstrapServers, clientId: "follower") }

        init(_ topics: [(name: String, partitions: Int32)]) throws {
            var quiet = Logger(label: "follower-test")
            quiet.logLevel = .critical
            logger = quiet
            mock = try MockCluster(logger: quiet)
            try mock.createTopics(topics)
            producer = try KafkaProducer(config: KafkaProducerConfig(client: KafkaClientConfig(brokers: mock.bootstrapServers, clientId: "writer")), logger: quiet)
        }

        deinit {
            producer.close()
            mock.close()
        }
    }

    static func records(_ topic: String, _ range: Range<Int>) -> [ProducerRecord] {
        range.map { i in ProducerRecord(topic: topic, key: Array("k\(i % 5)".utf8), value: Array("m\(i)".utf8)) }
    }

    @Test("what was read while following and what finish reads after are every message once, in order per partition")
    func followedThenFinishedReadsEverythingOnce() throws {
        let cluster = try Cluster([(name: "a", partitions: 3), (name: "b", partitions: 2), (name: "empty", partitions: 2)])
        let (producer, client, quiet) = (cluster.producer, cluster.client, cluster.logger)
        defer { withExtendedLifetime(cluster) {} }
        _ = try producer.send(Self.records("a", 0..<300) + Self.records("b", 0..<50))
        let follower = try TopicFollower(client: client, topics: ["a", "b", "empty"], logger: quiet)
        _ = try producer.send(Self.records("a", 300..<700) + Self.records("b", 50..<120))
        let read = try follower.finish()
        #expect(Set(read.keys) == ["a", "b", "empty"])
        #expect(read["empty"]?.isEmpty == true)
        for (topic, count) in [("a", 700), ("b", 120)] {
            let messages = read[topic] ?? []
            #expect(messages.count == count, "\(topic): every message once")
            #expect(Set(messages.map { String(decoding: $0.value, as: UTF8.self) }) == Set((0..<count).map { "m\($0)" }))
            for p in Set(messages.map(\.partition)) {
                let offsets = messages.filter { $0.partition == p }.map(\.offset)
                #expect(offsets == Array(offsets.first!..<(offsets.first! + Int64(offsets.count))), "\(topic)/\(p) in offset order, no gap")
            }
        }
        // Not following: the same as reading the topics whole.
        let whole = try TopicReader.readAll(client: client, topics: ["a", "b"], logger: quiet)
        #expect(whole["a"]?.count == 700 && whole["b"]?.count == 120)
    }

    @Test("the envelopes follower decodes as it goes and leaves out watermarks and what does not decode")
    func envelopesLeaveOutWatermarksAndGarbage() throws {
        let cluster = try Cluster([(name: Topics.bars, partitions: 2)])
        let (producer, client, quiet) = (cluster.producer, cluster.client, cluster.logger)
        defer { withExtendedLifetime(cluster) {} }
        let follower = try TopicFollower.envelopes(client: client, topics: [Topics.bars], logger: quiet)
        let t = Timestamp(iso8601: "2024-03-04T15:00:00Z")!
        let bar = Bar(ticker: "SPY", start: t, open: 1, high: 1, low: 1, close: 1, volume: 1)
        let item = try SourceItem(topic: Topics.bars, envelope: MarketEvent.bar(bar).envelope(source: "market-feed"), producedAt: nil)
        let marks = SourceWatermarks(producer: "market-feed", partitions: [Topics.bars: 2]).records(at: t, topics: [Topics.bars])
        _ = try producer.send([ProducerRecord(topic: Topics.bars, key: Array(item.key.utf8), value: item.value)] + marks
                              + [ProducerRecord(topic: Topics.bars, key: Array("SPY".utf8), value: Array("not json".utf8))])
        let kept = try follower.finish()[Topics.bars] ?? []
        #expect(kept.count == 1, "a bar, two watermarks and a line of garbage: the bar kept")
        #expect((kept.first?.payload as? Bar)?.ticker == "SPY")
    }
}
