import Testing
import OpsModel
import SignalCore

@Suite("Signal rules")
struct RuleTests {
    let p = defaults

    @Test("trend needs SMA20, slope and distance")
    func missingFeatures() throws {
        #expect(SignalCore.evaluate(features(sma20: nil), params: p) == nil)
        #expect(SignalCore.evaluate(features(slope: nil), params: p) == nil)
        #expect(SignalCore.evaluate(features(distance: .some(nil)), params: p) == nil)
        #expect(SignalCore.evaluate(features(), params: p) != nil)
        // Through the core as well, even with everything else strongly bullish.
        var core = SignalCore(params: p)
        let strong: (FeatureVector) -> FeatureVector = { var f = $0; f.volumeRatio = 3; f.ret5m = 0.01; f.sentimentScore = 1; return f }
        #expect(try run(&core, [strong(features(sma20: nil))]).isEmpty)
        #expect(try run(&core, [strong(features(at: t0 + Minutes(1), slope: nil))]).isEmpty)
        #expect(try run(&core, [strong(features(at: t0 + Minutes(2), distance: .some(nil)))]).isEmpty)
        #expect(try run(&core, [strong(features(at: t0 + Minutes(3)))]).count == 1)
    }

    @Test("trend BULL: close above SMA20 and slope ≥ slope_min")
    func trendBull() throws {
        let e = try #require(SignalCore.evaluate(features(close: 501, sma20: 500, slope: p.slopeMin), params: p))
        #expect(e.direction == .bull)
        #expect(rule(e, "trend") == RuleScore(rule: "trend", passed: true, contribution: 0.4,
                                               detail: "BULL: close 501.00 > sma20 500.00, slope +0.00005/bar ≥ 0.00005"))
        // Slope just under the minimum, or the wrong way, or the close not above the SMA: no direction.
        #expect(SignalCore.evaluate(features(close: 501, sma20: 500, slope: 0.000049), params: p) == nil)
        #expect(SignalCore.evaluate(features(close: 501, sma20: 500, slope: -0.001), params: p) == nil)
        #expect(SignalCore.evaluate(features(close: 500, sma20: 500, slope: 0.001), params: p) == nil)
    }

    @Test("trend BEAR: close below SMA20 and slope ≤ −slope_min")
    func trendBear() throws {
        let e = try #require(SignalCore.evaluate(features(close: 499, sma20: 500, slope: -p.slopeMin), params: p))
        #expect(e.direction == .bear)
        #expect(rule(e, "trend")?.passed == true)
        #expect(rule(e, "trend")?.contribution == 0.4)
        #expect(rule(e, "trend")?.detail == "BEAR: close 499.00 < sma20 500.00, slope -0.00005/bar ≤ -0.00005")
        #expect(SignalCore.evaluate(features(close: 499, sma20: 500, slope: -0.000049), params: p) == nil)
        #expect(SignalCore.evaluate(features(close: 499, sma20: 500, slope: 0.001), params: p) == nil)
        #expect(SignalCore.evaluate(features(close: 500, sma20: 500, slope: -0.001), params: p) == nil)
    }

    @Test("volume surge: passed from volume_surge_ratio, scaled up to volume_full_ratio", arguments: [Direction.bull, .bear])
    func volume(direction: Direction) throws {
        func score(_ ratio: Double?) -> RuleScore? {
            let fv = direction == .bull ? bull() : bear()
            var f = fv; f.volumeRatio = ratio
            return rule(SignalCore.evaluate(f, params: p), "volume")
        }
        #expect(score(1.2)?.passed == true)
        #expect(score(1.2)?.contribution == 0.12)          // 0.25 × 1.2 / 2.5
        #expect(score(2.3)?.contribution == 0.23)
        #expect(score(2.5)?.contribution == 0.25)
        #expect(score(4.0)?.contribution == 0.25)          // capped at the full weight
        #expect(score(1.19)?.passed == false)
        #expect(score(1.19)?.contribution == 0)
        #expect(score(1.19)?.detail == "volume ratio 1.19x < surge 1.20x")
        #expect(score(nil)?.passed == false)
        #expect(score(nil)?.contribution == 0)
        #expect(score(nil)?.detail == "volume ratio not available yet")
    }

    @Test("breakout: distance beyond breakout_min_distance in the trend's direction")
    func breakout() throws {
        func score(bull isBull: Bool, _ distance: Double) -> RuleScore? {
            let f = isBull ? features(close: 501, sma20: 500, slope: 0.001, distance: distance)
                           : features(close: 499, sma20: 500, slope: -0.001, distance: distance)
            return rule(SignalCore.evaluate(f, params: p), "breakout")
        }
        #expect(score(bull: true, 0.0015) == RuleScore(rule: "breakout", passed: true, contribution: 0.15,
                                                      detail: "distance from sma20 +0.0015 ≥ +0.0015"))
        #expect(score(bull: true, 0.0014)?.passed == false)
        #expect(score(bull: true, 0.0014)?.contribution == 0)
        #expect(score(bull: true, -0.003)?.passed == false)
        #expect(score(bull: false, -0.0015) == RuleScore(rule: "breakout", passed: true, contribution: 0.15,
                                                        detail: "distance from sma20 -0.0015 ≤ -0.0015"))
        #expect(score(bull: false, -0.0014)?.passed == false)
        #expect(score(bull: false, -0.0014)?.detail == "distance from sma20 -0.0014 > -0.0015")
        #expect(score(bull: false, 0.003)?.passed == false)
        #expect(score(bull: false, 0.003)?.contribution == 0)
    }

    @Test("momentum: ret_5m ≥ momentum_ret_5m or ret_15m ≥ twice that, in the trend's direction")
    func momentum() throws {
        func score(bull isBull: Bool, r5: Double?, r15: Double?) -> RuleScore? {
            var f = isBull ? bull() : bear()
            f.ret5m = r5; f.ret15m = r15
            return rule(SignalCore.evaluate(f, params: p), "momentum")
        }
        // BULL
        #expect(score(bull: true, r5: 0.002, r15: nil) == RuleScore(rule: "momentum", passed: true, contribution: 0.1,
                                                                   detail: "ret_5m +0.0020 ≥ +0.0020"))
        #expect(score(bull: true, r5: 0.0019, r15: nil)?.passed == false)
        #expect(score(bull: true, r5: 0.0019, r15: 0.004) == RuleScore(rule: "momentum", passed: true, contribution: 0.1,
                                                                      detail: "ret_15m +0.0040 ≥ +0.0040"))
        #expect(score(bull: true, r5: 0.0019, r15: 0.0039)?.passed == false)
        #expect(score(bull: true, r5: -0.01, r15: -0.01)?.passed == false)
        #expect(score(bull: true, r5: nil, r15: nil) == RuleScore(rule: "momentum", passed: false, contribution: 0,
                                                                 detail: "neither ret_5m n/a ≥ +0.0020 nor ret_15m n/a ≥ +0.0040"))
        // BEAR
        #expect(score(bull: false, r5: -0.002, r15: nil)?.passed == true)
        #expect(score(bull: false, r5: -0.002, r15: nil)?.contribution == 0.1)
        #expect(score(bull: false, r5: -0.0019, r15: nil)?.passed == false)
        #expect(score(bull: false, r5: 0.01, r15: 0.01)?.passed == false)
        #expect(score(bull: false, r5: -0.001, r15: -0.004)?.passed == true)
        #expect(score(bull: false, r5: -0.001, r15: -0.004)?.detail == "ret_15m -0.0040 ≤ -0.0040")
        #expect(score(bull: false, r5: -0.001, r15: -0.0039)?.contribution == 0)
    }

    @Test("sentiment: boost when aligned, penalty when opposed, nothing when weak or absent")
    func sentiment() throws {
        func score(bull isBull: Bool, _ s: Double?) -> RuleScore? {
            var f = isBull ? bull() : bear()
            f.sentimentScore = s
            return rule(SignalCore.evaluate(f, params: p), "sentiment")
        }
        #expect(score(bull: true, 0.6)?.passed == true)
        #expect(score(bull: true, 0.6)?.contribution == 0.06)
        #expect(score(bull: true, 1.0)?.contribution == 0.1)
        #expect(score(bull: true, 0.2)?.contribution == 0.02)        // exactly at the threshold
        #expect(score(bull: true, -0.6)?.passed == false)
        #expect(score(bull: true, -0.6)?.contribution == -0.06)
        #expect(score(bull: true, -0.6)?.detail.contains("opposes BULL") == true)
        #expect(score(bull: false, -0.6)?.passed == true)
        #expect(score(bull: false, -0.6)?.contribution == 0.06)
        #expect(score(bull: false, 0.6)?.contribution == -0.06)
        #expect(score(bull: false, 0.6)?.detail.contains("opposes BEAR") == true)
        #expect(score(bull: true, 0.19)?.contribution == 0)
        #expect(score(bull: true, 0.19)?.passed == false)
        #expect(score(bull: true, 0.19)?.detail.contains("weak") == true)
        #expect(score(bull: false, -0.19)?.contribution == 0)
        #expect(score(bull: true, nil)?.contribution == 0)
        #expect(score(bull: true, nil)?.passed == false)
        #expect(score(bull: true, nil)?.detail.contains("absent") == true)
    }

    @Test("sentiment moves the confidence: boost, penalty, absence")
    func sentimentConfidence() throws {
        var f = bull()
        #expect(SignalCore.evaluate(f, params: p)?.confidence == 0.65)
        f.sentimentScore = 0.8
        #expect(SignalCore.evaluate(f, params: p)?.confidence == 0.73)
        f.sentimentScore = -0.8
        #expect(SignalCore.evaluate(f, params: p)?.confidence == 0.57)
        f.sentimentScore = -0.1
        #expect(SignalCore.evaluate(f, params: p)?.confidence == 0.65)
    }

    @Test("confidence is the sum of the contributions, clamped to [0, 1] and rounded to 4 decimals")
    func confidence() throws {
        let example = features(close: 501.20, sma20: 500.80, slope: 0.00012, distance: 0.0018, volumeRatio: 2.3,
                               ret5m: 0.0024, sentiment: 0.6)
        let e = try #require(SignalCore.evaluate(example, params: p))
        #expect(e.rules.map(\.rule) == ruleNames)
        #expect(e.rules.map(\.contribution) == [0.4, 0.23, 0.15, 0.1, 0.06, 0])
        #expect(e.confidence == 0.94)

        // An odd volume ratio: contributions and confidence keep 4 decimals.
        var odd = bull(); odd.volumeRatio = 1.333333
        let o = try #require(SignalCore.evaluate(odd, params: p))
        #expect(rule(o, "volume")?.contribution == 0.1333)
        #expect(o.confidence == 0.7833)

        // Everything at full weight sums to 1.
        let full = features(close: 505, sma20: 500, slope: 0.001, volumeRatio: 3, ret5m: 0.01, sentiment: 1)
        #expect(SignalCore.evaluate(full, params: p)?.confidence == 1)

        // Clamped above 1 ...
        var heavy = p; heavy.trendWeight = 0.8; heavy.volumeWeight = 0.5
        #expect(SignalCore.evaluate(full, params: heavy)?.confidence == 1)
        // ... and below 0.
        var light = p; light.trendWeight = 0.05; light.sentimentWeight = 0.5
        var opposed = bull(); opposed.sentimentScore = -1
        let clamped = try #require(SignalCore.evaluate(opposed, params: light))
        #expect(rule(clamped, "sentiment")?.contribution == -0.5)
        #expect(clamped.confidence == 0)
    }

    @Test("min_confidence decides publication")
    func minConfidence() throws {
        var core = SignalCore(params: p)
        // Trend and momentum, opposed by sentiment: 0.40 < 0.45.
        #expect(try run(&core, [features(close: 500.5, sma20: 500, slope: 0.001, ret5m: 0.003, sentiment: -1)]).isEmpty)
        // Trend, breakout and momentum: 0.65.
        let published = try run(&core, [bull(at: t0 + Minutes(1))])
        #expect(published.map(\.confidence) == [0.65])
        var strict = p; strict.minConfidence = 0.66
        var core2 = SignalCore(params: strict)
        #expect(try run(&core2, [bull()]).isEmpty)
        strict.minConfidence = 0.65
        var core3 = SignalCore(params: strict)
        #expect(try run(&core3, [bull()]).count == 1)
    }

    @Test("strategy: swing when the slope and ret_15m are steep enough in the direction, else day")
    func strategy() throws {
        func strategy(bull isBull: Bool, slope: Double, r15: Double?) -> TradeStrategy? {
            let f = isBull ? features(close: 505, sma20: 500, slope: slope, ret15m: r15)
                           : features(close: 495, sma20: 500, slope: slope, ret15m: r15)
            return SignalCore.evaluate(f, params: p)?.strategy
        }
        let k = p.swingSlopeMin, r = p.swingRet15Min
        #expect(strategy(bull: true, slope: k, r15: r) == .swingTrade)
        #expect(strategy(bull: true, slope: k * 0.975, r15: r) == .dayTrade)
        #expect(strategy(bull: true, slope: k, r15: r * 0.975) == .dayTrade)
        #expect(strategy(bull: true, slope: 0.001, r15: nil) == .dayTrade)
        #expect(strategy(bull: true, slope: 0.001, r15: -0.01) == .dayTrade)
        #expect(strategy(bull: false, slope: -k, r15: -r) == .swingTrade)
        #expect(strategy(bull: false, slope: -k * 0.975, r15: -r) == .dayTrade)
        #expect(strategy(bull: false, slope: -0.001, r15: 0.01) == .dayTrade)
        #expect(strategy(bull: false, slope: -0.001, r15: -r * 0.975) == .dayTrade)
    }

    @Test("instrument: CALL/PUT for options, STOCK for stock")
    func instrument() throws {
        #expect(SignalCore.evaluate(bull(), params: p)?.instrument == .call)
        #expect(SignalCore.evaluate(bear(), params: p)?.instrument == .put)
        var stock = p; stock.instrument = "stock"
        var core = SignalCore(params: stock)
        let out = try run(&core, [bull("SPY"), bear("QQQ")])
        #expect(out.map(\.instrument) == [.stock, .stock])
        #expect(out.map(\.direction) == [.bull, .bear])
    }

    @Test("reason: one line with every rule")
    func reason() throws {
        let example = features(close: 501.20, sma20: 500.80, slope: 0.00012, distance: 0.0018, volumeRatio: 2.3,
                               ret5m: 0.0024, sentiment: 0.6)
        let e = try #require(SignalCore.evaluate(example, params: p))
        #expect(e.reason == "trend BULL (close 501.20 > sma20 500.80, slope +0.00012/bar) +0.40; volume 2.30x +0.23; "
                + "breakout +0.15 (distance +0.0018); momentum +0.10 (ret_5m +0.0024); sentiment +0.06 (0.60 aligned); "
                + "chop: no (max |slope| 0.00012/bar, 0 crosses, 1/20 bars) → confidence 0.94")

        var f = bear(); f.ret5m = nil; f.volumeRatio = 1.1; f.ret15m = -0.005; f.sentimentScore = 0.4
        let b = try #require(SignalCore.evaluate(f, params: p))
        #expect(b.reason == "trend BEAR (close 498.80 < sma20 500.00, slope -0.00010/bar) +0.40; volume 1.10x +0.00; "
                + "breakout +0.15 (distance -0.0024); momentum +0.10 (ret_15m -0.0050); sentiment -0.04 (0.40 opposed); "
                + "chop: no (max |slope| 0.00010/bar, 0 crosses, 1/20 bars) → confidence 0.61")
        for r in ["trend", "volume", "breakout", "momentum", "sentiment", "chop", "→ confidence"] {
            #expect(b.reason.contains(r))
        }
        #expect(!b.reason.contains("\n"))

        let plain = try #require(SignalCore.evaluate(features(close: 501.20, sma20: 500.00, slope: 0.0001), params: p))
        #expect(plain.reason.contains("volume n/a +0.00"))
        #expect(plain.reason.contains("momentum +0.00 (ret_5m n/a)"))
        #expect(plain.reason.contains("sentiment +0.00 (absent)"))
        #expect(plain.reason.hasSuffix("→ confidence 0.55; no signal: momentum not confirmed (required)"))
        #expect(plain.vetoes == ["momentum"])
        var weak = bull(); weak.sentimentScore = -0.1
        #expect(SignalCore.evaluate(weak, params: p)?.reason.contains("sentiment +0.00 (-0.10 weak)") == true)
    }
}
