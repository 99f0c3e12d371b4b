import Foundation
import OpsModel
import Pipeline
import Testing

/// Every source publishes each chain's ATM IV next to it (`market.atm-iv.v1`), the feature-computer's only view of
/// chains: the synthetic market, and a replay of a recording made before that topic existed.
@Suite("A chain's ATM IV from every source")
struct ChainImpliedVolatilitySourceTests {
    static func synthetic() throws -> LoadedMarketSource {
        var spec = MarketSourceSpec()
        spec.tickers = "2"
        spec.sessions = 1
        spec.ivHistoryDays = 0
        return try spec.load()
    }

    /// Each chain's ATM IV, by (ticker, time), from the chains among `events`.
    static func expected(_ events: [SourceEvent]) -> [String: Double] {
        var out = [String: Double]()
        for e in events {
            guard let c = e.envelope?.payload as? OptionChain, let iv = c.atmImpliedVolatility else { continue }
            out["\(c.underlying)@\(e.eventTime.ms)"] = iv
        }
        return out
    }

    static func published(_ events: [SourceEvent]) -> [String: Double] {
        var out = [String: Double]()
        for e in events where e.topic == Topics.atmIv {
            let a = e.envelope!.payload as! ChainImpliedVolatility
            #expect(out.updateValue(a.atmIv, forKey: "\(a.ticker)@\(e.eventTime.ms)") == nil, "one per chain")
        }
        return out
    }

    @Test("the synthetic market: one per chain with an ATM IV, at its time, after the time's chains and before its bars")
    func synthetic() throws {
        let events = try Self.synthetic().events
        let expected = Self.expected(events)
        #expect(expected.count > 100)
        #expect(Self.published(events) == expected)
        for (i, e) in events.enumerated() where e.topic == Topics.atmIv {
            #expect(!events[..<i].contains { $0.eventTime == e.eventTime && $0.topic == Topics.bars }, "no bar of its time before it")
            #expect(!events[(i + 1)...].contains { $0.eventTime == e.eventTime && $0.topic == Topics.chains }, "no chain of its time after it")
        }
    }

    @Test("a recording without the topic gets it derived from its chains; one with it is replayed as it is")
    func replay() throws {
        let events = try Self.synthetic().events
        let dir = NSTemporaryDirectory() + "ops-atm-iv-replay-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func write(_ topics: [String]) throws {
            for topic in topics {
                let lines = try events.filter { $0.topic == topic }.map { String(decoding: try $0.envelope!.encoded(), as: UTF8.self) }
                try (lines.joined(separator: "\n") + "\n").write(toFile: "\(dir)/\(topic).jsonl", atomically: true, encoding: .utf8)
            }
        }
        try write([Topics.bars, Topics.chains])
        var spec = MarketSourceSpec()
        spec.replay = dir
        let old = try spec.load().events
        #expect(Self.published(old) == Self.expected(events), "derived from the recorded chains")
        #expect(old.filter { $0.topic == Topics.atmIv }.allSatisfy { $0.envelope?.source == "market-feed" })

        // Recorded with the topic: the recorded values go out, none are added (here one is left out to tell them apart).
        try write([Topics.atmIv])
        let path = "\(dir)/\(Topics.atmIv).jsonl"
        let recorded = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        try (recorded.dropFirst().joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let withTopic = try spec.load().events
        #expect(withTopic.filter { $0.topic == Topics.atmIv }.count == recorded.count - 1)
    }
}
