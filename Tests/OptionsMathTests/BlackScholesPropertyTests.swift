import Foundation
import Testing
@testable import OptionsMath

@Suite("Black-Scholes properties")
struct BlackScholesPropertyTests {
    static let spots: [Double] = [20, 95, 100, 185.37, 500]
    static let moneyness: [Double] = [0.7, 0.9, 0.97, 1.0, 1.03, 1.1, 1.4]
    static let years: [Double] = [1.0 / 365 / 24, 1.0 / 365, 7.0 / 365, 30.0 / 365, 0.5, 2]
    static let vols: [Double] = [0.05, 0.15, 0.3, 0.8, 2.0]
    static let carry: [(r: Double, q: Double)] = [(0, 0), (0.05, 0), (0.05, 0.02), (0.1, 0.1), (-0.01, 0.03)]

    @Test("put-call parity: C − P = S·e^(−qT) − K·e^(−rT)")
    func putCallParity() {
        for s in Self.spots {
            for m in Self.moneyness {
                for t in Self.years {
                    for v in Self.vols {
                        for (r, q) in Self.carry {
                            let k = s * m
                            let c = BlackScholes.price(.call, spot: s, strike: k, years: t, rate: r, dividendYield: q, volatility: v)
                            let p = BlackScholes.price(.put, spot: s, strike: k, years: t, rate: r, dividendYield: q, volatility: v)
                            let fwd = s * exp(-q * t) - k * exp(-r * t)
                            #expect(abs(c - p - fwd) <= 1e-9 * max(1, s), "S \(s) K \(k) T \(t) σ \(v) r \(r) q \(q)")
                        }
                    }
                }
            }
        }
    }

    @Test("implied volatility round trip over a grid")
    func impliedVolatilityRoundTrip() throws {
        var checked = 0
        for s in Self.spots {
            for m in Self.moneyness {
                for t in Self.years {
                    for v in Self.vols {
                        for (r, q) in Self.carry {
                            for kind in OptionKind.allCases {
                                let k = s * m
                                let g = BlackScholes.greeks(kind, spot: s, strike: k, years: t, rate: r, dividendYield: q, volatility: v)
                                let (lower, _) = BlackScholes.bounds(kind, spot: s, strike: k, years: t, rate: r, dividendYield: q)
                                // The volatility is only identifiable where the price carries time value.
                                guard g.vega > 1e-6 * s, g.price - lower > 1e-9 * s else { continue }
                                let iv = try #require(BlackScholes.impliedVolatility(price: g.price, kind: kind, spot: s, strike: k,
                                                                                      years: t, rate: r, dividendYield: q),
                                                      "no iv for \(kind) S \(s) K \(k) T \(t) σ \(v) r \(r) q \(q)")
                                #expect(abs(iv - v) <= 1e-6 * max(1, v), "\(kind) S \(s) K \(k) T \(t) σ \(v): iv \(iv)")
                                let back = BlackScholes.price(kind, spot: s, strike: k, years: t, rate: r, dividendYield: q, volatility: iv)
                                #expect(abs(back - g.price) <= 1e-9 * max(1, g.price))
                                checked += 1
                            }
                        }
                    }
                }
            }
        }
        #expect(checked > 1000)
    }

    @Test("implied volatility is nil outside the no-arbitrage bounds")
    func impliedVolatilityBounds() {
        // Call worth more than the discounted spot, put below intrinsic, negative prices, expired options.
        #expect(BlackScholes.impliedVolatility(price: 101, kind: .call, spot: 100, strike: 100, years: 0.5, rate: 0.05) == nil)
        #expect(BlackScholes.impliedVolatility(price: 5, kind: .put, spot: 90, strike: 100, years: 0.5, rate: 0) == nil)
        #expect(BlackScholes.impliedVolatility(price: -0.1, kind: .call, spot: 100, strike: 100, years: 0.5, rate: 0) == nil)
        #expect(BlackScholes.impliedVolatility(price: 2, kind: .call, spot: 100, strike: 100, years: 0, rate: 0) == nil)
        #expect(BlackScholes.impliedVolatility(price: .nan, kind: .call, spot: 100, strike: 100, years: 1, rate: 0) == nil)
    }

    @Test("expiry and zero volatility give intrinsic values, never NaN")
    func degenerateInputs() {
        for kind in OptionKind.allCases {
            for k in [80.0, 100, 120] {
                for (t, v) in [(0.0, 0.2), (-1.0, 0.2), (1e-300, 0.2), (0.5, 0.0), (0.5, 1e-20), (0.0, 0.0)] {
                    let p = BlackScholes.price(kind, spot: 100, strike: k, years: t, rate: 0.05, dividendYield: 0.01, volatility: v)
                    let g = BlackScholes.greeks(kind, spot: 100, strike: k, years: t, rate: 0.05, dividendYield: 0.01, volatility: v)
                    #expect(p.isFinite && p >= 0, "\(kind) K \(k) T \(t) σ \(v): \(p)")
                    for x in [g.delta, g.gamma, g.vega, g.theta, g.thetaPerDay, g.rho, g.dividendRho, g.elasticity] {
                        #expect(x.isFinite, "\(kind) K \(k) T \(t) σ \(v): \(g)")
                    }
                    #expect(abs(g.delta) <= 1)
                }
            }
            let intrinsic = BlackScholes.price(kind, spot: 100, strike: 90, years: 0, rate: 0.05, volatility: 0.3)
            #expect(intrinsic == (kind == .call ? 10 : 0))
        }
        // Zero volatility: the discounted forward payoff.
        let c = BlackScholes.price(.call, spot: 100, strike: 100, years: 1, rate: 0.05, volatility: 0)
        #expect(abs(c - (100 - 100 * exp(-0.05))) < 1e-12)
        // Tiny volatility converges to the same.
        let c2 = BlackScholes.price(.call, spot: 100, strike: 100, years: 1, rate: 0.05, volatility: 1e-6)
        #expect(abs(c2 - c) < 1e-6)
    }

    @Test("greeks agree with finite differences")
    func finiteDifferences() {
        let s = 105.0, k = 100.0, t = 0.4, r = 0.03, q = 0.015, v = 0.27
        for kind in OptionKind.allCases {
            func p(_ s: Double = s, _ t: Double = t, _ r: Double = r, _ q: Double = q, _ v: Double = v) -> Double {
                BlackScholes.price(kind, spot: s, strike: k, years: t, rate: r, dividendYield: q, volatility: v)
            }
            let g = BlackScholes.greeks(kind, spot: s, strike: k, years: t, rate: r, dividendYield: q, volatility: v)
            let h = 1e-4
            #expect(abs(g.delta - (p(s + h) - p(s - h)) / (2 * h)) < 1e-6)
            #expect(abs(g.gamma - (p(s + h) - 2 * p() + p(s - h)) / (h * h)) < 1e-3)
            #expect(abs(g.vega - (p(s, t, r, q, v + h) - p(s, t, r, q, v - h)) / (2 * h)) < 1e-5)
            #expect(abs(g.theta - -(p(s, t + h) - p(s, t - h)) / (2 * h)) < 1e-5)
            #expect(abs(g.rho - (p(s, t, r + h) - p(s, t, r - h)) / (2 * h)) < 1e-5)
            #expect(abs(g.dividendRho - (p(s, t, r, q + h) - p(s, t, r, q - h)) / (2 * h)) < 1e-5)
        }
    }
}
