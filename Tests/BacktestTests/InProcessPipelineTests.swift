import Foundation
import OpsModel
import OpsRuntime
import Pipeline
import PositionCore
import Testing

/// The in-process pipeline's ordering rule, on small cores: each sees its inputs in the canonical order (time, rank,
/// key, id) behind watermarks, whatever order they are produced in, and the declared service graph cannot stall.
@Suite("In-process pipeline")
struct InProcessPipelineTests {
    /// Echoes every input to its one output topic at the input's time (key and id kept), logging what it saw.
    struct Relay: StreamCore {
        var serviceName: String
        var inputTopics: [String]
        var outputTopics: [String]
        var causes: [String: [String: Int64]]?
        var log: [String] = []
        var outputCauses: [String: [String: Int64]] {
            causes ?? Dictionary(uniqueKeysWithValues: outputTopics.map { o in (o, Dictionary(uniqueKeysWithValues: inputTopics.map { ($0, Int64(0)) })) })
        }
        mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
            guard let s = message.payload as? SentimentScore else { return [] }
            log.append("\(topic):\(s.ticker)@\((message.eventTime.ms - InProcessPipelineTests.base) / 60_000)")
            if s.score < -0.99 { throw MessageError(.invalid, "refused by \(serviceName)") }
            return outputTopics.map { o in
                Emit(o, Envelope(id: "\(serviceName)-\(message.id)", eventTime: message.eventTime, causationId: message.id, source: serviceName,
                                 payload: s).erased())
            }
        }
        func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp { .distantPast }
        mutating func reset() { log = [] }
    }

    static let base: Int64 = 1_709_560_800_000

    static func score(_ ticker: String, minute: Int64, _ value: Double = 0.1) -> SourceEvent {
        let t = Timestamp(ms: base + minute * 60_000)
        let s = SentimentScore(ticker: ticker, score: value, source: "test")
        return SourceEvent(topic: Topics.sentiment, key: ticker, eventTime: t,
                           envelope: Envelope(id: s.id(at: t), eventTime: t, causationId: nil, source: "test", payload: s).erased())
    }

    static func logs(_ p: InProcessPipeline) -> [String: [String]] {
        var out = [String: [String]]()
        for (name, core) in p.coresForInspection { out[name] = (core as? Relay)?.log }
        return out
    }

    @Test("a core ranks same-time inputs: an earlier-ranked topic first, even when it is produced later in the round")
    func sameTimeRankOrder() throws {
        // a: sentiment → features; b reads features (rank 0) and sentiment (rank 1): at one time, features first.
        let a = Relay(serviceName: "a", inputTopics: [Topics.sentiment], outputTopics: [Topics.features])
        let b = Relay(serviceName: "b", inputTopics: [Topics.features, Topics.sentiment], outputTopics: [Topics.signals])
        let p = try InProcessPipeline(cores: [b, a], sourceTopics: [Topics.sentiment])
        for m in [Int64(0), 1] {
            p.publish(Self.score("QQQ", minute: m))
            p.publish(Self.score("AAPL", minute: m))
            try p.advanceSource(to: Self.score("A", minute: m).eventTime)
        }
        try p.finish()
        #expect(Self.logs(p)["b"] == [
            "strategy.features.v1:AAPL@0", "strategy.features.v1:QQQ@0",
            "market.sentiment.v1:AAPL@0", "market.sentiment.v1:QQQ@0",
            "strategy.features.v1:AAPL@1", "strategy.features.v1:QQQ@1",
            "market.sentiment.v1:AAPL@1", "market.sentiment.v1:QQQ@1",
        ])
        #expect(p.stats.emitted[Topics.signals] == 8)
    }

    @Test("nothing is handled before the source promises its time; the end leaves nothing pending")
    func waitsForTheWatermark() throws {
        let a = Relay(serviceName: "a", inputTopics: [Topics.sentiment], outputTopics: [Topics.features])
        let p = try InProcessPipeline(cores: [a], sourceTopics: [Topics.sentiment])
        p.publish(Self.score("SPY", minute: 5))
        #expect(p.stats.emitted.isEmpty, "no watermark yet")
        try p.advanceSource(to: Self.score("SPY", minute: 4).eventTime)
        #expect(p.stats.emitted.isEmpty, "the watermark is behind the event")
        try p.advanceSource(to: Self.score("SPY", minute: 5).eventTime)
        #expect(p.stats.emitted[Topics.features] == 1)
        try p.finish()
    }

    @Test("a refused input becomes a dead letter naming the service and the reason; duplicates are dropped once")
    func deadLettersAndDuplicates() throws {
        let a = Relay(serviceName: "a", inputTopics: [Topics.sentiment], outputTopics: [Topics.features])
        var options = InProcessPipeline.Options()
        options.record = true
        let p = try InProcessPipeline(cores: [a], sourceTopics: [Topics.sentiment], options: options)
        p.publish(Self.score("SPY", minute: 0, -1))
        p.publish(Self.score("QQQ", minute: 0))
        p.publish(Self.score("QQQ", minute: 0))
        try p.advanceSource(to: Self.score("SPY", minute: 0).eventTime)
        try p.finish()
        #expect(p.stats.duplicatesDropped == 1)
        let dl = try #require(p.recorded[Topics.deadLetter]?.first)
        let text = String(decoding: dl.bytes, as: UTF8.self)
        #expect(text.contains("\"service\":\"a\"") && text.contains("refused by a") && text.contains("\"topic\":\"market.sentiment.v1\""))
        #expect(p.recorded[Topics.features]?.count == 1)
    }

    @Test("a same-time cycle in the watermark graph is refused by name; the declared service graph has none")
    func watermarkGraphAdvances() throws {
        let a = Relay(serviceName: "a", inputTopics: [Topics.sentiment, Topics.signals], outputTopics: [Topics.features])
        let b = Relay(serviceName: "b", inputTopics: [Topics.features], outputTopics: [Topics.signals])
        #expect(throws: InProcessPipeline.Stalled.self) { try InProcessPipeline(cores: [a, b], sourceTopics: [Topics.sentiment]) }
        // A loop that is only state (not a cause) is fine: a's output comes from sentiment alone.
        var a2 = a
        a2.causes = [Topics.features: [Topics.sentiment: 0]]
        _ = try InProcessPipeline(cores: [a2, b], sourceTopics: [Topics.sentiment])
        // The real graph: every service's declared causes, with the market topics as the source.
        _ = try InProcessPipeline(cores: ServiceGraph.services.map(\.prototype), sourceTopics: Topics.marketSource)
    }

    @Test("the service graph is declared once: every input topic has a writer or is a source or a side topic")
    func graphIsClosed() throws {
        let sources = Set(Topics.marketSource)
        for service in ServiceGraph.services {
            for input in service.inputs {
                let spec = try #require(Topics.spec(input))
                #expect(sources.contains(input) || !spec.watermarked || !ServiceGraph.producers(of: input).isEmpty, "\(service.name) reads \(input)")
            }
        }
        #expect(ServiceGraph.producers(of: Topics.orders) == ["dispatcher", "position-manager"])
        // The topic table's writers (what consumers wait to hear from) are the graph's, topic by topic.
        for spec in Topics.all where spec.watermarked && !Topics.marketSource.contains(spec.name) {
            #expect(Set(spec.producers) == Set(ServiceGraph.producers(of: spec.name)), "\(spec.name)")
        }
        #expect(ServiceGraph.services.filter(\.scalable).map(\.name) == ["feature-computer", "signal-engine"])
    }
}

