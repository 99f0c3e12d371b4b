import Foundation
import OpsModel

/// Seed 000 #17: ATR-adjusted sizing, contracts from what one contract loses if the underlying moves to an ATR stop.
///
/// - Risk $: the tier's risk % × buying power, exactly, rounded down to a cent (the tier method's budget).
/// - Expected loss per contract: |delta| × `sizing.atr_stop_multiple` × ATR14 × 100 shares, in cents rounded UP so
///   the risk is never understated. The delta approximation is first order: the option moves |delta| per dollar of
///   the underlying.
/// - Contracts: risk $ ÷ expected loss, rounded down, capped at `max_contracts`; 0 when that is 0. There is no
///   minimum-contract rule: the budget here bounds a loss, and one contract past it would risk more than the tier
///   allows at the stop.
///
/// So the tier's risk % bounds the loss at the ATR stop, not the premium paid: a low-delta, low-ATR contract can
/// buy premium well beyond the tier's risk budget. That premium is bounded by the dispatcher's buying-power and
/// exposure gates, which every entry passes after sizing.
///
/// Without a usable |delta| or ATR14 (unknown, not positive, not finite: ATR14 is unknown during warm-up) the tier
/// method sizes the trade and the rationale says why.
public enum ATRSizing {
    /// One contract's expected loss at the stop in cents (rounded up), or nil when an input is unusable.
    public static func expectedLossCents(absDelta: Double?, atr14: Double?, params: TradingParams) -> Cents? {
        guard let delta = usable(absDelta), let atr = usable(atr14) else { return nil }
        let dollars = Exact.decimal(delta) * Exact.decimal(params.sizing.atrStopMultiple) * Exact.decimal(atr) * 100
        var cents = dollars * 100
        guard cents < Decimal(Cents.max) else { return Cents.max }
        var up = Decimal()
        NSDecimalRound(&up, &cents, 0, .up)
        // A positive loss too small for Decimal still costs a cent, so the division below is defined.
        return max(Cents(truncating: up as NSDecimalNumber), 1)
    }

    static func size(_ inputs: SizingInputs, params: TradingParams) -> SizingResult {
        guard let loss = expectedLossCents(absDelta: inputs.absDelta, atr14: inputs.atr14, params: params),
              let delta = inputs.absDelta, let atr = inputs.atr14 else {
            let why = [problem("|Δ|", inputs.absDelta), problem("ATR14", inputs.atr14)].compactMap { $0 }.joined(separator: ", ")
            return SizingMethod.tier(inputs, params: params, because: "atr needs |Δ| and ATR14, \(why): tier %")
        }
        let sheet = SizingSheet(buyingPowerCents: inputs.buyingPowerCents, premiumCents: inputs.premiumCents,
                                strategy: inputs.strategy.rawValue, params: params)
        let risk = Sizing.riskFraction(tier: sheet.tier, strategy: inputs.strategy.rawValue, params: params)
        let budget = Exact.floorCents(risk.exact * Decimal(inputs.buyingPowerCents))
        let byRisk = budget > 0 ? budget / loss : 0
        let contracts = sheet.premiumCents > 0 ? Int(min(byRisk, Cents(max(sheet.maxContracts, 0)))) : 0
        let formula = "|Δ| \(Fmt.fixed(delta, 3)) × \(params.sizing.atrStopMultiple) × ATR $\(Fmt.fixed(atr, 4)) × 100"
        var suffix = ", Sizing: atr risk \(Fmt.budget(budget)) ÷ expected loss \(Fmt.dollarsAndCents(loss))/contract (\(formula))"
            + " = \(byRisk) contracts by risk"
        if byRisk == 0 { suffix += ", no minimum-contract rule" }
        var r = sheet.result(riskPct: risk.pct, riskCents: budget, contracts: contracts, rule: false, suffix: suffix)
        r.method = "atr"
        return r
    }

    static func usable(_ v: Double?) -> Double? {
        guard let v, v.isFinite, v > 0 else { return nil }
        return v
    }

    /// Why an input cannot be used, or nil when it can.
    static func problem(_ name: String, _ v: Double?) -> String? {
        guard let v else { return "\(name) unknown" }
        return usable(v) == nil ? "\(name) = \(v) is not a positive number" : nil
    }
}
