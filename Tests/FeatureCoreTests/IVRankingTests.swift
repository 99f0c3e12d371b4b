import Foundation
import Testing
import FeatureCore
import MarketData
import OpsModel

@Suite("IV percentile and IV Rank")
struct IVRankingTests {
    static let session = CivilDate(year: 2024, month: 3, day: 12)

    /// The `n` trading days before `session`, oldest first.
    static func priorDays(_ n: Int, before session: CivilDate = session) -> [CivilDate] {
        var out = [CivilDate]()
        var d = session
        while out.count < n {
            d = MarketCalendar.tradingDay(onOrBefore: d.adding(days: -1))
            out.append(d)
        }
        return out.reversed()
    }

    @Test("fewer than 20 days: null, never 0; 20 days: a value")
    func minimumHistory() {
        let nineteen = (0..<19).map { 0.10 + Double($0) / 100 }
        #expect(IVRanking.percentile(0.5, among: nineteen) == nil)
        #expect(IVRanking.rank(0.5, among: nineteen) == nil)
        #expect(IVRanking.percentile(0.01, among: []) == nil)
        let twenty = nineteen + [0.3]
        #expect(IVRanking.percentile(0.5, among: twenty) == 100)
        #expect(IVRanking.rank(0.5, among: twenty) == 100)
        #expect(IVRanking.percentile(0.05, among: twenty) == 0, "below every day is a real 0")
        #expect(IVRanking.rank(0.05, among: twenty) == 0)
    }

    @Test("percentile counts days strictly below; ties are not below")
    func ties() {
        let window = Array(repeating: 0.10, count: 5) + Array(repeating: 0.20, count: 10) + Array(repeating: 0.30, count: 5)
        #expect(IVRanking.percentile(0.20, among: window) == 25)
        #expect(IVRanking.percentile(0.2000001, among: window) == 75)
        #expect(IVRanking.percentile(0.30, among: window) == 75)
        #expect(IVRanking.rank(0.20, among: window).map { abs($0 - 50) < 1e-9 } == true)
        #expect(IVRanking.rank(0.10, among: window) == 0)
        #expect(IVRanking.rank(0.30, among: window) == 100)
    }

    @Test("max == min: rank null, percentile still defined")
    func flat() {
        let window = Array(repeating: 0.2, count: 30)
        #expect(IVRanking.rank(0.2, among: window) == nil)
        #expect(IVRanking.rank(0.25, among: window) == nil)
        #expect(IVRanking.percentile(0.2, among: window) == 0)
        #expect(IVRanking.percentile(0.25, among: window) == 100)
    }

    @Test("rank is clamped to [0, 100] when today is outside the window's range")
    func clamped() {
        let window = (0..<20).map { 0.2 + Double($0) / 100 }   // 0.20 … 0.39
        #expect(IVRanking.rank(0.5, among: window) == 100)
        #expect(IVRanking.rank(0.1, among: window) == 0)
        #expect(IVRanking.rank(0.295, among: window).map { abs($0 - 50) < 1e-9 } == true)
    }

    @Test("the window: 252 NYSE trading days before the session")
    func windowStart() {
        let start = IVRanking.windowStart(before: Self.session)
        #expect(start == Self.priorDays(252).first)
        #expect(start == CivilDate(year: 2023, month: 3, day: 10))   // counted by hand: 252 NYSE days to 2024-03-11
    }
}

@Suite("FeatureCore IV percentile and IV Rank")
struct FeatureIVTests {
    static let day = IVRankingTests.session

    static func daily(_ date: CivilDate, _ iv: Double, ticker: String = "SPY") -> AnyEnvelope {
        MarketEvent.ivDaily(DailyImpliedVolatility(ticker: ticker, date: date, atmIv: iv)).envelope(source: "t")
    }

    /// The ATM IV of a chain at 09:40 whose ATM IV is 0.22 (call 0.20, put 0.24 at the 100 strike), as a source
    /// publishes it next to the chain.
    static func chain(on day: CivilDate = day) -> AnyEnvelope {
        let t = NewYorkTime.utc(date: day, hour: 9, minute: 40)
        let exp = day.adding(days: 9)
        let occ = { (r: OptionRight, k: Double) in OCCSymbol(root: "SPY", expiration: exp, right: r, strike: k).description }
        return MarketEvent.withChainImpliedVolatilities([.chain(OptionChain(underlying: "SPY", underlyingPrice: 100.2, asOf: t, contracts: [
            OptionQuote(symbol: occ(.call, 100), right: .call, strike: 100, expiration: exp, bid: 1, ask: 1.1, volume: 1, openInterest: 1, iv: 0.20),
            OptionQuote(symbol: occ(.put, 100), right: .put, strike: 100, expiration: exp, bid: 1, ask: 1.1, volume: 1, openInterest: 1, iv: 0.24),
        ]))]).last!.envelope(source: "t")
    }

