import Foundation
import OpsModel

/// The signal-engine's pure core: scores every feature vector with the seed's rules (trend, volume surge,
/// breakout, momentum, sentiment), filters out unconfirmed moves and ranging markets, and publishes a `Signal` when
/// the confidence is high enough and the same ticker and direction is not cooling down.
///
/// Rules, with `p = TradingParams.SignalParams`:
/// - needs `sma20`, `sma20_slope` and `distance_sma20`; otherwise nothing.
/// - trend: BULL when close > sma20 and slope ≥ `p.slopeMin`, BEAR when close < sma20 and slope ≤ −`p.slopeMin`;
///   otherwise nothing. Adds `p.trendWeight`.
/// - volume: passed when `volume_ratio` ≥ `p.volumeSurgeRatio`; adds `p.volumeWeight × min(1, ratio / p.volumeFullRatio)`.
/// - breakout: `distance_sma20` ≥ `p.breakoutMinDistance` in the trend's direction; adds `p.breakoutWeight`.
/// - momentum (seed 004 §4): `ret_5m` ≥ `p.momentumRet5m` or `ret_15m` ≥ 2 × `p.momentumRet5m` in the trend's
///   direction (BEAR: ≤ the negatives), compared with a relative tolerance of 1e-9 (`atLeast`) so a move of
///   exactly 0.2 % passes whatever the last bit of the computed return; adds `p.momentumWeight`. With
///   `p.momentumMode` `required` (default) a vector without it gives no signal; with `bonus` it only adds its weight.
/// - sentiment: when |score| ≥ `p.sentimentThreshold`, ± `p.sentimentWeight × min(1, |score|)` as it agrees or
///   disagrees with the direction; 0 when absent, weak or exactly 0.
/// - chop (`ChopMeasure`): over the ticker's last `p.chopLookback` vectors of the session, |slope| <
///   `p.chopSlopeMax` on every one and more than `p.chopMaxCrosses` crosses of the SMA20: no signal. Adds nothing;
///   its measure (max |slope|, crosses, verdict) is in every signal's rules and reason.
/// - watchlist (`WatchlistGate`, seed 004 §5): only tickers selected in the latest `strategy.watchlist.v1` list
///   signal, every ticker while none has been published. Adds nothing; the last rule and the end of the reason say
///   which case applied.
///
/// Each contribution is rounded to 4 decimals; the confidence is the sum of those rounded contributions, clamped
/// to [0, 1] and rounded to 4 decimals, so it can be re-added from the published `rules`. A signal is published
/// when confidence ≥ `p.minConfidence` and its event time is at least `p.cooldownMinutes` after the last
/// signal published for the same ticker and direction (event time only).
public struct SignalCore: TradingParamsCore {
    public static let name = "signal-engine"
    public private(set) var params: TradingParams.SignalParams
    public var serviceName: String { Self.name }
    /// The watchlist first: at equal event time a new list applies before the vectors of that minute.
    public var inputTopics: [String] { [Topics.watchlist, Topics.features] }
    public var outputTopics: [String] { [Topics.signals] }
    /// A watchlist only gates: every signal is caused by a feature vector.
    public var outputCauses: [String: [String: Int64]] { [Topics.signals: [Topics.features: 0]] }

    struct CooldownKey: Hashable, Sendable {
        var ticker: String
        var direction: Direction
    }

    /// Event time of the last published signal per ticker and direction.
    private var lastPublished: [CooldownKey: Timestamp] = [:]
    /// Per ticker, the chop filter's window of the current session.
    private var chopWindows: [String: ChopWindow] = [:]
    /// The latest watchlist (seed 004 §5): only its tickers signal, all of them while none has been published.
    private var watchlist = WatchlistGate()

    /// `params.instrument` must be "options" or "stock" and `params.momentumMode` "required" or "bonus"
    /// (`TradingParams.load` checks both).
    public init(params: TradingParams.SignalParams = TradingParams.SignalParams()) {
        precondition(["options", "stock"].contains(params.instrument),
                     "signals.instrument must be options or stock, got '\(params.instrument)'")
        precondition(["required", "bonus"].contains(params.momentumMode),
                     "signals.momentum_mode must be required or bonus, got '\(params.momentumMode)'")
        precondition(params.chopLookback >= 1, "signals.chop_lookback must be ≥ 1")
        self.params = params
    }

    public mutating func reset() {
        lastPublished = [:]
        chopWindows = [:]
        watchlist = WatchlistGate()
    }

    /// The cooldown reaches `cooldownMinutes` back and the chop window only over the current session; re-reading
    /// from New York midnight of the last processed event's date rebuilds both as long as no feature vector falls
    /// within `cooldownMinutes` after midnight (features exist only for the regular or extended session, so a
    /// session never chains into the previous day's). The same rule re-reads the latest watchlist: it is the last one
    /// processed on some watchlist partition, whose re-read starts at midnight of that list's date.
    public var paramsAccount: String? { nil }
    public mutating func reconfigure(_ params: TradingParams) { self.params = params.signals }

