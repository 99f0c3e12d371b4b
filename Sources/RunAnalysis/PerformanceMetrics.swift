import Foundation
import OpsModel

/// How an account did over a run, from what its topics recorded: the equity curve (cash from the broker's account
/// snapshots plus every open position at its latest mark, at each event time), daily returns over the run's
/// sessions, drawdown, the closed trades and their P&L by ticker, strategy and exit reason, the skips by gate and the
/// fills against the quote mid.
public struct AccountPerformance: Sendable {
    public struct Point: Sendable, Equatable { public var time: Timestamp; public var equityCents: Cents }
    public struct Day: Sendable, Equatable { public var date: CivilDate; public var closeCents: Cents; public var pnlCents: Cents; public var ret: Double }
    public struct Trade: Sendable, Equatable {
        public var positionId: String
        public var underlying: String
        public var symbol: String
        public var strategy: String
        public var quantity: Int
        public var openedAt: Timestamp
        public var closedAt: Timestamp?
        public var entryPriceCents: Cents
        public var exitPriceCents: Cents?
        public var costCents: Cents
        /// Realized when closed; the last unrealized P&L while still open.
        public var pnlCents: Cents
        public var exitReason: String?
        public var isClosed: Bool { closedAt != nil }
    }
    public struct Group: Sendable, Equatable { public var key: String; public var trades: Int; public var pnlCents: Cents; public var wins: Int }

    public var accountId: String
    public var startingCents: Cents
    public var endingCents: Cents
    public var curve: [Point]
    public var days: [Day]
    public var trades: [Trade]
    public var skipsByGate: [String: Int]
    public var decisions: Int
    public var orders: Int
    public var fills: Int
    public var slippageCents: Cents
    /// Mean slippage of the trade fills in basis points of the mid (positive: paid over it).
    public var slippageBps: Double?

    public var closed: [Trade] { trades.filter(\.isClosed) }
    public var netCents: Cents { endingCents - startingCents }
    public var realizedCents: Cents { closed.reduce(0) { $0 + $1.pnlCents } }
    public var returnPct: Double { startingCents == 0 ? 0 : Double(netCents) / Double(startingCents) * 100 }
    public var wins: [Trade] { closed.filter { $0.pnlCents > 0 } }
    public var losses: [Trade] { closed.filter { $0.pnlCents <= 0 } }
    public var winRate: Double? { closed.isEmpty ? nil : Double(wins.count) / Double(closed.count) }
    public var averageWinCents: Cents? { Self.mean(wins.map(\.pnlCents)) }
    public var averageLossCents: Cents? { Self.mean(losses.map(\.pnlCents)) }
    /// Gross wins over gross losses; nil without a loss.
    public var profitFactor: Double? {
        let lost = -losses.reduce(0) { $0 + $1.pnlCents }
        return lost > 0 ? Double(wins.reduce(0) { $0 + $1.pnlCents }) / Double(lost) : nil
    }
    public var worstDay: Day? { days.min { $0.pnlCents < $1.pnlCents } }

    /// Annualized (× √252) mean over standard deviation of the daily returns; nil under two days or no variation.
    public var sharpe: Double? {
        let r = days.map(\.ret)
        guard r.count >= 2 else { return nil }
        let m = r.reduce(0, +) / Double(r.count)
        let sd = (r.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(r.count - 1)).squareRoot()
        return sd > 0 ? m / sd * 252.0.squareRoot() : nil
    }

    /// Annualized mean over the downside deviation (losing days only count); nil under two days or no losing day.
    public var sortino: Double? {
        let r = days.map(\.ret)
        guard r.count >= 2 else { return nil }
        let m = r.reduce(0, +) / Double(r.count)
        let dd = (r.map { min($0, 0) * min($0, 0) }.reduce(0, +) / Double(r.count)).squareRoot()
        return dd > 0 ? m / dd * 252.0.squareRoot() : nil
    }

    /// The drawdown at each point: how far equity is below its running peak (cents, ≤ 0) and as a fraction of it.
    public var drawdown: [(time: Timestamp, cents: Cents, fraction: Double)] {
        var peak = Cents.min
        return curve.map { p in
            peak = max(peak, p.equityCents)
            return (p.time, p.equityCents - peak, peak > 0 ? Double(p.equityCents - peak) / Double(peak) : 0)
        }
    }
    public var maxDrawdown: (cents: Cents, fraction: Double) {
        let d = drawdown
        return (d.map(\.cents).min() ?? 0, d.map(\.fraction).min() ?? 0)
    }

    public func grouped(by key: (Trade) -> String) -> [Group] {
        var g = [String: Group]()
        for t in closed {
            let k = key(t)
            g[k, default: Group(key: k, trades: 0, pnlCents: 0, wins: 0)].trades += 1
            g[k]!.pnlCents += t.pnlCents
            if t.pnlCents > 0 { g[k]!.wins += 1 }
        }
        return g.values.sorted { $0.pnlCents != $1.pnlCents ? $0.pnlCents > $1.pnlCents : $0.key < $1.key }
    }

    static func mean(_ v: [Cents]) -> Cents? { v.isEmpty ? nil : Cents((Double(v.reduce(0, +)) / Double(v.count)).rounded()) }
}

