import Testing
import OpsModel
import SignalCore

/// A session's vectors for one ticker ending at `t0`: `count` vectors one minute apart, every slope `slope` (or the
/// per-vector `slopes`), the close 0.2 % above the SMA20 or below it as `sides` says (+1, −1, 0). Only the last
/// vector carries momentum, so only it can signal; its side must be the direction's.
func session(count: Int = 20, slope: Double, slopes: [Double?]? = nil, sides: [Int], bear: Bool = false) -> [FeatureVector] {
    (0..<count).map { i in
        let s = slopes?[i] ?? slope
        let side = sides[i]
        let close = 500 * (1 + 0.002 * Double(side))
        let last = i == count - 1
        return features("SPY", at: t0 + Minutes(i - count + 1), close: close, sma20: 500, slope: bear ? -s : s,
                        ret5m: last ? (bear ? -0.0025 : 0.0025) : nil)
    }
}

/// Sides with exactly `crosses` crosses of the SMA20, ending on `end`'s side: alternating first, then constant.
func sides(crosses: Int, count: Int = 20, end: Int = 1) -> [Int] {
    let start = crosses % 2 == 0 ? end : -end
    return (0..<count).map { i in i <= crosses ? (i % 2 == 0 ? start : -start) : end }
}

@Suite("Chop filter")
struct ChopFilterTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var slope: Double
        var slopes: [Double?]? = nil
        var crosses: Int
        var count = 20
        var chop: Bool
        var testDescription: String { name }
    }

    /// Defaults: lookback 20, |slope| < 0.0001, more than 3 crosses.
    static let x = defaults.chopMaxCrosses

    static let rows: [Row] = [
        Row(name: "ranging: flat SMA, one cross more than the limit", slope: 0.00006, crosses: x + 1, chop: true),
        Row(name: "ranging: flat SMA, 9 crosses", slope: 0.00006, crosses: 9, chop: true),
        Row(name: "boundary: exactly chop_max_crosses crosses is not more", slope: 0.00006, crosses: x, chop: false),
        Row(name: "boundary: |slope| = chop_slope_max is not below it", slope: 0.0001, crosses: 7, chop: false),
        Row(name: "boundary: |slope| just below chop_slope_max", slope: 0.0000999, crosses: 7, chop: true),
        Row(name: "trending: steep SMA, the close whipsaws around it", slope: 0.0003, crosses: 8, chop: false),
        Row(name: "slow trend: flat SMA, no cross", slope: 0.00006, crosses: 0, chop: false),
        Row(name: "one steep bar in the window is not 'every bar flat'", slope: 0.00006,
            slopes: (0..<20).map { $0 == 3 ? 0.0002 : 0.00006 }, crosses: 6, chop: false),
        Row(name: "a bar without slope: window not full", slope: 0.00006,
            slopes: (0..<20).map { $0 == 0 ? nil : 0.00006 }, crosses: 6, chop: false),
        Row(name: "19 bars: window not full", slope: 0.00006, crosses: 6, count: 19, chop: false),
    ]

    func vectors(_ row: Row, bear: Bool) -> [FeatureVector] {
        var fvs = session(count: row.count, slope: row.slope, slopes: row.slopes, sides: sides(crosses: row.crosses, count: row.count, end: bear ? -1 : 1), bear: bear)
        if let slopes = row.slopes { for i in fvs.indices where slopes[i] == nil { fvs[i].sma20Slope = nil } }
        return fvs
    }

    @Test("a ranging window blocks, a trending one passes, the boundaries hold", arguments: rows, [false, true])
    func table(row: Row, bear: Bool) throws {
        var core = SignalCore(params: defaults)
        let out = try run(&core, vectors(row, bear: bear))
        if row.chop {
            #expect(out.isEmpty, "chop blocks every signal")
            // Without the filter (more crosses allowed) the same window signals: it is the chop that blocked it.
            var loose = defaults; loose.chopMaxCrosses = 100
            var other = SignalCore(params: loose)
            #expect(try run(&other, vectors(row, bear: bear)).count == 1)
        } else {
            let s = try #require(out.first)
            #expect(out.count == 1)
            #expect(s.direction == (bear ? .bear : .bull))
            let chop = try #require(s.rules.first { $0.rule == "chop" })
            #expect(chop.passed && chop.contribution == 0)
            #expect(chop.detail.hasSuffix(": no chop"))
            #expect(s.reason.contains("chop: no ("))
        }
    }

    @Test("the defaults (tuned: see the report in SignalCore's params)")
    func tunedDefaults() {
        #expect(defaults.chopLookback == 20 && defaults.chopSlopeMax == 0.0001 && defaults.chopMaxCrosses == 3)
    }

    @Test("the measure: max |slope|, crosses and verdict, in the rule and the reason")
    func measure() throws {
        var loose = defaults; loose.chopMaxCrosses = 100
        var core = SignalCore(params: loose)
        let fvs = session(slope: 0, slopes: (0..<20).map { $0 == 7 ? -0.00008 : 0.00006 }, sides: sides(crosses: 5))
        let s = try #require(try run(&core, fvs).first)
        let chop = try #require(s.rules.first { $0.rule == "chop" })
        #expect(chop.detail == "max |slope| 0.00008/bar < 0.00010 and 5 crosses of sma20 ≤ 100 over 20/20 bars: no chop")
        #expect(s.reason.contains("; chop: no (max |slope| 0.00008/bar, 5 crosses, 20/20 bars) → confidence 0.65"))

        let blocked = try #require(SignalCore.evaluate(
            fvs.last!, params: defaults,
            chop: ChopMeasure(window: fvs.map(ChopMeasure.Sample.init), params: defaults)))
        #expect(blocked.vetoes == ["chop"])
        #expect(blocked.rules.first { $0.rule == "chop" }?.passed == false)
        #expect(blocked.rules.first { $0.rule == "chop" }?.detail
                == "max |slope| 0.00008/bar < 0.00010 and 5 crosses of sma20 > 3 over 20/20 bars: chop")
        #expect(blocked.reason.hasSuffix("; no signal: chop"))
    }

    @Test("touching the SMA20 and going back is not a cross; touching and going through is one")
    func touches() {
        func crosses(_ sides: [Int]) -> Int {
            let window = sides.map { side in
                ChopMeasure.Sample(features(close: 500 + Double(side), sma20: 500, slope: 0.00001))
            }
            return ChopMeasure(window: window, params: defaults).crosses
        }
        #expect(crosses([1, 0, 1]) == 0)
        #expect(crosses([1, 0, -1]) == 1)
        #expect(crosses([0, 0, 1, -1, 0, -1, 1]) == 2)
    }

    @Test("the window is the session's: yesterday's whipsaw does not count today, and is rebuilt after reset + replay")
    func sessionWindow() throws {
        var core = SignalCore(params: defaults)
        // A ranging session that ends with a blocked signal at 10:00.
        let ranging = session(slope: 0.00006, sides: sides(crosses: 6))
        #expect(try run(&core, ranging).isEmpty)
        // Next day, the same (blocked) vector's copy is the session's first: window 1/20, not chop.
        var tomorrow = ranging.last!
        let next = t0 + Minutes(24 * 60)
        tomorrow.bar = Bar(ticker: "SPY", start: next - Minutes(1), open: tomorrow.bar.close, high: tomorrow.bar.close,
                           low: tomorrow.bar.close, close: tomorrow.bar.close, volume: 1000)
        tomorrow.sessionDate = NewYorkTime.date(of: next)
        let s = try #require(try run(&core, [tomorrow]).first)
        #expect(s.rules.first { $0.rule == "chop" }?.detail.contains("over 1/20 bars (window not full): no chop") == true)
    }

    @Test("a blocked candidate does not start a cooldown")
    func blockedNoCooldown() throws {
        var core = SignalCore(params: defaults)
        #expect(try run(&core, session(slope: 0.00006, sides: sides(crosses: 6))).isEmpty)
        // One minute later the SMA20 steepens: the window keeps 19 flat bars + 1 steep, so not chop; no cooldown runs.
        var steep = bull(at: t0 + Minutes(1)); steep.sma20Slope = 0.0003
        #expect(try run(&core, [steep]).count == 1)
    }
}