    public func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp {
        NewYorkTime.utc(date: NewYorkTime.date(of: lastProcessed), hour: 0, minute: 0)
    }

    public mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
        switch message.payload {
        case let fv as FeatureVector:
            return try onFeatures(fv, message)
        case let list as Watchlist:
            watchlist.update(list)
            return []
        // Inputs that only gate (a watchlist, say) update state here; `onFeatures` applies them as a rule and a veto.
        default:
            return []
        }
    }

    private mutating func onFeatures(_ fv: FeatureVector, _ message: AnyEnvelope) throws(MessageError) -> [Emit] {
        // Every vector enters the chop window, signal or not; it is stored only once the input is accepted.
        var window = chopWindows[fv.ticker, default: ChopWindow()]
        window.append(fv, lookback: params.chopLookback)
        let chop = ChopMeasure(window: window.samples, params: params)
        guard let score = Self.score(fv, params: params, chop: chop), score.vetoes.isEmpty,
              score.confidence >= params.minConfidence, watchlist.admits(fv.ticker) else {
            chopWindows[fv.ticker] = window
            return []
        }
        let key = CooldownKey(ticker: fv.ticker, direction: score.direction)
        if let last = lastPublished[key], message.eventTime < last + Minutes(params.cooldownMinutes) {
            chopWindows[fv.ticker] = window
            return []
        }
        let evaluation = Self.explain(score, fv, params: params)

        var signal = Signal(
            ticker: fv.ticker, direction: evaluation.direction, instrument: evaluation.instrument,
            strategy: evaluation.strategy, confidence: evaluation.confidence, volumeRatio: fv.volumeRatio,
            price: fv.bar.close, featuresId: message.id, rules: evaluation.rules + [watchlist.rule(for: fv.ticker)],
            reason: evaluation.reason + "; " + watchlist.summary(for: fv.ticker),
            ivPercentile: fv.ivPercentile, ivRank: fv.ivRank)
        signal.atr14 = fv.atr14
        // Refuse (dead-letter) an input whose signal would itself be refused downstream; state stays unchanged.
        do {
            try signal.validate(eventTime: message.eventTime)
        } catch {
            throw .invalid("features \(message.id) would make an invalid signal: \(error.reason)")
        }
        chopWindows[fv.ticker] = window
        lastPublished[key] = message.eventTime
        let envelope = Envelope(id: DeterministicID.make("signal", message.id), eventTime: message.eventTime,
                                causationId: message.id, source: Self.name, payload: signal)
        return [Emit(Topics.signals, envelope.erased())]
    }

    // MARK: scoring

    /// How one feature vector scores, before the confidence threshold and the cooldown.
    public struct Evaluation: Sendable, Equatable {
        public var direction: Direction
        public var instrument: Instrument
        public var strategy: TradeStrategy
        /// In [0, 1], rounded to 4 decimals.
        public var confidence: Double
        /// trend, volume, breakout, momentum, sentiment, chop.
        public var rules: [RuleScore]
        public var reason: String
        /// The filters that keep it from being published whatever its confidence: `momentum` (not confirmed while
        /// `momentum_mode` is `required`), `chop`. Empty when it may be published.
        public var vetoes: [String]
    }

    /// Scores a feature vector; nil when it has no trend (missing SMA features, or no direction). `chop` is the
    /// ticker's chop measure including this vector (the core keeps the window); nil judges this vector alone.
    public static func evaluate(_ fv: FeatureVector, params p: TradingParams.SignalParams, chop: ChopMeasure? = nil) -> Evaluation? {
        score(fv, params: p, chop: chop).map { explain($0, fv, params: p) }
    }

    /// A feature vector's score in numbers only: everything the core decides on. Most vectors end here; only one
    /// that is published gets its rule-by-rule text (`explain`).
    struct Score {
        var direction: Direction
        var trend: Double
        var volumePassed: Bool
        var volume: Double
        var breakout: Double
        var breakoutPassed: Bool
        /// Momentum confirmed by ret_5m, or else by ret_15m.
        var by5: Bool
        var by15: Bool
        var momentum: Double
        /// The score is strong enough to count (|score| ≥ threshold, not 0), and whether it agrees with the direction.
        var sentimentCounts: Bool
        var sentimentAligned: Bool
        var sentiment: Double
        var chop: ChopMeasure
        var vetoes: [String]
        var confidence: Double
        var instrument: Instrument
        var strategy: TradeStrategy
        /// +1 for BULL, −1 for BEAR: every "in the trend's direction" test is on sign × value.
        var sign: Double { direction == .bull ? 1 : -1 }
    }

    static func score(_ fv: FeatureVector, params p: TradingParams.SignalParams, chop: ChopMeasure?) -> Score? {
        guard let sma = fv.sma20, let slope = fv.sma20Slope, let distance = fv.distanceSma20 else { return nil }
        let close = fv.bar.close
        let direction: Direction
        if close > sma, slope >= p.slopeMin {
            direction = .bull
        } else if close < sma, slope <= -p.slopeMin {
            direction = .bear
        } else {
            return nil
        }
        let sign: Double = direction == .bull ? 1 : -1
        let trend = round4(p.trendWeight)
        let volumePassed = fv.volumeRatio.map { $0 >= p.volumeSurgeRatio } ?? false
        var volume = 0.0
        if volumePassed, let ratio = fv.volumeRatio {
            volume = round4(p.volumeWeight * (p.volumeFullRatio > 0 ? min(1, ratio / p.volumeFullRatio) : 1))
        }
        let breakoutPassed = sign * distance >= p.breakoutMinDistance
        let breakout = breakoutPassed ? round4(p.breakoutWeight) : 0
        let by5 = fv.ret5m.map { atLeast(sign * $0, p.momentumRet5m) } ?? false
        let by15 = fv.ret15m.map { atLeast(sign * $0, 2 * p.momentumRet5m) } ?? false
        let momentum = by5 || by15 ? round4(p.momentumWeight) : 0
        let sentimentCounts = fv.sentimentScore.map { abs($0) >= p.sentimentThreshold && $0 != 0 } ?? false
        let sentimentAligned = fv.sentimentScore.map { ($0 > 0) == (direction == .bull) } ?? false
        var sentiment = 0.0
        if sentimentCounts, let score = fv.sentimentScore {
            let size = round4(p.sentimentWeight * min(1, abs(score)))
            sentiment = sentimentAligned ? size : round4(-size)
        }
        // Chop: a filter, not a score.
        let chop = chop ?? ChopMeasure(window: [ChopMeasure.Sample(fv)], params: p)
        var vetoes = [String]()
        if p.momentumMode == "required", !(by5 || by15) { vetoes.append("momentum") }
        if chop.isChop { vetoes.append("chop") }
        let swing = abs(slope) >= p.swingSlopeMin && (fv.ret15m.map { sign * $0 >= p.swingRet15Min } ?? false)
        return Score(direction: direction, trend: trend, volumePassed: volumePassed, volume: volume, breakout: breakout,
                     breakoutPassed: breakoutPassed, by5: by5, by15: by15, momentum: momentum, sentimentCounts: sentimentCounts,
                     sentimentAligned: sentimentAligned, sentiment: sentiment, chop: chop, vetoes: vetoes,
                     confidence: round4(min(1, max(0, trend + volume + breakout + momentum + sentiment))),
                     instrument: p.instrument == "stock" ? .stock : (direction == .bull ? .call : .put),
                     strategy: swing ? .swingTrade : .dayTrade)
    }

    /// The score's rules and reason, rule by rule, with each value next to its threshold.
    static func explain(_ s: Score, _ fv: FeatureVector, params p: TradingParams.SignalParams) -> Evaluation {
        // `score` returned, so the trend's features are there.
        let sma = fv.sma20!, slope = fv.sma20Slope!, distance = fv.distanceSma20!
        let close = fv.bar.close
        let direction = s.direction, sign = s.sign
        let dir = direction.rawValue
        var rules = [RuleScore]()
        var parts = [String]()

        // Trend.
        let cmp = direction == .bull ? ">" : "<"
        let slopeCmp = direction == .bull ? "≥ \(f5(p.slopeMin))" : "≤ \(f5(-p.slopeMin))"
        rules.append(RuleScore(rule: "trend", passed: true, contribution: s.trend,
                               detail: "\(dir): close \(f2(close)) \(cmp) sma20 \(f2(sma)), slope \(s5(slope))/bar \(slopeCmp)"))
        parts.append("trend \(dir) (close \(f2(close)) \(cmp) sma20 \(f2(sma)), slope \(s5(slope))/bar) \(s2(s.trend))")

        // Volume surge.
        if let ratio = fv.volumeRatio {
            let passed = s.volumePassed
            let detail = passed
                ? "volume ratio \(f2(ratio))x ≥ surge \(f2(p.volumeSurgeRatio))x; \(f2(p.volumeWeight)) × min(1, \(f2(ratio)) / \(f2(p.volumeFullRatio)))"
                : "volume ratio \(f2(ratio))x < surge \(f2(p.volumeSurgeRatio))x"
            rules.append(RuleScore(rule: "volume", passed: passed, contribution: s.volume, detail: detail))
            parts.append("volume \(f2(ratio))x \(s2(s.volume))")
        } else {
            rules.append(RuleScore(rule: "volume", passed: false, contribution: 0, detail: "volume ratio not available yet"))
            parts.append("volume n/a \(s2(0))")
        }

        // Breakout.
        let threshold = sign * p.breakoutMinDistance
        let breakoutCmp = direction == .bull ? (s.breakoutPassed ? "≥" : "<") : (s.breakoutPassed ? "≤" : ">")
        rules.append(RuleScore(rule: "breakout", passed: s.breakoutPassed, contribution: s.breakout,
                               detail: "distance from sma20 \(s4(distance)) \(breakoutCmp) \(s4(threshold))"))
        parts.append("breakout \(s2(s.breakout)) (distance \(s4(distance)))")

        // Momentum.
        let m5 = p.momentumRet5m, m15 = 2 * p.momentumRet5m
        let want = direction == .bull ? "≥" : "≤"
        let momentumDetail: String
        let momentumShown: String
        if s.by5 {
            momentumDetail = "ret_5m \(s4(fv.ret5m!)) \(want) \(s4(sign * m5))"
            momentumShown = "ret_5m \(s4(fv.ret5m!))"
        } else if s.by15 {
            momentumDetail = "ret_15m \(s4(fv.ret15m!)) \(want) \(s4(sign * m15))"
            momentumShown = "ret_15m \(s4(fv.ret15m!))"
        } else {
            momentumDetail = "neither ret_5m \(opt4(fv.ret5m)) \(want) \(s4(sign * m5)) nor ret_15m \(opt4(fv.ret15m)) \(want) \(s4(sign * m15))"
            momentumShown = "ret_5m \(opt4(fv.ret5m))"
        }
        rules.append(RuleScore(rule: "momentum", passed: s.by5 || s.by15, contribution: s.momentum, detail: momentumDetail))
        parts.append("momentum \(s2(s.momentum)) (\(momentumShown))")

        // Sentiment.
        if let score = fv.sentimentScore {
            if s.sentimentCounts {
                let aligned = s.sentimentAligned
                let detail = aligned
                    ? "score \(s2(score)) agrees with \(dir) (|score| ≥ \(f2(p.sentimentThreshold))): boost"
                    : "score \(s2(score)) opposes \(dir) (|score| ≥ \(f2(p.sentimentThreshold))): penalty"
                rules.append(RuleScore(rule: "sentiment", passed: aligned, contribution: s.sentiment, detail: detail))
                parts.append("sentiment \(s2(s.sentiment)) (\(f2(score)) \(aligned ? "aligned" : "opposed"))")
            } else {
                rules.append(RuleScore(rule: "sentiment", passed: false, contribution: 0,
                                       detail: "score \(s2(score)) weak (|score| < \(f2(p.sentimentThreshold)) or 0): no effect"))
                parts.append("sentiment \(s2(0)) (\(f2(score)) weak)")
            }
        } else {
            rules.append(RuleScore(rule: "sentiment", passed: false, contribution: 0,
                                   detail: "no sentiment score this session (absent): no effect"))
            parts.append("sentiment \(s2(0)) (absent)")
        }

        rules.append(RuleScore(rule: "chop", passed: !s.chop.isChop, contribution: 0, detail: s.chop.detail))
        parts.append(s.chop.summary)

        var reason = parts.joined(separator: "; ") + " → confidence \(f2(s.confidence))"
        if !s.vetoes.isEmpty {
            reason += "; no signal: " + s.vetoes.map { $0 == "momentum" ? "momentum not confirmed (required)" : "chop" }.joined(separator: ", ")
        }
        return Evaluation(direction: direction, instrument: s.instrument, strategy: s.strategy,
                          confidence: s.confidence, rules: rules, reason: reason, vetoes: s.vetoes)
    }

    /// Rounded to 4 decimals, never −0.
    static func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 + 0.0 }

    /// x ≥ threshold up to a relative 1e-9: a return computed from prices is off by an ulp or so, and exactly the
    /// threshold must pass.
    public static func atLeast(_ x: Double, _ threshold: Double) -> Bool { x >= threshold - 1e-9 * abs(threshold) }
}

private func f2(_ x: Double) -> String { FixedFormat.string(x + 0.0, decimals: 2) }
private func s2(_ x: Double) -> String { FixedFormat.string(x + 0.0, decimals: 2, plusSign: true) }
private func s4(_ x: Double) -> String { FixedFormat.string(x + 0.0, decimals: 4, plusSign: true) }
private func f5(_ x: Double) -> String { FixedFormat.string(x + 0.0, decimals: 5) }
private func s5(_ x: Double) -> String { FixedFormat.string(x + 0.0, decimals: 5, plusSign: true) }
private func opt4(_ x: Double?) -> String { x.map(s4) ?? "n/a" }
