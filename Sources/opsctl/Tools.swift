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

/// `opsctl check-contract`: the dispatcher's own option gates (seed 004 §1 `validate_option_contract`), for one quote.
struct CheckContract: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-contract",
        abstract: "Validate an option quote with the dispatcher's option gates; prints one JSON object (passed, reason, fallback, every gate).",
        discussion: "Example: opsctl check-contract --bid 2.50 --ask 2.55 --expiration 2024-03-15 --as-of 2024-03-08T15:30:00-05:00 --volume 900 --open-interest 1500 --iv-percentile 45")

    @Option(help: "Bid in dollars.") var bid: Double
    @Option(help: "Ask in dollars.") var ask: Double
    @Option(help: "Expiration date, YYYY-MM-DD (the contract trades until 16:00 New York that day).") var expiration: String
    @Option(help: "When, as ISO-8601 with a zone, e.g. 2024-03-08T15:30:00Z.") var asOf: String
    @Option(help: "Contract volume (missing counts as 0).") var volume: Int64?
    @Option(help: "Open interest (missing counts as 0).") var openInterest: Int64?
    @Option(help: "The ticker's IV percentile, 0–100 (unknown when absent: the gate is skipped).") var ivPercentile: Double?
    @Option(help: "The ticker's IV Rank, 0–100 (checked only when liquidity_thresholds.max_iv_rank is set).") var ivRank: Double?
    @Option(help: "trading_params.json (default: config/trading_params.json, else built-in seed values).") var tradingParams: String?

    func run() throws {
        guard let exp = CivilDate(iso: expiration) else { throw ValidationError("--expiration takes YYYY-MM-DD, e.g. 2024-03-15; got '\(expiration)'") }
        guard let t = Timestamp(iso8601: asOf) else {
            throw ValidationError("--as-of takes ISO-8601 with a zone, e.g. 2024-03-08T15:30:00Z or 2024-03-08T10:30:00-05:00; got '\(asOf)'")
        }
        guard bid.isFinite, ask.isFinite else { throw ValidationError("--bid and --ask must be numbers") }
        for (flag, v) in [("--iv-percentile", ivPercentile), ("--iv-rank", ivRank)] {
            if let v, !(v.isFinite && (0...100).contains(v)) { throw ValidationError("\(flag) takes a number from 0 to 100; got \(v)") }
        }
        let params = try loadTradingParams(tradingParams)
        let c = OptionGates.validate(bid: bid, ask: ask, expiration: exp, asOf: t, volume: volume, openInterest: openInterest,
                                     ivPercentile: ivPercentile, ivRank: ivRank, params: params)
        struct Out: Encodable {
            var valid: Bool, passed: Bool, reason: String, fallback: Bool, mid: Double, spread_pct: Double?, gates: [GateResult]
        }
        let out = Out(valid: c.verdict.passed, passed: c.verdict.passed, reason: c.verdict.reason, fallback: c.verdict.fallback,
                      mid: c.mid, spread_pct: c.spreadPct, gates: c.gates)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try enc.encode(out), as: UTF8.self))
    }
}
