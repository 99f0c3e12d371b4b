import OpsModel

/// Expiry settlement: at the close of its expiration day the broker settles every option it holds with one fill
/// per contract (`settlement` = `settled_itm` at intrinsic value from the underlying's last price, or
/// `expired_worthless` at 0; no position id). The contract no longer exists after it, so every open position on
/// that contract of that account closes, in position-id order, each selling its remaining quantity at the
/// settlement price, whatever quantity the fill names (a disagreement cannot leave a position on a contract that
/// is gone). The fill's commissions and fees (none in the simulator) are shared in proportion to the quantity,
/// the odd cents to the first position.
extension PositionManagerCore {
    mutating func settle(_ fill: Fill, _ message: AnyEnvelope) throws(MessageError) -> [Emit] {
        guard let kind = fill.settlement else { return [] }
        guard fill.assetClass == .option, let occ = OCCSymbol(fill.symbol), occ.root == fill.underlying else {
            throw .invalid("settlement \(fill.fillId): '\(fill.symbol)' is not an OCC option symbol on \(fill.underlying)")
        }
        guard fill.intent == .close, fill.side == .sell else { return [] }   // only long positions are managed
        let held = positions.keys.sorted().compactMap { positions[$0] }
            .filter { $0.accountId == fill.accountId && $0.assetClass == .option && $0.contract == occ.description }
        guard !held.isEmpty else { return [] }
        guard let costs = Checked.add(fill.commissionCents, fill.feesCents) else {
            throw .invalid("settlement \(fill.fillId): costs overflow")
        }
        let shares = Self.share(costs, by: held.map(\.remainingQuantity))
        var out = [Emit]()
        for (p, cost) in zip(held, shares) {
            var p = p
            let qty = p.remainingQuantity
            guard let notional = Checked.mul(fill.priceCents, p.multiplier, Cents(qty)) else {
                throw .invalid("settlement \(fill.fillId): amounts overflow")
            }
            try Self.addExit(&p, quantity: qty, notional: notional, costs: cost, fillId: fill.fillId)
            out.append(try close(p, reason: kind.rawValue, detail: Self.settlementText(fill, kind: kind, occ: occ, quantity: qty), message))
        }
        return out
    }

    /// `amount` split in proportion to `weights` (floored), the remainder to the first.
    static func share(_ amount: Cents, by weights: [Int]) -> [Cents] {
        let total = Cents(weights.reduce(0, +))
        guard total > 0 else { return weights.map { _ in 0 } }
        var parts = weights.map { w in Checked.mul(amount, Cents(w)).map { $0 / total } ?? 0 }
        parts[0] += amount - parts.reduce(0, +)
        return parts
    }

    /// `settled_itm 2024-03-15: SPY $503.20 at the close, call strike $500.00: 2 at $3.20`.
    static func settlementText(_ fill: Fill, kind: Fill.Settlement, occ: OCCSymbol, quantity: Int) -> String {
        let underlying = fill.underlyingPrice.map { " \(Money.dollars(ExitQuote.cents($0))) at the close" } ?? ""
        let right = occ.right == .call ? "call" : "put"
        return "\(kind.rawValue) \(occ.expiration): \(fill.underlying)\(underlying), \(right) strike \(Money.dollars(ExitQuote.cents(occ.strike))): "
            + "\(quantity) at \(Money.dollars(fill.priceCents))"
    }
}
