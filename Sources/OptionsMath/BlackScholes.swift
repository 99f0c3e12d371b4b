import Foundation

/// Call or put. OptionsMath does not depend on OpsModel, so it has its own right type.
public enum OptionKind: String, Sendable, Hashable, CaseIterable {
    case call, put
}

/// Sensitivities of a European option under generalized Black-Scholes-Merton (continuous dividend yield `q`).
///
/// Units follow Haug: `vega`, `rho` and `dividendRho` are per 1.00 (100 vol points / 100 % rate), `theta` is
/// per year (−∂V/∂T, so usually negative), `thetaPerDay` is `theta / 365` (per calendar day).
public struct Greeks: Sendable, Hashable {
    /// The option value the greeks belong to.
    public var price: Double
    public var delta: Double
    public var gamma: Double
    /// ∂V/∂σ per 1.00 of volatility. Divide by 100 for "per vol point".
    public var vega: Double
    /// −∂V/∂T per year.
    public var theta: Double
    /// ∂V/∂r per 1.00 of rate.
    public var rho: Double
    /// ∂V/∂q per 1.00 of dividend yield (Haug's "phi").
    public var dividendRho: Double
    /// delta × spot / price: the percentage change of the option per percentage change of the spot.
    /// 0 when the option is worth nothing.
    public var elasticity: Double

    /// Theta per calendar day (`theta / 365`).
    public var thetaPerDay: Double { theta / 365 }

    public init(price: Double, delta: Double, gamma: Double, vega: Double, theta: Double, rho: Double,
                dividendRho: Double, elasticity: Double) {
        self.price = price; self.delta = delta; self.gamma = gamma; self.vega = vega; self.theta = theta
        self.rho = rho; self.dividendRho = dividendRho; self.elasticity = elasticity
    }
}

/// Generalized Black-Scholes-Merton for European options on an asset paying a continuous yield `q`
/// (cost of carry b = r − q). Pure functions, no I/O.
///
/// Inputs: `spot` and `strike` > 0 (otherwise the result is NaN), `years` to expiry, `rate` and `dividendYield`
/// as continuously compounded annual rates, `volatility` annualized. When `years ≤ 0` the value is the
/// intrinsic value; when σ√T is (numerically) zero the value is the discounted intrinsic value of the forward,
/// max(0, ±(S·e^(−qT) − K·e^(−rT))). Neither case produces NaN.
public enum BlackScholes {
    /// σ√T below this is treated as zero volatility (deterministic forward).
    public static let minimumTotalVolatility = 1e-12

    /// Standard normal cumulative distribution, via `erfc` (accurate in both tails).
    @inlinable
    public static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// Standard normal density.
    @inlinable
    public static func normalPDF(_ x: Double) -> Double { exp(-0.5 * x * x) / (2 * Double.pi).squareRoot() }

    /// The option value.
    public static func price(_ kind: OptionKind, spot: Double, strike: Double, years: Double, rate: Double,
                             dividendYield: Double = 0, volatility: Double) -> Double {
        guard spot > 0, strike > 0, years.isFinite, volatility.isFinite else { return .nan }
        if years <= 0 {
            return kind == .call ? max(0, spot - strike) : max(0, strike - spot)
        }
        let dq = exp(-dividendYield * years), dr = exp(-rate * years)
        let sd = max(0, volatility) * years.squareRoot()
        if sd < minimumTotalVolatility {
            let fwd = spot * dq - strike * dr
            return kind == .call ? max(0, fwd) : max(0, -fwd)
        }
        let d1 = (log(spot / strike) + (rate - dividendYield + 0.5 * volatility * volatility) * years) / sd
        let d2 = d1 - sd
        switch kind {
        case .call: return max(0, spot * dq * normalCDF(d1) - strike * dr * normalCDF(d2))
        case .put: return max(0, strike * dr * normalCDF(-d2) - spot * dq * normalCDF(-d1))
        }
    }

