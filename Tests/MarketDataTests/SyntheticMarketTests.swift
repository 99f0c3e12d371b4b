import Foundation
import Testing
import OpsModel
@testable import MarketData

@Suite("Synthetic market")
struct SyntheticMarketTests {
    let events = SyntheticFixtures.defaultEvents
    let config = SyntheticMarketConfig()

    @Test("same seed gives identical events and bytes; another seed differs")
    func determinism() throws {
        let again = SyntheticMarket(config: SyntheticMarketConfig(seed: 42)).events()
        #expect(again == events)
        let bytesA = try events.map { try $0.envelope(source: "synthetic-market").encoded() }
        let bytesB = try again.map { try $0.envelope(source: "synthetic-market").encoded() }
        #expect(bytesA == bytesB)

        let other = SyntheticMarket(config: SyntheticMarketConfig(seed: 43)).events()
        #expect(other.count == events.count)
        #expect(other != events)
        let closesA = SyntheticFixtures.bars(events).map(\.close), closesB = SyntheticFixtures.bars(other).map(\.close)
        #expect(zip(closesA, closesB).filter { $0 != $1 }.count > closesA.count / 2)
    }

    @Test("a ticker's bars do not depend on the other tickers or on chain and sentiment settings")
    func independentStreams() {
        let solo = SyntheticMarket(config: SyntheticMarketConfig(tickers: [SyntheticTicker.defaults[2]], chainEveryMinutes: 0,
                                                                 sentimentEveryMinutes: 0)).events()
        #expect(SyntheticFixtures.bars(solo) == SyntheticFixtures.bars(events, "AAPL"))
        #expect(solo.count == 780)
    }

    @Test("every bar, chain and sentiment validates against its event time")
    func everythingValidates() throws {
        for e in events {
            switch e {
            case .bar(let b): try b.validate(eventTime: e.eventTime)
            case .chain(let c): try c.validate(eventTime: e.eventTime)
            case .atmIv(let a, let t): try a.validate(eventTime: t)
            case .sentiment(let s, let t): try s.validate(eventTime: t)
            case .ivDaily(let d): try d.validate(eventTime: e.eventTime)
            }
        }
        // And through the wire: encode, decode with the topic's decoder (which validates).
        for e in events.prefix(200) {
            let bytes = try e.envelope(source: "synthetic-market").encoded()
            let decoded = try Topics.decoder(for: e.topic).decode(bytes)
            #expect(decoded.eventTime == e.eventTime)
        }
    }

    @Test("events are in canonical order")
    func canonicalOrder() {
        for (a, b) in zip(events, events.dropFirst()) {
            #expect(!MarketEvent.canonicalOrder(b, a), "\(b.eventTime) \(b.ticker) before \(a.eventTime) \(a.ticker)")
        }
    }

    @Test("counts: 390 bars per session and ticker, a chain every 5 minutes, a score every 30")
    func counts() {
        let tickers = config.tickers.count, sessions = config.sessions
        #expect(SyntheticFixtures.bars(events).count == 390 * sessions * tickers)
        #expect(SyntheticFixtures.chains(events).count == 78 * sessions * tickers)
        #expect(SyntheticFixtures.sentiments(events).count == 13 * sessions * tickers)
        for t in config.tickers {
            #expect(SyntheticFixtures.bars(events, t.symbol).count == 390 * sessions)
        }
        let quiet = SyntheticMarket(config: SyntheticMarketConfig(sessions: 1, chainEveryMinutes: 0, sentimentEveryMinutes: 0)).events()
        #expect(quiet.count == 390 * tickers)
        #expect(quiet.allSatisfy { if case .bar = $0 { true } else { false } })
    }

