/// One item of source market data, before it is wrapped in an envelope and published.
public enum MarketEvent: Sendable, Equatable {
    case bar(Bar)
    case chain(OptionChain)
    /// A chain's at-the-money IV, at the chain's time (`impliedVolatility(of:)`).
    case atmIv(ChainImpliedVolatility, at: Timestamp)
    case sentiment(SentimentScore, at: Timestamp)
    /// A session's ATM implied volatility, known at that session's close.
    case ivDaily(DailyImpliedVolatility)

    /// When the data is known: a bar's end, a chain's snapshot time, a score's publication time.
    public var eventTime: Timestamp {
        switch self {
        case .bar(let b): b.end
        case .chain(let c): c.asOf
        case .atmIv(_, let t): t
        case .sentiment(_, let t): t
        case .ivDaily(let d): d.eventTime
        }
    }

    public var ticker: String {
        switch self {
        case .bar(let b): b.ticker
        case .chain(let c): c.underlying
        case .atmIv(let a, _): a.ticker
        case .sentiment(let s, _): s.ticker
        case .ivDaily(let d): d.ticker
        }
    }

    public var topic: String {
        switch self {
        case .bar: Topics.bars
        case .chain: Topics.chains
        case .atmIv: Topics.atmIv
        case .sentiment: Topics.sentiment
        case .ivDaily: Topics.ivDaily
        }
    }

    /// Sentiment, chains and their ATM IVs of a minute come before that minute's bars, so a consumer that joins them
    /// as of a bar's time sees them first (ties are then broken by ticker); a daily IV first of all, as the
    /// feature-computer ranks its topics.
    var rank: Int {
        switch self { case .ivDaily: 0; case .sentiment: 1; case .chain: 2; case .atmIv: 3; case .bar: 4 }
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
        case .atmIv(let a, let t):
            return Envelope(id: a.id(at: t), eventTime: t, causationId: nil, source: source, payload: a).erased()
        case .sentiment(let s, let t):
            return Envelope(id: s.id(at: t), eventTime: t, causationId: nil, source: source, payload: s).erased()
        case .ivDaily(let d):
            return Envelope(id: d.id, eventTime: d.eventTime, causationId: nil, source: source, payload: d).erased()
        }
    }

    /// A chain's ATM IV at the chain's time, as every source publishes it; nil for a chain without one.
    public static func impliedVolatility(of chain: OptionChain) -> MarketEvent? {
        ChainImpliedVolatility(chain).map { .atmIv($0, at: chain.asOf) }
    }

    /// `events` (in canonical order) with each chain's ATM IV at the chain's time, merged in canonical order: the one
    /// place a source derives them, so every source (synthetic, files, a replay without them, live) publishes the same.
    public static func withChainImpliedVolatilities(_ events: [MarketEvent]) -> [MarketEvent] {
        var out = [MarketEvent]()
        out.reserveCapacity(events.count + events.count / 8)
        var derived = [MarketEvent]()
        // Events of one time are contiguous, ATM IVs rank after every chain and before every bar: each time's
        // derived values go in just before its first bar (or after its last event).
        func drain() { derived.sort(by: canonicalOrder); out += derived; derived.removeAll(keepingCapacity: true) }
        for e in events {
            if let d = derived.first, d.eventTime != e.eventTime || e.rank > d.rank { drain() }
            out.append(e)
            if case .chain(let c) = e, let iv = impliedVolatility(of: c) { derived.append(iv) }
        }
        drain()
        return out
    }
}
