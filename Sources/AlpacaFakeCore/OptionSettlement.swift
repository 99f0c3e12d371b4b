import OpsModel

/// Expiry of held contracts at their expiration's close: out of the money (or in by less than a cent) they expire
/// worthless (OPEXP); in the money a long is exercised (OPEXC) and a short assigned (OPASN), each with the stock
/// trade that follows (OPTRD) at the strike.
extension FakeExchange {
    /// Settles every held contract whose expiration close has passed.
    public mutating func settleExpired(at now: Timestamp) {
        for p in positions.values.sorted(by: { $0.symbol < $1.symbol }) where p.isOption {
            guard let occ = OCCSymbol(p.symbol) else { continue }
            let close = MarketCalendar.close(of: occ.expiration)
            guard close <= now, let underlying = underlyingCents(occ.root, at: close) else { continue }
            settle(p, occ: occ, underlyingCents: underlying, at: close)
        }
    }

    /// POST /control/expire: settles now, at `underlyingCents` or the underlying's latest price; returns the
    /// symbols settled.
    public mutating func forceExpire(symbol: String?, underlyingCents given: Cents?, at now: Timestamp) -> [String] {
        market.advance(to: now)
        var done = [String]()
        for p in positions.values.sorted(by: { $0.symbol < $1.symbol }) where p.isOption && (symbol == nil || p.symbol == symbol) {
            guard let occ = OCCSymbol(p.symbol), let u = given ?? underlyingCents(occ.root, at: now) else { continue }
            settle(p, occ: occ, underlyingCents: u, at: now)
            done.append(p.symbol)
        }
        return done
    }

    /// The underlying's price: a scripted quote's mid, else the last bar's close.
    func underlyingCents(_ root: String, at t: Timestamp) -> Cents? {
        if let q = scripted[root] { return (q.bid + q.ask) / 2 }
        return market.lastBar(root, at: t).map { Self.cents($0.close) }
    }

    mutating func settle(_ p: FakePosition, occ: OCCSymbol, underlyingCents u: Cents, at t: Timestamp) {
        let strike = Self.cents(occ.strike)
        let intrinsic = occ.right == .call ? u - strike : strike - u
        let group = nextID("settlement")
        positions[p.symbol] = nil
        for i in orders.indices where orders[i].isOpen && orders[i].symbol == p.symbol {
            orders[i].status = "expired"; orders[i].expiredAt = t; orders[i].updatedAt = t
        }
        let contracts = abs(p.qty)
        guard intrinsic >= 1 else {
            realizedPL -= p.costCents
            record("OPEXP", p, qty: -p.qty, price: 0, net: 0, group: group, at: t)
            return
        }
        // Long call / short put end long the stock; long put / short call end short; at the strike.
        let shares = contracts * 100 * ((occ.right == .call) == (p.qty > 0) ? 1 : -1)
        let cashMove = -shares * strike
        cash += cashMove
        realizedPL -= p.costCents
        record(p.qty > 0 ? "OPEXC" : "OPASN", p, qty: -p.qty, price: 0, net: 0, group: group, at: t)
        var stock = positions[occ.root] ?? FakePosition(symbol: occ.root, isOption: false, qty: 0, costCents: 0)
        apply(&stock, signedQty: shares, price: strike)
        positions[occ.root] = stock.qty == 0 ? nil : stock
        activities.append(FakeActivity(id: Self.activityID(t, nextID("activity")), type: "OPTRD", time: t, symbol: occ.root,
                                       qty: abs(shares), priceCents: strike, side: shares > 0 ? "buy" : "sell",
                                       netCents: cashMove, groupID: group, orderID: nil))
    }

    mutating func record(_ type: String, _ p: FakePosition, qty: Int64, price: Cents, net: Cents, group: String, at t: Timestamp) {
        activities.append(FakeActivity(id: Self.activityID(t, nextID("activity")), type: type, time: t, symbol: p.symbol,
                                       qty: qty, priceCents: price, side: qty < 0 ? "sell" : "buy", netCents: net,
                                       groupID: group, orderID: nil))
    }
}
