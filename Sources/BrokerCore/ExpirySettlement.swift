import OpsModel

/// Expiry settlement: no option holding outlives its expiration day. At the first bar or chain at or after the
/// day's close (`MarketCalendar.close(of:)`, 13:00 on an early close), every open order on a contract expiring
/// that day is cancelled and every holding of one is closed: in the money by at least $0.01 at its intrinsic
/// value from the underlying's last price at or before the close, otherwise worthless at 0. The holding need not
/// be quoted any more (a contract missing from the chain, or bid at 0, still settles).
///
/// The simulator settles in cash at intrinsic value, as if the contract were sold at parity on the close; a real
/// broker exercises an in-the-money long option into shares (OCC exercise by exception), worth the same then.
extension SimulatedBroker {

    enum MarketInput {
        case bar(Bar)
        case chain(OptionChain)
    }

    mutating func settleExpirations(_ cause: AnyEnvelope, input: MarketInput) -> [Emit] {
        var out = [Emit]()
        var i = 0
        while i < state.open.count {
            let o = state.open[i]
            if let (occ, _) = expiring(o.symbol, underlying: o.command.underlying, at: cause.eventTime, input: input) {
                out += cancel(at: i, reason: "contract expired at the \(occ.expiration) close", cause: cause)
            } else {
                i += 1
            }
        }
        for symbol in state.holdings.keys.sorted() {
            guard let h = state.holdings[symbol],
                  let (occ, close) = expiring(symbol, underlying: h.underlying, at: cause.eventTime, input: input) else { continue }
            out += settle(symbol, occ, close: close, cause: cause, input: input)
        }
        return out
    }

    /// The contract and its expiration day's close when `symbol` is an option due to settle at `t`. A bar stamped
    /// exactly at the close settles only its own ticker's contracts: the other tickers' bars of that instant are
    /// still to come (bars rank first), and their closes are the prices to settle at.
    private func expiring(_ symbol: String, underlying: String, at t: Timestamp, input: MarketInput) -> (OCCSymbol, Timestamp)? {
        guard let occ = OCCSymbol(symbol) else { return nil }
        let close = MarketCalendar.close(of: occ.expiration)
        guard close <= t else { return nil }
        if case .bar(let b) = input, t == close, b.ticker != underlying { return nil }
        return (occ, close)
    }

    private mutating func settle(_ symbol: String, _ occ: OCCSymbol, close: Timestamp, cause: AnyEnvelope, input: MarketInput) -> [Emit] {
        guard let h = state.holdings.removeValue(forKey: symbol) else { return [] }
        let underlyingPrice = lastPrice(of: h.underlying, atOrBefore: close, input: input)
        let value = underlyingPrice.map { Self.intrinsicCents(occ, underlyingPrice: $0) } ?? 0
        let proceeds = value * h.multiplier * Cents(h.quantity)
        state.cash += proceeds
        state.realized += proceeds - h.costCents

        let clientOrderId = DeterministicID.make("settle", accountId, symbol, occ.expiration.description)
        let f = Fill(accountId: accountId, fillId: DeterministicID.make("fill", clientOrderId), clientOrderId: clientOrderId,
                     symbol: h.symbol, underlying: h.underlying, assetClass: .option, side: .sell, quantity: h.quantity,
                     priceCents: value, commissionCents: 0, feesCents: 0, orderTime: close, quoteTime: cause.eventTime,
                     quoteBid: Double(value) / 100, quoteAsk: Double(value) / 100, intent: .close, positionId: nil,
                     strategy: h.strategy, settlement: value > 0 ? .settledItm : .expiredWorthless, underlyingPrice: underlyingPrice)
        return [fillEmit(f, cause: cause), snapshot(cause: cause)]
    }

    /// The underlying's last price at or before `close`: the last bar's close, else the last chain's underlying
    /// price (this input's own counts when it is stamped at the close). Nil when neither is known.
    private func lastPrice(of underlying: String, atOrBefore close: Timestamp, input: MarketInput) -> Double? {
        if case .bar(let b) = input, b.ticker == underlying, b.end <= close { return b.close }
        if let p = state.lastBar[underlying], p.time <= close { return p.price }
        if case .chain(let c) = input, c.underlying == underlying, c.asOf <= close { return c.underlyingPrice }
        if let p = state.lastChain[underlying], p.time <= close { return p.price }
        return nil
    }

    /// Intrinsic value per share in whole cents (rounded down) from the underlying's price to the cent: call
    /// S − K, put K − S, 0 when out of the money (or when the price is unusable).
    public static func intrinsicCents(_ occ: OCCSymbol, underlyingPrice: Double) -> Cents {
        guard underlyingPrice.isFinite, underlyingPrice > 0, underlyingPrice <= maxUsableQuote * 100 else { return 0 }
        let spotMills = Cents((underlyingPrice * 100).rounded()) * 10
        let strikeMills = Cents((occ.strike * 1000).rounded())
        let mills = occ.right == .call ? spotMills - strikeMills : strikeMills - spotMills
        return max(0, mills / 10)
    }
}
