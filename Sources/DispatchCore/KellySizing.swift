import Foundation
import OpsModel

/// Seed 000 #16: the Kelly criterion from the account's own closed trades.
///
/// Over the last `kelly.lookback_trades` closed trades (n of them): W = wins ÷ n, R = mean win ÷ |mean loss|,
/// f* = W − (1 − W) ÷ R. A win is a realized P&L > 0, a loss < 0. A flat trade (P&L exactly 0) counts in n only:
/// it lowers W (a trade that earned nothing is not a win) without moving either mean.
/// - No losses: R is infinite and f* = W.
/// - No wins: R = 0 and f* = −∞ (with losses) or 0 (only flat trades); either way no edge.
///
/// Kelly is used only from `kelly.min_trades` closed trades on; before that the tier's risk % sizes the trade.
public struct KellyEstimate: Sendable, Equatable {
    /// Closed trades in the window (at most `kelly.lookback_trades`).
    public var n: Int
    public var wins: Int
    public var losses: Int
    /// W, in [0, 1] (0 when n = 0).
    public var winRate: Double
    /// R: `.infinity` with wins and no losses, 0 with no wins, nil with neither (no ratio to speak of).
    public var payoffRatio: Double?
    /// f*: in (−∞, 1]; `-.infinity` with losses and no wins. Not JSON-encodable when infinite: record it as null.
    public var fStar: Double
    /// Whether Kelly sized the trade: n ≥ `kelly.min_trades`.
    public var used: Bool
}

public enum Kelly {
    public static func estimate(closedTradePnlsCents: [Cents], params: TradingParams) -> KellyEstimate {
        Tally(closedTradePnlsCents, params: params).estimate
    }

    /// Kelly sizing (see `SizingMethod`): the tier's rules with a risk fraction of min(f* × `kelly.fraction`, the
    /// tier's risk %); no trade when f* ≤ 0; the tier's risk % alone before `kelly.min_trades` closed trades.
    static func size(_ inputs: SizingInputs, params: TradingParams) -> SizingResult {
        let tally = Tally(inputs.closedTradePnlsCents, params: params)
        let estimate = tally.estimate
        guard estimate.used else {
            let why = "kelly needs \(params.kelly.minTrades) closed trades, has \(estimate.n): tier %"
            return SizingMethod.tier(inputs, params: params, because: why)
        }
        let sheet = SizingSheet(buyingPowerCents: inputs.buyingPowerCents, premiumCents: inputs.premiumCents,
                                strategy: inputs.strategy.rawValue, params: params)
        let stats = "W=\(Fmt.fixed(estimate.winRate, 2)), R=\(ratio(estimate.payoffRatio)), n=\(estimate.n)"
        guard let f = tally.fStar, f.numerator > 0 else {
            var r = sheet.result(riskPct: 0, riskCents: 0, contracts: 0, rule: false,
                                 suffix: ", Sizing: kelly f=\(fixed(estimate.fStar)) ≤ 0 (\(stats)): no edge, no trade")
            r.method = "kelly"
            return r
        }
        let tierRisk = Sizing.riskFraction(tier: sheet.tier, strategy: inputs.strategy.rawValue, params: params)
        let fraction = Exact.decimal(params.kelly.fraction)
        let bp = Decimal(inputs.buyingPowerCents)
        let kellyPct = double(f.numerator * fraction, f.denominator)
        let head = "Sizing: kelly f=\(fixed(estimate.fStar)) (\(stats)) × \(params.kelly.fraction) = \(Fmt.fixed(kellyPct * 100, 2))%"
        var r: SizingResult
        // f* × fraction against the tier's %, cross-multiplied so the comparison is exact.
        if f.numerator * fraction < tierRisk.exact * f.denominator {
            // One division, last, so a budget that is a whole number of cents is not rounded below it.
            let budget = Exact.floorCents(f.numerator * fraction * bp / f.denominator)
            r = Sizing.byBudget(sheet, riskPct: kellyPct, riskCents: budget, params: params)
            r.rationale += ", " + head
        } else {
            let budget = Exact.floorCents(tierRisk.exact * bp)
            r = Sizing.byBudget(sheet, riskPct: tierRisk.pct, riskCents: budget, params: params)
            r.rationale += ", " + head + ", capped at the tier's \(Fmt.fixed(tierRisk.pct * 100, 1))%"
        }
        r.method = "kelly"
        return r
    }

    static func fixed(_ f: Double) -> String { f == -.infinity ? "-∞" : Fmt.fixed(f, 3) }
    static func ratio(_ r: Double?) -> String { r.map { $0.isInfinite ? "∞" : Fmt.fixed($0, 2) } ?? "n/a" }
    static func double(_ numerator: Decimal, _ denominator: Decimal) -> Double {
        NSDecimalNumber(decimal: numerator / denominator).doubleValue
    }

    /// The window's counts and sums, in exact integers.
    struct Tally {
        var n = 0, wins = 0, losses = 0
        var winSum: Decimal = 0, lossSum: Decimal = 0   // lossSum is |sum of losses|
        let minTrades: Int

        init(_ pnls: [Cents], params: TradingParams) {
            minTrades = params.kelly.minTrades
            for p in pnls.suffix(max(params.kelly.lookbackTrades, 0)) {
                n += 1
                if p > 0 { wins += 1; winSum += Decimal(p) } else if p < 0 { losses += 1; lossSum -= Decimal(p) }
            }
        }

        /// f* = W − (1 − W)·(lossSum/losses)/(winSum/wins) = wins·(losses·winSum − (n − wins)·lossSum) ÷ (n·losses·winSum),
        /// as an exact fraction with a positive denominator; wins ÷ n when there are no losses (f* = W). Nil when there
        /// are no wins (f* ≤ 0, and −∞ with losses).
        var fStar: (numerator: Decimal, denominator: Decimal)? {
            guard wins > 0 else { return nil }
            guard losses > 0 else { return (Decimal(wins), Decimal(n)) }
            let numerator = Decimal(wins) * (Decimal(losses) * winSum - Decimal(n - wins) * lossSum)
            return (numerator, Decimal(n) * Decimal(losses) * winSum)
        }

        var estimate: KellyEstimate {
            let w = n > 0 ? Double(wins) / Double(n) : 0
            let r: Double? = switch (wins > 0, losses > 0) {
            case (true, true): double(winSum * Decimal(losses), lossSum * Decimal(wins))
            case (true, false): .infinity
            case (false, true): 0
            case (false, false): nil
            }
            let f: Double = fStar.map { double($0.numerator, $0.denominator) } ?? (losses > 0 ? -.infinity : 0)
            return KellyEstimate(n: n, wins: wins, losses: losses, winRate: w, payoffRatio: r, fStar: f, used: n >= minTrades)
        }
    }
}
