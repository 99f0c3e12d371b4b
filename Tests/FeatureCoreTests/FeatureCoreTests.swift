import Foundation
import Testing
import FeatureCore
import MarketData
import OpsModel
import TestSupport

/// Runs bars through the core the way the runtime does.
func features(_ bars: [Bar], config: FeatureConfig = FeatureConfig()) throws -> [FeatureVector] {
    var core = FeatureCore(config: config)
    var out = [FeatureVector]()
    for b in bars {
        for e in try core.handle(MarketEvent.bar(b).envelope(source: "test"), from: Topics.bars) {
            out.append(try #require(e.envelope.payload as? FeatureVector))
        }
    }
    return out
}

/// An independent computation: sessions found with Foundation's time-zone database (not the project's DST
/// rules), windows by array index per session, missing minutes by a dictionary of bar end times.
enum Reference {
    struct Row { var sma20, distance, slope, volumeRatio, c5, c15, r1, r5, r15, atr: Double? }

    static func compute(_ bars: [Bar], lookback: Int) -> [Row] {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "America/New_York")!
        var sessions = [[Bar]]()
        var lastDay: DateComponents?
        for b in bars {
            let d = Date(timeIntervalSince1970: Double(b.start.ms) / 1000)
            let c = cal.dateComponents([.year, .month, .day, .hour, .minute], from: d)
            let minute = c.hour! * 60 + c.minute!
            guard minute >= 570, minute < 960 else { continue }
            let day = DateComponents(year: c.year, month: c.month, day: c.day)
            if day != lastDay { sessions.append([]); lastDay = day }
            sessions[sessions.count - 1].append(b)
        }
        var rows = [Row]()
        for s in sessions {
            let close = s.map(\.close), vol = s.map { Double($0.volume) }
            var byEnd = [Int64: Double]()
            for b in s { byEnd[b.end.ms] = b.close }
            var sma = [Double?](repeating: nil, count: s.count)
            var atr = [Double?](repeating: nil, count: s.count)
            var tr = [Double]()
            for i in s.indices {
                if i >= 19 { sma[i] = close[(i - 19)...i].reduce(0, +) / 20 }
                tr.append(i == 0 ? s[i].high - s[i].low
                          : max(s[i].high - s[i].low, abs(s[i].high - close[i - 1]), abs(s[i].low - close[i - 1])))
                if i == 13 { atr[i] = tr.reduce(0, +) / 14 } else if i > 13 { atr[i] = (atr[i - 1]! * 13 + tr[i]) / 14 }
            }
            for i in s.indices {
                func ago(_ m: Int64) -> Double? { byEnd[s[i].end.ms - m * 60_000] }
                var row = Row()
                row.sma20 = sma[i]
                row.distance = sma[i].map { (close[i] - $0) / $0 }
                if i - lookback >= 19 { row.slope = (sma[i]! - sma[i - lookback]!) / sma[i - lookback]! / Double(lookback) }
                if i >= 20 { let m = vol[(i - 20)..<i].reduce(0, +) / 20; row.volumeRatio = m > 0 ? vol[i] / m : nil }
                row.c5 = ago(5); row.c15 = ago(15)
                row.r1 = ago(1).map { close[i] / $0 - 1 }
                row.r5 = row.c5.map { close[i] / $0 - 1 }
                row.r15 = row.c15.map { close[i] / $0 - 1 }
                row.atr = atr[i]
                rows.append(row)
            }
        }
        return rows
    }
}

func close(_ a: Double?, _ b: Double?, _ what: String, _ where_: String) {
    switch (a, b) {
    case (nil, nil): return
    case let (x?, y?):
        #expect(abs(x - y) <= 1e-9 * max(1, abs(y)), "\(what) at \(where_): \(x) vs \(y)")
    default:
        Issue.record("\(what) at \(where_): \(String(describing: a)) vs \(String(describing: b))")
    }
}

