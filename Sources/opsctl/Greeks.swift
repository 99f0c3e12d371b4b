import ArgumentParser
import Foundation
import OpsModel
import OptionsMath

/// `opsctl greeks`: one contract's Black-Scholes value and greeks from the code the position-manager marks with
/// (`BlackScholes.contractGreeks`), from a volatility or from a price (the IV solved first).
struct GreeksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "greeks",
        abstract: "Black-Scholes value, greeks and implied volatility of one option; prints one JSON object.",
        discussion: """
        Prints {"delta","gamma","iv","price","rho","theta","vega","years"}, per share (× 100 for a contract): price \
        in dollars; iv annualized, as a fraction (0.25 = 25 %); delta in dollars per $1 of the underlying; gamma in \
        delta per $1; theta in dollars per calendar day (the per-year figure ÷ 365); vega in dollars per vol point (0.01 \
        of volatility); rho in dollars per rate point (0.01 of rate). Time to expiry: from --as-of to 16:00 New York \
        on --expiry, ACT/365 (exact seconds ÷ 365 days), or --years as given. European exercise, continuous rate and \
        dividend yield.

        Examples:
          opsctl greeks --right call --spot 60 --strike 65 --years 0.25 --rate 0.08 --vol 0.30
          opsctl greeks --right put --spot 512.30 --strike 505 --expiry 2024-03-15 --as-of 2024-03-08T10:30:00-05:00 --price 2.41
        """)

    enum Right: String, ExpressibleByArgument, CaseIterable { case call, put }

    @Option(help: "call or put.") var right: Right
    @Option(help: "Underlying price, dollars.") var spot: Double
    @Option(help: "Strike, dollars.") var strike: Double
    @Option(help: "Expiration date, YYYY-MM-DD (with --as-of; the option is valued to 16:00 New York that day).") var expiry: String?
    @Option(help: "Valuation time, ISO-8601 with a zone, e.g. 2024-03-08T15:30:00Z (with --expiry).") var asOf: String?
    @Option(help: "Years to expiry instead of --expiry and --as-of (textbook tables).") var years: Double?
    @Option(help: "Risk-free rate, continuously compounded, a fraction; the default is greeks.rate's built-in value.")
    var rate: Double = TradingParams().greeks.rate
    @Option(help: "Continuous dividend yield, a fraction.") var dividend: Double = 0
    @Option(help: "Volatility, annualized, a fraction (0.25 = 25 %); or give --price.") var vol: Double?
    @Option(help: "Option price per share, dollars, to solve the implied volatility from; or give --vol.") var price: Double?

    /// Every check (flags, then the price's bounds) runs before `run`, so a mistake prints this command's usage.
    func validate() throws { _ = try evaluate() }

    func run() throws {
        let (g, t) = try evaluate()
        struct Out: Encodable { var price, iv, delta, gamma, theta, vega, rho, years: Double }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        print(String(decoding: try enc.encode(Out(price: g.price, iv: g.iv, delta: g.delta, gamma: g.gamma, theta: g.theta,
                                                  vega: g.vega, rho: g.rho, years: t)), as: UTF8.self))
    }

    func evaluate() throws -> (ContractGreeks, years: Double) {
        let t = try yearsToExpiry()
        guard spot > 0, spot.isFinite else { throw ValidationError("--spot must be a price above 0, e.g. --spot 512.30; got \(spot)") }
        guard strike > 0, strike.isFinite else { throw ValidationError("--strike must be a price above 0, e.g. --strike 505; got \(strike)") }
        guard rate.isFinite, dividend.isFinite else { throw ValidationError("--rate and --dividend are fractions, e.g. --rate 0.05 --dividend 0.013") }
        let kind: OptionKind = right == .call ? .call : .put
        switch (vol, price) {
        case let (v?, nil):
            let bracket = BlackScholes.impliedVolatilityBracket
            guard v > 0, v <= bracket.upperBound else {
                throw ValidationError("--vol is a fraction above 0 and at most \(bracket.upperBound): 25 % is --vol 0.25; got \(v)")
            }
            return (BlackScholes.contractGreeks(kind, spot: spot, strike: strike, years: t, rate: rate, dividendYield: dividend, volatility: v), t)
        case let (nil, p?):
            return (try solved(kind, price: p, years: t), t)
        default:
            throw ValidationError("give exactly one of --vol (e.g. --vol 0.25) or --price (e.g. --price 2.41)")
        }
    }

    /// --years, or --as-of to 16:00 New York on --expiry (OptionClock, the position-manager's day count).
    func yearsToExpiry() throws -> Double {
        let usage = "give --years T (e.g. --years 0.25), or both --expiry YYYY-MM-DD and --as-of TIME (e.g. --expiry 2024-03-15 --as-of 2024-03-08T15:30:00Z)"
        if let years {
            guard expiry == nil, asOf == nil else { throw ValidationError("\(usage), not both") }
            guard years > 0, years.isFinite else { throw ValidationError("--years must be above 0, e.g. --years 0.25 for three months; got \(years)") }
            return years
        }
        guard let expiry, let asOf else { throw ValidationError(usage) }
        guard let date = CivilDate(iso: expiry) else { throw ValidationError("--expiry takes YYYY-MM-DD, e.g. 2024-03-15; got '\(expiry)'") }
        guard let time = Timestamp(iso8601: asOf) else {
            throw ValidationError("--as-of takes ISO-8601 with a zone, e.g. 2024-03-08T15:30:00Z or 2024-03-08T10:30:00-05:00; got '\(asOf)'")
        }
        let t = OptionClock.years(from: time, to: date)
        guard t > 0 else {
            throw ValidationError("--as-of \(time.iso8601) is at or after the expiry, \(OptionClock.expiry(date).iso8601) (16:00 New York on \(date.iso)): give an earlier --as-of or a later --expiry")
        }
        return t
    }

    /// The greeks at the volatility `price` implies, or an error that gives the bounds the price must lie in.
    func solved(_ kind: OptionKind, price p: Double, years t: Double) throws -> ContractGreeks {
        if let g = BlackScholes.contractGreeks(kind, spot: spot, strike: strike, years: t, rate: rate, dividendYield: dividend, price: p) {
            return g
        }
        let (lower, upper) = BlackScholes.bounds(kind, spot: spot, strike: strike, years: t, rate: rate, dividendYield: dividend)
        func money(_ x: Double) -> String { String(format: "%.4f", x) }
        let lowerName = kind == .call ? "S·e^(−qT) − K·e^(−rT)" : "K·e^(−rT) − S·e^(−qT)"
        let upperName = kind == .call ? "the discounted spot S·e^(−qT)" : "the discounted strike K·e^(−rT)"
        guard p.isFinite, p >= lower, p < upper else {
            throw ValidationError("--price \(p) is outside the no-arbitrage bounds of this \(kind.rawValue): it must be at least \(money(lower)) (the discounted intrinsic value, max(0, \(lowerName))) and below \(money(upper)) (\(upperName)); check --price, --spot, --strike and the time to expiry")
        }
        let bracket = BlackScholes.impliedVolatilityBracket
        let worth = { (v: Double) in BlackScholes.price(kind, spot: spot, strike: strike, years: t, rate: rate, dividendYield: dividend, volatility: v) }
        throw ValidationError("no volatility from \(bracket.lowerBound) to \(bracket.upperBound) reproduces --price \(p): this \(kind.rawValue) is worth \(money(worth(bracket.lowerBound))) at --vol \(bracket.lowerBound) and \(money(worth(bracket.upperBound))) at --vol \(bracket.upperBound); check --price")
    }
}