    /// Value and sensitivities. At `years ≤ 0` or zero volatility the greeks are those of the limiting
    /// (deterministic) payoff: gamma and vega 0, delta a step, theta and rho from the discount factors.
    public static func greeks(_ kind: OptionKind, spot: Double, strike: Double, years: Double, rate: Double,
                              dividendYield: Double = 0, volatility: Double) -> Greeks {
        let v = price(kind, spot: spot, strike: strike, years: years, rate: rate, dividendYield: dividendYield,
                      volatility: volatility)
        guard v.isFinite else {
            return Greeks(price: .nan, delta: .nan, gamma: .nan, vega: .nan, theta: .nan, rho: .nan, dividendRho: .nan,
                          elasticity: .nan)
        }
        let sign: Double = kind == .call ? 1 : -1
        func elasticity(_ delta: Double) -> Double { v > 0 ? delta * spot / v : 0 }

        if years <= 0 {
            let itm = sign * (spot - strike) > 0
            let delta = itm ? sign : 0
            return Greeks(price: v, delta: delta, gamma: 0, vega: 0, theta: 0, rho: 0, dividendRho: 0,
                          elasticity: elasticity(delta))
        }
        let dq = exp(-dividendYield * years), dr = exp(-rate * years)
        let sd = max(0, volatility) * years.squareRoot()
        if sd < minimumTotalVolatility {
            // V = max(0, sign·(S·dq − K·dr)); in the money it is linear in S, and −∂V/∂T, ∂V/∂r, ∂V/∂q follow.
            let itm = sign * (spot * dq - strike * dr) > 0
            guard itm else {
                return Greeks(price: v, delta: 0, gamma: 0, vega: 0, theta: 0, rho: 0, dividendRho: 0, elasticity: 0)
            }
            let delta = sign * dq
            let theta = sign * (dividendYield * spot * dq - rate * strike * dr)
            return Greeks(price: v, delta: delta, gamma: 0, vega: 0, theta: theta,
                          rho: sign * strike * years * dr, dividendRho: -sign * spot * years * dq,
                          elasticity: elasticity(delta))
        }
        let sqrtT = years.squareRoot()
        let d1 = (log(spot / strike) + (rate - dividendYield + 0.5 * volatility * volatility) * years) / sd
        let d2 = d1 - sd
        let nd1 = normalPDF(d1)
        let gamma = dq * nd1 / (spot * sd)
        let vega = spot * dq * nd1 * sqrtT
        let decay = -spot * dq * nd1 * volatility / (2 * sqrtT)
        let delta: Double, theta: Double, rho: Double, phi: Double
        switch kind {
        case .call:
            let n1 = normalCDF(d1), n2 = normalCDF(d2)
            delta = dq * n1
            theta = decay - rate * strike * dr * n2 + dividendYield * spot * dq * n1
            rho = strike * years * dr * n2
            phi = -spot * years * dq * n1
        case .put:
            let n1 = normalCDF(-d1), n2 = normalCDF(-d2)
            delta = -dq * n1
            theta = decay + rate * strike * dr * n2 - dividendYield * spot * dq * n1
            rho = -strike * years * dr * n2
            phi = spot * years * dq * n1
        }
        return Greeks(price: v, delta: delta, gamma: gamma, vega: vega, theta: theta, rho: rho, dividendRho: phi,
                      elasticity: elasticity(delta))
    }

    /// No-arbitrage bounds of a European option's value: (lower, upper).
    public static func bounds(_ kind: OptionKind, spot: Double, strike: Double, years: Double, rate: Double,
                              dividendYield: Double = 0) -> (lower: Double, upper: Double) {
        let t = max(0, years)
        let s = spot * exp(-dividendYield * t), k = strike * exp(-rate * t)
        switch kind {
        case .call: return (max(0, s - k), s)
        case .put: return (max(0, k - s), k)
        }
    }

    /// The volatility bracket `impliedVolatility` searches.
    public static let impliedVolatilityBracket: ClosedRange<Double> = 1e-4...5

    /// The volatility that reproduces `price`.
    ///
    /// Solved on the normalized Black formula of the out-of-the-money twin (Jäckel's form): a first guess from
    /// Bachelier's normal model converted by Hagan's formula (about 1e-6 off for σ√T ≤ 0.3), then Halley's method
    /// on an objective that is nearly linear where the guess lies, safeguarded by a bracket. Ordinary inputs take
    /// two evaluations of the formula; the repriced value is within about 1e-12 (relative) of `price`.
    ///
    /// Returns nil when `years ≤ 0`, the inputs are not positive and finite, the price lies outside the
    /// no-arbitrage bounds, or no volatility in `impliedVolatilityBracket` reproduces it (a price so close to its
    /// bound that the volatility is not identifiable). A price within 1e-12 (relative) of a bracket end's price
    /// returns that end.
    public static func impliedVolatility(price target: Double, kind: OptionKind, spot: Double, strike: Double,
                                         years: Double, rate: Double, dividendYield: Double = 0) -> Double? {
        guard let market = ContractMarket(kind, spot: spot, strike: strike, years: years, rate: rate,
                                          dividendYield: dividendYield),
              let solution = market.solve(price: target) else { return nil }
        return solution.point.s / market.sqrtYears
    }
}
