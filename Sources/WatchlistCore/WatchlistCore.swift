import OpsModel

/// The watchlist-engine's pure core (seed 004 §5): ranks every ticker it has seen and publishes the ranking and the
/// top-`watchlist.size` set on `strategy.watchlist.v1` at each session open and every `watchlist.every_minutes`
/// after (`WatchlistCadence`).
///
/// **When.** The watchlist due at boundary B is published on the first input whose event time is at or after B
/// (the session's first regular-session input for the open), with that input's event time, and is computed from
/// every input before it — i.e. every input before B, whatever order same-time inputs arrive in. A gap that skips
/// several boundaries publishes one watchlist, for the latest. No candidate yet (a run's first open) publishes
/// nothing; the signal-engine then trades every ticker until the first watchlist.
///
/// **Candidates.** Tickers with at least one regular-session bar (through `strategy.features.v1`) in the volume
/// window: the boundary's session and the `volumeSessions` NYSE trading days before it.
///
/// **Measures** (as of B, on New York date D; scores in `WatchlistScoring`):
/// - avg daily volume: the mean regular-session share volume (sum of the bars' volumes) of the ticker's completed
///   sessions among the last `volumeSessions` (20) trading days before D; a ticker with none (its first session)
///   uses D's volume so far. Completed sessions only, so a morning ranking does not compare a partial day with
///   full ones.
/// - spread quality and open interest: from the ticker's latest chain of D or of the trading day before (an
///   older chain is stale, and counts as missing): the median (ask − bid) / mid × 100 over its contracts with a
///   bid, an ask ≥ bid and a strike within `nearTheMoney` (5%) of the underlying — what a trader would actually
///   buy — and the total open interest of every contract in the snapshot.
/// - sentiment: the signed mean of the ticker's latest `sentimentScores` (4) scores of the last
///   `sentimentHours` (24) hours.
/// - technical setup and volatility: |sma20_slope|, atr14, close and atm_iv of the ticker's latest feature vector of
///   D (none at the open: every ticker scores 0 there, and the open's ranking rests on liquidity and sentiment).
///
/// **Restore.** Each measure has a bounded look-back, so a restart re-reads features from New York midnight of
/// the 20th trading day before the last processed date, chains from midnight of the previous trading day, and
/// sentiment from 24 hours back; the re-read state gives every later watchlist exactly as an uninterrupted run.
public struct WatchlistCore: TradingParamsCore {
    public static let name = "watchlist-engine"
    /// Completed sessions averaged for the avg daily volume (the usual 20-day ADV).
    public static let volumeSessions = 20
    /// Sentiment momentum reads at most this many of the latest scores, none older than `sentimentHours`.
    public static let sentimentScores = 4
    public static let sentimentHours = 24
    /// Strikes within this fraction of the underlying count for spread quality.
    public static let nearTheMoney = 0.05

    public private(set) var params: TradingParams.WatchlistParams
    public var serviceName: String { Self.name }
    public var inputTopics: [String] { [Topics.sentiment, Topics.chains, Topics.features] }
    public var outputTopics: [String] { [Topics.watchlist] }

    private var tickers: [String: TickerHistory] = [:]
    /// The latest boundary handled (published or, without candidates, passed).
    private var lastBoundary: Timestamp?

    public init(params: TradingParams.WatchlistParams = TradingParams.WatchlistParams()) {
        precondition(params.size >= 1 && params.everyMinutes >= 1, "watchlist.size and watchlist.every_minutes must be ≥ 1")
        self.params = params
    }

    public mutating func reset() {
        tickers = [:]
        lastBoundary = nil
    }

    /// Between boundaries nothing is due: once a boundary is handled the next watchlist can only come with an input at
    /// or after the next boundary, so the engine promises up to it and the signal-engine does not wait for this hop
    /// every minute. A parameter change may move the grid (`watchlist.every_minutes`): one still pending bounds the
    /// promise. Before the first boundary, any regular-session input may publish.
    public var lookahead: Lookahead? {
        guard let last = lastBoundary else { return nil }
        return Lookahead(name: "between-boundaries", causes: [Topics.watchlist: [Topics.params: 0]],
                         resumesAt: WatchlistCadence.boundary(after: last, everyMinutes: params.everyMinutes))
    }

    public var paramsAccount: String? { nil }
    public mutating func reconfigure(_ params: TradingParams) { self.params = params.watchlist }

    public func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp {
        let date = NewYorkTime.date(of: lastProcessed)
        switch topic {
        case Topics.features: return NewYorkTime.utc(date: Self.volumeWindowStart(date), hour: 0, minute: 0)
        case Topics.chains: return NewYorkTime.utc(date: Self.previousTradingDay(date), hour: 0, minute: 0)
        case Topics.sentiment: return lastProcessed - Minutes(Self.sentimentHours * 60)
        default: return .distantPast
        }
    }

