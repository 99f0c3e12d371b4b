import Foundation
import OpsModel
import Testing
import WatchlistCore

@Suite("Watchlist scoring (seed 004 §5)")
struct WatchlistScoringTests {
    static let rankCases: [([Double?], [Double], String)] = [
        ([10, 20, 30], [0, 0.5, 1], "lowest 0, highest 1, evenly between"),
        ([30, 10, 20], [1, 0, 0.5], "order of the input does not matter"),
        ([5, 5, 9], [0.25, 0.25, 1], "ties share the mean of their ranks"),
        ([7, 7], [0.5, 0.5], "all equal: the middle"),
        ([nil, 3, 1], [0, 1, 0], "a missing measure scores 0 and is not counted"),
        ([4], [1], "a lone candidate is the best"),
        ([nil, nil], [0, 0], "nobody has it"),
        ([1e9, 2, 1], [1, 0.5, 0], "an outlier does not squash the others (min-max would give 2 → 0.000000001)"),
    ]

    @Test("percentile-rank normalization", arguments: rankCases)
    func percentileRanks(_ c: ([Double?], [Double], String)) {
        #expect(WatchlistScoring.percentileRanks(c.0) == c.1, "\(c.2)")
    }

    /// A: most volume, tightest spread, strongest sentiment, cheapest options for its moves; B: most open interest,
    /// steepest trend; C: only a volume.
    static let fixed = [
        TickerMeasures(ticker: "AAA", avgDailyVolume: 3_000_000, volumeSessions: 1, spreadPct: 2.0, openInterest: 50_000,
                       sentimentMean: 0.6, sentimentCount: 2, sma20Slope: 0.0002, atr14: 0.5, atmIv: 0.2, close: 100),
        TickerMeasures(ticker: "BBB", avgDailyVolume: 1_000_000, volumeSessions: 1, spreadPct: 5.0, openInterest: 80_000,
                       sentimentMean: -0.3, sentimentCount: 1, sma20Slope: -0.0004, atr14: 0.3, atmIv: 0.4, close: 50),
        TickerMeasures(ticker: "CCC", avgDailyVolume: 2_000_000, volumeSessions: 1),
    ]

    @Test("every component and the weights on a fixed input")
    func fixedInput() throws {
        let e = WatchlistScoring.rank(Self.fixed, size: 2)
        #expect(e.map(\.ticker) == ["AAA", "BBB", "CCC"])
        #expect(e.map(\.rank) == [1, 2, 3])
        #expect(e.map(\.selected) == [true, true, false])
        let a = e[0], b = e[1], c = e[2]
        // Liquidity parts, normalized.
        #expect([a.avgDailyVolumeScore, b.avgDailyVolumeScore, c.avgDailyVolumeScore] == [1, 0, 0.5])
        #expect([a.spreadQualityScore, b.spreadQualityScore, c.spreadQualityScore] == [1, 0, 0], "tighter is better; no chain scores 0")
        #expect([a.openInterestScore, b.openInterestScore, c.openInterestScore] == [0, 1, 0])
        // 0.5·volume + 0.3·spread + 0.2·OI.
        #expect([a.liquidity, b.liquidity, c.liquidity] == [0.8, 0.2, 0.25])
        // |mean sentiment|, either direction.
        #expect([a.sentimentMomentum, b.sentimentMomentum, c.sentimentMomentum] == [0.6, 0.3, 0])
        #expect([a.technicalSetup, b.technicalSetup, c.technicalSetup] == [0, 1, 0], "|slope|: a falling trend is a setup too")
        // (0.5/100) / (0.2/√98280) ≈ 7.84 against (0.3/50) / (0.4/√98280) ≈ 4.70.
        #expect(abs(a.moveToImplied! - 7.8374) < 1e-4 && abs(b.moveToImplied! - 4.7024) < 1e-4)
        #expect([a.volatility, b.volatility, c.volatility] == [1, 0, 0])
        // 0.40·sentiment + 0.30·liquidity + 0.20·technical + 0.10·volatility.
        #expect(a.score == 0.58)   // 0.24 + 0.24 + 0 + 0.10
        #expect(b.score == 0.38)   // 0.12 + 0.06 + 0.20 + 0
        #expect(c.score == 0.075)  // 0.3 × 0.25
        for x in e {
            let liquidity = 0.5 * x.avgDailyVolumeScore + 0.3 * x.spreadQualityScore + 0.2 * x.openInterestScore
            #expect(abs(x.liquidity - liquidity) < 5e-5, "liquidity re-adds from the payload")
            let score = 0.4 * x.sentimentMomentum + 0.3 * x.liquidity + 0.2 * x.technicalSetup + 0.1 * x.volatility
            #expect(abs(x.score - score) < 5e-5, "score re-adds from the payload")
        }
    }

