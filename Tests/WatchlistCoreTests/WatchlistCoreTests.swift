import OpsModel
import Testing
import WatchlistCore

@Suite("Watchlist-engine: measures, determinism, restore")
struct WatchlistCoreTests {
    @Test("avg daily volume: today's so far in a ticker's first session, then the mean of its completed sessions")
    func averageDailyVolume() throws {
        var core = WatchlistCore()
        let volume: (String, Int) -> Int64 = { t, i in t == "SPY" ? 3000 : (i < 60 ? 5000 : 100) }
        let wednesday = CivilDate(year: 2024, month: 3, day: 6)
        let inputs = session(monday, ["SPY", "QQQ"], volume: volume) + session(tuesday, ["SPY", "QQQ"], volume: { _, _ in 2000 })
            + session(wednesday, ["SPY", "QQQ", "IWM"], until: (10, 30))
        let out = try run(&core, inputs)
        let mon10 = try #require(out.first { $0.payload.asOf == ny(monday, 10, 0) }?.payload)
        #expect(entry(mon10, "SPY")?.avgDailyVolume == Double(29 * 3000) && entry(mon10, "SPY")?.volumeSessions == 0)
        #expect(entry(mon10, "QQQ")?.avgDailyVolume == Double(29 * 5000), "QQQ's heavy morning puts it ahead at 10:00…")
        #expect(mon10.tickers == ["QQQ", "SPY"])
        let tueOpen = try #require(out.first { $0.payload.asOf == ny(tuesday, 9, 30) }?.payload)
        #expect(entry(tueOpen, "QQQ")?.avgDailyVolume == Double(60 * 5000 + 330 * 100) && entry(tueOpen, "QQQ")?.volumeSessions == 1)
        #expect(entry(tueOpen, "SPY")?.avgDailyVolume == Double(390 * 3000))
        #expect(tueOpen.tickers == ["SPY", "QQQ"], "…but SPY trades more over a whole session")
        let wedOpen = try #require(out.first { $0.payload.asOf == ny(wednesday, 9, 30) }?.payload)
        #expect(entry(wedOpen, "SPY")?.avgDailyVolume == Double(390 * 3000 + 390 * 2000) / 2 && entry(wedOpen, "SPY")?.volumeSessions == 2)
        #expect(entry(wedOpen, "IWM") == nil, "not a candidate before its first bar")
        let wed10 = try #require(out.first { $0.payload.asOf == ny(wednesday, 10, 0) }?.payload)
        #expect(entry(wed10, "IWM")?.volumeSessions == 0, "a new ticker's first session uses today's volume so far")
        #expect(entry(wed10, "IWM")?.avgDailyVolumeScore == 0, "and ranks below full-session averages")
    }

    @Test("avg daily volume counts at most the last 20 sessions")
    func volumeWindow() throws {
        var core = WatchlistCore()
        var days = [CivilDate(year: 2024, month: 1, day: 2)]
        while days.count < 22 { days.append(MarketCalendar.tradingDay(after: days.last!)) }
        var inputs = [Input]()
        for (k, d) in days.enumerated() {
            let s = MarketCalendar.session(d)!
            // One bar a session: 1000 shares on the first two days, 10 after.
            inputs.append(features("SPY", end: s.open + Minutes(1), volume: k < 2 ? 1000 : 10))
        }
        inputs.append(features("SPY", end: MarketCalendar.session(days[21])!.open + Minutes(31)))
        let out = try run(&core, inputs)
        let last = try #require(out.last?.payload)
        #expect(last.asOf == MarketCalendar.session(days[21])!.open + Minutes(30))
        #expect(entry(last, "SPY")?.volumeSessions == 20)
        #expect(entry(last, "SPY")?.avgDailyVolume == Double(1000 + 19 * 10) / 20, "day 0 has left the window; day 1 is the oldest in it")
    }