    public mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
        var out = [Emit]()
        if let b = WatchlistCadence.boundary(at: message.eventTime, everyMinutes: params.everyMinutes), b > (lastBoundary ?? .distantPast) {
            if let list = watchlist(at: b) {
                do {
                    try list.validate(eventTime: message.eventTime)
                } catch {
                    throw .invalid("the watchlist due at \(b) would be invalid: \(error.reason)")
                }
                let envelope = Envelope(id: list.id, eventTime: message.eventTime, causationId: message.id, source: Self.name, payload: list)
                out.append(Emit(Topics.watchlist, envelope.erased(), broadcast: true))
            }
            lastBoundary = b
        }
        apply(message)
        return out
    }

    /// The ranking as of boundary `b` from the state so far; nil without candidates.
    public func watchlist(at b: Timestamp) -> Watchlist? {
        let date = NewYorkTime.date(of: b)
        let measures = tickers.keys.sorted().compactMap { tickers[$0]!.measures(ticker: $0, asOf: b, date: date) }
        guard !measures.isEmpty else { return nil }
        let entries = WatchlistScoring.rank(measures, size: params.size)
        return Watchlist(asOf: b, sessionDate: date, boundary: WatchlistCadence.isOpen(b) ? "open" : "interval", size: params.size,
                         tickers: entries.filter(\.selected).map(\.ticker), entries: entries)
    }

    private mutating func apply(_ message: AnyEnvelope) {
        switch message.payload {
        case let fv as FeatureVector:
            tickers[fv.ticker, default: TickerHistory()].add(fv)
        case let chain as OptionChain:
            tickers[chain.underlying, default: TickerHistory()].chain = ChainLiquidity(chain)
        case let s as SentimentScore:
            tickers[s.ticker, default: TickerHistory()].add(score: s.score, at: message.eventTime)
        default:
            break
        }
    }

    /// The first date of the volume window of `date`: the `volumeSessions`-th trading day before it.
    static func volumeWindowStart(_ date: CivilDate) -> CivilDate {
        var d = date
        for _ in 0..<volumeSessions { d = previousTradingDay(d) }
        return d
    }

    static func previousTradingDay(_ date: CivilDate) -> CivilDate { MarketCalendar.tradingDay(onOrBefore: date.adding(days: -1)) }
}

/// Spread quality and open interest of one chain snapshot.
struct ChainLiquidity: Sendable, Equatable {
    var asOf: Timestamp
    var date: CivilDate
    var spreadPct: Double?
    var openInterest: Int64

    init(_ chain: OptionChain) {
        asOf = chain.asOf
        date = NewYorkTime.date(of: chain.asOf)
        let spot = chain.underlyingPrice
        let spreads = chain.contracts.filter {
            $0.bid > 0 && $0.ask >= $0.bid && abs($0.strike / spot - 1) <= WatchlistCore.nearTheMoney + 1e-12
        }.map { ($0.ask - $0.bid) / $0.mid * 100 }.sorted()
        spreadPct = Self.median(spreads)
        openInterest = chain.contracts.reduce(0) { $0 + $1.openInterest }
    }

    static func median(_ sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

/// What the watchlist-engine keeps per ticker; each part bounded by its look-back.
struct TickerHistory: Sendable {
    /// Regular-session share volume per New York session date, from the volume window on.
    var sessionVolumes: [CivilDate: Int64] = [:]
    var latest: (date: CivilDate, slope: Double?, atr14: Double?, close: Double, atmIv: Double?)?
    var chain: ChainLiquidity?
    /// The latest `WatchlistCore.sentimentScores` scores, oldest first.
    var sentiment: [(time: Timestamp, score: Double)] = []

    mutating func add(_ fv: FeatureVector) {
        let date = fv.sessionDate
        if let session = MarketCalendar.session(date), fv.bar.start >= session.open, fv.bar.start < session.close {
            if sessionVolumes[date] == nil {
                let start = WatchlistCore.volumeWindowStart(date)
                sessionVolumes = sessionVolumes.filter { $0.key >= start }
            }
            sessionVolumes[date, default: 0] += fv.bar.volume
        }
        if latest.map({ $0.date <= date }) ?? true {
            latest = (date, fv.sma20Slope, fv.atr14, fv.bar.close, fv.atmIv)
        }
    }

    mutating func add(score: Double, at time: Timestamp) {
        sentiment.append((time, score))
        if sentiment.count > WatchlistCore.sentimentScores { sentiment.removeFirst(sentiment.count - WatchlistCore.sentimentScores) }
    }

    /// The ticker's measures as of `asOf` on `date`; nil when it is not a candidate (no bar in the volume window).
    func measures(ticker: String, asOf: Timestamp, date: CivilDate) -> TickerMeasures? {
        let start = WatchlistCore.volumeWindowStart(date)
        let completed = sessionVolumes.filter { $0.key >= start && $0.key < date }.sorted { $0.key < $1.key }.map(\.value)
        var m = TickerMeasures(ticker: ticker)
        if !completed.isEmpty {
            m.avgDailyVolume = completed.reduce(0.0) { $0 + Double($1) } / Double(completed.count)
            m.volumeSessions = completed.count
        } else if let today = sessionVolumes[date] {
            m.avgDailyVolume = Double(today)
        } else {
            return nil
        }
        if let c = chain, c.date >= WatchlistCore.previousTradingDay(date), c.date <= date {
            m.spreadPct = c.spreadPct
            m.openInterest = c.openInterest
            m.chainTime = c.asOf
        }
        let since = asOf - Minutes(WatchlistCore.sentimentHours * 60)
        let recent = sentiment.filter { $0.time > since && $0.time <= asOf }
        if !recent.isEmpty {
            m.sentimentMean = recent.reduce(0.0) { $0 + $1.score } / Double(recent.count)
            m.sentimentCount = recent.count
        }
        if let f = latest, f.date == date {
            m.sma20Slope = f.slope
            m.atr14 = f.atr14
            m.close = f.close
            m.atmIv = f.atmIv
        }
        return m
    }
}
