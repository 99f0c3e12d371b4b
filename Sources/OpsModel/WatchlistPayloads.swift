/// The watchlist-engine's ranking of every ticker it has seen (seed 004 §5), published at each session open and
/// every `watchlist.every_minutes` after, and the top-N set the signal-engine trades.
///
/// Each entry carries every component and the raw measure behind it, so "why is X on the list?" is answered
/// by the record (the definitions are on `WatchlistCore`):
/// `score = 0.40·sentiment_momentum + 0.30·liquidity + 0.20·technical_setup + 0.10·volatility`,
/// `liquidity = 0.5·avg_daily_volume_score + 0.3·spread_quality_score + 0.2·open_interest_score`.
/// All scores are in [0, 1], rounded to 4 decimals, and `score`/`liquidity` re-add from the rounded parts.
public struct Watchlist: Payload {
    public static let messageType = "watchlist"
    public static let version = 1

    /// The boundary this ranking is for: the session open or open + k × every_minutes, New York. The envelope's
    /// event time is that of the first input at or after it; the ranking uses every input before that input.
    public var asOf: Timestamp
    public var sessionDate: CivilDate
    /// `open` (the session's first watchlist) or `interval`.
    public var boundary: String
    /// `watchlist.size`: how many of the ranked tickers are selected.
    public var size: Int
    /// The selected tickers (the top `size` entries), best first.
    public var tickers: [String]
    /// Every candidate, best first (score descending, then ticker).
    public var entries: [WatchlistEntry]

    enum CodingKeys: String, CodingKey {
        case boundary, size, tickers, entries
        case asOf = "as_of", sessionDate = "session_date"
    }

    public init(asOf: Timestamp, sessionDate: CivilDate, boundary: String, size: Int, tickers: [String], entries: [WatchlistEntry]) {
        self.asOf = asOf; self.sessionDate = sessionDate; self.boundary = boundary; self.size = size
        self.tickers = tickers; self.entries = entries
    }

    /// One key for the whole list: the engine broadcasts it to every partition (see `Emit.broadcast`).
    public var partitionKey: String { "watchlist" }

    public var id: String { DeterministicID.make("watchlist", asOf.iso8601) }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        guard ["open", "interval"].contains(boundary) else { throw .invalid("boundary '\(boundary)' is not open or interval") }
        guard size >= 1 else { throw .invalid("size \(size) must be ≥ 1") }
        guard asOf <= eventTime else { throw .invalid("as_of \(asOf) is after the event time \(eventTime)") }
        guard NewYorkTime.date(of: asOf) == sessionDate else { throw .invalid("as_of \(asOf) is not on session_date \(sessionDate)") }
        var seen = Set<String>()
        for (i, e) in entries.enumerated() {
            try e.validate()
            guard seen.insert(e.ticker).inserted else { throw .invalid("ticker \(e.ticker) ranked twice") }
            guard e.rank == i + 1 else { throw .invalid("entry \(e.ticker) has rank \(e.rank), expected \(i + 1)") }
            guard e.selected == (i < size) else { throw .invalid("entry \(e.ticker) (rank \(e.rank)) selected=\(e.selected) with size \(size)") }
        }
        let selected = entries.filter(\.selected).map(\.ticker)
        guard tickers == selected else { throw .invalid("tickers \(tickers) are not the selected entries \(selected)") }
    }
}

/// One ticker's line of a `Watchlist`: its rank, its scores and the measures they come from.
public struct WatchlistEntry: Codable, Sendable, Equatable {
    public var ticker: String
    /// 1 = best.
    public var rank: Int
    /// In the top `size`.
    public var selected: Bool
    public var score: Double
    public var sentimentMomentum: Double
    public var liquidity: Double
    public var technicalSetup: Double
    public var volatility: Double
    /// The liquidity parts, each normalized across the candidates (percentile rank).
    public var avgDailyVolumeScore: Double
    public var spreadQualityScore: Double
    public var openInterestScore: Double

