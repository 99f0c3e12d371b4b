import OpsModel
import OptionsMath

/// Seed 000 #15: each option position's Black-Scholes Greeks at its mark, and its account's portfolio sums.
extension PositionManagerCore {
    /// One contract's Greeks per share: IV solved from the mid, time to 16:00 New York on the expiration day
    /// (ACT/365), `greeks.rate`, the ticker's `greeks.dividend_yield`. Nil when the mid is outside the no-arbitrage
    /// bounds (no IV), or the contract has expired.
    static func contractGreeks(_ p: OpenPosition, mid: Double, spot: Double, at t: Timestamp, params: TradingParams) -> PositionGreeks? {
        guard let right = p.right, let strike = p.strike, let expiration = p.expiration, spot > 0, mid > 0 else { return nil }
        let years = OptionClock.years(from: t, to: expiration)
        guard years > 0 else { return nil }
        let kind: OptionKind = right == .call ? .call : .put
        let rate = params.greeks.rate, q = params.greeks.dividendYield(p.underlying)
        guard let g = BlackScholes.contractGreeks(kind, spot: spot, strike: strike, years: years, rate: rate, dividendYield: q,
                                                  price: mid) else { return nil }
        return PositionGreeks(iv: g.iv, delta: g.delta, gamma: g.gamma, theta: g.theta, vega: g.vega, rho: g.rho,
                              underlyingPrice: spot, years: years)
    }

    /// The account's portfolio Greeks over its open positions: Σ greek × 100 × contracts held (long: +), shares with
    /// delta 1; positions not priced yet are counted as `unpriced`. Named by the input that caused it, so two
    /// inputs at one time (chains of two underlyings) give two messages, the later one complete.
    func portfolioGreeks(account: String, _ cause: AnyEnvelope) -> [Emit] {
        var g = PortfolioGreeks(accountId: account, delta: 0, gamma: 0, theta: 0, vega: 0, rho: 0, dollarDelta: 0, dollarGamma: 0,
                                positions: 0, unpriced: 0)
        // In position-id order: floating-point sums depend on their order, and the bytes must not.
        for id in positions.keys.sorted() {
            guard let p = positions[id], p.accountId == account else { continue }
            g.positions += 1
            let held = Double(p.remainingQuantity)
            if p.assetClass == .equity {
                g.delta += held
                g.dollarDelta += held * Double(p.lastMark?.cents ?? p.entryPriceCents) / 100
                continue
            }
            guard let pg = p.greeks else { g.unpriced += 1; continue }
            let shares = held * 100
            g.delta += pg.delta * shares
            g.gamma += pg.gamma * shares
            g.theta += pg.theta * shares
            g.vega += pg.vega * shares
            g.rho += pg.rho * shares
            g.dollarDelta += pg.delta * shares * pg.underlyingPrice
            g.dollarGamma += pg.gamma * shares * pg.underlyingPrice * pg.underlyingPrice / 100
        }
        let id = DeterministicID.make("portfolio-greeks", account, cause.id)
        return [Emit(Topics.greeks, Envelope(id: id, eventTime: cause.eventTime, causationId: cause.id, source: Self.name, payload: g).erased())]
    }
}