    @Test("bars are contiguous regular-hours minutes on weekdays")
    func regularHours() throws {
        for t in config.tickers {
            let bars = SyntheticFixtures.bars(events, t.symbol)
            for (i, b) in bars.enumerated() {
                let local = NewYorkTime.local(b.start)
                #expect(local.secondOfDay % 60 == 0)
                let minute = local.secondOfDay / 60
                #expect(minute >= 9 * 60 + 30 && minute < 16 * 60, "\(b.start)")
                #expect(!local.date.isWeekend)
                #expect(b.end.ms - b.start.ms == 60_000)
                #expect(minute - (9 * 60 + 30) == i % 390)
            }
            #expect(bars.map { NewYorkTime.date(of: $0.start) }.reduce(into: [CivilDate]()) { if $0.last != $1 { $0.append($1) } }
                    == [CivilDate(year: 2024, month: 3, day: 4), CivilDate(year: 2024, month: 3, day: 5)])
        }
    }

    @Test("sessions across the 2024-03-10 DST change open at 14:30Z, then 13:30Z")
    func daylightSaving() throws {
        let cfg = SyntheticMarketConfig(tickers: [SyntheticTicker.defaults[0]], startDate: CivilDate(year: 2024, month: 3, day: 8),
                                        sessions: 2, chainEveryMinutes: 0, sentimentEveryMinutes: 0)
        let market = SyntheticMarket(config: cfg)
        #expect(market.sessionDates == [CivilDate(year: 2024, month: 3, day: 8), CivilDate(year: 2024, month: 3, day: 11)])
        let bars = SyntheticFixtures.bars(market.events())
        try #require(bars.count == 780)
        #expect(bars[0].start == Timestamp(iso8601: "2024-03-08T14:30:00Z"))
        #expect(bars[389].end == Timestamp(iso8601: "2024-03-08T21:00:00Z"))
        #expect(bars[390].start == Timestamp(iso8601: "2024-03-11T13:30:00Z"))
        #expect(bars[779].end == Timestamp(iso8601: "2024-03-11T20:00:00Z"))
    }

    @Test("weekends and NYSE holidays are skipped")
    func holidays() {
        // Good Friday 2024-03-29; the weekend; then Monday 2024-04-01.
        let dates = SyntheticMarket(config: SyntheticMarketConfig(startDate: CivilDate(year: 2024, month: 3, day: 28), sessions: 3)).sessionDates
        #expect(dates == [CivilDate(year: 2024, month: 3, day: 28), CivilDate(year: 2024, month: 4, day: 1), CivilDate(year: 2024, month: 4, day: 2)])
        // A start on a Saturday begins on Monday; Christmas and the July 4th holidays are skipped.
        #expect(SyntheticMarket(config: SyntheticMarketConfig(startDate: CivilDate(year: 2024, month: 3, day: 2), sessions: 1)).sessionDates
                == [CivilDate(year: 2024, month: 3, day: 4)])
        #expect(!SyntheticCalendar.isTradingDay(CivilDate(year: 2024, month: 12, day: 25)))
        #expect(!SyntheticCalendar.isTradingDay(CivilDate(year: 2024, month: 7, day: 4)))
        #expect(!SyntheticCalendar.isTradingDay(CivilDate(year: 2024, month: 6, day: 19)))
        #expect(!SyntheticCalendar.isTradingDay(CivilDate(year: 2024, month: 11, day: 28)))
        #expect(!SyntheticCalendar.isTradingDay(CivilDate(year: 2024, month: 1, day: 15)))
        #expect(!SyntheticCalendar.isTradingDay(CivilDate(year: 2021, month: 12, day: 24)))  // Christmas on a Saturday
        #expect(SyntheticCalendar.isTradingDay(CivilDate(year: 2021, month: 12, day: 31)))   // New Year on a Saturday: not observed
        #expect(SyntheticCalendar.easterSunday(year: 2025) == CivilDate(year: 2025, month: 4, day: 20))
    }

    @Test("prices: cents, OHLC consistent, vwap inside the range, an overnight gap")
    func prices() {
        for t in config.tickers {
            let bars = SyntheticFixtures.bars(events, t.symbol)
            for b in bars {
                for p in [b.open, b.high, b.low, b.close] { #expect(abs(p * 100 - (p * 100).rounded()) < 1e-6) }
                #expect(b.high >= max(b.open, b.close) && b.low <= min(b.open, b.close))
                let vwap = b.vwap ?? 0
                #expect(vwap >= b.low && vwap <= b.high)
                #expect(b.volume > 0 && (b.trades ?? 0) > 0)
            }
            #expect(abs(bars[0].open / t.startPrice - 1) < 0.01)
            #expect(bars[390].open != bars[389].close, "\(t.symbol): no overnight gap")
            // Bars have real ranges, not just open=close.
            #expect(bars.filter { $0.high > $0.low }.count > 350)
        }
    }

    @Test("volume is U-shaped: the first and last 30 minutes beat midday")
    func volumeShape() {
        for t in config.tickers {
            let bars = SyntheticFixtures.bars(events, t.symbol)
            for s in 0..<config.sessions {
                let v = bars[(s * 390)..<((s + 1) * 390)].map { Double($0.volume) }
                let first = SyntheticFixtures.mean(v.prefix(30)), last = SyntheticFixtures.mean(v.suffix(30))
                let midday = SyntheticFixtures.mean(v[v.startIndex + 150..<v.startIndex + 240])
                #expect(first > 1.5 * midday, "\(t.symbol) session \(s): open \(first) vs midday \(midday)")
                #expect(last > 1.5 * midday, "\(t.symbol) session \(s): close \(last) vs midday \(midday)")
            }
        }
    }

    @Test("volume surges happen: some bars trade at least 3× the mean of the 20 before them")
    func volumeSurges() {
        for t in config.tickers {
            let bars = SyntheticFixtures.bars(events, t.symbol)
            var surges = 0
            for s in 0..<config.sessions {
                let v = bars[(s * 390)..<((s + 1) * 390)].map { Double($0.volume) }
                for i in 20..<v.count where v[i] >= 3 * SyntheticFixtures.mean(v[(i - 20)..<i]) { surges += 1 }
            }
            #expect(surges >= 2, "\(t.symbol): \(surges) surges")
        }
    }

    /// Trending and choppy stretches, measured by the 30-minute efficiency ratio (see
    /// `SyntheticFixtures.efficiencyRatio`): every ticker-session has a stretch at ≥ 0.5 (a straight-ish run)
    /// and one at ≤ 0.05 (back where it started), for several seeds.
    @Test("both trending and choppy stretches occur within every session", arguments: [UInt64(42), 7, 2024])
    func trendsAndChop(seed: UInt64) {
        let cfg = SyntheticMarketConfig(seed: seed, chainEveryMinutes: 0, sentimentEveryMinutes: 0)
        let events = seed == 42 ? self.events : SyntheticMarket(config: cfg).events()
        for t in cfg.tickers {
            let closes = SyntheticFixtures.bars(events, t.symbol).map(\.close)
            var best = 0.0
            for s in 0..<cfg.sessions {
                let session = closes[(s * 390)..<((s + 1) * 390)]
                let ratios = stride(from: session.startIndex, through: session.endIndex - 31, by: 1).map {
                    SyntheticFixtures.efficiencyRatio(closes[$0...($0 + 30)])
                }
                #expect(ratios.max()! >= 0.5, "seed \(seed) \(t.symbol) session \(s): no trend (max ER \(ratios.max()!))")
                #expect(ratios.min()! <= 0.05, "seed \(seed) \(t.symbol) session \(s): no chop (min ER \(ratios.min()!))")
                best = max(best, ratios.max()!)
            }
            #expect(best >= 0.6, "seed \(seed) \(t.symbol): strongest trend ER \(best)")
        }
    }

    @Test("sentiment: in [-1, 1], from synthetic-news, and follows the price's direction")
    func sentiment() throws {
        let cfg = SyntheticMarketConfig(sessions: 6, chainEveryMinutes: 0)
        let events = SyntheticMarket(config: cfg).events()
        var xs = [Double](), ys = [Double]()
        for t in cfg.tickers {
            let bars = SyntheticFixtures.bars(events, t.symbol)
            let closeAt = Dictionary(uniqueKeysWithValues: bars.map { ($0.end, $0.close) })
            for (s, at) in SyntheticFixtures.sentiments(events, t.symbol) {
                #expect((-1...1).contains(s.score) && s.source == "synthetic-news")
                let now = try #require(closeAt[at])
                // The move over the 30 minutes before the score (skip the first score of a session).
                guard let before = closeAt[at - Minutes(30)] else { continue }
                xs.append(s.score); ys.append(log(now / before))
            }
        }
        let mx = SyntheticFixtures.mean(xs), my = SyntheticFixtures.mean(ys)
        let cov = zip(xs, ys).map { ($0 - mx) * ($1 - my) }.reduce(0, +)
        let corr = cov / (xs.map { ($0 - mx) * ($0 - mx) }.reduce(0, +) * ys.map { ($0 - my) * ($0 - my) }.reduce(0, +)).squareRoot()
        #expect(xs.count > 150)
        #expect(corr > 0.2, "correlation of score with the preceding 30-minute return: \(corr)")
        #expect(Set(xs.map { $0 > 0 }).count == 2)
    }
}

