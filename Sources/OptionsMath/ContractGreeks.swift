import Foundation

/// One contract's value and sensitivities under Black-Scholes-Merton, per share (× 100 for a contract), in the
/// units a trader quotes:
/// - `price`: the model value at `iv`, in dollars;
/// - `iv`: annualized volatility as a fraction (0.25 = 25 %);
/// - `delta`: dollars per $1 of the underlying; `gamma`: delta per $1 of the underlying;
/// - `theta`: dollars per calendar day — the annual −∂V/∂T divided by 365 — usually negative;
/// - `vega`: dollars per vol point, ∂V/∂σ ÷ 100;
/// - `rho`: dollars per rate point, ∂V/∂r ÷ 100.
public struct ContractGreeks: Sendable, Equatable {
    public var price: Double
    public var iv: Double
    public var delta: Double
    public var gamma: Double
    public var theta: Double
    public var vega: Double
    public var rho: Double

    public init(price: Double, iv: Double, delta: Double, gamma: Double, theta: Double, vega: Double, rho: Double) {
        self.price = price; self.iv = iv; self.delta = delta; self.gamma = gamma; self.theta = theta; self.vega = vega
        self.rho = rho
    }

    /// From Haug's units (`Greeks`: per year, per 1.00 of volatility and of rate).
    public init(_ g: Greeks, iv: Double) {
        self.init(price: g.price, iv: iv, delta: g.delta, gamma: g.gamma, theta: g.thetaPerDay, vega: g.vega / 100,
                  rho: g.rho / 100)
    }
}

extension BlackScholes {
    /// One contract's greeks from its market price. The implied volatility is solved as `impliedVolatility` does
    /// and the greeks come from the solver's last evaluation, so price, iv and greeks belong together; the
    /// repriced value is within about 1e-12 (relative) of `price` for ordinary inputs.
    ///
    /// Nil when no volatility in `impliedVolatilityBracket` reproduces `price`: a price outside the no-arbitrage
    /// `bounds` (or too close to one to identify a volatility), `years ≤ 0`, inputs that are not positive and finite.
    public static func contractGreeks(_ kind: OptionKind, spot: Double, strike: Double, years: Double, rate: Double,
                                      dividendYield: Double = 0, price: Double) -> ContractGreeks? {
        guard let market = ContractMarket(kind, spot: spot, strike: strike, years: years, rate: rate,
                                          dividendYield: dividendYield),
              let solution = market.solve(price: price) else { return nil }
        return market.greeks(at: solution.point)
    }

    /// One contract's greeks at a given volatility. At `years ≤ 0` or (numerically) zero volatility they are those
    /// of the limiting payoff, as `greeks` gives them; NaN for spot or strike that are not positive.
    public static func contractGreeks(_ kind: OptionKind, spot: Double, strike: Double, years: Double, rate: Double,
                                      dividendYield: Double = 0, volatility: Double) -> ContractGreeks {
        if volatility.isFinite,
           let market = ContractMarket(kind, spot: spot, strike: strike, years: years, rate: rate, dividendYield: dividendYield),
           volatility * market.sqrtYears >= minimumTotalVolatility {
            return market.greeks(at: market.black.at(volatility * market.sqrtYears), volatility: volatility)
        }
        return ContractGreeks(greeks(kind, spot: spot, strike: strike, years: years, rate: rate,
                                     dividendYield: dividendYield, volatility: volatility), iv: volatility)
    }
}

/// What one contract's solve and greeks share, computed once: discount factors, the forward's moneyness, the
/// bounds and the normalized Black formula of its out-of-the-money twin.
struct ContractMarket {
    let sign: Double
    let spot: Double, strike: Double, years: Double, rate: Double, dividendYield: Double
    let sqrtYears: Double
    let rateDiscount: Double, dividendDiscount: Double
    /// ln(F/K) of the contract itself (the twin's is −|ln(F/K)|).
    let logMoneyness: Double
    /// Dollars per normalized unit: e^(−rT)·√(F·K).
    let scale: Double
    /// No-arbitrage bounds: the discounted intrinsic value of the forward, and the discounted spot (call) or
    /// strike (put).
    let lower: Double, upper: Double
    let black: NormalizedBlack

    init?(_ kind: OptionKind, spot: Double, strike: Double, years: Double, rate: Double, dividendYield: Double) {
        guard spot > 0, strike > 0, spot.isFinite, strike.isFinite, years > 0, years.isFinite, rate.isFinite,
              dividendYield.isFinite else { return nil }
        sign = kind == .call ? 1 : -1
        self.spot = spot; self.strike = strike; self.years = years; self.rate = rate; self.dividendYield = dividendYield
        sqrtYears = years.squareRoot()
        rateDiscount = exp(-rate * years)
        dividendDiscount = exp(-dividendYield * years)
        let discountedSpot = spot * dividendDiscount, discountedStrike = strike * rateDiscount
        logMoneyness = log(spot / strike) + (rate - dividendYield) * years
        scale = (discountedSpot * discountedStrike).squareRoot()
        guard scale > 0, scale.isFinite else { return nil }
        lower = max(0, sign * (discountedSpot - discountedStrike))
        upper = kind == .call ? discountedSpot : discountedStrike
        // e^(−|x|/2) = √(F/K) or √(K/F), whichever is ≤ 1: a square root instead of an exponential.
        let ratio = discountedSpot / discountedStrike
        black = NormalizedBlack(x: logMoneyness, expHalfX: (ratio < 1 ? ratio : 1 / ratio).squareRoot())
    }

    /// The solver's last evaluation for `price`; nil outside the bounds or the volatility bracket.
    func solve(price: Double) -> NormalizedBlack.Solution? {
        guard price.isFinite, price >= lower, price <= upper else { return nil }
        let bracket = BlackScholes.impliedVolatilityBracket
        return black.solve(beta: (price - lower) / scale, sMin: bracket.lowerBound * sqrtYears,
                           sMax: bracket.upperBound * sqrtYears, endTolerance: 1e-12 * max(1, price) / scale)
    }

    /// Value and greeks from one evaluation of the out-of-the-money twin (at `volatility` when the caller has it
    /// exactly, rather than σ√T / √T).
    func greeks(at p: NormalizedBlack.Point, volatility: Double? = nil) -> ContractGreeks {
        // N(±d1), N(±d2) of the contract itself. The twin's d1, d2 are the contract's when F ≤ K; otherwise they
        // are −d2, −d1 (b is symmetric under x → −x with the call and put exchanged).
        let nd1: Double, nd2: Double
        switch (logMoneyness > 0, sign > 0) {
        case (false, true): nd1 = p.nd1; nd2 = p.nd2
        case (false, false): nd1 = 1 - p.nd1; nd2 = 1 - p.nd2
        case (true, true): nd1 = 1 - p.nd2; nd2 = 1 - p.nd1
        case (true, false): nd1 = p.nd2; nd2 = p.nd1
        }
        let sigma = volatility ?? p.s / sqrtYears
        let density = scale * p.vega   // S·e^(−qT)·φ(d1)
        let discountedStrike = strike * rateDiscount, discountedSpot = spot * dividendDiscount
        let thetaPerYear = -density * sigma / (2 * sqrtYears) - sign * rate * discountedStrike * nd2
            + sign * dividendYield * discountedSpot * nd1
        return ContractGreeks(price: scale * p.b + lower, iv: sigma, delta: sign * dividendDiscount * nd1,
                              gamma: density / (spot * spot * p.s), theta: thetaPerYear / 365,
                              vega: density * sqrtYears / 100, rho: sign * discountedStrike * years * nd2 / 100)
    }
}
