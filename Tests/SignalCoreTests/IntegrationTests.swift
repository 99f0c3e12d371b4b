import Foundation
import Testing
import FeatureCore
import MarketData
import OpsModel
import SignalCore

/// The default synthetic market through the feature-computer core, in the order the runtime delivers it.
func syntheticFeatures(_ config: SyntheticMarketConfig = SyntheticMarketConfig()) throws -> [AnyEnvelope] {
    var featureCore = FeatureCore()
    var out = [AnyEnvelope]()
    // MarketEvent.canonicalOrder (time, sentiment < chains < bars, ticker) is FeatureCore's runtime order.
    for event in SyntheticMarket(config: config) {
        for e in try featureCore.handle(event.envelope(source: "market-feed"), from: event.topic) {
            #expect(e.topic == Topics.features)
            out.append(e.envelope)
        }
    }
    // The signal engine's runtime order: event time, then key, then id.
    return out.sorted { a, b in
        a.eventTime != b.eventTime ? a.eventTime < b.eventTime
            : a.partitionKey != b.partitionKey ? a.partitionKey < b.partitionKey : a.id < b.id
    }
}

func signals(_ inputs: [AnyEnvelope], params: TradingParams.SignalParams = defaults) throws -> [Envelope<Signal>] {
    var core = SignalCore(params: params)
    var out = [Envelope<Signal>]()
    for input in inputs {
        for e in try core.handle(input, from: Topics.features) {
            out.append(try #require(e.envelope.typed(Signal.self)))
        }
    }
    return out
}

@Suite("Signal engine on the synthetic market")
struct IntegrationTests {
    @Test("default synthetic market → features → signals")
    func syntheticMarket() throws {
        let inputs = try syntheticFeatures()
        let out = try signals(inputs)
        let byId = Dictionary(uniqueKeysWithValues: inputs.map { ($0.id, $0) })

        #expect(out.contains { $0.payload.direction == .bull })
        #expect(out.contains { $0.payload.direction == .bear })
        #expect(Set(out.map(\.payload.confidence)).count > 1)
        #expect(out.allSatisfy { $0.payload.confidence >= defaults.minConfidence && $0.payload.confidence <= 1 })

        var last = [String: Timestamp]()
        for s in out {
            let p = s.payload
            try p.validate(eventTime: s.eventTime)
            // Cooldown per ticker and direction.
            let key = "\(p.ticker)/\(p.direction.rawValue)"
            if let prev = last[key] {
                #expect(s.eventTime >= prev + Minutes(defaults.cooldownMinutes), "\(key) at \(s.eventTime) after \(prev)")
            }
            last[key] = s.eventTime
            // Provenance and consistency with the features it came from.
            let input = try #require(byId[p.featuresId])
            let fv = try #require(input.payload as? FeatureVector)
            #expect(s.causationId == input.id)
            #expect(s.eventTime == input.eventTime)
            #expect(s.id == DeterministicID.make("signal", input.id))
            #expect(p.price == fv.bar.close)
            #expect(p.volumeRatio == fv.volumeRatio)
            #expect(p.instrument == (p.direction == .bull ? .call : .put))
            #expect(p.rules.map(\.rule) == ruleNames + ["watchlist"])
            // Published means confirmed and not ranging.
            #expect(p.rules.first { $0.rule == "momentum" }?.passed == true)
            #expect(p.rules.first { $0.rule == "chop" }?.passed == true)
            #expect(p.reason.contains("chop: no (max |slope| "))
            #expect(p.ivPercentile == fv.ivPercentile && p.ivRank == fv.ivRank)
            let sum = p.rules.map(\.contribution).reduce(0, +)
            #expect(abs(p.confidence - min(1, max(0, sum))) < 1e-9)
        }

        // The same run twice gives the same bytes.
        let again = try signals(try syntheticFeatures())
        #expect(try out.map { try $0.encoded() } == again.map { try $0.encoded() })

        // Report.
        func count<K: Hashable & Comparable>(_ key: (Signal) -> K) -> String {
            Dictionary(grouping: out.map(\.payload), by: key).map { ($0.key, $0.value.count) }.sorted { $0.0 < $1.0 }
                .map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        }
        let confidences = out.map(\.payload.confidence)
        let buckets = stride(from: 0.45, to: 1.0, by: 0.1).map { lo in
            let hi = lo + 0.1
            let n = confidences.filter { $0 >= lo - 1e-9 && $0 < hi - 1e-9 || (hi > 1 && $0 == 1) }.count
            return String(format: "[%.2f,%.2f%@:%d", lo, min(hi, 1), hi > 1 ? "]" : ")", n)
        }
        print("synthetic market: \(inputs.count) feature vectors → \(out.count) signals")
        print("  per ticker: \(count(\.ticker))")
        print("  per direction: \(count(\.direction.rawValue))")
        print("  per ticker+direction: \(count { "\($0.ticker)/\($0.direction.rawValue)" })")
        print("  per strategy: \(count(\.strategy.rawValue))")
        print("  per session: " + Dictionary(grouping: out, by: { NewYorkTime.date(of: $0.eventTime) }).sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.count)" }.joined(separator: " "))
        print("  confidence: min \(confidences.min() ?? 0) max \(confidences.max() ?? 0) mean "
              + String(format: "%.4f", confidences.reduce(0, +) / Double(max(1, confidences.count)))
              + " distinct \(Set(confidences).count)")
        print("  confidence buckets: \(buckets.joined(separator: " "))")
        print("  rules passed: " + ["volume", "breakout", "momentum", "sentiment"].map { r in
            "\(r)=\(out.filter { $0.payload.rules.first { $0.rule == r }?.passed == true }.count)"
        }.joined(separator: " ") + " sentiment-penalized=\(out.filter { ($0.payload.rules.first { $0.rule == "sentiment" }?.contribution ?? 0) < 0 }.count)")
        if let first = out.first { print("  first: \(first.eventTime) \(first.payload.ticker) \(first.payload.reason)") }
    }

    @Test("restart: replaying from restoreStart rebuilds the state exactly")
    func restore() throws {
        let inputs = try syntheticFeatures()
        let full = try signals(inputs)
        #expect(!full.isEmpty)
        let probe = SignalCore(params: defaults)
        // Crash points: inside the first session, at its end, and inside the second.
        let dates = SyntheticMarket().sessionDates
        let points = [NewYorkTime.utc(date: dates[0], hour: 12, minute: 7), NewYorkTime.utc(date: dates[0], hour: 16, minute: 0),
                      NewYorkTime.utc(date: dates[1], hour: 11, minute: 33), NewYorkTime.utc(date: dates[1], hour: 14, minute: 2)]
        for crash in points {
            let start = probe.restoreStart(topic: Topics.features, after: crash)
            var core = SignalCore(params: defaults)
            var after = [Envelope<Signal>]()
            for input in inputs where input.eventTime >= start {
                for e in try core.handle(input, from: Topics.features) where e.envelope.eventTime > crash {
                    after.append(try #require(e.envelope.typed(Signal.self)))
                }
            }
            let expected = full.filter { $0.eventTime > crash }
            #expect(!expected.isEmpty)
            #expect(after == expected, "restore after \(crash)")
        }
    }
}
