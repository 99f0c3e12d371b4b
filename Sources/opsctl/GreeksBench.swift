import Foundation
import OptionsMath

/// Implied volatility + greeks per second on one core over a 1,000-contract chain (issue 7: goal ≥ 1,000,000).
enum GreeksBench {
    static let goal = 1_000_000.0
    static let spot = 500.0, rate = 0.05, dividendYield = 0.013
    static let expiryDays: [Double] = [1, 3, 7, 14, 30, 45, 60, 91, 182, 365]
    static let strikesPerExpiry = 50

    struct Contract {
        var kind: OptionKind, strike: Double, years: Double, volatility: Double, price: Double
    }

    /// SPY-like: 10 expiries from 1 day to a year, 50 strikes each spread over ±3 standard deviations of the
    /// underlying (at 20 % volatility), calls and puts; each priced from a volatility smile, so the solver is
    /// checked against known answers.
    static let chain: [Contract] = expiryDays.flatMap { days -> [Contract] in
        let years = days / 365
        return (0..<strikesPerExpiry).flatMap { i -> [Contract] in
            let z = -3 + 6 * Double(i) / Double(strikesPerExpiry - 1)
            let strike = spot * exp(z * 0.2 * years.squareRoot())
            let m = log(strike / spot), volatility = 0.18 - 0.25 * m + 0.6 * m * m
            return OptionKind.allCases.map { kind in
                Contract(kind: kind, strike: strike, years: years, volatility: volatility,
                         price: BlackScholes.price(kind, spot: spot, strike: strike, years: years, rate: rate,
                                                   dividendYield: dividendYield, volatility: volatility))
            }
        }
    }

    static let section = BenchSection(
        name: "greeks",
        summary: "BlackScholes.contractGreeks over a \(Bench.grouped(Double(chain.count)))-contract chain (spot \(Int(spot)), \(expiryDays.count) expiries 1–365 days, ±3σ strikes, calls and puts, r \(rate), q \(dividendYield))",
        run: { quick in run(seconds: quick ? 0.2 : 2) })

    static func run(seconds: Double) -> [String] {
        var lines = [accuracy()]
        let solves = Bench.measure(seconds: seconds) {
            var sum = 0.0
            for c in chain {
                if let g = BlackScholes.contractGreeks(c.kind, spot: spot, strike: c.strike, years: c.years, rate: rate,
                                                       dividendYield: dividendYield, price: c.price) {
                    sum += g.delta + g.iv
                }
            }
            Sink.value += sum
            return chain.count
        }
        lines.append(Bench.line("greeks+iv solves/s", Bench.grouped(solves.perSecond), goal: goal, met: solves.perSecond >= goal))
        lines.append(Bench.line("ns per solve", Bench.fixed(solves.nanosecondsPerOperation, 1)))
        let atVolatility = Bench.measure(seconds: seconds) {
            var sum = 0.0
            for c in chain {
                sum += BlackScholes.contractGreeks(c.kind, spot: spot, strike: c.strike, years: c.years, rate: rate,
                                                   dividendYield: dividendYield, volatility: c.volatility).delta
            }
            Sink.value += sum
            return chain.count
        }
        lines.append(Bench.line("greeks at a known vol/s", Bench.grouped(atVolatility.perSecond)))
        lines.append(Bench.line("ns per greeks", Bench.fixed(atVolatility.nanosecondsPerOperation, 1)))
        return lines
    }

    /// How many contracts solve, and how far the solved volatilities and repriced values are from the truth.
    static func accuracy() -> String {
        var solved = 0, worstVolatility = 0.0, worstPrice = 0.0
        for c in chain {
            guard let g = BlackScholes.contractGreeks(c.kind, spot: spot, strike: c.strike, years: c.years, rate: rate,
                                                      dividendYield: dividendYield, price: c.price) else { continue }
            solved += 1
            worstVolatility = max(worstVolatility, abs(g.iv - c.volatility))
            worstPrice = max(worstPrice, abs(g.price - c.price) / c.price)
        }
        return "solved \(solved)/\(chain.count); max |iv − σ| \(String(format: "%.1e", worstVolatility)), max repricing error \(String(format: "%.1e", worstPrice)) (relative)"
    }
}
