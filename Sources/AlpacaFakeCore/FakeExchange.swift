import Foundation
import MarketData
import OpsModel

/// The fake Alpaca's exchange: orders, fills against the current quote, positions, cash, day-order expiry and
/// option settlement. Pure: every call is given "now".
public struct FakeExchange: Sendable {
    public var market: FakeMarket
    public let startingCash: Cents
    public var cash: Cents
    public var realizedPL: Cents = 0
    public var orders: [FakeOrder] = []
    public var positions: [String: FakePosition] = [:]
    public var activities: [FakeActivity] = []
    /// Quotes set through the control API; they win over the synthetic market until replaced.
    public var scripted: [String: FakeQuote] = [:]
    /// At most this many contracts (or shares) per order per matching round; nil = whole quantity at once.
    public var partialMaxQty: Int64?
    /// No fills at all while set.
    public var holdFills = false
    /// false (marketable): a buy limit fills at the ask once ask ≤ limit. true (mid): a limit at or through the mid
    /// fills, at the limit or the better side of the quote — the simulator's `limit` model, for demos that trade.
    public var fillAtMid = false
    var counter: Int64 = 0
    let tickRule: TickRule

    public init(market: FakeMarket, cashCents: Cents) {
        self.market = market
        self.startingCash = cashCents
        self.cash = cashCents
        let universe = SyntheticTicker.universe
        self.tickRule = TickRule(pennyProgram: universe.filter(\.pennyProgram).map(\.symbol),
                                 pennyAllPrices: universe.filter(\.pennyPilot).map(\.symbol))
    }

    mutating func nextID(_ kind: String) -> String {
        counter += 1
        return Wire.uuid("\(kind):\(market.seed):\(counter)")
    }

    // MARK: quotes

    /// The quote an order on `symbol` trades against at `now`.
    public func quote(_ symbol: String, at now: Timestamp) -> FakeQuote? {
        if let q = scripted[symbol] { return q }
        if OCCSymbol(symbol) != nil {
            guard let (q, t) = market.optionQuote(symbol, at: now) else { return nil }
            return FakeQuote(bid: Self.cents(q.bid), ask: Self.cents(q.ask), time: t)
        }
        return market.stockQuote(symbol, at: now)
    }

    /// The price positions are marked at: the quote's mid (the bid when there is no ask).
    public func markCents(_ symbol: String, at now: Timestamp) -> Cents? {
        guard let q = quote(symbol, at: now) else { return nil }
        return q.ask > 0 ? (q.bid + q.ask) / 2 : q.bid
    }

    static func cents(_ dollars: Double) -> Cents { Cents((dollars * 100).rounded()) }

    func isKnown(_ symbol: String, at now: Timestamp) -> Bool {
        scripted[symbol] != nil || positions[symbol] != nil || market.symbols.contains(symbol)
            || (OCCSymbol(symbol) != nil && market.optionQuote(symbol, at: now) != nil)
    }

    /// Whether the regular session is open at `now`.
    public static func isOpen(_ now: Timestamp) -> Bool {
        guard let s = MarketCalendar.session(NewYorkTime.date(of: now)) else { return false }
        return now >= s.open && now < s.close
    }

    /// The close a day order placed at `now` expires at: today's, or the next session's once today's has closed.
    static func dayOrderClose(_ now: Timestamp) -> Timestamp {
        let today = NewYorkTime.date(of: now)
        if let s = MarketCalendar.session(today), now < s.close { return s.close }
        return MarketCalendar.close(of: MarketCalendar.tradingDay(after: today))
    }

    // MARK: money

    /// What open buy orders would still cost, in cents.
    func reservedCents(at now: Timestamp) -> Cents {
        orders.filter { $0.isOpen && $0.side == .buy }.reduce(0) { sum, o in
            let px = o.limitCents ?? quote(o.symbol, at: now)?.ask ?? 0
            return sum + px * o.remaining * o.multiplier
        }
    }

    public func buyingPower(at now: Timestamp) -> Cents { max(0, cash - reservedCents(at: now)) }

    public func positionsValue(at now: Timestamp) -> Cents {
        positions.values.reduce(0) { sum, p in
            let mark = markCents(p.symbol, at: now) ?? (p.qty == 0 ? 0 : p.costCents / (p.qty * p.multiplier))
            return sum + mark * p.qty * p.multiplier
        }
    }

    public func equity(at now: Timestamp) -> Cents { cash + positionsValue(at: now) }

    // MARK: fills