/// Helpers shared by the synthetic-market tests.
enum SyntheticFixtures {
    /// The default market (seed 42, SPY/QQQ/AAPL, 2 sessions from 2024-03-04), generated once.
    static let defaultEvents: [MarketEvent] = SyntheticMarket().events()

    static func bars(_ events: [MarketEvent], _ ticker: String? = nil) -> [Bar] {
        events.compactMap { if case .bar(let b) = $0, ticker == nil || b.ticker == ticker { b } else { nil } }
    }

    static func chains(_ events: [MarketEvent], _ ticker: String? = nil) -> [OptionChain] {
        events.compactMap { if case .chain(let c) = $0, ticker == nil || c.underlying == ticker { c } else { nil } }
    }

    static func sentiments(_ events: [MarketEvent], _ ticker: String? = nil) -> [(SentimentScore, Timestamp)] {
        events.compactMap { if case .sentiment(let s, let t) = $0, ticker == nil || s.ticker == ticker { (s, t) } else { nil } }
    }

    /// Kaufman's efficiency ratio of a run of closes: |net move| / sum of |minute moves|. 1 is a straight line,
    /// near 0 is going nowhere. A driftless random walk over 30 minutes averages about 0.15 and exceeds 0.5
    /// only a few percent of the time.
    static func efficiencyRatio(_ closes: ArraySlice<Double>) -> Double {
        guard let first = closes.first, let last = closes.last else { return 0 }
        var path = 0.0
        var prev = first
        for c in closes.dropFirst() { path += abs(c - prev); prev = c }
        return path > 0 ? abs(last - first) / path : 0
    }

    static func mean<C: Collection>(_ xs: C) -> Double where C.Element == Double {
        xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count)
    }
}
