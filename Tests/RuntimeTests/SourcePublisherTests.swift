import Foundation
import Kafka
import Logging
import OpsModel
@testable import OpsRuntime
import Testing

/// What a source writes, in order, read back from librdkafka's mock cluster: each minute's data and its watermark;
/// when paced, a watermark just before the next minute as soon as the wait starts.
@Suite("Source publisher", .serialized)
struct SourcePublisherTests {
    static let t0 = Timestamp(iso8601: "2024-03-04T15:00:00Z")!
    func before(_ t: Timestamp) -> Timestamp { Timestamp(ms: t.ms - 1) }

    static let tickers = ["SPY", "QQQ"]
    /// Three partitions for two tickers: at least one gets no data.
    static let partitionCount: Int32 = 3
    /// The partitions that carry bars (librdkafka's default partitioner on the ticker).
    static let withData = Set(tickers.map { KafkaPartitioner(name: KafkaPartitioner.librdkafkaDefault)!.partition(key: Array($0.utf8), count: partitionCount) })

    /// Publishes bars of SPY and QQQ at `minutes` past t0 and returns each partition of the bars topic as
    /// (kind, event time, ticker) in offset order: kind "bar" or "wm".
    static func publish(minutes: [Int], pacing: Pacing, paceFrom: Timestamp?) throws -> (stats: PublishStats, partitions: [[(String, Timestamp)]]) {
        let (stats, parts) = try publishWithTickers(minutes: minutes, pacing: pacing, paceFrom: paceFrom)
        return (stats, parts.map { $0.map { ($0.0, $0.1) } })
    }

    static func publishWithTickers(minutes: [Int], pacing: Pacing, paceFrom: Timestamp?) throws -> (stats: PublishStats, partitions: [[(String, Timestamp, String?)]]) {
        var quiet = Logger(label: "source-test")
        quiet.logLevel = .critical
        let cluster = try MockCluster(logger: quiet)
        defer { cluster.close() }
        try cluster.createTopic(Topics.bars, partitions: partitionCount)
        let client = KafkaClientConfig(brokers: cluster.bootstrapServers, clientId: "feed")
        let publisher = try SourcePublisher(client: client, sourceName: "market-feed", topics: [Topics.bars], logger: quiet)
        let items = try minutes.flatMap { m in
            try tickers.map { ticker in
                let bar = Bar(ticker: ticker, start: t0 + Minutes(m - 1), open: 1, high: 1, low: 1, close: 1, volume: 1)
                return try SourceItem(topic: Topics.bars, envelope: MarketEvent.bar(bar).envelope(source: "market-feed"), producedAt: nil)
            }
        }
        let stats = try publisher.publish(items, pacing: pacing, paceFrom: paceFrom)
        let reader = try KafkaConsumer(config: KafkaConsumerConfig(client: KafkaClientConfig(brokers: cluster.bootstrapServers, clientId: "reader"),
                                                                   groupId: "reader"), logger: quiet)
        defer { reader.close() }
        try reader.assign((0..<partitionCount).map { TopicPartitionOffset(topic: Topics.bars, partition: $0, offset: KafkaOffset.beginning) })
        let expected = minutes.count * 2 + stats.watermarks
        var read = [KafkaMessage]()
        for _ in 0..<3000 where read.count < expected {   // up to 5 minutes on a busy machine
            read += try reader.pollBatch(max: 1000, timeoutMs: 100)
        }
        let decoder = Topics.decoder(for: Topics.bars)
        let parts = try (0..<partitionCount).map { p in
            try read.filter { $0.partition == p }.sorted { $0.offset < $1.offset }.map { m in
                let e = try decoder.decode(m.value)
                return (e.payload is Watermark ? "wm" : "bar", e.eventTime, (e.payload as? Bar)?.ticker)
            }
        }
        return (stats, parts)
    }

