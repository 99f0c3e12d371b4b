import Foundation
import OpsModel

/// What the watchlist-engine knows about one ticker at a boundary, before anything is normalized.
public struct TickerMeasures: Sendable, Equatable {
    public var ticker: String
    /// Mean regular-session share volume of the completed sessions in the window (`volumeSessions` of them), or
    /// today's volume so far when there is none (`volumeSessions` = 0).
    public var avgDailyVolume: Double?
    public var volumeSessions: Int
    /// Median (ask − bid) / mid × 100 of the latest chain's near-the-money contracts, and its total open interest.
    public var spreadPct: Double?
    public var openInterest: Int64?
    public var chainTime: Timestamp?
    /// Signed mean of the sentiment scores that count, and how many.
    public var sentimentMean: Double?
    public var sentimentCount: Int
    /// From the ticker's latest feature vector of the session.
    public var sma20Slope: Double?
    public var atr14: Double?
    public var atmIv: Double?
    public var close: Double?

    public init(ticker: String, avgDailyVolume: Double? = nil, volumeSessions: Int = 0, spreadPct: Double? = nil,
                openInterest: Int64? = nil, chainTime: Timestamp? = nil, sentimentMean: Double? = nil, sentimentCount: Int = 0,
                sma20Slope: Double? = nil, atr14: Double? = nil, atmIv: Double? = nil, close: Double? = nil) {
        self.ticker = ticker; self.avgDailyVolume = avgDailyVolume; self.volumeSessions = volumeSessions
        self.spreadPct = spreadPct; self.openInterest = openInterest; self.chainTime = chainTime
        self.sentimentMean = sentimentMean; self.sentimentCount = sentimentCount; self.sma20Slope = sma20Slope
        self.atr14 = atr14; self.atmIv = atmIv; self.close = close
    }

    /// Minutes in a year of regular sessions: scales an annualized IV to one minute.
    static let minutesPerYear = 252.0 * 390.0

    /// (atr14 / close) ÷ (atm_iv / √(252 × 390)): how far the stock ranges in a minute against the one-minute move
    /// its options are priced for. Above the others' means its options are cheap for how it moves.
    public var moveToImplied: Double? {
        guard let atr14, let close, close > 0, let atmIv, atmIv > 0 else { return nil }
        return (atr14 / close) / (atmIv / Self.minutesPerYear.squareRoot())
    }
}

/// Seed 004 §5's scores, from `TickerMeasures` to ranked `WatchlistEntry`s.
///
/// - liquidity = 0.5·n(avg daily volume) + 0.3·n(spread quality) + 0.2·n(option open interest), where spread quality
///   is the lower median spread % (tighter is better);
/// - technical setup = n(|sma20_slope|): the trendiest tickers, which is what the signal-engine's trend rule needs;
/// - volatility = n(move_to_implied): tickers that move most for what their options cost;
/// - sentiment momentum = min(1, |signed mean of the recent scores|): a persistent lean either way (the
///   signal-engine trades both directions), 0 without scores; not normalized — it is already on a common [-1, 1]
///   scale, so a weak lean stays weak even when every ticker's is;
/// - score = 0.40·sentiment momentum + 0.30·liquidity + 0.20·technical setup + 0.10·volatility.
///
/// n(·) is the percentile rank across the candidates: (number below + ½ × number equal, itself excluded) / (k − 1)
/// over the k candidates that have the measure, so the lowest is 0 and the highest 1 (a lone one: 1); a candidate
/// without the measure scores 0. Ranks rather than min-max because the measures are heavy-tailed and
/// unit-bearing (SPY trades tens of times the shares of a mid-cap; one index ETF would squash every other ticker
/// to ~0 under min-max) and because a rank needs no scale or cap to tune, cannot be moved by one outlier, and
/// gives each part the same spread whatever its units.
///
/// Every score is rounded to 4 decimals; `liquidity` and `score` are computed from the rounded parts, so they
/// re-add from the payload. Entries are ordered by score (descending), then ticker; the first `size` are selected.
public enum WatchlistScoring {
    public static let sentimentWeight = 0.40
    public static let liquidityWeight = 0.30
    public static let technicalWeight = 0.20
    public static let volatilityWeight = 0.10
    public static let volumeWeight = 0.5
    public static let spreadWeight = 0.3
    public static let openInterestWeight = 0.2

    /// Percentile ranks in [0, 1] (see the type's comment); nil values score 0 and are not counted.
    public static func percentileRanks(_ values: [Double?]) -> [Double] {
        let present = values.compactMap { $0 }
        let k = present.count
        return values.map { v in
            guard let v else { return 0 }
            guard k > 1 else { return 1 }
            let below = present.filter { $0 < v }.count
            let equal = present.filter { $0 == v }.count - 1
            return (Double(below) + 0.5 * Double(equal)) / Double(k - 1)
        }
    }

    /// Scores and ranks the candidates; the first `size` are selected.
    public static func rank(_ measures: [TickerMeasures], size: Int) -> [WatchlistEntry] {
        let volume = percentileRanks(measures.map(\.avgDailyVolume))
        let spread = percentileRanks(measures.map { $0.spreadPct.map { -$0 } })
        let openInterest = percentileRanks(measures.map { $0.openInterest.map(Double.init) })
        let technical = percentileRanks(measures.map { $0.sma20Slope.map(abs) })
        let volatility = percentileRanks(measures.map(\.moveToImplied))
        var entries = [WatchlistEntry]()
        for (i, m) in measures.enumerated() {
            let v = round4(volume[i]), s = round4(spread[i]), o = round4(openInterest[i])
            let liquidity = round4(volumeWeight * v + spreadWeight * s + openInterestWeight * o)
            let sentiment = round4(min(1, abs(m.sentimentMean ?? 0)))
            let tech = round4(technical[i]), vol = round4(volatility[i])
            let score = round4(sentimentWeight * sentiment + liquidityWeight * liquidity + technicalWeight * tech + volatilityWeight * vol)
            entries.append(WatchlistEntry(
                ticker: m.ticker, rank: 0, selected: false, score: score, sentimentMomentum: sentiment, liquidity: liquidity,
                technicalSetup: tech, volatility: vol, avgDailyVolumeScore: v, spreadQualityScore: s, openInterestScore: o,
                avgDailyVolume: m.avgDailyVolume, volumeSessions: m.volumeSessions, spreadPct: m.spreadPct.map(round4),
                openInterest: m.openInterest, chainTime: m.chainTime, sentimentMean: m.sentimentMean.map(round4),
                sentimentCount: m.sentimentCount, sma20Slope: m.sma20Slope, atr14: m.atr14, atmIv: m.atmIv,
                moveToImplied: m.moveToImplied.map(round4)))
        }
        entries.sort { $0.score != $1.score ? $0.score > $1.score : $0.ticker < $1.ticker }
        for i in entries.indices {
            entries[i].rank = i + 1
            entries[i].selected = i < size
        }
        return entries
    }

    /// Rounded to 4 decimals, never −0.
    static func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 + 0.0 }
}