    @Test("spread quality and open interest from the latest chain: median near the money; a chain older than the previous session is ignored")
    func chainMeasures() throws {
        var core = WatchlistCore()
        let quotes: [(strike: Double, bid: Double, ask: Double, oi: Int64)] = [
            (90, 10.0, 10.2, 100),   // 10% away: not near the money for the spread
            (96, 4.9, 5.1, 200),     // 4%
            (100, 2.0, 2.2, 300),    // ≈ 9.52%
            (104, 0.95, 1.05, 400),  // 10%
            (105, 0, 0.05, 500),     // no bid
        ]
        var inputs = session(monday, ["SPY"], until: (10, 5))
        inputs.append(chain("SPY", at: ny(monday, 9, 45), price: 100, quotes: quotes))
        let out = try run(&core, inputs)
        let e = try #require(out.first.flatMap { entry($0.payload, "SPY") })
        #expect(e.spreadPct == 9.5238, "median of 4%, 9.52% and 10%")
        #expect(e.openInterest == 1500, "every contract of the snapshot")
        #expect(e.chainTime == ny(monday, 9, 45))

        var stale = WatchlistCore()
        let thursday = CivilDate(year: 2024, month: 3, day: 7)
        let later = try run(&stale, inputs + session(tuesday, ["SPY"], until: (9, 31)) + session(thursday, ["SPY"], until: (9, 31)))
        let tue = try #require(later.first { $0.payload.asOf == ny(tuesday, 9, 30) }.flatMap { entry($0.payload, "SPY") })
        #expect(tue.openInterest == 1500, "Monday's chain still counts on Tuesday")
        let thu = try #require(later.first { $0.payload.asOf == ny(thursday, 9, 30) }.flatMap { entry($0.payload, "SPY") })
        #expect(thu.openInterest == nil && thu.spreadPct == nil && thu.spreadQualityScore == 0, "Monday's chain is stale on Thursday")
    }

    @Test("sentiment momentum: |mean| of the latest 4 scores of the last 24 hours")
    func sentimentWindow() throws {
        var core = WatchlistCore()
        var inputs = session(monday, ["SPY", "QQQ"]) + session(tuesday, ["SPY", "QQQ"], until: (11, 1))
        inputs += [(9, 0, 0.9), (10, 0, -0.2), (10, 30, -0.4), (11, 0, -0.6), (11, 30, -0.8)].map {
            sentiment("SPY", at: ny(monday, $0.0 + 4, $0.1), score: $0.2)
        }
        inputs += [sentiment("QQQ", at: ny(monday, 10, 45), score: 1.0), sentiment("QQQ", at: ny(tuesday, 10, 40), score: 0.2)]
        let out = try run(&core, inputs)
        let mon1530 = try #require(out.first { $0.payload.asOf == ny(monday, 15, 30) }?.payload)
        #expect(entry(mon1530, "SPY")?.sentimentCount == 4, "13:00 … 15:00; the 15:30 score is not before 15:30")
        let tueOpen = try #require(out.first { $0.payload.asOf == ny(tuesday, 9, 30) }?.payload)
        #expect(entry(tueOpen, "SPY")?.sentimentCount == 4, "the 13:00 score is the fifth latest")
        #expect(entry(tueOpen, "SPY")?.sentimentMean == -0.5)
        #expect(entry(tueOpen, "SPY")?.sentimentMomentum == 0.5, "a bearish lean counts as much as a bullish one")
        #expect(entry(tueOpen, "QQQ")?.sentimentMean == 1.0, "within 24 hours of the open")
        let tue11 = try #require(out.first { $0.payload.asOf == ny(tuesday, 11, 0) }?.payload)
        #expect(entry(tue11, "QQQ")?.sentimentCount == 1, "Monday 10:45 is more than 24 hours before Tuesday 11:00")
        #expect(entry(tue11, "QQQ")?.sentimentMomentum == 0.2)
    }

    @Test("technical setup and volatility read the ticker's latest feature vector of the session; none at the open")
    func featureMeasures() throws {
        var core = WatchlistCore()
        var inputs = session(monday, ["SPY", "QQQ"], until: (10, 59))
        inputs.append(features("SPY", end: ny(monday, 10, 59, 30), close: 100, slope: 0.0003, atr14: 0.2, atmIv: 0.2))
        inputs.append(features("QQQ", end: ny(monday, 10, 59, 30), close: 100, slope: -0.0001, atr14: 0.4, atmIv: 0.2))
        inputs += session(tuesday, ["SPY", "QQQ"], until: (9, 31))
        inputs.append(features("SPY", end: ny(monday, 11, 0)))
        let out = try run(&core, inputs)
        let mon11 = try #require(out.first { $0.payload.asOf == ny(monday, 11, 0) }?.payload)
        #expect(entry(mon11, "SPY")?.technicalSetup == 1 && entry(mon11, "QQQ")?.technicalSetup == 0)
        #expect(entry(mon11, "SPY")?.volatility == 0 && entry(mon11, "QQQ")?.volatility == 1)
        #expect(entry(mon11, "SPY")?.sma20Slope == 0.0003 && entry(mon11, "QQQ")?.atr14 == 0.4)
        let tueOpen = try #require(out.first { $0.payload.asOf == ny(tuesday, 9, 30) }?.payload)
        #expect(tueOpen.entries.allSatisfy { $0.technicalSetup == 0 && $0.volatility == 0 && $0.sma20Slope == nil })
    }

    static let wednesday = CivilDate(year: 2024, month: 3, day: 6)
    static let weight = ["SPY": 3, "QQQ": 2, "IWM": 1]

