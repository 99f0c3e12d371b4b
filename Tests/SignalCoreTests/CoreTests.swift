import Testing
import OpsModel
import SignalCore

@Suite("Signal core")
struct CoreTests {
    @Test("identity: name, topics, default output causes")
    func identity() {
        let core = SignalCore(params: defaults)
        #expect(SignalCore.name == "signal-engine")
        #expect(core.serviceName == "signal-engine")
        #expect(core.inputTopics == [Topics.watchlist, Topics.features])
        #expect(core.outputTopics == [Topics.signals])
        #expect(core.outputCauses == [Topics.signals: [Topics.features: 0]])
    }

    @Test("output envelope and payload")
    func output() throws {
        var core = SignalCore(params: defaults)
        var fv = bull(at: t0); fv.volumeRatio = 1.5
        let input = envelope(fv)
        let emits = try core.handle(input, from: Topics.features)
        #expect(emits.count == 1)
        let e = try #require(emits.first)
        #expect(e.topic == Topics.signals)
        let env = try #require(e.envelope.typed(Signal.self))
        #expect(env.id == DeterministicID.make("signal", input.id))
        #expect(env.eventTime == input.eventTime)
        #expect(env.causationId == input.id)
        #expect(env.source == "signal-engine")
        #expect(env.producedAt == nil)
        let s = env.payload
        #expect(s.ticker == "SPY")
        #expect(s.direction == .bull)
        #expect(s.instrument == .call)
        #expect(s.strategy == .dayTrade)
        #expect(s.price == 501.20)
        #expect(s.volumeRatio == 1.5)
        #expect(s.featuresId == input.id)
        #expect(s.confidence == 0.8)                         // 0.40 + 0.15 (0.25 × 1.5 / 2.5) + 0.15 + 0.10
        #expect(s.rules.map(\.rule) == ruleNames + ["watchlist"])
        #expect(s.rules.map(\.passed) == [true, true, true, true, false, true, true])
        #expect(s.ivPercentile == nil && s.ivRank == nil)
        #expect(s.partitionKey == "SPY")
        try s.validate(eventTime: env.eventTime)
        // The wire form round-trips through the topic's decoder.
        let decoded = try Topics.decoder(for: Topics.signals).decode(try env.encoded())
        #expect(decoded.typed(Signal.self) == env)
    }

    @Test("other payloads are ignored")
    func ignoresOthers() throws {
        var core = SignalCore(params: defaults)
        let bar = Bar(ticker: "SPY", start: t0 - Minutes(1), open: 1, high: 1, low: 1, close: 1, volume: 1)
        #expect(try core.handle(MarketEvent.bar(bar).envelope(source: "x"), from: Topics.features).isEmpty)
        let wm = Envelope(id: "wm-1", eventTime: t0, causationId: nil, source: "feature-computer",
                          payload: Watermark(producer: "feature-computer", covers: [.init(topic: Topics.bars, partitions: [0], of: 1)]))
        #expect(try core.handle(wm.erased(), from: Topics.features).isEmpty)
    }

    @Test("cooldown by event time: blocks within, allows after, per ticker and direction")
    func cooldown() throws {
        var core = SignalCore(params: defaults)   // 15 minutes
        #expect(try run(&core, [bull(at: t0)]).count == 1)
        #expect(try run(&core, [bull(at: t0 + Minutes(1))]).isEmpty)
        #expect(try run(&core, [bull(at: t0 + Minutes(14))]).isEmpty)
        // Another direction, another ticker: their own cooldowns.
        #expect(try run(&core, [bear(at: t0 + Minutes(1))]).map(\.direction) == [.bear])
        #expect(try run(&core, [bull("QQQ", at: t0 + Minutes(2))]).map(\.ticker) == ["QQQ"])
        #expect(try run(&core, [bear(at: t0 + Minutes(2))]).isEmpty)
        // 1 ms short of 15 minutes is still inside; exactly 15 minutes is out.
        var almost = envelope(bull(at: t0 + Minutes(15)))
        almost.eventTime = almost.eventTime.adding(ms: -1)
        #expect(try core.handle(almost, from: Topics.features).isEmpty)
        #expect(try run(&core, [bull(at: t0 + Minutes(15))]).count == 1)
        // The cooldown runs from the last published signal, not from the blocked ones.
        #expect(try run(&core, [bull(at: t0 + Minutes(29))]).isEmpty)
        #expect(try run(&core, [bull(at: t0 + Minutes(30))]).count == 1)
        #expect(try run(&core, [bear(at: t0 + Minutes(16))]).count == 1)
        #expect(try run(&core, [bull("QQQ", at: t0 + Minutes(16))]).isEmpty)
        #expect(try run(&core, [bull("QQQ", at: t0 + Minutes(17))]).count == 1)
    }

