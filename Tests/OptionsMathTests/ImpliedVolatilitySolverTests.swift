import Foundation
import Testing
@testable import OptionsMath

/// The implied-volatility solver behind `impliedVolatility` and `contractGreeks(price:)`.
@Suite("Implied volatility solver")
struct ImpliedVolatilitySolverTests {
    @Test("price at σ → solve → σ over a grid of moneyness, expiries, volatilities, carry and both rights")
    func roundTrip() throws {
        var checked = 0
        for spot in [20.0, 100, 500] {
            for k in [0.6, 0.8, 0.9, 0.97, 1.0, 1.02, 1.1, 1.25, 1.6] {
                for days in [1.0, 3, 7, 21, 45, 91, 182, 365, 730] {
                    for vol in [0.08, 0.15, 0.25, 0.4, 0.7, 1.2, 2.5] {
                        for (r, q) in [(0.0, 0.0), (0.05, 0.013), (0.1, 0.1), (-0.01, 0.03)] {
                            for kind in OptionKind.allCases {
                                let strike = spot * k, t = days / 365
                                let price = BlackScholes.price(kind, spot: spot, strike: strike, years: t, rate: r, dividendYield: q, volatility: vol)
                                let (lower, _) = BlackScholes.bounds(kind, spot: spot, strike: strike, years: t, rate: r, dividendYield: q)
                                let vega = BlackScholes.greeks(kind, spot: spot, strike: strike, years: t, rate: r, dividendYield: q, volatility: vol).vega
                                // Identifiable: time value a cent in a million of the spot, and a price that moves with σ.
                                guard price - lower > 1e-8 * spot, vega > 1e-6 * spot else { continue }
                                let g = try #require(BlackScholes.contractGreeks(kind, spot: spot, strike: strike, years: t, rate: r,
                                                                                 dividendYield: q, price: price),
                                                     "no solution: \(kind) S \(spot) K \(strike) T \(t) σ \(vol) r \(r) q \(q)")
                                #expect(abs(g.iv - vol) <= 1e-7 * vol, "\(kind) S \(spot) K \(strike) T \(t) σ \(vol): iv \(g.iv)")
                                #expect(abs(g.price - price) <= 1e-9 * price, "repriced \(g.price) vs \(price)")
                                let back = BlackScholes.price(kind, spot: spot, strike: strike, years: t, rate: r, dividendYield: q, volatility: g.iv)
                                #expect(abs(back - price) <= 1e-9 * price)
                                #expect(BlackScholes.impliedVolatility(price: price, kind: kind, spot: spot, strike: strike, years: t,
                                                                       rate: r, dividendYield: q) == g.iv)
                                checked += 1
                            }
                        }
                    }
                }
            }
        }
        #expect(checked > 8000)
    }

    @Test("the normalized solver reaches every total volatility from 0.001 to 10 at every moneyness")
    func normalizedGrid() throws {
        for x in stride(from: -3.0, through: 3.0, by: 0.05) {
            let black = NormalizedBlack(x: x)
            for logS in stride(from: -3.0, through: 1.0, by: 0.01) {
                let s = pow(10, logS)
                let beta = black.at(s).b
                guard beta > 1e-8, beta < black.upperBound * (1 - 1e-12) else { continue }
                let solution = try #require(black.solve(beta: beta, sMin: 1e-8, sMax: 100, endTolerance: 0), "x \(x) s \(s)")
                #expect(abs(solution.point.b - beta) <= 1e-10 * beta, "x \(x) s \(s): \(solution.point.b) vs \(beta)")
                #expect(solution.evaluations <= 8, "x \(x) s \(s): \(solution.evaluations) evaluations")
            }
        }
    }

    @Test("a listed chain (±3 standard deviations, 2 days to a year, a smile) takes two evaluations per contract")
    func evaluationsOnAChain() throws {
        for days in [2.0, 7, 14, 30, 60, 91, 182, 365] {
            let t = days / 365
            for z in stride(from: -3.0, through: 3.0, by: 0.25) {
                let strike = 500 * exp(z * 0.2 * t.squareRoot())
                let m = log(strike / 500), vol = 0.18 - 0.25 * m + 0.6 * m * m
                for kind in OptionKind.allCases {
                    let market = try #require(ContractMarket(kind, spot: 500, strike: strike, years: t, rate: 0.05, dividendYield: 0.013))
                    let price = BlackScholes.price(kind, spot: 500, strike: strike, years: t, rate: 0.05, dividendYield: 0.013, volatility: vol)
                    let solution = try #require(market.solve(price: price))
                    #expect(solution.evaluations == 2, "\(kind) K \(strike) T \(t): \(solution.evaluations)")
                    #expect(abs(solution.point.s / market.sqrtYears - vol) <= 1e-9 * vol)
                }
            }
        }
    }

    @Test("the normal model's table inverts Bachelier's formula")
    func normalModel() throws {
        for u in stride(from: 0.001, through: 5.0, by: 0.01) {
            let m = -0.3, v = 0.3 / u
            let value = m * BlackScholes.normalCDF(m / v) + v * BlackScholes.normalPDF(m / v)
            let got = try #require(NormalModel.totalVolatility(value: value, moneyness: m))
            #expect(abs(got - v) <= 1e-8 * v, "u \(u): \(got) vs \(v)")
        }
    }

    @Test("the normal quantile inverts the normal distribution", arguments: [1e-300, 1e-20, 1e-8, 0.001, 0.02, 0.3, 0.5, 0.7, 0.975, 0.999999])
    func inverseNormal(_ p: Double) {
        let z = BlackScholes.inverseNormalCDF(p)
        let back = p < 0.5 ? BlackScholes.normalCDF(z) : 1 - BlackScholes.normalCDF(z)
        let target = p < 0.5 ? p : 1 - p
        #expect(abs(back - target) <= 1e-14 * target + 1e-16, "Φ(\(z)) = \(back)")
        if p > 1e-12 { #expect(abs(BlackScholes.inverseNormalCDF(1 - p) + z) <= 1e-9 * max(1, abs(z))) }
    }
}
