import Foundation
import OpsModel
import OpsRuntime
import Pipeline

/// How fast a service turns a message's bytes into a validated envelope (`EnvelopeDecoder`) and an envelope into bytes:
/// the messages every minute carries (option chains, bars, feature vectors, watermarks) are read and written straight
/// from their bytes by `DirectWire`, the rest through Foundation's JSONDecoder and JSONEncoder. Each bar is decoded by
/// three services and each feature vector by two, so this is much of what a Kafka service spends its CPU on. No goal of
/// its own; it explains the end-to-end and latency figures.
enum DecodeBench {
    static let section = BenchSection(
        name: "decode",
        summary: "EnvelopeDecoder (parse, check, validate) on the synthetic market's messages as the feed publishes them, one core",
        run: run)

    static func run(quick: Bool) throws -> [String] {
        var spec = MarketSourceSpec()
        spec.tickers = "1"
        spec.sessions = 1
        spec.ivHistoryDays = 5
        let events = try spec.load().events
        func sample(_ topic: String) -> AnyEnvelope? { events.first { $0.topic == topic && $0.envelope != nil }?.envelope }
        guard let chain = sample(Topics.chains), let bar = sample(Topics.bars) else { return ["no chain or bar in the synthetic market"] }
        let watermark = Envelope(id: Watermark.id(producer: "market-feed", topic: Topics.bars, partition: 0, time: bar.eventTime),
                                 eventTime: bar.eventTime, causationId: nil, source: "market-feed",
                                 payload: Watermark(producer: "market-feed", covers: [.init(topic: "source:market-feed", partitions: [0], of: 1)]))
            .erased()
        let seconds = quick ? 0.2 : 2
        let features = Envelope(id: "features-bench", eventTime: bar.eventTime, causationId: bar.id, source: "feature-computer",
                                payload: Self.features(bar.payload as! Bar)).erased()
        var lines = [String]()
        for (label, envelope) in [("option chain", chain), ("bar", bar), ("feature vector", features), ("watermark", watermark)] {
            let bytes = try envelope.encoded()
            let decoder = EnvelopeDecoder(accepting: [type(of: envelope.payload), Watermark.self])
            let m = try Bench.measure(seconds: seconds) {
                let e = try decoder.decode(bytes)
                Sink.value += Double(e.eventTime.ms & 1)
                return 1
            }
            var detail = "\(Bench.grouped(Double(bytes.count))) B"
            if let c = envelope.payload as? OptionChain { detail += ", \(c.contracts.count) contracts" }
            lines.append(Bench.line("\(label) decodes/s", Bench.grouped(m.perSecond)) + "   (\(Bench.fixed(m.nanosecondsPerOperation / 1000, 1)) µs each; \(detail))")
        }
        let chainBytes = try chain.encoded()
        let fingerprint = Bench.measure(seconds: seconds) {
            Sink.value += Double(RecentIDs.fingerprintIgnoringProducedAt(chainBytes) & 1)
            return 1
        }
        lines.append(Bench.line("option chain fingerprints/s", Bench.grouped(fingerprint.perSecond))
            + "   (\(Bench.fixed(fingerprint.nanosecondsPerOperation / 1000, 1)) µs each: the duplicate check of every message read)")
        for (label, envelope) in [("option chain", chain), ("bar", bar), ("feature vector", features)] {
            let m = try Bench.measure(seconds: seconds) {
                Sink.value += Double(try envelope.encoded().count & 1)
                return 1
            }
            lines.append(Bench.line("\(label) encodes/s", Bench.grouped(m.perSecond)) + "   (\(Bench.fixed(m.nanosecondsPerOperation / 1000, 1)) µs each)")
        }
        return lines
    }

    /// A feature vector with every field set, as the feature-computer writes one mid-session.
    static func features(_ bar: Bar) -> FeatureVector {
        FeatureVector(ticker: bar.ticker, interval: bar.interval, sessionDate: CivilDate(year: 2024, month: 3, day: 4), sessionBarIndex: 95,
                      gapMinutes: nil, bar: bar, sma20: bar.close * 0.999, distanceSma20: 0.0010010010010009, sma20Slope: 0.000213,
                      slopeLookback: 5, volumeRatio: 1.2345678901234, close5mAgo: bar.close * 0.998, close15mAgo: bar.close * 1.001,
                      ret1m: 0.00012, ret5m: -0.0020040080160321, ret15m: 0.00099, atr14: 0.4321, sentimentScore: 0.25,
                      sentimentTime: bar.start, atmIv: 0.1834, chainTime: bar.start, ivPercentile: 42.5, ivRank: 37.25)
    }
}