@Suite("FeatureCore")
struct FeatureCoreTests {
    @Test("matches an independent computation on the real SPY minutes of 2024",
          .enabled(if: TestPaths.hasSharedData, "../shared/data is absent: skipped"))
    func realSPY() throws {
        let parsed = try BarCSV.parse(contentsOf: TestPaths.shared("bars/SPY_1min_2024-02-20_2024-04-18_ET.csv"), ticker: nil)
        for lookback in [5, 3] {
            let got = try features(parsed.bars, config: FeatureConfig(slopeLookback: lookback))
            let want = Reference.compute(parsed.bars, lookback: lookback)
            #expect(got.count == want.count)
            #expect(got.count > 40 * 380, "about 42 regular sessions of ~390 minutes")
            var nonNil = 0
            for (g, w) in zip(got, want) {
                let at = "\(g.ticker) \(g.bar.start)"
                close(g.sma20, w.sma20, "sma20", at); close(g.distanceSma20, w.distance, "distance_sma20", at)
                close(g.sma20Slope, w.slope, "sma20_slope", at); close(g.volumeRatio, w.volumeRatio, "volume_ratio", at)
                close(g.close5mAgo, w.c5, "close_5m_ago", at); close(g.close15mAgo, w.c15, "close_15m_ago", at)
                close(g.ret1m, w.r1, "ret_1m", at); close(g.ret5m, w.r5, "ret_5m", at); close(g.ret15m, w.r15, "ret_15m", at)
                close(g.atr14, w.atr, "atr14", at)
                if g.atr14 != nil, g.sma20Slope != nil, g.volumeRatio != nil { nonNil += 1 }
            }
            #expect(nonNil > got.count * 9 / 10, "most bars past warm-up have every feature")
        }
    }

    @Test("the alpha-vantage 2019 files (bar-end stamps, newest first) give the same features whichever order they come in",
          .enabled(if: TestPaths.hasSharedData, "../shared/data is absent: skipped"))
    func alphaVantage() throws {
        let parsed = try BarCSV.parse(contentsOf: TestPaths.shared("bars/QQQ_1min_2019-02-11_2019-02-15_alphavantage_ET.csv"), ticker: nil)
        let got = try features(parsed.bars)
        let want = Reference.compute(parsed.bars, lookback: 5)
        #expect(got.count == want.count)
        #expect(got.first?.bar.start.iso8601 == "2019-02-11T14:30:00Z")
        for (g, w) in zip(got, want) { close(g.atr14, w.atr, "atr14", "\(g.bar.start)"); close(g.sma20, w.sma20, "sma20", "\(g.bar.start)") }
    }
}

/// Small hand-made sessions for the edges.
@Suite("FeatureCore edges")
struct FeatureEdgeTests {
    static let day = CivilDate(year: 2024, month: 3, day: 12)

    static func bar(_ minute: Int, close: Double, volume: Int64 = 1000, ticker: String = "SPY", day: CivilDate = day) -> Bar {
        let start = NewYorkTime.utc(date: day, hour: 9, minute: 30) + Minutes(minute)
        return Bar(ticker: ticker, start: start, open: close, high: close + 0.5, low: close - 0.5, close: close, volume: volume)
    }

    @Test func warmUpIsNullNeverZero() throws {
        let fv = try features((0..<25).map { Self.bar($0, close: 100 + Double($0)) })
        #expect(fv[0].sma20 == nil && fv[0].ret1m == nil && fv[0].gapMinutes == nil && fv[0].atr14 == nil)
        #expect(fv[18].sma20 == nil)
        #expect(fv[19].sma20 == 109.5)
        #expect(fv[19].volumeRatio == nil && fv[20].volumeRatio == 1)
        #expect(fv[12].atr14 == nil && fv[13].atr14 != nil)
        #expect(fv[23].sma20Slope == nil && fv[24].sma20Slope != nil)
        #expect(fv[4].close5mAgo == nil && fv[5].close5mAgo == 100)
        #expect(fv[1].gapMinutes == 0 && fv[3].sessionBarIndex == 3)
    }

    @Test func missingMinutesMakeLookbacksNull() throws {
        var bars = (0..<30).map { Self.bar($0, close: 100 + Double($0)) }
        bars.remove(at: 20) // 09:50 missing
        let fv = try features(bars)
        let after = try #require(fv.first { $0.bar.start == NewYorkTime.utc(date: Self.day, hour: 9, minute: 51) })
        #expect(after.gapMinutes == 1)
        #expect(after.ret1m == nil, "the minute before is missing")
        let later = try #require(fv.first { $0.bar.start == NewYorkTime.utc(date: Self.day, hour: 9, minute: 55) })
        #expect(later.close5mAgo == nil, "09:51 end-5m = 09:50 bar end is the missing one")
    }

    @Test func newSessionRestartsWindowsAndOutsideHoursAreIgnored() throws {
        let next = Self.day.adding(days: 1)
        var bars = (0..<25).map { Self.bar($0, close: 100) }
        bars.append(Self.bar(390, close: 100))                   // 16:00: after the close
        bars += (0..<3).map { Self.bar($0, close: 101, day: next) }
        let fv = try features(bars)
        #expect(fv.count == 28)
        #expect(fv[25].sessionBarIndex == 0 && fv[25].sma20 == nil && fv[25].gapMinutes == nil)
        #expect(fv[25].sessionDate == next)
        let all = try features(bars, config: FeatureConfig(session: .all))
        #expect(all.count == 29)
    }