    @Test("a below-threshold candidate does not start a cooldown")
    func lowConfidenceNoCooldown() throws {
        var core = SignalCore(params: defaults)
        // trend 0.40 + momentum 0.10 − sentiment 0.10 = 0.40 < 0.45.
        #expect(try run(&core, [features(close: 500.5, sma20: 500, slope: 0.001, ret5m: 0.003, sentiment: -1)]).isEmpty)
        #expect(try run(&core, [bull(at: t0 + Minutes(1))]).count == 1)
    }

    @Test("cooldown 0 allows consecutive signals")
    func zeroCooldown() throws {
        var p = defaults; p.cooldownMinutes = 0
        var core = SignalCore(params: p)
        #expect(try run(&core, [bull(at: t0), bull(at: t0 + Minutes(1)), bull(at: t0 + Minutes(2))]).count == 3)
    }

    @Test("reset forgets the cooldown")
    func reset() throws {
        var core = SignalCore(params: defaults)
        #expect(try run(&core, [bull(at: t0)]).count == 1)
        #expect(try run(&core, [bull(at: t0 + Minutes(5))]).isEmpty)
        core.reset()
        #expect(try run(&core, [bull(at: t0 + Minutes(5))]).count == 1)
    }

    @Test("restoreStart: New York midnight of the last processed event's date")
    func restoreStart() {
        let core = SignalCore(params: defaults)
        let day = CivilDate(year: 2024, month: 3, day: 4)
        let midnight = NewYorkTime.utc(date: day, hour: 0, minute: 0)
        #expect(midnight.iso8601 == "2024-03-04T05:00:00Z")
        #expect(core.restoreStart(topic: Topics.features, after: t0) == midnight)
        #expect(core.restoreStart(topic: "anything", after: NewYorkTime.utc(date: day, hour: 23, minute: 59)) == midnight)
        // Summer (daylight time).
        let july = CivilDate(year: 2024, month: 7, day: 1)
        #expect(core.restoreStart(topic: Topics.features, after: NewYorkTime.utc(date: july, hour: 15, minute: 59)).iso8601
                == "2024-07-01T04:00:00Z")
    }

    @Test("an input whose signal would be invalid is refused and leaves the state unchanged")
    func refusal() throws {
        var core = SignalCore(params: defaults)
        var bad = bull(at: t0); bad.volumeRatio = -3
        #expect(throws: MessageError.self) { try core.handle(envelope(bad), from: Topics.features) }
        do {
            _ = try core.handle(envelope(bad), from: Topics.features)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.kind == .invalid)
            #expect(error.reason.contains("negative volume_ratio"))
        }
        // No cooldown was started by the refused input.
        #expect(try run(&core, [bull(at: t0 + Minutes(1))]).count == 1)
    }

    @Test("determinism: the same inputs give identical encoded envelopes")
    func determinism() throws {
        var inputs = [FeatureVector]()
        for i in 0..<120 {
            let at = t0 + Minutes(i)
            let wave = Double(i % 17) / 17
            var f = i % 3 == 0 ? bull("SPY", at: at) : i % 3 == 1 ? bear("QQQ", at: at) : bull("AAPL", at: at)
            f.volumeRatio = 0.8 + 2 * wave
            f.ret5m = (wave - 0.4) / 100 * (f.bar.close > (f.sma20 ?? 0) ? 1 : -1)
            f.ret15m = (wave - 0.3) / 50 * (f.bar.close > (f.sma20 ?? 0) ? 1 : -1)
            f.sentimentScore = i % 5 == 0 ? nil : wave * 2 - 1
            inputs.append(f)
        }
        func encoded() throws -> [[UInt8]] {
            var core = SignalCore(params: defaults)
            var out = [[UInt8]]()
            for f in inputs {
                for e in try core.handle(envelope(f), from: Topics.features) { out.append(try e.envelope.encoded()) }
            }
            return out
        }
        let a = try encoded(), b = try encoded()
        #expect(a.count > 10)
        #expect(a == b)
    }
}
