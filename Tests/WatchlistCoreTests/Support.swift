import OpsModel
import WatchlistCore

/// New York wall-clock instant.
func ny(_ date: CivilDate, _ hour: Int, _ minute: Int, _ second: Int = 0) -> Timestamp {
    NewYorkTime.utc(date: date, hour: hour, minute: minute, second: second)
}

let monday = CivilDate(year: 2024, month: 3, day: 4)
let tuesday = CivilDate(year: 2024, month: 3, day: 5)

/// One input as the runtime hands it to the core.
struct Input {
    var topic: String
    var envelope: AnyEnvelope
    static let ranks = [Topics.sentiment: 0, Topics.chains: 1, Topics.features: 2]

    /// The runtime's canonical order: event time, topic rank, key, id.
    static func canonical(_ a: Input, _ b: Input) -> Bool {
        let ka = (a.envelope.eventTime, ranks[a.topic]!, a.envelope.partitionKey, a.envelope.id)
        let kb = (b.envelope.eventTime, ranks[b.topic]!, b.envelope.partitionKey, b.envelope.id)
        return ka < kb
    }
}

/// A feature vector for the 1-minute bar ending at `end`.
func features(_ ticker: String, end: Timestamp, volume: Int64 = 1000, close: Double = 100, slope: Double? = nil,
              atr14: Double? = nil, atmIv: Double? = nil) -> Input {
    let bar = Bar(ticker: ticker, start: end - Minutes(1), open: close, high: close, low: close, close: close, volume: volume)
    let date = NewYorkTime.date(of: bar.start)
    let index = (NewYorkTime.minuteOfDay(bar.start) - 570)
    let fv = FeatureVector(ticker: ticker, interval: "1m", sessionDate: date, sessionBarIndex: max(0, index), gapMinutes: nil, bar: bar,
                           sma20: nil, distanceSma20: nil, sma20Slope: slope, slopeLookback: 5, volumeRatio: nil, close5mAgo: nil,
                           close15mAgo: nil, ret1m: nil, ret5m: nil, ret15m: nil, atr14: atr14, atmIv: atmIv)
    let env = Envelope(id: DeterministicID.make("features", ticker, end.iso8601), eventTime: end, causationId: nil,
                       source: "feature-computer", payload: fv).erased()
    return Input(topic: Topics.features, envelope: env)
}

/// A chain of (strike, bid, ask, open interest) calls around `price`.
func chain(_ ticker: String, at: Timestamp, price: Double, quotes: [(strike: Double, bid: Double, ask: Double, oi: Int64)]) -> Input {
    let expiry = NewYorkTime.date(of: at).adding(days: 10)
    let contracts = quotes.map { q in
        OptionQuote(symbol: OCCSymbol(root: ticker, expiration: expiry, right: .call, strike: q.strike).description, right: .call,
                    strike: q.strike, expiration: expiry, bid: q.bid, ask: q.ask, last: nil, volume: 0, openInterest: q.oi)
    }
    let c = OptionChain(underlying: ticker, underlyingPrice: price, asOf: at, contracts: contracts)
    return Input(topic: Topics.chains, envelope: Envelope(id: c.id, eventTime: at, causationId: nil, source: "market-feed", payload: c).erased())
}

func sentiment(_ ticker: String, at: Timestamp, score: Double) -> Input {
    let s = SentimentScore(ticker: ticker, score: score, source: "test", articles: 1)
    return Input(topic: Topics.sentiment, envelope: Envelope(id: s.id(at: at), eventTime: at, causationId: nil, source: "market-feed", payload: s).erased())
}

/// Every regular-session minute of `date` for each ticker, `volume(ticker, minute index)` shares a bar.
func session(_ date: CivilDate, _ tickers: [String], until: (hour: Int, minute: Int)? = nil,
             volume: (String, Int) -> Int64 = { _, _ in 1000 }) -> [Input] {
    guard let s = MarketCalendar.session(date) else { return [] }
    let last = until.map { ny(date, $0.hour, $0.minute) } ?? s.close
    var out = [Input]()
    var end = s.open + Minutes(1)
    var i = 0
    while end <= last {
        for t in tickers { out.append(features(t, end: end, volume: volume(t, i))) }
        end = end + Minutes(1)
        i += 1
    }
    return out
}

/// Feeds inputs (sorted canonically) through a core and returns every watchlist envelope it emitted.
func run(_ core: inout WatchlistCore, _ inputs: [Input]) throws -> [Envelope<Watchlist>] {
    var out = [Envelope<Watchlist>]()
    for i in inputs.sorted(by: Input.canonical) {
        for e in try core.handle(i.envelope, from: i.topic) {
            precondition(e.topic == Topics.watchlist && e.broadcast, "a watchlist goes to every partition")
            out.append(e.envelope.typed(Watchlist.self)!)
        }
    }
    return out
}

func entry(_ w: Watchlist, _ ticker: String) -> WatchlistEntry? { w.entries.first { $0.ticker == ticker } }
