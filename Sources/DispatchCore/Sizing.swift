import Foundation
import OpsModel

/// Seed 000 Phase 1, Step 2: how many contracts a trade buys, in integer cents throughout.
///
/// - Risk %: the tier's `risk_pct_day` for "day_trade", `risk_pct_swing` for "swing_trade", and for anything else
///   `risk_pct_swing × sizing.unknown_strategy_factor` (the seed's "conservative" half).
/// - Risk budget: `risk % × buying power`, computed exactly in decimal and rounded down to a cent.
/// - Cost per contract: premium × 100 shares. Contracts: budget ÷ cost, rounded down, capped at `max_contracts`.
/// - The seed's "minimum 1 contract if affordable" is kept but bounded (the seed would put 90% of a $1,000 account
///   into one $9.00 option): when the budget buys none, one contract is bought only if it costs at most the buying
///   power AND at most `sizing.affordability_multiple` × the budget (exactly).
///
/// The rationale is the seed's log line, e.g.
/// `Tier: large, Strategy: day_trade, Risk: 1.0% of $182000 = $1820, Premium: $2.50 × 100 = $250/contract, Contracts: 7 (cap: 10), Total: $1750`,
/// with whole dollars rounded half to even like Python's `%.0f` (the budget shown is the budget used: the exact
/// product rounded down to a cent, then to dollars), and a suffix saying whether the minimum-contract rule applied
/// (`, Minimum-contract rule: 1 contract costs $400 ≤ 2.0 × risk budget $250`) or was refused by its bound
/// (`, Minimum-contract rule refused: 1 contract costs $900 > 2.0 × risk budget $250`).
public enum Sizing {
    /// Sizes a trade for a strategy given by name, as the seed does. `SizingResult.strategy` can only hold the two
    /// known strategies: for any other name it records `.swingTrade` (whose percentage the unknown-strategy factor
    /// scales) and the rationale carries the name as given.
    public static func size(buyingPowerCents: Cents, premiumCents: Cents, strategy: String, params: TradingParams) -> SizingResult {
        let sheet = SizingSheet(buyingPowerCents: buyingPowerCents, premiumCents: premiumCents, strategy: strategy, params: params)
        let risk = riskFraction(tier: sheet.tier, strategy: strategy, params: params)
        var r = byBudget(sheet, riskPct: risk.pct, riskCents: Exact.floorCents(risk.exact * Decimal(buyingPowerCents)), params: params)
        r.method = "tier"
        return r
    }

    /// The tier method's contracts from a risk budget: budget ÷ cost per contract, rounded down, capped at
    /// `max_contracts`, with the bounded minimum-contract rule. Kelly sizing reuses it with its own budget.
    static func byBudget(_ sheet: SizingSheet, riskPct: Double, riskCents: Cents, params: TradingParams) -> SizingResult {
        let cost = sheet.costPerContractCents, maxContracts = sheet.maxContracts
        guard sheet.premiumCents > 0 else {
            return sheet.result(riskPct: riskPct, riskCents: riskCents, contracts: 0, rule: false, suffix: "")
        }
        let byBudget = riskCents > 0 ? riskCents / cost : 0
        let contracts = Int(min(byBudget, Cents(max(maxContracts, 0))))
        guard contracts == 0, maxContracts >= 1, cost <= sheet.buyingPowerCents else {
            return sheet.result(riskPct: riskPct, riskCents: riskCents, contracts: contracts, rule: false, suffix: "")
        }
        // The budget buys none but one is affordable: the bounded minimum-contract rule.
        let multiple = params.sizing.affordabilityMultiple
        let bound = Exact.decimal(multiple) * Decimal(riskCents)
        let comparison = "1 contract costs \(Fmt.wholeDollars(cost)) %@ \(multiple) × risk budget \(Fmt.budget(riskCents))"
        if Decimal(cost) <= bound {
            return sheet.result(riskPct: riskPct, riskCents: riskCents, contracts: 1, rule: true,
                                suffix: ", Minimum-contract rule: " + comparison.replacingOccurrences(of: "%@", with: "≤"))
        }
        return sheet.result(riskPct: riskPct, riskCents: riskCents, contracts: 0, rule: false,
                            suffix: ", Minimum-contract rule refused: " + comparison.replacingOccurrences(of: "%@", with: ">"))
    }

    /// Sizes a trade for one of the two known strategies.
    public static func size(buyingPowerCents: Cents, premiumCents: Cents, strategy: TradeStrategy, params: TradingParams) -> SizingResult {
        size(buyingPowerCents: buyingPowerCents, premiumCents: premiumCents, strategy: strategy.rawValue, params: params)
    }