    /// Three sessions of three tickers with chains every 5 minutes, sentiment every 30 and varied features.
    static func market() -> [Input] {
        var inputs = [Input]()
        for d in [monday, tuesday, wednesday] {
            inputs += session(d, ["SPY", "QQQ", "IWM"], volume: { t, i in Int64(1000 * weight[t]! + (i * 37) % 900) })
            let open = MarketCalendar.session(d)!.open
            for m in stride(from: 5, through: 390, by: 5) {
                for (t, p) in [("SPY", 500.0), ("QQQ", 430.0), ("IWM", 200.0)] {
                    let w = Double((m / 5 + weight[t]!) % 7) * 0.01
                    inputs.append(chain(t, at: open + Minutes(m), price: p,
                                        quotes: [(p, 1.0, 1.05 + w, Int64(1000 * (4 - weight[t]!) + m)), (p * 1.02, 0.5, 0.52 + w, 700)]))
                }
            }
            for m in stride(from: 30, through: 390, by: 30) {
                for (k, t) in ["SPY", "QQQ", "IWM"].enumerated() {
                    inputs.append(sentiment(t, at: open + Minutes(m), score: Double((m / 30 + k) % 9 - 4) / 5))
                }
            }
            for m in stride(from: 25, through: 390, by: 7) {
                for (k, t) in ["SPY", "QQQ", "IWM"].enumerated() {
                    inputs.append(features(t, end: open + Minutes(m) + Minutes(0), volume: 0, close: 100 + Double(k),
                                           slope: Double((m + 3 * k) % 11 - 5) * 1e-5, atr14: 0.1 + Double((m + k) % 5) / 10, atmIv: 0.2))
                }
            }
        }
        // Keep one feature vector per ticker and minute (the extra ones replace the plain ones).
        var byKey = [String: Input]()
        for i in inputs { byKey[i.envelope.id] = i }
        return Array(byKey.values)
    }

    @Test("deterministic: two runs over the same inputs give the same bytes")
    func deterministic() throws {
        let inputs = Self.market()
        var a = WatchlistCore(), b = WatchlistCore()
        let x = try run(&a, inputs), y = try run(&b, inputs.reversed())
        #expect(x.count == 38)
        #expect(try x.map { try $0.encoded() } == y.map { try $0.encoded() })
        #expect(x.contains { Set($0.payload.tickers) == ["SPY", "QQQ", "IWM"] && $0.payload.tickers != ["IWM", "QQQ", "SPY"] },
                "the ranking is not just alphabetical")
    }

    static let cuts = [ny(monday, 11, 17), ny(monday, 15, 59), ny(tuesday, 9, 30), ny(tuesday, 12, 2), ny(wednesday, 12, 2)]

    @Test("restore: re-reading each topic from restoreStart gives every later watchlist as an uninterrupted run", arguments: cuts)
    func restore(cut: Timestamp) throws {
        let inputs = Self.market().sorted(by: Input.canonical)
        var clean = WatchlistCore()
        let expected = try run(&clean, inputs).filter { $0.eventTime > cut }.map { try $0.encoded() }
        #expect(!expected.isEmpty)

        // Processed before the restart: inputs up to `cut`. The runtime re-reads each topic from where the core
        // says its state begins (from the last input processed on it), with outputs suppressed up to the cut.
        var restarted = WatchlistCore()
        let done = inputs.filter { $0.envelope.eventTime <= cut }
        var replay = [Input]()
        for topic in restarted.inputTopics {
            guard let last = done.last(where: { $0.topic == topic })?.envelope.eventTime else { continue }
            let start = restarted.restoreStart(topic: topic, after: last)
            #expect(start <= last)
            replay += done.filter { $0.topic == topic && $0.envelope.eventTime >= start }
        }
        if cut == Self.cuts.last { #expect(replay.count < done.count, "the restore reads less than everything") }
        _ = try run(&restarted, replay)
        let resumed = try run(&restarted, inputs.filter { $0.envelope.eventTime > cut }).map { try $0.encoded() }
        #expect(resumed == expected)
    }

    @Test("restoreStart: features from 20 trading days back, chains from the previous trading day, sentiment 24 hours")
    func restoreStart() {
        let core = WatchlistCore()
        let t = ny(tuesday, 11, 0)
        #expect(core.restoreStart(topic: Topics.features, after: t) == ny(CivilDate(year: 2024, month: 2, day: 5), 0, 0),
                "20 trading days before 2024-03-05 (Presidents' Day 02-19 skipped)")
        #expect(core.restoreStart(topic: Topics.chains, after: t) == ny(monday, 0, 0))
        #expect(core.restoreStart(topic: Topics.chains, after: ny(monday, 11, 0)) == ny(CivilDate(year: 2024, month: 3, day: 1), 0, 0), "Friday")
        #expect(core.restoreStart(topic: Topics.sentiment, after: t) == ny(monday, 11, 0))
    }
}
