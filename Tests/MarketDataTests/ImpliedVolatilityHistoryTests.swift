import Foundation
import Testing
import OpsModel
import MarketData

@Suite("Daily ATM IV history")
struct ImpliedVolatilityHistoryTests {
    static let market = SyntheticMarket(config: SyntheticMarketConfig(sessions: 2))
    static let history = market.impliedVolatilityHistory()
    /// What the feed publishes for the default synthetic market.
    static let published = DailyImpliedVolatilities.withDailyValues(market.events(), history: history)

    @Test("the synthetic market's 252 prior sessions per ticker: trading days before the first session, deterministic")
    func syntheticHistory() throws {
        let first = Self.market.sessionDates[0]
        for t in SyntheticTicker.defaults {
            let days = Self.history.filter { $0.ticker == t.symbol }
            #expect(days.count == 252)
            #expect(Set(days.map(\.date)).count == 252)
            #expect(days.allSatisfy { $0.date < first && MarketCalendar.isTradingDay($0.date) })
            #expect(days.last?.date == MarketCalendar.tradingDay(onOrBefore: first.adding(days: -1)))
            for d in days { try d.validate(eventTime: d.eventTime) }
            // Consistent with the ticker's volatility and its regimes' pull (0.92× to 1.25×, ATM a little under base).
            let ivs = days.map(\.atmIv)
            let mean = ivs.reduce(0, +) / Double(ivs.count)
            #expect(abs(mean / t.volatility - 1) < 0.15, "\(t.symbol) mean \(mean) vs volatility \(t.volatility)")
            #expect(ivs.min()! >= t.volatility * 0.85 && ivs.max()! <= t.volatility * 1.3, "\(t.symbol) \(ivs.min()!)…\(ivs.max()!)")
            #expect(Set(ivs).count > 50, "\(t.symbol): the history varies")
        }
        #expect(Self.market.impliedVolatilityHistory() == Self.history)
        #expect(SyntheticMarket(config: SyntheticMarketConfig(seed: 7, sessions: 2)).impliedVolatilityHistory() != Self.history)
        #expect(Self.market.impliedVolatilityHistory(sessions: 0).isEmpty)
        // The live sessions' draws do not depend on the history.
        #expect(SyntheticMarket(config: SyntheticMarketConfig(sessions: 2)).events() == Self.market.events())
    }

