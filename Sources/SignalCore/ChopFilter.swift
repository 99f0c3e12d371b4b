import Foundation
import OpsModel

/// The chop filter (seed 000 #9, "SMA slope detection"): a ticker ranges when, over its last `chop_lookback` feature
/// vectors of the session (the current one included), the SMA20 is flat on every one — |sma20_slope| <
/// `chop_slope_max` — and the close crossed the SMA20 more than `chop_max_crosses` times (a cross: the sign of
/// close − sma20 differs from its last non-zero sign; touching the SMA20 and going back is not a cross). A window
/// that is not full yet (session start, warm-up: a vector without sma20 or slope) is not chop: the filter needs the
/// whole window to call a market ranging.
public struct ChopMeasure: Sendable, Equatable {
    /// Vectors of the window that have sma20 and slope, and the window's length (`chop_lookback`).
    public var bars: Int
    public var lookback: Int
    /// Largest |sma20_slope| among them (nil when none).
    public var maxAbsSlope: Double?
    public var crosses: Int
    public var isChop: Bool
    /// The thresholds it was judged against, for the detail text.
    public var slopeMax: Double
    public var maxCrosses: Int

    /// One vector's contribution: its slope and the side of the SMA20 its close is on (nil without sma20 or slope).
    public struct Sample: Sendable, Equatable {
        public var slope: Double
        public var side: Int
        public init?(_ fv: FeatureVector) {
            guard let sma = fv.sma20, let slope = fv.sma20Slope else { return nil }
            self.slope = slope
            self.side = fv.bar.close > sma ? 1 : fv.bar.close < sma ? -1 : 0
        }
    }

    /// Judges the window (oldest first; at most `p.chopLookback` entries are read, the newest).
    public init(window: [Sample?], params p: TradingParams.SignalParams) {
        let recent = window.suffix(p.chopLookback)
        let samples = recent.compactMap { $0 }
        lookback = p.chopLookback
        bars = samples.count
        maxAbsSlope = samples.map { abs($0.slope) }.max()
        var crosses = 0
        var lastSide = 0
        for s in samples where s.side != 0 {
            if lastSide != 0, s.side != lastSide { crosses += 1 }
            lastSide = s.side
        }
        self.crosses = crosses
        slopeMax = p.chopSlopeMax
        maxCrosses = p.chopMaxCrosses
        let full = recent.count == p.chopLookback && samples.count == p.chopLookback
        isChop = full && (maxAbsSlope ?? .infinity) < p.chopSlopeMax && crosses > p.chopMaxCrosses
    }

    var verdict: String { isChop ? "chop" : "no chop" }
    private var slopeText: String { maxAbsSlope.map { FixedFormat.string($0, decimals: 5) } ?? "n/a" }

    /// e.g. `max |slope| 0.00004/bar < 0.00010 and 6 crosses of sma20 > 4 over 20/20 bars: chop`.
    public var detail: String {
        let slopeCmp = (maxAbsSlope ?? .infinity) < slopeMax ? "<" : "≥"
        let crossCmp = crosses > maxCrosses ? ">" : "≤"
        let window = bars == lookback ? "over \(bars)/\(lookback) bars" : "over \(bars)/\(lookback) bars (window not full)"
        return "max |slope| \(slopeText)/bar \(slopeCmp) \(FixedFormat.string(slopeMax, decimals: 5)) and \(crosses) crosses of sma20 "
            + "\(crossCmp) \(maxCrosses) \(window): \(verdict)"
    }

    /// The reason's short form, e.g. `chop: no (max |slope| 0.00031/bar, 1 cross, 20/20 bars)`.
    public var summary: String {
        "chop: \(isChop ? "yes" : "no") (max |slope| \(slopeText)/bar, \(crosses) cross\(crosses == 1 ? "" : "es"), \(bars)/\(lookback) bars)"
    }
}

/// The ticker's recent vectors of the current session, as the chop filter reads them.
struct ChopWindow: Sendable {
    var session: CivilDate? = nil
    var samples: [ChopMeasure.Sample?] = []

    mutating func append(_ fv: FeatureVector, lookback: Int) {
        if session != fv.sessionDate {
            session = fv.sessionDate
            samples = []
        }
        samples.append(ChopMeasure.Sample(fv))
        if samples.count > lookback { samples.removeFirst(samples.count - lookback) }
    }
}
