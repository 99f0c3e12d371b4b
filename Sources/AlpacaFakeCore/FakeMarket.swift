import MarketData
import OpsModel

/// A bid and an ask in cents, and when it was quoted.
public struct FakeQuote: Sendable, Equatable {
    public var bid: Cents
    public var ask: Cents
    public var time: Timestamp
    public init(bid: Cents, ask: Cents, time: Timestamp) { self.bid = bid; self.ask = ask; self.time = time }
}

/// One generated session of the synthetic market, indexed for "as of t" lookups.
struct MarketSession: Sendable {
    var date: CivilDate
    var bars: [String: [Bar]] = [:]
    var chains: [String: [OptionChain]] = [:]
    /// Option symbol → (chain time, quote) in time order.
    var quotes: [String: [(Timestamp, OptionQuote)]] = [:]

    mutating func add(_ event: MarketEvent) {
        switch event {
        case .bar(let b): bars[b.ticker, default: []].append(b)
        case .chain(let c):
            chains[c.underlying, default: []].append(c)
            for q in c.contracts { quotes[q.symbol, default: []].append((c.asOf, q)) }
        default: break
        }
    }
}

/// The synthetic market the fake trades against: SyntheticMarket generated lazily session by session as the
/// clock's New York date moves on, starting the trading day before the first date seen (so before the open there
/// is yesterday's close to quote). Only the last few sessions are kept. Pure: time is passed in.
public struct FakeMarket: Sendable {
    public let seed: UInt64
    public let tickers: [SyntheticTicker]
    var iterator: SyntheticMarket.Iterator?
    var pending: MarketEvent?
    var sessions: [MarketSession] = []
    static let keptSessions = 3

    public init(seed: UInt64, tickers: [SyntheticTicker]) { self.seed = seed; self.tickers = tickers }

    public var symbols: [String] { tickers.map(\.symbol) }

    /// Generates every session up to the New York date of `now`.
    public mutating func advance(to now: Timestamp) {
        let today = NewYorkTime.date(of: now)
        if iterator == nil {
            let first = MarketCalendar.tradingDay(onOrBefore: today.adding(days: -1))
            let config = SyntheticMarketConfig(seed: seed, tickers: tickers, startDate: first, sessions: 4000)
            iterator = SyntheticMarket(config: config).makeIterator()
        }
        while (sessions.last?.date ?? .init(year: 1, month: 1, day: 1)) < MarketCalendar.tradingDay(onOrBefore: today) {
            guard let s = nextSession() else { return }
            sessions.append(s)
            if sessions.count > Self.keptSessions { sessions.removeFirst() }
        }
    }

    mutating func nextSession() -> MarketSession? {
        guard let first = pending ?? iterator?.next() else { return nil }
        pending = nil
        var session = MarketSession(date: NewYorkTime.date(of: first.eventTime))
        session.add(first)
        while let e = iterator?.next() {
            if NewYorkTime.date(of: e.eventTime) != session.date { pending = e; break }
            session.add(e)
        }
        return session
    }

    /// The last bar of `symbol` that has ended by `t`.
    public func lastBar(_ symbol: String, at t: Timestamp) -> Bar? {
        for s in sessions.reversed() {
            guard let bars = s.bars[symbol], let first = bars.first, first.end <= t else { continue }
            return bars.last(where: { $0.end <= t })
        }
        return nil
    }

    /// The last bar of `symbol` whose session closed on or before `date`'s close.
    public func closeBar(_ symbol: String, before t: Timestamp) -> Bar? { lastBar(symbol, at: t) }

    /// Bars of `symbol` that started in [from, to] and ended by `now`.
    public func bars(_ symbol: String, from: Timestamp, to: Timestamp, now: Timestamp) -> [Bar] {
        sessions.flatMap { $0.bars[symbol] ?? [] }.filter { $0.start >= from && $0.start <= to && $0.end <= now }
    }

    /// Bars of every ticker that ended in (after, upTo].
    public func barsEnded(after: Timestamp, upTo: Timestamp) -> [Bar] {
        sessions.flatMap { s in s.bars.values.flatMap { $0.filter { $0.end > after && $0.end <= upTo } } }
            .sorted { ($0.end, $0.ticker) < ($1.end, $1.ticker) }
    }

    /// A stock's quote: the latest close a cent either side.
    public func stockQuote(_ symbol: String, at t: Timestamp) -> FakeQuote? {
        guard let bar = lastBar(symbol, at: t) else { return nil }
        let c = Money.cents(dollars: String(bar.close)) ?? Cents((bar.close * 100).rounded())
        return FakeQuote(bid: max(1, c - 1), ask: c + 1, time: bar.end)
    }

    /// A contract's quote in the latest chain at or before `t` that lists it.
    public func optionQuote(_ symbol: String, at t: Timestamp) -> (quote: OptionQuote, time: Timestamp)? {
        for s in sessions.reversed() {
            guard let list = s.quotes[symbol], let last = list.last(where: { $0.0 <= t }) else { continue }
            return (last.1, last.0)
        }
        return nil
    }

    /// The latest chain of an underlying at or before `t`.
    public func latestChain(_ underlying: String, at t: Timestamp) -> OptionChain? {
        for s in sessions.reversed() {
            if let c = s.chains[underlying]?.last(where: { $0.asOf <= t }) { return c }
        }
        return nil
    }

    /// Every contract quoted at or before `t` in the kept sessions, with its latest quote.
    public func contracts(at t: Timestamp) -> [String: (quote: OptionQuote, time: Timestamp)] {
        var out: [String: (quote: OptionQuote, time: Timestamp)] = [:]
        for s in sessions {
            for (symbol, list) in s.quotes {
                if let last = list.last(where: { $0.0 <= t }) { out[symbol] = (last.1, last.0) }
            }
        }
        return out
    }

    /// The previous session's last close of a symbol (for lastday_price).
    public func lastDayClose(_ symbol: String, at t: Timestamp) -> Bar? {
        let today = NewYorkTime.date(of: t)
        for s in sessions.reversed() where s.date < today {
            if let b = s.bars[symbol]?.last { return b }
        }
        return nil
    }
}