    @Test("the feed's stream: the whole history before the first bar, then one value per ticker at each session's close")
    func publishedOrder() throws {
        let events = Self.published
        let firstBar = try #require(events.firstIndex { if case .bar = $0 { true } else { false } })
        let daily = events.enumerated().compactMap { i, e -> (Int, DailyImpliedVolatility)? in
            if case .ivDaily(let d) = e { (i, d) } else { nil }
        }
        let prior = daily.filter { $0.1.date < Self.market.sessionDates[0] }
        #expect(prior.count == 252 * 3)
        #expect(prior.allSatisfy { $0.0 < firstBar })
        #expect(zip(events, events.dropFirst()).allSatisfy { !MarketEvent.canonicalOrder($1, $0) })
        for date in Self.market.sessionDates {
            let own = daily.map(\.1).filter { $0.date == date }
            #expect(own.map(\.ticker).sorted() == ["AAPL", "QQQ", "SPY"])
            for d in own {
                #expect(d.eventTime == NewYorkTime.utc(date: date, hour: 16, minute: 0))
                let lastChain = try #require(events.compactMap { e -> OptionChain? in
                    if case .chain(let c) = e, c.underlying == d.ticker, NewYorkTime.date(of: c.asOf) == date { c } else { nil }
                }.last)
                #expect(lastChain.asOf == d.eventTime)
                #expect(d.atmIv == lastChain.atmImpliedVolatility)
                try d.validate(eventTime: d.eventTime)
            }
        }
        // Ids are the (ticker, date): nothing is published twice.
        #expect(Set(daily.map(\.1.id)).count == daily.count)
    }

    @Test("live daily values fall inside the history's range most of the time (one distribution)")
    func liveWithinHistory() throws {
        let market = SyntheticMarket(config: SyntheticMarketConfig(sessions: 20))
        let history = market.impliedVolatilityHistory()
        let live = DailyImpliedVolatilities.fromChains(market.events()).compactMap { e -> DailyImpliedVolatility? in
            if case .ivDaily(let d) = e { d } else { nil }
        }
        #expect(live.count == 60)
        var inside = 0
        for d in live {
            let ivs = history.filter { $0.ticker == d.ticker }.map(\.atmIv)
            if d.atmIv >= ivs.min()!, d.atmIv <= ivs.max()! { inside += 1 }
        }
        #expect(inside >= live.count * 9 / 10, "\(inside) of \(live.count)")
    }

    @Test("fromChains: the last chain at or before the close; after-close chains and closed days are not used")
    func fromChains() throws {
        let synth = ChainSynthesizer()
        let day = CivilDate(year: 2024, month: 3, day: 12)
        func chain(_ hour: Int, _ minute: Int, vol: Double, on d: CivilDate = day) -> MarketEvent {
            .chain(synth.chain(underlying: "SPY", price: 500, at: NewYorkTime.utc(date: d, hour: hour, minute: minute), baseVolatility: vol, seed: 1))
        }
        let events = [chain(10, 0, vol: 0.1), chain(15, 55, vol: 0.2), chain(16, 5, vol: 0.9),
                      chain(12, 0, vol: 0.3, on: CivilDate(year: 2024, month: 3, day: 29))]   // Good Friday
        let out = DailyImpliedVolatilities.fromChains(events)
        #expect(out.count == 1)
        guard case .ivDaily(let d) = try #require(out.first) else { Issue.record("not a daily IV"); return }
        #expect(d.date == day)
        guard case .chain(let c) = events[1] else { return }
        #expect(d.atmIv == c.atmImpliedVolatility)
        #expect(abs(d.atmIv - 0.2) < 0.01)
    }

    @Test("a supplied history: only days before the first session, and never a day the chains give")
    func suppliedHistory() throws {
        let first = Self.market.sessionDates[0]
        let before = MarketCalendar.tradingDay(onOrBefore: first.adding(days: -1))
        let supplied = [DailyImpliedVolatility(ticker: "SPY", date: before, atmIv: 0.3),
                        DailyImpliedVolatility(ticker: "SPY", date: first, atmIv: 0.9)]
        let out = DailyImpliedVolatilities.withDailyValues(Self.market.events(), history: supplied).compactMap { e -> DailyImpliedVolatility? in
            if case .ivDaily(let d) = e, d.ticker == "SPY" { d } else { nil }
        }
        #expect(out.map(\.date) == [before] + Self.market.sessionDates)
        #expect(out[0].atmIv == 0.3)
        #expect(out[1].atmIv != 0.9, "the session's own chains decide its value")
    }

    @Test("a 13:00 early close: 210 bars, chains until 13:00, the day's value at 13:00")
    func earlyClose() throws {
        let friday = CivilDate(year: 2024, month: 11, day: 29)
        let market = SyntheticMarket(config: SyntheticMarketConfig(tickers: [SyntheticTicker.defaults[0]], startDate: friday, sessions: 1))
        let events = market.events()
        let bars = events.compactMap { if case .bar(let b) = $0 { b } else { nil } }
        #expect(bars.count == 210)
        #expect(bars.last?.end == NewYorkTime.utc(date: friday, hour: 13, minute: 0))
        let chains = events.compactMap { if case .chain(let c) = $0 { c } else { nil } }
        #expect(chains.last?.asOf == NewYorkTime.utc(date: friday, hour: 13, minute: 0))
        #expect(chains.last.map { $0.contracts.contains { $0.expiration == friday } } == false, "today's expiry is over at 13:00")
        let daily = DailyImpliedVolatilities.fromChains(events)
        #expect(daily.map(\.eventTime) == [NewYorkTime.utc(date: friday, hour: 13, minute: 0)])
        // The chains' day volume is complete at the early close.
        let first = try #require(chains.first), last = try #require(chains.last)
        let lastVolume: Int64 = last.contracts.map(\.volume).reduce(0, +)
        let firstVolume: Int64 = first.contracts.map(\.volume).reduce(0, +)
        #expect(lastVolume > firstVolume * 3)
    }

    @Test("iv_daily validation: event time at the close, a trading day, a fraction")
    func validation() {
        let d = DailyImpliedVolatility(ticker: "SPY", date: CivilDate(year: 2024, month: 3, day: 12), atmIv: 0.18)
        #expect(d.eventTime.iso8601 == "2024-03-12T20:00:00Z")
        #expect(throws: Never.self) { try d.validate(eventTime: d.eventTime) }
        #expect(throws: MessageError.self) { try d.validate(eventTime: d.eventTime.adding(ms: -1)) }
        var holiday = d; holiday.date = CivilDate(year: 2024, month: 3, day: 29)
        #expect(throws: MessageError.self) { try holiday.validate(eventTime: holiday.eventTime) }
        for bad in [0, -0.1, 18.5, Double.nan] {
            var x = d; x.atmIv = bad
            #expect(throws: MessageError.self) { try x.validate(eventTime: x.eventTime) }
        }
        let half = DailyImpliedVolatility(ticker: "SPY", date: CivilDate(year: 2024, month: 11, day: 29), atmIv: 0.18)
        #expect(half.eventTime.iso8601 == "2024-11-29T18:00:00Z")
        #expect(Topics.spec(Topics.ivDaily)?.partitions == 4)
        #expect(Topics.marketSource.first == Topics.ivDaily)
    }
}

