import Foundation
import OpsModel
import OptionsMath

/// Seed 000 #15: the portfolio Greeks gates. With `risk.max_portfolio_delta_dollars` set, |the account's dollar
/// delta + this order's| above it blocks; with `risk.max_portfolio_vega_dollars` set, |vega $ per vol point + this
/// order's| above it blocks. The account's figures are the position-manager's latest on `trading.greeks.v1`; an
/// order's are its contract's delta and vega (from the chain, else Black-Scholes from its mid) × 100 × contracts,
/// shares counting delta 1. Off (no gate in the decision) when the limit is null.
enum GreeksGates {
    static func gates(portfolio: PortfolioGreeks?, order: OrderExposure?, params: TradingParams) -> [GateResult] {
        var out = [GateResult]()
        if let limit = params.risk.maxPortfolioDeltaDollars {
            out.append(gate("portfolio_delta", "Portfolio dollar delta", current: portfolio?.dollarDelta ?? 0, added: order?.dollarDelta, limit: limit))
        }
        if let limit = params.risk.maxPortfolioVegaDollars {
            out.append(gate("portfolio_vega", "Portfolio vega", current: portfolio?.vega ?? 0, added: order?.vegaDollars, limit: limit))
        }
        return out
    }

    static func gate(_ name: String, _ label: String, current: Double, added: Double?, limit: Double) -> GateResult {
        guard let added else {
            return GateResult(gate: name, passed: false, detail: "not evaluated: needs the order's Greeks", value: Fmt.fixed(current, 2), limit: Fmt.fixed(limit, 2))
        }
        let total = current + added
        let passed = abs(total) <= limit
        let detail = "\(label) $\(Fmt.fixed(total, 0)) with this order ($\(Fmt.fixed(added, 0))) \(passed ? "within" : "exceeds") ±$\(Fmt.fixed(limit, 0))"
        return GateResult(gate: name, passed: passed, detail: detail, value: Fmt.fixed(total, 2), limit: Fmt.fixed(limit, 2))
    }

    /// What an order adds to the portfolio.
    struct OrderExposure {
        var dollarDelta: Double
        var vegaDollars: Double
    }

    static func exposure(contract q: OptionQuote?, quantity: Int, stockPrice: Double?, spot: Double, at t: Timestamp,
                         underlying: String, params: TradingParams) -> OrderExposure? {
        if let stockPrice { return OrderExposure(dollarDelta: Double(quantity) * stockPrice, vegaDollars: 0) }
        guard let q, let g = QuoteGreeks.greeks(q, spot: spot, at: t, underlying: underlying, params: params) else { return nil }
        let shares = Double(quantity) * 100
        return OrderExposure(dollarDelta: g.delta * shares * spot, vegaDollars: g.vega * shares)
    }
}

/// A quoted contract's delta and vega (per vol point): the chain's when it gives them, else Black-Scholes with the
/// IV solved from the mid (time to 16:00 New York on the expiration day, `greeks.rate`, the ticker's dividend yield).
enum QuoteGreeks {
    static func greeks(_ q: OptionQuote, spot: Double, at t: Timestamp, underlying: String, params: TradingParams) -> (delta: Double, vega: Double)? {
        if let d = q.delta, let v = q.vega { return (d, v) }
        let years = OptionClock.years(from: t, to: q.expiration)
        let mid = (q.bid + q.ask) / 2
        guard years > 0, spot > 0, mid > 0 else { return nil }
        let kind: OptionKind = q.right == .call ? .call : .put
        let rate = params.greeks.rate, div = params.greeks.dividendYield(underlying)
        guard let g = BlackScholes.contractGreeks(kind, spot: spot, strike: q.strike, years: years, rate: rate, dividendYield: div,
                                                  price: mid) else { return nil }
        return (q.delta ?? g.delta, q.vega ?? g.vega)
    }
}