    /// The fraction of buying power risked: as a Double (for the record) and exactly (for the arithmetic).
    public static func riskFraction(tier: TradingParams.Tier, strategy: String, params: TradingParams) -> (pct: Double, exact: Decimal) {
        switch strategy {
        case TradeStrategy.dayTrade.rawValue:
            return (tier.riskPctDay, Exact.decimal(tier.riskPctDay))
        case TradeStrategy.swingTrade.rawValue:
            return (tier.riskPctSwing, Exact.decimal(tier.riskPctSwing))
        default:
            let factor = params.sizing.unknownStrategyFactor
            return (tier.riskPctSwing * factor, Exact.decimal(tier.riskPctSwing) * Exact.decimal(factor))
        }
    }
}

/// What every option sizing method shares: the account's tier, the cost of one contract, and the seed's log line
/// for a risk budget and a number of contracts.
struct SizingSheet {
    let tierName: String
    let tier: TradingParams.Tier
    let strategy: String
    let buyingPowerCents: Cents
    let premiumCents: Cents
    let costPerContractCents: Cents
    var maxContracts: Int { tier.maxContracts }

    init(buyingPowerCents: Cents, premiumCents: Cents, strategy: String, params: TradingParams) {
        (tierName, tier) = Tiering.tier(buyingPowerCents: buyingPowerCents, params: params)
        self.strategy = strategy
        self.buyingPowerCents = buyingPowerCents
        self.premiumCents = premiumCents
        let (product, overflow) = premiumCents.multipliedReportingOverflow(by: 100)
        costPerContractCents = overflow ? (premiumCents > 0 ? Cents.max : Cents.min) : product
    }

    /// The seed's line (`Tier: …, Strategy: …, Risk: …, Premium: …, Contracts: …, Total: …`) followed by `suffix`.
    func result(riskPct: Double, riskCents: Cents, contracts: Int, rule: Bool, suffix: String) -> SizingResult {
        // Saturates rather than traps: a method that does not size by premium could pair many contracts with an
        // absurd premium; the buying-power gate refuses such a total anyway.
        let (product, overflow) = Cents(contracts).multipliedReportingOverflow(by: costPerContractCents)
        let total = overflow ? Cents.max : product
        let premiumPart = premiumCents > 0
            ? "Premium: \(Fmt.dollarsAndCents(premiumCents)) × 100 = \(Fmt.wholeDollars(costPerContractCents))/contract, "
            : "Premium: \(Fmt.dollarsAndCents(premiumCents)) is not a positive price, no contract can be sized, "
        let rationale = "Tier: \(tierName), Strategy: \(strategy), "
            + "Risk: \(Fmt.fixed(riskPct * 100, 1))% of \(Fmt.wholeDollars(buyingPowerCents)) = \(Fmt.wholeDollars(riskCents)), "
            + premiumPart + "Contracts: \(contracts) (cap: \(maxContracts)), Total: \(Fmt.wholeDollars(total))" + suffix
        return SizingResult(tier: tierName, strategy: TradeStrategy(rawValue: strategy) ?? .swingTrade, riskPct: riskPct,
                            buyingPowerCents: buyingPowerCents, riskCents: riskCents, premiumCents: premiumCents,
                            costPerContractCents: costPerContractCents, contracts: contracts, maxContracts: maxContracts,
                            totalCostCents: total, minimumContractRule: rule, rationale: rationale)
    }
}

/// The seed's number formats, from exact cents.
enum Fmt {
    /// Python's `"$%.0f" % (cents / 100)`: whole dollars, half to even (`$182000`, `$2`, `$-3`).
    static func wholeDollars(_ cents: Cents) -> String {
        let negative = cents < 0
        let a = cents.magnitude
        var whole = a / 100
        let rem = a % 100
        if rem > 50 || (rem == 50 && whole % 2 == 1) { whole += 1 }
        return "$" + (negative ? "-" : "") + String(whole)
    }

    /// Python's `"$%.2f"`: `$2.50`, `$-0.05`.
    static func dollarsAndCents(_ cents: Cents) -> String {
        let a = cents.magnitude
        let frac = a % 100
        return "$" + (cents < 0 ? "-" : "") + "\(a / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
    }

    /// Cents as plain dollars for a gate's value and limit: `-612.00`, `10000.00`.
    static func cents(_ c: Cents) -> String {
        let a = c.magnitude, frac = a % 100
        return (c < 0 ? "-" : "") + "\(a / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
    }

    /// Milliseconds as minutes: `12`, or `12.5` when not whole.
    static func minutes(_ ms: Int64) -> String {
        ms % 60_000 == 0 ? String(ms / 60_000) : FixedFormat.string(Double(ms) / 60_000, decimals: 1)
    }

    /// Whole dollars when the amount is whole, else dollars and cents, so a comparison reads exactly.
    static func budget(_ cents: Cents) -> String {
        cents % 100 == 0 ? wholeDollars(cents) : dollarsAndCents(cents)
    }

    /// `%.Nf` (C and Python agree: the exact binary value, ties to even).
    static func fixed(_ v: Double, _ decimals: Int) -> String {
        FixedFormat.string(v, decimals: decimals)
    }

    /// A strike or other number in its shortest form: `500`, `502.5`.
    static func number(_ v: Double) -> String {
        if v.isFinite, v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