@Suite("ImpliedVolatilityCSV")
struct ImpliedVolatilityCSVTests {
    @Test("parses, sorts by date then ticker, rejects bad rows with the reason, drops identical repeats")
    func parse() throws {
        let text = """
            ticker,date,atm_iv
            SPY,2024-03-12,0.14
            AAPL,2024-03-11,0.25
            SPY,2024-03-11,0.15
            SPY,2024-03-29,0.15
            QQQ,2024-03-11,18.5
            QQQ,03/11/2024,0.18
            SPY,2024-03-12,0.14
            SPY,2024-03-12,0.16
            qqq,2024-03-11,0.2
            """
        let r = try ImpliedVolatilityCSV.parse(text, file: "iv.csv")
        #expect(r.days.map { "\($0.ticker) \($0.date)" } == ["AAPL 2024-03-11", "SPY 2024-03-11", "SPY 2024-03-12"])
        #expect(r.identicalDuplicates == 1)
        #expect(r.rejected.map(\.line) == [5, 6, 7, 9, 10])
        #expect(r.rejected[0].reason.contains("not an NYSE trading day"))
        #expect(r.rejected[1].reason.contains("(0, 10]"))
        #expect(r.rejected[2].reason.contains("YYYY-MM-DD"))
        #expect(r.rejected[3].reason.contains("line 2"))
        #expect(r.events.map(\.topic) == [Topics.ivDaily, Topics.ivDaily, Topics.ivDaily])
    }

    @Test("round trip; an unknown header throws")
    func roundTrip() throws {
        let days = [DailyImpliedVolatility(ticker: "SPY", date: CivilDate(year: 2024, month: 3, day: 11), atmIv: 0.1525)]
        #expect(try ImpliedVolatilityCSV.parse(ImpliedVolatilityCSV.render(days), file: "x").days == days)
        #expect(throws: CSVError.self) { try ImpliedVolatilityCSV.parse("ticker,day,iv\nSPY,2024-03-11,0.1\n", file: "x") }
    }
}