    static func bar(_ minute: Int, day: CivilDate = day) -> AnyEnvelope {
        MarketEvent.bar(FeatureEdgeTests.bar(minute, close: 100, day: day)).envelope(source: "t")
    }

    /// The features of the 09:40 bar after `history` (date, iv) values.
    static func features(history: [(CivilDate, Double)]) throws -> FeatureVector {
        var core = FeatureCore()
        for (d, iv) in history { _ = try core.handle(daily(d, iv), from: Topics.ivDaily) }
        _ = try core.handle(chain(), from: Topics.atmIv)
        let out = try core.handle(bar(9), from: Topics.bars)
        return try #require(out.first?.envelope.payload as? FeatureVector)
    }

    @Test("19 days → null; 20 → value (ATM IV 0.22 against 0.105 … 0.295)", arguments: [19, 20, 252])
    func throughTheCore(days: Int) throws {
        let dates = IVRankingTests.priorDays(days)
        // The newest 20 days are 0.105, 0.115, …, 0.295; older ones (when more) are 0.5 (all above today).
        let history = dates.enumerated().map { i, d in (d, i >= days - 20 ? 0.105 + Double(i - (days - 20)) / 100 : 0.5) }
        let fv = try Self.features(history: history)
        #expect(abs((fv.atmIv ?? 0) - 0.22) < 1e-12)
        if days < 20 {
            #expect(fv.ivPercentile == nil && fv.ivRank == nil)
        } else {
            // 12 of the 20 recent days are below 0.22; the older 0.5 days are not.
            let below = 12.0, n = Double(days)
            #expect(fv.ivPercentile.map { abs($0 - 100 * below / n) < 1e-9 } == true, "\(String(describing: fv.ivPercentile))")
            let high = days > 20 ? 0.5 : 0.295
            #expect(fv.ivRank.map { abs($0 - (0.22 - 0.105) / (high - 0.105) * 100) < 1e-9 } == true, "\(String(describing: fv.ivRank))")
        }
    }

    @Test("the session's own value, later values and values older than 252 sessions are not in the window")
    func windowEdges() throws {
        let dates = IVRankingTests.priorDays(253)
        var history = dates.map { ($0, 0.30) }                 // all above today's 0.22 …
        history[0].1 = 0.01                                    // … except the 253rd day back: outside the window
        history.append((Self.day, 0.01))                       // today's own value (published at today's close)
        history.append((MarketCalendar.tradingDay(after: Self.day), 0.01))
        let fv = try Self.features(history: history)
        #expect(fv.ivPercentile == 0)
        #expect(fv.ivRank == nil, "252 days of 0.30: max == min")
    }

    @Test("daily values out of date order, and a day published twice (the later value wins), rank as if in order")
    func outOfOrderAndCorrected() throws {
        let dates = IVRankingTests.priorDays(40)
        let inOrder = dates.enumerated().map { i, d in (d, 0.10 + Double(i) / 200) }
        var shuffled = Array(inOrder.reversed())                 // newest first
        shuffled.swapAt(3, 17)
        shuffled.insert((dates[39], 0.90), at: 0)                // a wrong value for the newest day, corrected later
        let expected = try Self.features(history: inOrder)
        let got = try Self.features(history: shuffled)
        #expect(expected.ivPercentile != nil && expected.ivRank != nil)
        #expect(got.ivPercentile == expected.ivPercentile)
        #expect(got.ivRank == expected.ivRank)
    }

    @Test("no current ATM IV: null")
    func noChain() throws {
        var core = FeatureCore()
        for d in IVRankingTests.priorDays(30) { _ = try core.handle(Self.daily(d, 0.2), from: Topics.ivDaily) }
        let fv = try #require(core.handle(Self.bar(9), from: Topics.bars).first?.envelope.payload as? FeatureVector)
        #expect(fv.atmIv == nil && fv.ivPercentile == nil && fv.ivRank == nil)
    }

    @Test("daily values of other tickers do not count; an unknown ticker is refused")
    func perTicker() throws {
        var core = FeatureCore(config: FeatureConfig(tickers: ["SPY", "QQQ"]))
        for d in IVRankingTests.priorDays(30) { _ = try core.handle(Self.daily(d, 0.1, ticker: "QQQ"), from: Topics.ivDaily) }
        _ = try core.handle(Self.chain(), from: Topics.atmIv)
        let fv = try #require(core.handle(Self.bar(9), from: Topics.bars).first?.envelope.payload as? FeatureVector)
        #expect(fv.ivPercentile == nil)
        #expect(throws: MessageError.self) { try core.handle(Self.daily(Self.day.adding(days: -1), 0.2, ticker: "XYZ"), from: Topics.ivDaily) }
    }