@Suite("Momentum confirmation")
struct MomentumTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var label: String
        var isBull: Bool
        var r5: Double?
        var r15: Double?
        var confirmed: Bool
        init(_ label: String, _ isBull: Bool, _ r5: Double?, _ r15: Double?, _ confirmed: Bool) {
            self.label = label; self.isBull = isBull; self.r5 = r5; self.r15 = r15; self.confirmed = confirmed
        }
        var testDescription: String { label }
        var vector: FeatureVector {
            var f = isBull ? bull() : bear()
            f.ret5m = r5; f.ret15m = r15
            return f
        }
    }

    static let rows: [Row] = [
        Row("BULL ret_5m 0.0019999", true, 0.0019999, nil, false),
        Row("BULL ret_5m 100 → 100.2", true, 100.2 / 100 - 1, nil, true),
        Row("BULL ret_5m 11.89 → 11.91378 (0.00199999999999978)", true, 11.91378 / 11.89 - 1, nil, true),
        Row("BULL ret_5m 0.0020001", true, 0.0020001, nil, true),
        Row("BULL ret_15m 0.0039999", true, 0.001, 0.0039999, false),
        Row("BULL ret_15m 100 → 100.4", true, 0.001, 100.4 / 100 - 1, true),
        Row("BULL both missing", true, nil, nil, false),
        Row("BULL move the wrong way", true, -0.01, -0.01, false),
        Row("BEAR ret_5m -0.0019999", false, -0.0019999, nil, false),
        Row("BEAR ret_5m 65 → 64.87 (-0.00199999999999989)", false, 64.87 / 65 - 1, nil, true),
        Row("BEAR ret_5m 100 → 99.8", false, 99.8 / 100 - 1, nil, true),
        Row("BEAR ret_5m -0.0020001", false, -0.0020001, nil, true),
        Row("BEAR ret_15m 100 → 99.6", false, nil, 99.6 / 100 - 1, true),
        Row("BEAR ret_15m -0.0039999", false, nil, -0.0039999, false),
    ]

    @Test("the computed returns really straddle the threshold (what the tolerance is for)")
    func computedReturns() {
        #expect(11.91378 / 11.89 - 1 < 0.002)
        #expect(64.87 / 65 - 1 > -0.002)
    }

    @Test("required (default): confirmed moves signal, others do not; exactly 0.2 % passes", arguments: rows)
    func required(_ row: Row) throws {
        let (label, confirmed, f) = (row.label, row.confirmed, row.vector)
        let e = try #require(SignalCore.evaluate(f, params: defaults))
        #expect(e.rules.first { $0.rule == "momentum" }?.passed == confirmed, "\(label)")
        #expect(e.vetoes == (confirmed ? [] : ["momentum"]), "\(label)")
        #expect(e.confidence == (confirmed ? 0.65 : 0.55), "momentum still adds its weight: \(label)")
        var core = SignalCore(params: defaults)
        let out = try run(&core, [f])
        #expect(out.count == (confirmed ? 1 : 0), "\(label)")
    }

    @Test("bonus: every such move signals; momentum only adds its weight", arguments: rows)
    func bonus(_ row: Row) throws {
        var p = defaults; p.momentumMode = "bonus"
        var core = SignalCore(params: p)
        let out = try run(&core, [row.vector])
        #expect(out.map(\.confidence) == [row.confirmed ? 0.65 : 0.55], "\(row.label)")
    }

    @Test("the tolerance is relative 1e-9, not more")
    func tolerance() {
        #expect(SignalCore.atLeast(0.002, 0.002))
        #expect(SignalCore.atLeast(0.002 - 1e-12, 0.002))
        #expect(!SignalCore.atLeast(0.002 - 1e-11, 0.002))
        #expect(!SignalCore.atLeast(0.0019999, 0.002))
    }
}

@Suite("IV context on signals")
struct SignalIVTests {
    @Test("a signal carries its vector's IV percentile and IV Rank")
    func carried() throws {
        var f = bull(); f.atmIv = 0.2; f.ivPercentile = 83.5; f.ivRank = 61.25
        var core = SignalCore(params: defaults)
        let s = try #require(try run(&core, [f]).first)
        #expect(s.ivPercentile == 83.5 && s.ivRank == 61.25)
    }
}