    /// Applies one fill to the order, the position and the cash; returns the trade update.
    mutating func fill(_ index: Int, qty: Int64, price: Cents, at now: Timestamp) -> TradeUpdate {
        var o = orders[index]
        let m = o.multiplier
        let signed = o.side == .buy ? qty : -qty
        cash -= signed * price * m
        var p = positions[o.symbol] ?? FakePosition(symbol: o.symbol, isOption: o.isOption, qty: 0, costCents: 0)
        apply(&p, signedQty: signed, price: price)
        positions[o.symbol] = p.qty == 0 ? nil : p
        o.filledQty += qty
        o.filledCents += price * qty
        o.status = o.filledQty == o.qty ? "filled" : "partially_filled"
        o.updatedAt = now
        if o.filledQty == o.qty { o.filledAt = now }
        orders[index] = o
        let exec = nextID("execution")
        activities.append(FakeActivity(id: Self.activityID(now, exec), type: "FILL", time: now, symbol: o.symbol, qty: qty,
                                       priceCents: price, side: o.side.rawValue, netCents: -signed * price * m,
                                       groupID: exec, orderID: o.id))
        return TradeUpdate(event: o.status == "filled" ? "fill" : "partial_fill", order: o, time: now, executionID: exec,
                           priceCents: price, qty: qty, positionQty: p.qty)
    }

    /// Adds a signed quantity at a price to a position: the part that closes realizes P&L, the rest opens.
    mutating func apply(_ p: inout FakePosition, signedQty q: Int64, price: Cents) {
        let m = p.multiplier
        if p.qty == 0 || (p.qty > 0) == (q > 0) {
            p.qty += q
            p.costCents += q * price * m
            return
        }
        let closing = min(abs(q), abs(p.qty)) * (q > 0 ? 1 : -1)   // same sign as q
        let costOut = p.costCents * -closing / p.qty                 // share of the basis leaving
        realizedPL += -closing * price * m - costOut
        p.costCents -= costOut
        p.qty += closing
        let rest = q - closing
        if rest != 0 { p.qty += rest; p.costCents = rest * price * m }
    }

    static func activityID(_ t: Timestamp, _ uuid: String) -> String {
        let l = NewYorkTime.local(t)
        let d = l.date
        let digits = "\(d.year)\(Wire.two(d.month))\(Wire.two(d.day))\(Wire.two(l.secondOfDay / 3600))\(Wire.two(l.secondOfDay / 60 % 60))\(Wire.two(l.secondOfDay % 60))"
        return digits + String(String(l.millisecond + 1000).dropFirst()) + "::" + uuid
    }

    /// Checks every open order against its quote: buys fill at the ask when ask ≤ limit, sells at the bid when
    /// bid ≥ limit, market orders at the ask or bid; only while the session is open.
    public mutating func match(at now: Timestamp) -> [TradeUpdate] {
        guard !holdFills, Self.isOpen(now) else { return [] }
        var out = [TradeUpdate]()
        for i in orders.indices where orders[i].isOpen && orders[i].status != "accepted" {
            let o = orders[i]
            guard let q = quote(o.symbol, at: now) else { continue }
            var price = o.side == .buy ? q.ask : q.bid
            guard price > 0 else { continue }
            if let limit = o.limitCents, fillAtMid, q.ask > 0 {
                let mid2 = q.bid + q.ask   // twice the mid, in cents: no rounding
                guard o.side == .buy ? 2 * limit >= mid2 : 2 * limit <= mid2 else { continue }
                price = o.side == .buy ? min(limit, q.ask) : max(limit, q.bid)
            } else if let limit = o.limitCents, o.side == .buy ? price > limit : price < limit { continue }
            let qty = min(o.remaining, partialMaxQty ?? o.remaining)
            out.append(fill(i, qty: qty, price: price, at: now))
        }
        return out
    }

    /// Day orders still open at their session's close expire.
    public mutating func expireDayOrders(at now: Timestamp) -> [TradeUpdate] {
        var out = [TradeUpdate]()
        for i in orders.indices where orders[i].isOpen && orders[i].timeInForce == "day" && orders[i].expiresAt <= now {
            orders[i].status = "expired"
            orders[i].expiredAt = orders[i].expiresAt
            orders[i].updatedAt = orders[i].expiresAt
            out.append(TradeUpdate(event: "expired", order: orders[i], time: orders[i].expiresAt))
        }
        return out
    }

    /// Everything time does: expiry of day orders, then matching, then settlement of expired contracts.
    public mutating func tick(at now: Timestamp) -> [TradeUpdate] {
        market.advance(to: now)
        var out = expireDayOrders(at: now)
        out += match(at: now)
        settleExpired(at: now)
        return out
    }

    // MARK: cancel

    public mutating func cancel(id: String, at now: Timestamp) -> Result<TradeUpdate, FakeRefusal> {
        guard let i = orders.firstIndex(where: { $0.id == id }) else {
            return .failure(FakeRefusal(404, 40410000, "order not found"))
        }
        guard orders[i].isOpen else { return .failure(FakeRefusal(422, 42210000, "order is not cancelable")) }
        orders[i].status = "canceled"
        orders[i].canceledAt = now
        orders[i].updatedAt = now
        return .success(TradeUpdate(event: "canceled", order: orders[i], time: now))
    }
}
