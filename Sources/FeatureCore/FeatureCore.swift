import OpsModel

/// Which bars get features.
public enum SessionFilter: String, Sendable, CaseIterable {
    /// The NYSE regular session in New York time: bar start in [09:30, close), the close being 16:00 or 13:00 on an
    /// early close (`MarketCalendar.closeMinute(of:)`; 16:00 on a day the calendar has no session).
    case regular
    /// Every bar of the New York calendar day, extended hours included.
    case all
}

public struct FeatureConfig: Sendable, Equatable {
    /// Bars over which the SMA20 slope is measured.
    public var slopeLookback: Int = 5
    public var session: SessionFilter = .regular
    /// When set, bars of other tickers are refused (dead-lettered as unknown tickers).
    public var tickers: Set<String>? = nil
    public init(slopeLookback: Int = 5, session: SessionFilter = .regular, tickers: Set<String>? = nil) {
        self.slopeLookback = slopeLookback; self.session = session; self.tickers = tickers
    }
}

/// The feature-computer's pure core: per ticker and per New York session, SMA20, its distance and slope, the
/// volume ratio, 1/5/15-minute returns, Wilder's ATR14, the session's latest sentiment and ATM implied vol as of
/// each bar, and that ATM IV's IV percentile and IV Rank against the ticker's daily ATM IVs (`IVRanking`). All
/// intraday windows restart at each session; what cannot be computed yet is nil.
public struct FeatureCore: StreamCore {
    public static let name = "feature-computer"
    public let config: FeatureConfig
    public var serviceName: String { Self.name }
    /// Daily IVs first: a session's value (at its close) is in place before anything else of that instant.
    /// A chain's ATM IV (`market.atm-iv.v1`) rather than the chain itself: one number instead of 20 KB on every
    /// bar's way to a decision.
    public var inputTopics: [String] { [Topics.ivDaily, Topics.sentiment, Topics.atmIv, Topics.bars] }
    public var outputTopics: [String] { [Topics.features] }

    private var tickers: [String: TickerState] = [:]

    public init(config: FeatureConfig = FeatureConfig()) {
        precondition(config.slopeLookback >= 1, "slope lookback must be ≥ 1")
        self.config = config
    }

    public mutating func reset() { tickers = [:] }

    /// Every intraday window restarts at the session, so re-reading bars, chains' ATM IVs and sentiment from New York
    /// midnight of the last processed event's date rebuilds them exactly; the daily IVs reach a year back, so
    /// their topic is re-read from the beginning.
    public func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp {
        if topic == Topics.ivDaily { return .distantPast }
        return NewYorkTime.utc(date: NewYorkTime.date(of: lastProcessed), hour: 0, minute: 0)
    }