    @Test("paced: the wait for each minute starts with a watermark just before it where data comes, through it where none does; no datum ever comes behind a watermark")
    func pacedPromisesTheGapEarly() throws {
        let (stats, parts) = try Self.publishWithTickers(minutes: [1, 2, 4], pacing: .factor(6000), paceFrom: nil)
        let t = [1, 2, 4].map { Self.t0 + Minutes($0) }
        #expect(!Self.withData.isEmpty && Self.withData.count < Int(Self.partitionCount), "both kinds of partition are tested")
        #expect(stats.watermarks == 5 * Self.withData.count + 3 * (Int(Self.partitionCount) - Self.withData.count))
        for (p, messages) in parts.enumerated() {
            // A partition with data is promised just short of each minute while the feed waits, then the minute itself
            // after its bars; one without is promised each whole minute at once, and nothing is written for it at
            // the minute itself (consumers need not wait for it then).
            let expected = Self.withData.contains(Int32(p)) ? [t[0], before(t[1]), t[1], before(t[2]), t[2]] : t
            #expect(messages.filter { $0.0 == "wm" }.map(\.1) == expected, "partition \(p)")
            var promised = Timestamp.distantPast
            for (kind, time, ticker) in messages {
                if kind == "wm" { promised = max(promised, time) } else {
                    #expect(time > promised, "a bar at \(time) behind the watermark \(promised)")
                    let home = KafkaPartitioner(name: KafkaPartitioner.librdkafkaDefault)!.partition(key: Array(ticker!.utf8), count: Self.partitionCount)
                    #expect(home == Int32(p), "\(ticker!) lands where the default partitioner puts it")
                }
            }
        }
        #expect(parts.map { $0.filter { $0.0 == "bar" }.count }.reduce(0, +) == 6)
    }

    @Test("at full speed each partition is promised up to just before its next datum (to the end when none is left): a watermark only with data; no datum behind one")
    func unpacedPromisesUpToTheNextDatum() throws {
        let full = try Self.publish(minutes: [1, 2, 4, 5], pacing: .max, paceFrom: nil)
        let t = { (m: Int) in Self.t0 + Minutes(m) }
        #expect(full.stats.watermarks == 4 * Self.withData.count + (Int(Self.partitionCount) - Self.withData.count))
        for (p, messages) in full.partitions.enumerated() {
            let expected = Self.withData.contains(Int32(p)) ? [before(t(2)), before(t(4)), before(t(5)), t(5)] : [t(5)]
            #expect(messages.filter { $0.0 == "wm" }.map(\.1) == expected, "partition \(p)")
            var promised = Timestamp.distantPast
            for (kind, time) in messages {
                if kind == "wm" { promised = max(promised, time) } else { #expect(time > promised, "a bar at \(time) behind the watermark \(promised)") }
            }
        }
    }

    @Test("before --pace-from, each minute's own watermark; then the wait before each minute starts with the early one")
    func beforePaceFromOneWatermarkAMinute() throws {
        let from = try Self.publish(minutes: [1, 2, 3, 4], pacing: .factor(6000), paceFrom: Self.t0 + Minutes(2))
        let t = { (m: Int) in Self.t0 + Minutes(m) }
        for (p, messages) in from.partitions.enumerated() {
            let expected = Self.withData.contains(Int32(p)) ? [t(1), t(2), before(t(3)), t(3), before(t(4)), t(4)] : [t(1), t(2), t(3), t(4)]
            #expect(messages.filter { $0.0 == "wm" }.map(\.1) == expected,
                    "minutes 1 and 2 go at full speed; the wait before 3 and 4 starts with the early watermark (partition \(p))")
        }
    }
}

@Suite("Source publisher: a paced minute's order")
struct SourcePublisherOrderTests {
    @Test("small topics go first, each topic's records (so each partition's) in their order")
    func smallTopicsFirst() {
        func r(_ topic: String, _ p: Int32, _ size: Int, _ tag: UInt8) -> ProducerRecord {
            ProducerRecord(topic: topic, key: nil, value: [tag] + [UInt8](repeating: 0, count: size - 1), partition: p)
        }
        let records = [
            r(Topics.chains, 0, 20_000, 1), r(Topics.chains, 1, 19_000, 2), r(Topics.atmIv, 0, 200, 3), r(Topics.bars, 0, 340, 4),
            r(Topics.bars, 1, 340, 5), r(Topics.chains, 0, 250, 6), r(Topics.atmIv, 0, 240, 7), r(Topics.bars, 0, 250, 8),
        ]
        let out = SourcePublisher.smallTopicsFirst(records)
        #expect(out.map { $0.value[0] } == [3, 7, 4, 5, 8, 1, 2, 6], "ATM IVs (largest 240 B), bars (340 B), chains (20 KB)")
        #expect(Set(out.map { $0.value[0] }).count == records.count, "nothing lost or repeated")
    }
}
