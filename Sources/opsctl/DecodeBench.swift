import Foundation
import OpsModel
import OpsRuntime
import Pipeline

/// How fast a service turns a message's bytes into a validated envelope (`EnvelopeDecoder`: Foundation's JSONDecoder,
/// option chains read straight from their bytes by `ChainWireDecoding`):
/// every service that reads option chains decodes each one, the largest messages of the pipeline, so this is much of
/// what a Kafka service spends its CPU on. No goal of its own; it explains the end-to-end figures.
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
        var lines = [String]()
        for (label, envelope) in [("option chain", chain), ("bar", bar), ("watermark", watermark)] {
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
        return lines
    }
}
