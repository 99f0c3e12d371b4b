import Foundation
import Testing
@testable import OptionsMath

/// Haug (1998) values and greeks, as tabulated in QuantLib's test suite. Tolerance 1e-4 as published.
@Suite("Black-Scholes against Haug's published values")
struct BlackScholesOracleTests {
    struct Inputs {
        var kind: OptionKind, strike: Double, spot: Double, q: Double, r: Double, t: Double, vol: Double, value: Double
    }

    static func inputs(_ row: [String: String]) throws -> Inputs {
        func num(_ key: String) throws -> Double { try #require(row[key].flatMap(Double.init), "column \(key) in \(row)") }
        let kind = try #require(row["type"].flatMap(OptionKind.init(rawValue:)), "type in \(row)")
        return Inputs(kind: kind, strike: try num("strike"), spot: try num("spot"), q: try num("q"), r: try num("r"),
                      t: try num("t"), vol: try num("vol"), value: try num("value"))
    }

    @Test("every value row within 1e-4", .enabled(if: oracleExists("haug_bsm_values.csv"), "shared data absent: no oracles/haug_bsm_values.csv"))
    func values() throws {
        let rows = try readOracle("haug_bsm_values.csv")
        #expect(rows.count >= 40)
        for row in rows {
            let x = try Self.inputs(row)
            let v = BlackScholes.price(x.kind, spot: x.spot, strike: x.strike, years: x.t, rate: x.r,
                                       dividendYield: x.q, volatility: x.vol)
            #expect(abs(v - x.value) <= 1e-4, "\(row): got \(v)")
        }
    }

    @Test("every greek row within 1e-4", .enabled(if: oracleExists("haug_bsm_greeks.csv"), "shared data absent: no oracles/haug_bsm_greeks.csv"))
    func greeks() throws {
        let rows = try readOracle("haug_bsm_greeks.csv")
        #expect(rows.count >= 10)
        for row in rows {
            let x = try Self.inputs(row)
            let g = BlackScholes.greeks(x.kind, spot: x.spot, strike: x.strike, years: x.t, rate: x.r,
                                        dividendYield: x.q, volatility: x.vol)
            let name = try #require(row["greek"])
            let got: Double
            switch name {
            case "delta": got = g.delta
            case "gamma": got = g.gamma
            case "vega": got = g.vega
            case "theta": got = g.theta
            case "theta_per_day": got = g.thetaPerDay
            case "rho": got = g.rho
            case "dividend_rho": got = g.dividendRho
            case "elasticity": got = g.elasticity
            default:
                Issue.record("unknown greek kind '\(name)' in the oracle file")
                continue
            }
            #expect(abs(got - x.value) <= 1e-4, "\(row): got \(got)")
        }
    }
}