    /// Shares per regular session, averaged over `volumeSessions` completed sessions (0: today's volume so far).
    @Nullable public var avgDailyVolume: Double?
    public var volumeSessions: Int
    /// Median (ask − bid) / mid × 100 of the near-the-money contracts of the latest chain, and its total open interest.
    @Nullable public var spreadPct: Double?
    @Nullable public var openInterest: Int64?
    @Nullable public var chainTime: Timestamp?
    /// Signed mean of the sentiment scores that count, and how many there were.
    @Nullable public var sentimentMean: Double?
    public var sentimentCount: Int
    /// From the ticker's latest feature vector of the session.
    @Nullable public var sma20Slope: Double?
    @Nullable public var atr14: Double?
    @Nullable public var atmIv: Double?
    /// (atr14 / close) ÷ (atm_iv / √(252 × 390)): a minute's range against what the options price for a minute.
    @Nullable public var moveToImplied: Double?

    enum CodingKeys: String, CodingKey {
        case ticker, rank, selected, score, liquidity, volatility, atr14
        case sentimentMomentum = "sentiment_momentum", technicalSetup = "technical_setup"
        case avgDailyVolumeScore = "avg_daily_volume_score", spreadQualityScore = "spread_quality_score"
        case openInterestScore = "open_interest_score", avgDailyVolume = "avg_daily_volume", volumeSessions = "volume_sessions"
        case spreadPct = "spread_pct", openInterest = "open_interest", chainTime = "chain_time"
        case sentimentMean = "sentiment_mean", sentimentCount = "sentiment_count", sma20Slope = "sma20_slope"
        case atmIv = "atm_iv", moveToImplied = "move_to_implied"
    }

    public init(ticker: String, rank: Int, selected: Bool, score: Double, sentimentMomentum: Double, liquidity: Double,
                technicalSetup: Double, volatility: Double, avgDailyVolumeScore: Double, spreadQualityScore: Double,
                openInterestScore: Double, avgDailyVolume: Double?, volumeSessions: Int, spreadPct: Double?,
                openInterest: Int64?, chainTime: Timestamp?, sentimentMean: Double?, sentimentCount: Int,
                sma20Slope: Double?, atr14: Double?, atmIv: Double?, moveToImplied: Double?) {
        self.ticker = ticker; self.rank = rank; self.selected = selected; self.score = score
        self.sentimentMomentum = sentimentMomentum; self.liquidity = liquidity; self.technicalSetup = technicalSetup
        self.volatility = volatility; self.avgDailyVolumeScore = avgDailyVolumeScore
        self.spreadQualityScore = spreadQualityScore; self.openInterestScore = openInterestScore
        self.avgDailyVolume = avgDailyVolume; self.volumeSessions = volumeSessions; self.spreadPct = spreadPct
        self.openInterest = openInterest; self.chainTime = chainTime; self.sentimentMean = sentimentMean
        self.sentimentCount = sentimentCount; self.sma20Slope = sma20Slope; self.atr14 = atr14; self.atmIv = atmIv
        self.moveToImplied = moveToImplied
    }

    func validate() throws(MessageError) {
        try Validate.ticker(ticker)
        for (name, v) in [("score", score), ("sentiment_momentum", sentimentMomentum), ("liquidity", liquidity),
                          ("technical_setup", technicalSetup), ("volatility", volatility),
                          ("avg_daily_volume_score", avgDailyVolumeScore), ("spread_quality_score", spreadQualityScore),
                          ("open_interest_score", openInterestScore)] {
            try Validate.price(v, name)
            guard (0...1).contains(v) else { throw .invalid("\(ticker) \(name) \(v) outside [0, 1]") }
        }
        for (name, v) in [("avg_daily_volume", avgDailyVolume), ("spread_pct", spreadPct), ("sentiment_mean", sentimentMean),
                          ("sma20_slope", sma20Slope), ("atr14", atr14), ("atm_iv", atmIv), ("move_to_implied", moveToImplied)] {
            if let v { try Validate.price(v, name) }
        }
        guard volumeSessions >= 0, sentimentCount >= 0, (openInterest ?? 0) >= 0 else { throw .invalid("\(ticker): negative count") }
    }
}
