import ArgumentParser
import DispatchCore
import Foundation
import OpsModel
import OpsRuntime

/// Loads trading_params.json for the offline tools, like the services do.
func loadTradingParams(_ path: String?) throws -> TradingParams {
    do { return try TradingParams.load(configured: path) } catch { throw ValidationError(error.description) }
}

/// Dollars text → cents, refusing fractions of a cent.
func parseCents(_ text: String, flag: String) throws -> Cents {
    guard Decimal(string: text).map({ $0 >= 0 }) == true else { throw ValidationError("\(flag) takes dollars, e.g. 2.50; got '\(text)'") }
    guard let c = Money.cents(dollars: text) else { throw ValidationError("\(flag) must be whole cents, e.g. 2.55; got '\(text)'") }
    return c
}

func dollarsJSON(_ cents: Cents) -> String {
    let sign = cents < 0 ? "-" : ""
    let a = cents.magnitude
    return "\(sign)\(a / 100).\(a % 100 < 10 ? "0" : "")\(a % 100)"
}

/// `opsctl size`: the dispatcher's own sizing code path, for one trade.
struct Size: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Size a trade with the dispatcher's tier rules; prints one JSON object.",
        discussion: "Example: opsctl size --buying-power 1000 --premium 2.50 --strategy day_trade")

    @Option(help: "Buying power in dollars.") var buyingPower: String
    @Option(help: "Option premium per share in dollars.") var premium: String
    @Option(help: "day_trade or swing_trade (anything else risks half the swing percentage).") var strategy: String = "day_trade"
    @Option(help: "trading_params.json (default: config/trading_params.json, else built-in seed values).") var tradingParams: String?

    func run() throws {
        let params = try loadTradingParams(tradingParams)
        let bp = try parseCents(buyingPower, flag: "--buying-power"), p = try parseCents(premium, flag: "--premium")
        guard bp > 0 else { throw ValidationError("--buying-power must be > 0") }
        let s = Sizing.size(buyingPowerCents: bp, premiumCents: p, strategy: strategy, params: params)
        print(#"{"tier":"\#(s.tier)","risk_pct":\#(s.riskPct),"risk_dollars":\#(dollarsJSON(s.riskCents)),"contracts":\#(s.contracts),"total_cost":\#(dollarsJSON(s.totalCostCents)),"rationale":\#(String(decoding: JSONText.string(s.rationale), as: UTF8.self))}"#)
    }
}

/// `opsctl check-contract`: the dispatcher's own liquidity validation, for one quote.
struct CheckContract: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-contract",
        abstract: "Validate an option quote with the dispatcher's liquidity rules; prints one JSON object.",
        discussion: "Example: opsctl check-contract --bid 2.50 --ask 2.55 --expiration 2024-03-15 --as-of 2024-03-08T15:30:00-05:00")

    @Option(help: "Bid in dollars.") var bid: Double
    @Option(help: "Ask in dollars.") var ask: Double
    @Option(help: "Expiration date, YYYY-MM-DD (the contract trades until 16:00 New York that day).") var expiration: String
    @Option(help: "When, as ISO-8601 with a zone, e.g. 2024-03-08T15:30:00Z.") var asOf: String
    @Option(help: "Contract volume.") var volume: Int64?
    @Option(help: "Open interest.") var openInterest: Int64?
    @Option(help: "trading_params.json (default: config/trading_params.json, else built-in seed values).") var tradingParams: String?

    func run() throws {
        guard let exp = CivilDate(iso: expiration) else { throw ValidationError("--expiration takes YYYY-MM-DD, e.g. 2024-03-15; got '\(expiration)'") }
        guard let t = Timestamp(iso8601: asOf) else {
            throw ValidationError("--as-of takes ISO-8601 with a zone, e.g. 2024-03-08T15:30:00Z or 2024-03-08T10:30:00-05:00; got '\(asOf)'")
        }
        guard bid.isFinite, ask.isFinite else { throw ValidationError("--bid and --ask must be numbers") }
        let params = try loadTradingParams(tradingParams)
        let c = Liquidity.check(bid: bid, ask: ask, expiration: exp, asOf: t, volume: volume, openInterest: openInterest, params: params)
        let spread = c.spreadPct.map { "\($0)" } ?? "null"
        print(#"{"valid":\#(c.valid),"reason":\#(String(decoding: JSONText.string(c.reason), as: UTF8.self)),"mid":\#(c.mid),"spread_pct":\#(spread)}"#)
    }
}