    @Test("inputs: daily IVs ranked first; restore: daily IVs from the beginning, the rest from New York midnight")
    func topicsAndRestore() {
        let core = FeatureCore()
        #expect(core.inputTopics == [Topics.ivDaily, Topics.sentiment, Topics.atmIv, Topics.bars])
        let t = NewYorkTime.utc(date: Self.day, hour: 15, minute: 0)
        #expect(core.restoreStart(topic: Topics.ivDaily, after: t) == .distantPast)
        for topic in [Topics.bars, Topics.atmIv, Topics.sentiment] {
            #expect(core.restoreStart(topic: topic, after: t) == NewYorkTime.utc(date: Self.day, hour: 0, minute: 0))
        }
    }
}

@Suite("FeatureCore restore with IV history")
struct FeatureRestoreTests {
    /// The synthetic feed's stream (history, sessions, daily values) in the runtime's order.
    static let inputs: [AnyEnvelope] = {
        let market = SyntheticMarket(config: SyntheticMarketConfig(sessions: 3))
        let events = MarketEvent.withChainImpliedVolatilities(
            DailyImpliedVolatilities.withDailyValues(market.events(), history: market.impliedVolatilityHistory(sessions: 30)))
        return events.map { $0.envelope(source: "market-feed") }
    }()

    static func topic(_ e: AnyEnvelope) -> String {
        switch e.payload {
        case is Bar: Topics.bars
        case is OptionChain: Topics.chains
        case is ChainImpliedVolatility: Topics.atmIv
        case is SentimentScore: Topics.sentiment
        default: Topics.ivDaily
        }
    }

    static func run(_ core: inout FeatureCore, _ inputs: [AnyEnvelope]) throws -> [AnyEnvelope] {
        var out = [AnyEnvelope]()
        for e in inputs { out += try core.handle(e, from: topic(e)).map(\.envelope) }
        return out
    }

    static func bytes(_ envelopes: [AnyEnvelope], after t: Timestamp) throws -> [[UInt8]] {
        try envelopes.filter { $0.eventTime > t }.map { try $0.encoded() }
    }

    @Test("a restart re-reading from restoreStart per topic gives the same features after the crash")
    func restore() throws {
        var full = FeatureCore()
        let expected = try Self.run(&full, Self.inputs)
        let withIV = expected.compactMap { $0.payload as? FeatureVector }.filter { $0.ivPercentile != nil }
        #expect(withIV.count > expected.count * 9 / 10, "history of 30 sessions: known from each session's first chain")
        #expect(expected.compactMap { $0.payload as? FeatureVector }.allSatisfy { ($0.ivPercentile == nil) == ($0.atmIv == nil) })
        let dates = SyntheticMarket(config: SyntheticMarketConfig(sessions: 3)).sessionDates
        for crash in [NewYorkTime.utc(date: dates[1], hour: 11, minute: 2), NewYorkTime.utc(date: dates[2], hour: 9, minute: 31)] {
            var core = FeatureCore()
            let replay = Self.inputs.filter { $0.eventTime >= core.restoreStart(topic: Self.topic($0), after: crash) }
            #expect(replay.contains { $0.payload is DailyImpliedVolatility && $0.eventTime < NewYorkTime.utc(date: dates[0], hour: 0, minute: 0) })
            let after = try Self.bytes(Self.run(&core, replay), after: crash)
            #expect(!after.isEmpty)
            #expect(after == (try Self.bytes(expected, after: crash)), "restore after \(crash)")
            // Without the history (every topic from midnight) the IV context would be lost: the test can fail.
            var naive = FeatureCore()
            let midnight = NewYorkTime.utc(date: NewYorkTime.date(of: crash), hour: 0, minute: 0)
            let lost = try Self.bytes(Self.run(&naive, Self.inputs.filter { $0.eventTime >= midnight }), after: crash)
            #expect(lost != (try Self.bytes(expected, after: crash)))
        }
    }
}

@Suite("FeatureCore on an early close")
struct FeatureEarlyCloseTests {
    @Test("13:00 half day: bars from 13:00 on are outside the regular session")
    func halfDay() throws {
        let friday = CivilDate(year: 2024, month: 11, day: 29)    // the day after Thanksgiving
        #expect(MarketCalendar.isEarlyClose(friday))
        let bars = [209, 210, 211, 389].map { FeatureEdgeTests.bar($0, close: 100, day: friday) }   // 12:59, 13:00, 13:01, 15:59
        let fv = try features(bars)
        #expect(fv.map(\.bar.start) == [bars[0].start])
        #expect(try features(bars, config: FeatureConfig(session: .all)).count == 4)
        // A full day keeps its 15:59 bar.
        #expect(try features([FeatureEdgeTests.bar(389, close: 100)]).count == 1)
    }
}
