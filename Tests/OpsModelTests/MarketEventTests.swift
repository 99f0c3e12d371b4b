import Testing
import OpsModel

@Suite("MarketEvent")
struct MarketEventTests {
    static func bar(_ ticker: String, endingAt end: Timestamp) -> MarketEvent {
        .bar(Fx.bar(ticker: ticker, start: end - Minutes(1)))
    }

    static func chain(_ ticker: String, at t: Timestamp) -> MarketEvent {
        .chain(OptionChain(underlying: ticker, underlyingPrice: 100, asOf: t, contracts: []))
    }

    static func atmIv(_ ticker: String, at t: Timestamp) -> MarketEvent {
        .atmIv(ChainImpliedVolatility(ticker: ticker, atmIv: 0.2), at: t)
    }

    /// A chain whose ATM IV is 0.22 (call 0.20, put 0.24 at the strike nearest 100.2, 30 days out).
    static func chainWithIV(_ ticker: String, at t: Timestamp) -> MarketEvent {
        let expiry = NewYorkTime.date(of: t).adding(days: 30)
        return .chain(OptionChain(underlying: ticker, underlyingPrice: 100.2, asOf: t, contracts: [
            OptionQuote(symbol: OCCSymbol(root: ticker, expiration: expiry, right: .call, strike: 100).description, right: .call, strike: 100,
                        expiration: expiry, bid: 1, ask: 1.1, volume: 10, openInterest: 100, iv: 0.20),
            OptionQuote(symbol: OCCSymbol(root: ticker, expiration: expiry, right: .put, strike: 100).description, right: .put, strike: 100,
                        expiration: expiry, bid: 1, ask: 1.1, volume: 10, openInterest: 100, iv: 0.24),
        ]))
    }

    static func sentiment(_ ticker: String, at t: Timestamp) -> MarketEvent {
        .sentiment(SentimentScore(ticker: ticker, score: 0.1, source: "wire"), at: t)
    }

    static func label(_ e: MarketEvent) -> String {
        let kind: String
        switch e {
        case .bar: kind = "bar"
        case .chain: kind = "chain"
        case .atmIv: kind = "atm_iv"
        case .sentiment: kind = "sentiment"
        case .ivDaily: kind = "iv_daily"
        }
        return "\(e.eventTime.iso8601) \(kind) \(e.ticker)"
    }

    @Test("event time, ticker and topic of each kind")
    func accessors() {
        let t = Fx.end
        #expect(Self.bar("SPY", endingAt: t).eventTime == t)
        #expect(Self.bar("SPY", endingAt: t).ticker == "SPY")
        #expect(Self.bar("SPY", endingAt: t).topic == Topics.bars)
        #expect(Self.chain("QQQ", at: t).eventTime == t)
        #expect(Self.chain("QQQ", at: t).ticker == "QQQ")
        #expect(Self.chain("QQQ", at: t).topic == Topics.chains)
        #expect(Self.sentiment("IWM", at: t).eventTime == t)
        #expect(Self.sentiment("IWM", at: t).ticker == "IWM")
        #expect(Self.sentiment("IWM", at: t).topic == Topics.sentiment)
    }

    @Test("canonical order: time first, then sentiment < chain < a chain's ATM IV < bar, then ticker")
    func canonicalOrder() {
        let t0 = Fx.end, t1 = Fx.end + Minutes(1)
        let expected: [MarketEvent] = [
            Self.bar("ZZZ", endingAt: t0.adding(ms: -1)), // earlier time wins over kind and ticker
            Self.sentiment("QQQ", at: t0), Self.sentiment("SPY", at: t0),
            Self.chain("AAPL", at: t0), Self.chain("SPY", at: t0),
            Self.atmIv("AAPL", at: t0), Self.atmIv("SPY", at: t0),
            Self.bar("AAPL", endingAt: t0), Self.bar("QQQ", endingAt: t0), Self.bar("SPY", endingAt: t0),
            Self.sentiment("ZZZ", at: t0.adding(ms: 1)),
            Self.sentiment("AAPL", at: t1), Self.chain("AAPL", at: t1), Self.bar("AAPL", endingAt: t1),
        ]
        // Pairwise: every earlier element precedes every later one, and nothing precedes itself.
        for i in expected.indices {
            #expect(!MarketEvent.canonicalOrder(expected[i], expected[i]))
            for j in expected.indices where i < j {
                #expect(MarketEvent.canonicalOrder(expected[i], expected[j]), "\(Self.label(expected[i])) < \(Self.label(expected[j]))")
                #expect(!MarketEvent.canonicalOrder(expected[j], expected[i]), "\(Self.label(expected[j])) !< \(Self.label(expected[i]))")
            }
        }
        var rng = SplitMix64(seed: 3)
        for _ in 0..<50 {
            let sorted = expected.shuffled(using: &rng).sorted(by: MarketEvent.canonicalOrder)
            #expect(sorted == expected)
        }
    }