    @Test func lateOrRepeatedBarsAreRefused() throws {
        var core = FeatureCore()
        let a = Self.bar(0, close: 100), b = Self.bar(1, close: 100)
        _ = try core.handle(MarketEvent.bar(b).envelope(source: "t"), from: Topics.bars)
        #expect(throws: MessageError.self) { _ = try core.handle(MarketEvent.bar(a).envelope(source: "t"), from: Topics.bars) }
        #expect(throws: MessageError.self) { _ = try core.handle(MarketEvent.bar(b).envelope(source: "t"), from: Topics.bars) }
    }

    @Test func watchlistAndIntervalAreEnforced() throws {
        var core = FeatureCore(config: FeatureConfig(tickers: ["SPY"]))
        do {
            _ = try core.handle(MarketEvent.bar(Self.bar(0, close: 5, ticker: "XYZ")).envelope(source: "t"), from: Topics.bars)
            Issue.record("expected a refusal")
        } catch { #expect(error.reason.contains("unknown ticker")) }
        let five = Bar(ticker: "SPY", interval: .m5, start: NewYorkTime.utc(date: Self.day, hour: 10, minute: 0), open: 1, high: 1, low: 1, close: 1, volume: 1)
        #expect(throws: MessageError.self) { _ = try core.handle(MarketEvent.bar(five).envelope(source: "t"), from: Topics.bars) }
    }

    @Test func sentimentAndChainJoinAsOfTheBarWithinTheSession() throws {
        var core = FeatureCore()
        let t = NewYorkTime.utc(date: Self.day, hour: 9, minute: 40)
        _ = try core.handle(MarketEvent.sentiment(SentimentScore(ticker: "SPY", score: 0.4, source: "x"), at: t).envelope(source: "t"), from: Topics.sentiment)
        let exp = Self.day.adding(days: 9)
        let occ = { (r: OptionRight, k: Double) in OCCSymbol(root: "SPY", expiration: exp, right: r, strike: k).description }
        let chain = OptionChain(underlying: "SPY", underlyingPrice: 100.2, asOf: t, contracts: [
            OptionQuote(symbol: occ(.call, 100), right: .call, strike: 100, expiration: exp, bid: 1, ask: 1.1, volume: 1, openInterest: 1, iv: 0.20),
            OptionQuote(symbol: occ(.put, 100), right: .put, strike: 100, expiration: exp, bid: 1, ask: 1.1, volume: 1, openInterest: 1, iv: 0.24),
            OptionQuote(symbol: occ(.call, 101), right: .call, strike: 101, expiration: exp, bid: 1, ask: 1.1, volume: 1, openInterest: 1, iv: 0.5),
        ])
        _ = try core.handle(MarketEvent.withChainImpliedVolatilities([.chain(chain)]).last!.envelope(source: "t"), from: Topics.atmIv)
        func one(_ b: Bar) throws -> FeatureVector {
            try #require(core.handle(MarketEvent.bar(b).envelope(source: "t"), from: Topics.bars).first?.envelope.payload as? FeatureVector)
        }
        let before = try one(Self.bar(8, close: 100))   // ends 09:39, before the 09:40 data
        #expect(before.sentimentScore == nil && before.atmIv == nil)
        let at = try one(Self.bar(9, close: 100))       // ends 09:40
        #expect(at.sentimentScore == 0.4 && at.sentimentTime == t)
        #expect(abs((at.atmIv ?? 0) - 0.22) < 1e-12)
        let nextDay = try one(Self.bar(0, close: 100, day: Self.day.adding(days: 1)))
        #expect(nextDay.sentimentScore == nil && nextDay.atmIv == nil, "yesterday's sentiment does not leak into today")
    }

    @Test func featureIdsDeriveFromTheBar() throws {
        let bars = (0..<3).map { Self.bar($0, close: 100) }
        var core = FeatureCore()
        let env = MarketEvent.bar(bars[0]).envelope(source: "t")
        let out = try #require(core.handle(env, from: Topics.bars).first)
        #expect(out.envelope.causationId == env.id)
        #expect(out.envelope.id == DeterministicID.make("features", env.id))
        #expect(out.envelope.eventTime == bars[0].end)
    }

    @Test func restoreStartsAtNewYorkMidnight() {
        let core = FeatureCore()
        let t = NewYorkTime.utc(date: Self.day, hour: 15, minute: 0)
        #expect(core.restoreStart(topic: Topics.bars, after: t) == NewYorkTime.utc(date: Self.day, hour: 0, minute: 0))
    }
}
