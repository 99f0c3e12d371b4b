import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime
import Testing

/// What a source writes, in order, read back from librdkafka's mock cluster: each minute's data and its watermark;
/// when paced, a watermark just before the next minute as soon as the wait starts.
@Suite("Source publisher", .serialized)
struct SourcePublisherTests {
    static let t0 = Timestamp(iso8601: "2024-03-04T15:00:00Z")!
    func before(_ t: Timestamp) -> Timestamp { Timestamp(ms: t.ms - 1) }

    /// Publishes bars of SPY and QQQ at `minutes` past t0 and returns partition 0 and 1 of the bars topic as
    /// (kind, event time) in offset order: "bar" or "wm".
    static func publish(minutes: [Int], pacing: Pacing, paceFrom: Timestamp?) throws -> (stats: PublishStats, partitions: [[(String, Timestamp)]]) {
        var quiet = Logger(label: "source-test")
        quiet.logLevel = .critical
        let cluster = try MockCluster(logger: quiet)
        defer { cluster.close() }
        try cluster.createTopic(Topics.bars, partitions: 2)
        let client = KafkaClientConfig(brokers: cluster.bootstrapServers, clientId: "feed")
        let publisher = try SourcePublisher(client: client, sourceName: "market-feed", topics: [Topics.bars], logger: quiet)
        let items = try minutes.flatMap { m in
            try ["SPY", "QQQ"].map { ticker in
                let bar = Bar(ticker: ticker, start: t0 + Minutes(m - 1), open: 1, high: 1, low: 1, close: 1, volume: 1)
                return try SourceItem(topic: Topics.bars, envelope: MarketEvent.bar(bar).envelope(source: "market-feed"), producedAt: nil)
            }
        }
        let stats = try publisher.publish(items, pacing: pacing, paceFrom: paceFrom)
        let reader = try KafkaConsumer(config: KafkaConsumerConfig(client: KafkaClientConfig(brokers: cluster.bootstrapServers, clientId: "reader"),
                                                                   groupId: "reader"), logger: quiet)
        defer { reader.close() }
        try reader.assign((0..<2).map { TopicPartitionOffset(topic: Topics.bars, partition: $0, offset: KafkaOffset.beginning) })
        let expected = minutes.count * 2 + stats.watermarks
        var read = [KafkaMessage]()
        for _ in 0..<3000 where read.count < expected {   // up to 5 minutes on a busy machine
            read += try reader.pollBatch(max: 1000, timeoutMs: 100)
        }
        let decoder = Topics.decoder(for: Topics.bars)
        let parts = try (0..<Int32(2)).map { p in
            try read.filter { $0.partition == p }.sorted { $0.offset < $1.offset }.map { m in
                let e = try decoder.decode(m.value)
                return (e.payload is Watermark ? "wm" : "bar", e.eventTime)
            }
        }
        return (stats, parts)
    }

    @Test("paced: the wait for each minute starts with a watermark just before it; no datum ever comes behind a watermark")
    func pacedPromisesTheGapEarly() throws {
        let (stats, parts) = try Self.publish(minutes: [1, 2, 4], pacing: .factor(6000), paceFrom: nil)
        let t = [1, 2, 4].map { Self.t0 + Minutes($0) }
        #expect(stats.watermarks == 2 * (3 + 2))
        for p in parts {
            #expect(p.filter { $0.0 == "wm" }.map(\.1) == [t[0], before(t[1]), t[1], before(t[2]), t[2]])
            var promised = Timestamp.distantPast
            for (kind, time) in p {
                if kind == "wm" { promised = max(promised, time) } else { #expect(time > promised, "a bar at \(time) behind the watermark \(promised)") }
            }
        }
        #expect(parts.map { $0.filter { $0.0 == "bar" }.count }.reduce(0, +) == 6)
    }

    @Test("at full speed, and before --pace-from, only each minute's own watermark")
    func unpacedWritesOneWatermarkAMinute() throws {
        let full = try Self.publish(minutes: [1, 2, 3], pacing: .max, paceFrom: nil)
        #expect(full.partitions.allSatisfy { $0.filter { $0.0 == "wm" }.map(\.1) == [1, 2, 3].map { Self.t0 + Minutes($0) } })
        let from = try Self.publish(minutes: [1, 2, 3, 4], pacing: .factor(6000), paceFrom: Self.t0 + Minutes(2))
        let t = { (m: Int) in Self.t0 + Minutes(m) }
        #expect(from.partitions.allSatisfy { $0.filter { $0.0 == "wm" }.map(\.1) == [t(1), t(2), before(t(3)), t(3), before(t(4)), t(4)] },
                "minutes 1 and 2 go at full speed; the wait before 3 and 4 starts with the early watermark")
    }
}