extension RunRecord {
    /// The sessions of the run: the New York dates its feature vectors cover.
    public var sessionDates: [CivilDate] { Set(messages(Topics.features, FeatureVector.self).map(\.payload.sessionDate)).sorted() }

    /// One `AccountPerformance` per account that has an account snapshot, in account order.
    public func performance() -> [AccountPerformance] {
        let snapshots = Dictionary(grouping: messages(Topics.accounts, AccountSnapshot.self), by: \.payload.accountId)
        return snapshots.keys.sorted().map { performance(account: $0, snapshots: snapshots[$0]!) }
    }

    private func performance(account: String, snapshots: [(envelope: AnyEnvelope, payload: AccountSnapshot)]) -> AccountPerformance {
        let curve = equityCurve(snapshots: snapshots, positions: messages(Topics.positions, PositionEvent.self).filter { $0.payload.accountId == account })
        let start = snapshots.min { ($0.envelope.eventTime, $0.payload.seq) < ($1.envelope.eventTime, $1.payload.seq) }!.payload.equityCents
        let decisions = messages(Topics.decisions, Decision.self).map(\.payload).filter { $0.accountId == account }
        var skips = [String: Int]()
        for d in decisions where d.outcome == .skip { skips[d.skipReason ?? "?", default: 0] += 1 }
        let fills = messages(Topics.fills, Fill.self).map(\.payload).filter { $0.accountId == account }
        let traded = fills.filter { $0.settlement == nil }.map(FillSlippage.init)
        return AccountPerformance(
            accountId: account, startingCents: start, endingCents: curve.last?.equityCents ?? start, curve: curve,
            days: days(curve, start: start), trades: trades(account: account), skipsByGate: skips, decisions: decisions.count,
            orders: messages(Topics.orders, OrderCommand.self).filter { $0.payload.accountId == account }.count, fills: fills.count,
            slippageCents: traded.reduce(0) { $0 + $1.totalCents },
            slippageBps: traded.isEmpty ? nil : traded.map(\.bps).reduce(0, +) / Double(traded.count))
    }

    /// Cash (the latest account snapshot) plus each open position at its latest mark, after every event time.
    private func equityCurve(snapshots: [(envelope: AnyEnvelope, payload: AccountSnapshot)],
                             positions: [(envelope: AnyEnvelope, payload: PositionEvent)]) -> [AccountPerformance.Point] {
        enum Item { case cash(Int64, Cents), position(PositionEvent) }
        var items: [(Timestamp, Item)] = snapshots.map { ($0.envelope.eventTime, .cash($0.payload.seq, $0.payload.cashCents)) }
        items += positions.map { ($0.envelope.eventTime, .position($0.payload)) }
        items.sort { $0.0 < $1.0 }
        var cash: (seq: Int64, cents: Cents)? = nil
        var values = [String: Cents]()
        var curve = [AccountPerformance.Point]()
        for (i, (t, item)) in items.enumerated() {
            switch item {
            case let .cash(seq, cents): if cash.map({ seq >= $0.seq }) ?? true { cash = (seq, cents) }
            case let .position(p): values[p.positionId] = p.event == .closed ? nil : Self.marketValue(p)
            }
            guard i == items.count - 1 || items[i + 1].0 != t, let cash else { continue }
            curve.append(.init(time: t, equityCents: cash.cents + values.values.reduce(0, +)))
        }
        return curve
    }

    static func marketValue(_ p: PositionEvent) -> Cents {
        let multiplier: Cents = (p.assetClass ?? .option) == .option ? 100 : 1
        return (p.markPriceCents ?? p.entryPriceCents) * multiplier * Cents(p.remainingQuantity ?? p.quantity)
    }

    /// Each session's closing equity (carried over a session with no event) and its return on the previous close.
    private func days(_ curve: [AccountPerformance.Point], start: Cents) -> [AccountPerformance.Day] {
        var out = [AccountPerformance.Day]()
        var previous = start
        var i = 0
        var close = start
        for date in sessionDates {
            let end = NewYorkTime.utc(date: date.adding(days: 1), hour: 0, minute: 0)
            while i < curve.count, curve[i].time < end { close = curve[i].equityCents; i += 1 }
            out.append(.init(date: date, closeCents: close, pnlCents: close - previous, ret: previous == 0 ? 0 : Double(close - previous) / Double(previous)))
            previous = close
        }
        return out
    }

    private func trades(account: String) -> [AccountPerformance.Trade] {
        positionEvents.values.compactMap { events -> AccountPerformance.Trade? in
            guard let first = events.first?.payload as? PositionEvent, first.accountId == account, let last = events.last?.payload as? PositionEvent else { return nil }
            let closed = last.event == .closed
            return .init(positionId: first.positionId, underlying: first.underlying, symbol: first.symbol, strategy: first.strategy.rawValue,
                         quantity: first.quantity, openedAt: first.openedAt, closedAt: closed ? (last.closedAt ?? events.last!.eventTime) : nil,
                         entryPriceCents: first.entryPriceCents, exitPriceCents: closed ? last.exitPriceCents : nil, costCents: last.entryCostCents,
                         pnlCents: closed ? (last.realizedPnlCents ?? 0) : (last.unrealizedPnlCents ?? 0), exitReason: closed ? last.exitReason : nil)
        }.sorted { ($0.openedAt, $0.positionId) < ($1.openedAt, $1.positionId) }
    }
}