    static let weightCases: [(String, TickerMeasures, Double)] = [
        ("sentiment momentum weighs 0.40", TickerMeasures(ticker: "X", sentimentMean: -1), 0.40),
        ("avg daily volume weighs 0.30 × 0.5", TickerMeasures(ticker: "X", avgDailyVolume: 9e9), 0.15),
        ("spread quality weighs 0.30 × 0.3", TickerMeasures(ticker: "X", spreadPct: 0.1), 0.09),
        ("open interest weighs 0.30 × 0.2", TickerMeasures(ticker: "X", openInterest: 1_000_000), 0.06),
        ("technical setup weighs 0.20", TickerMeasures(ticker: "X", sma20Slope: 0.001), 0.20),
        ("volatility weighs 0.10", TickerMeasures(ticker: "X", atr14: 1, atmIv: 0.2, close: 100), 0.10),
    ]

    @Test("each component's weight: one ticker best on it alone against one with nothing", arguments: weightCases)
    func weights(_ c: (String, TickerMeasures, Double)) {
        let e = WatchlistScoring.rank([c.1, TickerMeasures(ticker: "Y")], size: 10)
        #expect(e.first { $0.ticker == "X" }?.score == c.2, "\(c.0)")
        #expect(e.first { $0.ticker == "Y" }?.score == 0)
    }

    @Test("the top-N cut: 12 candidates, size 10; equal scores rank by ticker")
    func topN() {
        let measures = (0..<12).map { i in TickerMeasures(ticker: "T\(String(format: "%02d", 11 - i))", avgDailyVolume: Double(i / 2)) }
        let e = WatchlistScoring.rank(measures, size: 10)
        #expect(e.count == 12)
        #expect(e.filter(\.selected).count == 10)
        #expect(e.map(\.ticker) == ["T00", "T01", "T02", "T03", "T04", "T05", "T06", "T07", "T08", "T09", "T10", "T11"])
        #expect(e[0].score == e[1].score, "T00 and T01 tie; the ticker breaks it")
        #expect(e.suffix(2).allSatisfy { !$0.selected })
        #expect(WatchlistScoring.rank(measures, size: 20).allSatisfy { $0.selected }, "size beyond the candidates selects all")
    }

    @Test("a watchlist payload validates, and refuses what does not add up")
    func payloadValidation() throws {
        let e = WatchlistScoring.rank(Self.fixed, size: 2)
        let t = ny(monday, 10, 0)
        let w = Watchlist(asOf: t, sessionDate: monday, boundary: "interval", size: 2, tickers: ["AAA", "BBB"], entries: e)
        try w.validate(eventTime: t)
        var bad = w
        bad.tickers = ["AAA", "CCC"]
        #expect(throws: MessageError.self) { try bad.validate(eventTime: t) }
        bad = w
        bad.entries[0].score = 1.2
        #expect(throws: MessageError.self) { try bad.validate(eventTime: t) }
        #expect(throws: MessageError.self) { try w.validate(eventTime: t - Minutes(1)) }
        let decoded = try EnvelopeDecoder(accepting: [Watchlist.self]).decode(
            Envelope(id: w.id, eventTime: t, causationId: nil, source: "watchlist-engine", payload: w).encoded())
        #expect(decoded.payload as? Watchlist == w, "round-trips through JSON")
    }
}