    public mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
        switch message.payload {
        case let bar as Bar:
            return try onBar(bar, envelope: message).map { [Emit(Topics.features, $0)] } ?? []
        case let a as ChainImpliedVolatility:
            try checkTicker(a.ticker)
            tickers[a.ticker, default: TickerState()].chain = (a.atmIv, message.eventTime, NewYorkTime.date(of: message.eventTime))
            return []
        case let s as SentimentScore:
            try checkTicker(s.ticker)
            tickers[s.ticker, default: TickerState()].sentiment = (s.score, message.eventTime, NewYorkTime.date(of: message.eventTime))
            return []
        case let d as DailyImpliedVolatility:
            try checkTicker(d.ticker)
            tickers[d.ticker, default: TickerState()].ivHistory.record(d.date, d.atmIv)
            return []
        default:
            return []
        }
    }

    private func checkTicker(_ t: String) throws(MessageError) {
        if let allowed = config.tickers, !allowed.contains(t) {
            throw .invalid("unknown ticker '\(t)' (watchlist: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    private mutating func onBar(_ bar: Bar, envelope: AnyEnvelope) throws(MessageError) -> AnyEnvelope? {
        try checkTicker(bar.ticker)
        guard bar.interval == BarInterval.m1.rawValue else {
            throw .invalid("feature-computer reads 1m bars; got \(bar.interval)")
        }
        let local = NewYorkTime.local(bar.start)
        if config.session == .regular {
            let minute = local.secondOfDay / 60
            let close = MarketCalendar.closeMinute(of: local.date) ?? MarketCalendar.closeMinute
            guard minute >= MarketCalendar.openMinute, minute < close else { return nil }
        }
        // Taken out while it changes, so its arrays are not copied (put back below, or as it was when refused).
        var st = tickers.removeValue(forKey: bar.ticker) ?? TickerState()
        if let lastEnd = st.lastBarEnd, bar.end <= lastEnd {
            tickers[bar.ticker] = st
            throw MessageError(.late, "bar \(bar.ticker) ending \(bar.end) is not after the previous bar (ending \(lastEnd)); bars must arrive in time order")
        }
        st.lastBarEnd = bar.end
        if st.sessionDate != local.date {
            st.startSession(local.date)
        }
        let prev = st.bars.last
        st.bars.append(bar)
        if st.bars.count > TickerState.keep { st.bars.removeFirst(st.bars.count - TickerState.keep) }
        let index = st.barIndex
        st.barIndex += 1

        // SMA20 over the session's last 20 bars.
        let n = st.bars.count
        var sma20: Double? = nil
        if index >= 19 {
            var sum = 0.0
            for b in st.bars[(n - 20)..<n] { sum += b.close }
            sma20 = sum / 20
        }
        st.smaHistory.append(sma20)
        if st.smaHistory.count > config.slopeLookback + 1 { st.smaHistory.removeFirst() }
        var slope: Double? = nil
        if st.smaHistory.count == config.slopeLookback + 1, let now = sma20, let then = st.smaHistory.first ?? nil, then != 0 {
            slope = (now - then) / then / Double(config.slopeLookback)
        }
        let distance = sma20.flatMap { $0 != 0 ? (bar.close - $0) / $0 : nil }

        // Volume ratio against the previous 20 bars.
        var volumeRatio: Double? = nil
        if index >= 20 {
            var sum = 0.0
            for b in st.bars[(n - 21)..<(n - 1)] { sum += Double(b.volume) }
            let mean = sum / 20
            if mean > 0 { volumeRatio = Double(bar.volume) / mean }
        }

        // Closes exactly 1, 5 and 15 minutes before this bar's end (nil when that minute is missing).
        func close(minutesAgo m: Int) -> Double? {
            let target = bar.end - Minutes(m)
            for b in st.bars.reversed() where b.end <= target {
                return b.end == target ? b.close : nil
            }
            return nil
        }
        let c1 = close(minutesAgo: 1), c5 = close(minutesAgo: 5), c15 = close(minutesAgo: 15)

        // Wilder's ATR14, seeded by the simple mean of the first 14 true ranges of the session.
        let tr: Double
        if let p = prev {
            tr = max(bar.high - bar.low, abs(bar.high - p.close), abs(bar.low - p.close))
        } else {
            tr = bar.high - bar.low
        }
        st.trCount += 1
        if st.trCount < 14 {
            st.trSum += tr
        } else if st.trCount == 14 {
            st.trSum += tr
            st.atr = st.trSum / 14
        } else if let atr = st.atr {
            st.atr = (atr * 13 + tr) / 14
        }

        let gap: Int? = prev.map { Int((bar.start.ms - $0.end.ms) / 60_000) }
        let sentiment = st.sentiment.flatMap { $0.date == local.date && $0.time <= bar.end ? $0 : nil }
        let chain = st.chain.flatMap { $0.date == local.date && $0.time <= bar.end ? $0 : nil }
        let ivWindow = chain == nil ? [] : st.ivHistory.window(for: local.date)
        tickers[bar.ticker] = st

        let fv = FeatureVector(
            ticker: bar.ticker, interval: bar.interval, sessionDate: local.date, sessionBarIndex: index, gapMinutes: gap,
            bar: bar, sma20: sma20, distanceSma20: distance, sma20Slope: slope, slopeLookback: config.slopeLookback,
            volumeRatio: volumeRatio, close5mAgo: c5, close15mAgo: c15,
            ret1m: c1.map { bar.close / $0 - 1 }, ret5m: c5.map { bar.close / $0 - 1 }, ret15m: c15.map { bar.close / $0 - 1 },
            atr14: st.atr, sentimentScore: sentiment?.score, sentimentTime: sentiment?.time,
            atmIv: chain?.iv, chainTime: chain?.time,
            ivPercentile: chain.flatMap { IVRanking.percentile($0.iv, among: ivWindow) },
            ivRank: chain.flatMap { IVRanking.rank($0.iv, among: ivWindow) })
        return Envelope(id: DeterministicID.make("features", envelope.id), eventTime: bar.end, causationId: envelope.id,
                        source: Self.name, payload: fv).erased()
    }
}

struct TickerState: Sendable {
    static let keep = 32
    var sessionDate: CivilDate? = nil
    var lastBarEnd: Timestamp? = nil
    var bars: [Bar] = []
    var barIndex = 0
    var smaHistory: [Double?] = []
    var trCount = 0
    var trSum = 0.0
    var atr: Double? = nil
    var sentiment: (score: Double, time: Timestamp, date: CivilDate)? = nil
    var chain: (iv: Double, time: Timestamp, date: CivilDate)? = nil
    /// Kept across sessions: the daily values reach a year back.
    var ivHistory = IVHistory()

    mutating func startSession(_ date: CivilDate) {
        sessionDate = date
        bars = []
        barIndex = 0
        smaHistory = []
        trCount = 0
        trSum = 0
        atr = nil
    }
}