    @Test("each chain's ATM IV is added at the chain's time, after the time's chains and before its bars; none without one")
    func chainImpliedVolatilities() throws {
        let t0 = Fx.end, t1 = Fx.end + Minutes(1)
        let events: [MarketEvent] = [
            Self.sentiment("SPY", at: t0), Self.chainWithIV("AAPL", at: t0), Self.chain("QQQ", at: t0), Self.chainWithIV("SPY", at: t0),
            Self.bar("AAPL", endingAt: t0), Self.bar("SPY", endingAt: t0),
            Self.chainWithIV("SPY", at: t1),
        ]
        let out = MarketEvent.withChainImpliedVolatilities(events)
        #expect(out.map(Self.label) == [
            Self.sentiment("SPY", at: t0), Self.chainWithIV("AAPL", at: t0), Self.chain("QQQ", at: t0), Self.chainWithIV("SPY", at: t0),
            Self.atmIv("AAPL", at: t0), Self.atmIv("SPY", at: t0),
            Self.bar("AAPL", endingAt: t0), Self.bar("SPY", endingAt: t0),
            Self.chainWithIV("SPY", at: t1), Self.atmIv("SPY", at: t1),
        ].map(Self.label))
        #expect(MarketEventMergeCheck.isCanonical(out))
        guard case .atmIv(let iv, let at) = out[4] else { Issue.record("no ATM IV at index 4"); return }
        #expect(iv.ticker == "AAPL" && abs(iv.atmIv - 0.22) < 1e-12)
        #expect(at == t0)
        let env = out[4].envelope(source: "feed")
        #expect(env.eventTime == t0 && env.id == iv.id(at: t0))
        let decoded = try Topics.decoder(for: Topics.atmIv).decode(try env.encoded())
        #expect(decoded.payload as? ChainImpliedVolatility == iv)
        #expect(throws: MessageError.self) { try ChainImpliedVolatility(ticker: "SPY", atmIv: -0.1).validate(eventTime: t0) }
        #expect(throws: MessageError.self) { try ChainImpliedVolatility(ticker: "SPY", atmIv: .nan).validate(eventTime: t0) }
    }

    @Test("kind beats ticker at equal time; time beats kind")
    func precedence() {
        let t = Fx.end
        #expect(MarketEvent.canonicalOrder(Self.sentiment("ZZZ", at: t), Self.bar("AAA", endingAt: t)))
        #expect(MarketEvent.canonicalOrder(Self.chain("ZZZ", at: t), Self.bar("AAA", endingAt: t)))
        #expect(MarketEvent.canonicalOrder(Self.sentiment("ZZZ", at: t), Self.chain("AAA", at: t)))
        #expect(MarketEvent.canonicalOrder(Self.bar("ZZZ", endingAt: t), Self.sentiment("AAA", at: t.adding(ms: 1))))
        #expect(!MarketEvent.canonicalOrder(Self.bar("SPY", endingAt: t), Self.bar("SPY", endingAt: t)))
    }

    @Test("the published envelope carries the data's deterministic id and event time, and decodes on its topic")
    func envelopes() throws {
        let b = Fx.bar(), c = Fx.chain(), s = Fx.sentiment()
        let events: [MarketEvent] = [.bar(b), .chain(c), .sentiment(s, at: Fx.end)]
        let ids = [b.id, c.id, s.id(at: Fx.end)]
        for (event, id) in zip(events, ids) {
            let e = event.envelope(source: "market-feed")
            #expect(e.id == id)
            #expect(e.eventTime == event.eventTime)
            #expect(e.causationId == nil)
            #expect(e.producedAt == nil)
            #expect(e.source == "market-feed")
            #expect(e.partitionKey == event.ticker)
            let bytes = try e.encoded()
            #expect(try event.envelope(source: "market-feed").encoded() == bytes)
            let decoded = try Topics.decoder(for: event.topic).decode(bytes)
            #expect(try decoded.encoded() == bytes)
        }
        #expect(MarketEvent.bar(b).envelope(source: "x").typed(Bar.self)?.payload == b)
        #expect(MarketEvent.sentiment(s, at: Fx.end).envelope(source: "x").typed(SentimentScore.self)?.payload == s)
    }
}

enum MarketEventMergeCheck {
    static func isCanonical(_ events: [MarketEvent]) -> Bool {
        zip(events, events.dropFirst()).allSatisfy { !MarketEvent.canonicalOrder($1, $0) }
    }
}