/// Lookahead (issue 9): a quiet service promises past its next input. A promise its outputs then break is what a
/// Kafka consumer would refuse as late, so the in-process pipeline stops on it, naming the service.
@Suite("Lookahead promises")
struct LookaheadPromiseTests {
    /// A relay that claims its state rules every output out (while it still relays).
    struct Boaster: StreamCore {
        var serviceName: String { "boaster" }
        var inputTopics: [String] { [Topics.sentiment] }
        var outputTopics: [String] { [Topics.features] }
        var lookahead: Lookahead? { Lookahead(name: "quiet", causes: [:]) }
        mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
            guard let s = message.payload as? SentimentScore else { return [] }
            return [Emit(Topics.features, Envelope(id: "b-\(message.id)", eventTime: message.eventTime, causationId: message.id, source: serviceName,
                                                   payload: s).erased())]
        }
        func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp { .distantPast }
        mutating func reset() {}
    }

    @Test("an output at or before its writer's promise stops the run, naming the writer and the topic")
    func aBrokenPromiseIsCaught() throws {
        let p = try InProcessPipeline(cores: [Boaster()], sourceTopics: [Topics.sentiment])
        p.publish(InProcessPipelineTests.score("SPY", minute: 0))
        let error = #expect(throws: InProcessPipeline.Stalled.self) { try p.advanceSource(to: InProcessPipelineTests.score("SPY", minute: 0).eventTime) }
        #expect(error?.description.contains("boaster wrote \(Topics.features)") == true, "\(String(describing: error))")
    }

    static func run(_ settings: [String], sessions: Int = 3) throws -> InProcessPipeline {
        var spec = MarketSourceSpec()
        spec.synthetic = 42
        spec.sessions = sessions
        var bt = Backtest(source: try spec.load(), cores: try Backtest.cores(settings: settings))
        bt.options.collect = [Topics.decisions, Topics.fills, Topics.positions, Topics.orders]
        return try bt.run()
    }

    static func ids(_ p: InProcessPipeline) -> [String: [String]] { p.collected.mapValues { $0.map(\.id) } }

    /// `SERVICE:KEY=VALUE` settings for a partial trading_params.json (written to a temporary file) and an account size.
    static func settings(params json: String, accountSize: String) throws -> [String] {
        let path = NSTemporaryDirectory() + "ops-lookahead-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return ServiceGraph.tradingParamsServices.map { "\($0):trading_params=\(path)" } + ["broker-gateway:account_size=\(accountSize)"]
    }

    @Test("every service keeps its promises with lookahead on (options and stock entries, scale-in, a small account), and the outputs do not change",
          arguments: [("{}", "100000"), (#"{"sizing":{"scale_in":true}}"#, "100000"), ("{}", "5000")])
    func lookaheadKeepsPromisesAndChangesNothing(_ params: String, _ accountSize: String) throws {
        let set = try Self.settings(params: params, accountSize: accountSize)
        let off = try Self.run(set)
        let on = try Self.run(set + ServiceGraph.simulatedBrokerSettings)
        #expect(Self.ids(on) == Self.ids(off))
        #expect((off.collected[Topics.fills]?.count ?? 0) > 0, "the run trades, so the services leave their lookahead and come back to it")
        let cores = Dictionary(uniqueKeysWithValues: on.coresForInspection)
        #expect(cores[ServiceGraph.brokerGateway.name]?.lookahead != nil, "at the end no order works")
        #expect(cores[ServiceGraph.positionManager.name].map { ($0 as? LiveParamsCore<PositionManagerCore>)?.core.lookaheadEnabled } == true)
    }
}
