/// One item of source market data, before it is wrapped in an envelope and published.
public enum MarketEvent: Sendable, Equatable {
    case bar(Bar)
    case chain(OptionChain)
    case sentiment(SentimentScore, at: Timestamp)
    /// A session's ATM implied volatility, known at that session's close.
    case ivDaily(DailyImpliedVolatility)

    /// When the data is known: a bar's end, a chain's snapshot time, a score's publication time.
    public var eventTime: Timestamp {
        switch self {
        case .bar(let b): b.end
        case .chain(let c): c.asOf
        case .sentiment(_, let t): t
        case .ivDaily(let d): d.eventTime
        }
    }

    public var ticker: String {
        switch self {
        case .bar(let b): b.ticker
        case .chain(let c): c.underlying
        case .sentiment(let s, _): s.ticker
        case .ivDaily(let d): d.ticker
        }
    }

    public var topic: String {
        switch self {
        case .bar: Topics.bars
        case .chain: Topics.chains
        case .sentiment: Topics.sentiment
        case .ivDaily: Topics.ivDaily
        }
    }

    /// Sentiment and chains of a minute come before that minute's bars, so a consumer that joins them as of a
    /// bar's time sees them first (ties are then broken by ticker); a daily IV first of all, as the
    /// feature-computer ranks its topics.
    var rank: Int {
        switch self { case .ivDaily: 0; case .sentiment: 1; case .chain: 2; case .bar: 3 }
    }

    /// The total order every source publishes in: event time, then kind, then ticker.
    public static func canonicalOrder(_ a: MarketEvent, _ b: MarketEvent) -> Bool {
        if a.eventTime != b.eventTime { return a.eventTime < b.eventTime }
        if a.rank != b.rank { return a.rank < b.rank }
        return a.ticker < b.ticker
    }

    /// The envelope a source publishes, with a deterministic id derived from the data's identity.
    public func envelope(source: String) -> AnyEnvelope {
        switch self {
        case .bar(let b):
            return Envelope(id: b.id, eventTime: b.end, causationId: nil, source: source, payload: b).erased()
        case .chain(let c):
            return Envelope(id: c.id, eventTime: c.asOf, causationId: nil, source: source, payload: c).erased()
        case .sentiment(let s, let t):
            return Envelope(id: s.id(at: t), eventTime: t, causationId: nil, source: source, payload: s).erased()
        case .ivDaily(let d):
            return Envelope(id: d.id, eventTime: d.eventTime, causationId: nil, source: source, payload: d).erased()
        }
    }
}
