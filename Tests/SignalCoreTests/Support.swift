import OpsModel
import SignalCore

/// 10:00 New York on Monday 2024-03-04.
let t0 = NewYorkTime.utc(date: CivilDate(year: 2024, month: 3, day: 4), hour: 10, minute: 0)

/// A hand-made feature vector for the bar ending at `at`. `distance` defaults to (close − sma20) / sma20.
func features(_ ticker: String = "SPY", at: Timestamp = t0, close: Double = 501.20, sma20: Double? = 500.80,
              slope: Double? = 0.00012, distance: Double?? = .none, volumeRatio: Double? = nil,
              ret5m: Double? = nil, ret15m: Double? = nil, sentiment: Double? = nil) -> FeatureVector {
    let bar = Bar(ticker: ticker, start: at - Minutes(1), open: close, high: close, low: close, close: close, volume: 1000)
    let d: Double?
    switch distance {
    case .none: d = sma20.map { (close - $0) / $0 }
    case .some(let v): d = v
    }
    return FeatureVector(
        ticker: ticker, interval: "1m", sessionDate: NewYorkTime.date(of: at), sessionBarIndex: 30, gapMinutes: 0, bar: bar,
        sma20: sma20, distanceSma20: d, sma20Slope: slope, slopeLookback: 5, volumeRatio: volumeRatio,
        close5mAgo: nil, close15mAgo: nil, ret1m: nil, ret5m: ret5m, ret15m: ret15m, atr14: nil,
        sentimentScore: sentiment, sentimentTime: sentiment == nil ? nil : at)
}

/// The envelope the feature-computer would publish it in.
func envelope(_ fv: FeatureVector) -> AnyEnvelope {
    Envelope(id: DeterministicID.make("features", fv.ticker, fv.bar.end.iso8601), eventTime: fv.bar.end,
             causationId: nil, source: "feature-computer", payload: fv).erased()
}

/// A BULL feature vector that scores trend + breakout + momentum (0.65 with default params), published by default
/// (momentum is required by default: ret_5m +0.25 %).
func bull(_ ticker: String = "SPY", at: Timestamp = t0) -> FeatureVector {
    features(ticker, at: at, close: 501.20, sma20: 500.00, slope: 0.0001, ret5m: 0.0025)
}

/// A BEAR feature vector that scores trend + breakout + momentum (0.65 with default params).
func bear(_ ticker: String = "SPY", at: Timestamp = t0) -> FeatureVector {
    features(ticker, at: at, close: 498.80, sma20: 500.00, slope: -0.0001, ret5m: -0.0025)
}

/// Feeds feature vectors through a core; returns the signals published.
func run(_ core: inout SignalCore, _ fvs: [FeatureVector]) throws -> [Signal] {
    var out = [Signal]()
    for fv in fvs {
        for e in try core.handle(envelope(fv), from: Topics.features) {
            if let s = e.envelope.payload as? Signal { out.append(s) }
        }
    }
    return out
}

func rule(_ e: SignalCore.Evaluation?, _ name: String) -> RuleScore? { e?.rules.first { $0.rule == name } }

let defaults = TradingParams.SignalParams()

/// The rule names of every evaluation, in order.
let ruleNames = ["trend", "volume", "breakout", "momentum", "sentiment", "chop"]
