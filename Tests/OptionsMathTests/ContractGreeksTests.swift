import Foundation
import Testing
@testable import OptionsMath

/// `ContractGreeks`: units (theta per calendar day, vega per vol point, rho per rate point), the same numbers from a
/// volatility and from a price, against Haug and against finite differences of the price.
@Suite("Contract greeks")
struct ContractGreeksTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var kind: OptionKind, spot: Double, strike: Double, years: Double, rate: Double, q: Double, vol: Double
        var testDescription: String { "\(kind) S \(spot) K \(strike) T \(years) r \(rate) q \(q) σ \(vol)" }

        func price(spot s: Double? = nil, years t: Double? = nil, rate r: Double? = nil, vol v: Double? = nil) -> Double {
            BlackScholes.price(kind, spot: s ?? spot, strike: strike, years: t ?? years, rate: r ?? rate, dividendYield: q,
                               volatility: v ?? vol)
        }
        func atVolatility() -> ContractGreeks {
            BlackScholes.contractGreeks(kind, spot: spot, strike: strike, years: years, rate: rate, dividendYield: q, volatility: vol)
        }
        func fromPrice(_ p: Double) -> ContractGreeks? {
            BlackScholes.contractGreeks(kind, spot: spot, strike: strike, years: years, rate: rate, dividendYield: q, price: p)
        }
    }

    static let day = 1.0 / 365
    /// Puts and calls, in, at and out of the money, 2 days to 2 years, with and without a dividend yield.
    static let cases: [Case] = [
        Case(kind: .call, spot: 100, strike: 100, years: 0.5, rate: 0.05, q: 0, vol: 0.2),
        Case(kind: .put, spot: 100, strike: 100, years: 0.5, rate: 0.05, q: 0, vol: 0.2),
        Case(kind: .call, spot: 105, strike: 100, years: 0.5, rate: 0.10, q: 0.10, vol: 0.36),
        Case(kind: .put, spot: 105, strike: 100, years: 0.5, rate: 0.10, q: 0.10, vol: 0.36),
        Case(kind: .call, spot: 500, strike: 520, years: 2 * day, rate: 0.05, q: 0.013, vol: 0.15),
        Case(kind: .put, spot: 500, strike: 520, years: 2 * day, rate: 0.05, q: 0.013, vol: 0.15),
        Case(kind: .call, spot: 500, strike: 480, years: 7 * day, rate: 0.05, q: 0.013, vol: 0.18),
        Case(kind: .put, spot: 500, strike: 470, years: 7 * day, rate: 0.05, q: 0.013, vol: 0.25),
        Case(kind: .call, spot: 185.37, strike: 150, years: 30 * day, rate: 0.04, q: 0.005, vol: 0.3),
        Case(kind: .put, spot: 185.37, strike: 150, years: 30 * day, rate: 0.04, q: 0.005, vol: 0.3),
        Case(kind: .call, spot: 55, strike: 60, years: 0.75, rate: 0.10, q: 0, vol: 0.3),
        Case(kind: .put, spot: 430, strike: 405, years: 1.0 / 12, rate: 0.07, q: 0.05, vol: 0.2),
        Case(kind: .call, spot: 72, strike: 75, years: 1, rate: 0.09, q: 0, vol: 0.19),
        Case(kind: .put, spot: 40, strike: 60, years: 2, rate: 0.03, q: 0.02, vol: 0.45),
        Case(kind: .call, spot: 40, strike: 25, years: 2, rate: 0.03, q: 0.02, vol: 0.8),
        Case(kind: .put, spot: 20, strike: 21, years: 14 * day, rate: -0.005, q: 0.03, vol: 1.2),
    ]

    @Test("greeks agree with central differences of the price", arguments: cases)
    func finiteDifferences(_ c: Case) {
        let g = c.atVolatility()
        // Steps scaled to the distribution's width, so short expiries are differenced as finely as long ones.
        let hs = 1e-3 * c.spot * c.vol * c.years.squareRoot(), ht = 1e-4 * c.years, hv = 1e-5, hr = 1e-5
        let delta = (c.price(spot: c.spot + hs) - c.price(spot: c.spot - hs)) / (2 * hs)
        let gamma = (c.price(spot: c.spot + hs) - 2 * c.price() + c.price(spot: c.spot - hs)) / (hs * hs)
        let thetaPerDay = -(c.price(years: c.years + ht) - c.price(years: c.years - ht)) / (2 * ht) / 365
        let vegaPerPoint = (c.price(vol: c.vol + hv) - c.price(vol: c.vol - hv)) / (2 * hv) / 100
        let rhoPerPoint = (c.price(rate: c.rate + hr) - c.price(rate: c.rate - hr)) / (2 * hr) / 100
        func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-6) -> Bool { abs(a - b) <= tolerance * max(1, abs(b)) }
        #expect(close(g.price, c.price(), 1e-12), "price \(g.price)")
        #expect(close(g.delta, delta), "delta \(g.delta) vs \(delta)")
        #expect(abs(g.gamma - gamma) <= 1e-4 * g.gamma + 1e-9, "gamma \(g.gamma) vs \(gamma)")
        #expect(close(g.theta, thetaPerDay), "theta/day \(g.theta) vs \(thetaPerDay)")
        #expect(close(g.vega, vegaPerPoint), "vega/point \(g.vega) vs \(vegaPerPoint)")
        #expect(close(g.rho, rhoPerPoint), "rho/point \(g.rho) vs \(rhoPerPoint)")
        #expect(g.iv == c.vol)
    }

    @Test("from the price: the same greeks and the volatility back", arguments: cases)
    func fromPrice(_ c: Case) throws {
        let expected = c.atVolatility()
        let g = try #require(c.fromPrice(c.price()))
        #expect(abs(g.iv - c.vol) <= 1e-9 * c.vol, "iv \(g.iv)")
        #expect(abs(g.price - c.price()) <= 1e-12 * max(1, c.price()))
        for (got, want) in [(g.delta, expected.delta), (g.gamma, expected.gamma), (g.theta, expected.theta),
                            (g.vega, expected.vega), (g.rho, expected.rho)] {
            #expect(abs(got - want) <= 1e-7 * max(1e-3, abs(want)), "\(g) vs \(expected)")
        }
    }

    @Test("the same numbers as Greeks, in trader's units", arguments: cases)
    func unitsOfGreeks(_ c: Case) {
        let haug = BlackScholes.greeks(c.kind, spot: c.spot, strike: c.strike, years: c.years, rate: c.rate, dividendYield: c.q,
                                       volatility: c.vol)
        let g = c.atVolatility()
        #expect(abs(g.theta * 365 - haug.theta) <= 1e-9 * max(1, abs(haug.theta)))
        #expect(abs(g.vega * 100 - haug.vega) <= 1e-9 * max(1, haug.vega))
        #expect(abs(g.rho * 100 - haug.rho) <= 1e-9 * max(1, abs(haug.rho)))
        #expect(abs(g.delta - haug.delta) <= 1e-12 && abs(g.gamma - haug.gamma) <= 1e-12 * max(1, haug.gamma))
    }

    @Test("Haug's greeks within 1e-4, from the volatility and from the price",
          .enabled(if: oracleExists("haug_bsm_greeks.csv"), "shared data absent: no oracles/haug_bsm_greeks.csv"))
    func haug() throws {
        var checked = 0
        for row in try readOracle("haug_bsm_greeks.csv") {
            let x = try BlackScholesOracleTests.inputs(row)
            let atVol = BlackScholes.contractGreeks(x.kind, spot: x.spot, strike: x.strike, years: x.t, rate: x.r, dividendYield: x.q,
                                                    volatility: x.vol)
            let fromPrice = try #require(BlackScholes.contractGreeks(x.kind, spot: x.spot, strike: x.strike, years: x.t, rate: x.r,
                                                                     dividendYield: x.q, price: atVol.price))
            for g in [atVol, fromPrice] {
                // The file's units are Haug's: vega and rho per 1.00, theta per year (theta_per_day per day).
                let got: Double
                switch try #require(row["greek"]) {
                case "delta": got = g.delta
                case "gamma": got = g.gamma
                case "vega": got = g.vega * 100
                case "theta": got = g.theta * 365
                case "theta_per_day": got = g.theta
                case "rho": got = g.rho * 100
                default: continue   // dividend rho and elasticity are not contract greeks
                }
                #expect(abs(got - x.value) <= 1e-4, "\(row): got \(got)")
                checked += 1
            }
        }
        #expect(checked >= 16)
    }

    @Test("nil for prices outside the no-arbitrage bounds and for bad inputs")
    func outsideBounds() {
        let (lower, upper) = BlackScholes.bounds(.call, spot: 100, strike: 90, years: 0.5, rate: 0.05, dividendYield: 0.02)
        func call(_ p: Double, years: Double = 0.5, spot: Double = 100) -> ContractGreeks? {
            BlackScholes.contractGreeks(.call, spot: spot, strike: 90, years: years, rate: 0.05, dividendYield: 0.02, price: p)
        }
        #expect(call(lower * (1 - 1e-9)) == nil, "below the discounted intrinsic value")
        #expect(call(upper) == nil && call(upper * (1 + 1e-9)) == nil, "at or above the discounted spot")
        #expect(call(lower + 1) != nil)
        #expect(BlackScholes.contractGreeks(.put, spot: 90, strike: 100, years: 0.5, rate: 0, price: 5) == nil, "put below intrinsic")
        #expect(BlackScholes.contractGreeks(.put, spot: 90, strike: 100, years: 0.5, rate: 0.05, price: 100) == nil, "put above the discounted strike")
        #expect(call(-0.01) == nil && call(.nan) == nil && call(.infinity) == nil)
        #expect(call(12, years: 0) == nil && call(12, years: -1) == nil && call(12, years: .infinity) == nil)
        #expect(call(12, spot: 0) == nil && call(12, spot: .nan) == nil)
    }
}
