import Foundation
import OpsModel

/// Seed 000 #20: at the first target sell part of the position, keep the rest with its stop at breakeven, trailing.
public enum PartialExit {
    /// Contracts to sell at the first target out of `held`: `fraction` of them, half up, but at least one and so that
    /// at least one stays. Nil when only one is held: a single contract cannot be split and exits whole.
    public static func quantity(held: Int, fraction: Double) -> Int? {
        guard held >= 2 else { return nil }
        let share = Exact.rounded(Decimal(held) * Exact.decimal(fraction), .plain)
        return Int(min(max(share, 1), Cents(held - 1)))
    }

    /// The premium-style first target: `profit_target` exits whole, or with partial exits on and more than one
    /// held, `partial_exit` sells `partial_fraction` of them.
    static func premiumTarget(_ x: TradingParams.ExitParams) -> ExitRule {
        let whole = ExitRule.profitTarget(fraction: x.profitTargetPct)
        guard x.partialExit else { return whole }
        return ExitRule(name: "profit_target") { c in
            guard let s = whole.evaluate(c) else { return nil }
            return split(s, c, fraction: x.partialFraction)
        }
    }

    /// A target's signal made partial when more than one is held.
    static func split(_ s: ExitSignal, _ c: ExitContext, fraction: Double) -> ExitSignal {
        let held = c.position.remainingQuantity
        guard let q = quantity(held: held, fraction: fraction) else {
            return ExitSignal(rule: s.rule, detail: s.detail + "; 1 held: exits whole")
        }
        let detail = s.detail.replacingOccurrences(of: "\(s.rule):", with: "partial_exit:")
            + "; sell \(q) of \(held) (\(Exact.percentText(Exact.decimal(fraction)))%), the rest's stop to breakeven, trailing"
        return ExitSignal(rule: "partial_exit", detail: detail, quantity: q)
    }
}

/// Seed 000 #13: stops that follow the position's best mark.
extension ExitRule {
    /// `trailing_stop`: once the high-water mark is `activation` above entry (or a partial exit was taken), exit when
    /// the mark falls to `trail` below the high-water mark (the largest whole cent at or below it).
    public static func trailingStop(activation: Double, trail: Double) -> ExitRule {
        let a = Exact.decimal(activation), f = Exact.decimal(trail)
        return ExitRule(name: "trailing_stop") { c in
            let p = c.position
            guard let mark = c.markCents, let high = p.highWaterCents else { return nil }
            let armedAt = profitTargetThresholdCents(entryCents: p.entryPriceCents, fraction: a)
            guard p.partialTaken || high >= armedAt else { return nil }
            let level = stopLossThresholdCents(entryCents: high, fraction: f)
            guard mark <= level else { return nil }
            let armed = p.partialTaken ? "after the partial exit" : "armed at \(Money.dollars(armedAt)) (entry + \(Exact.percentText(a))%)"
            return ExitSignal(rule: "trailing_stop", detail: "trailing_stop: mark \(Money.dollars(mark)) ≤ \(Money.dollars(level)) (high \(Money.dollars(high)) − \(Exact.percentText(f))%; \(armed))")
        }
    }

    /// `breakeven_stop`: after a partial exit, the rest exits when the mark falls back to the entry price.
    public static func breakevenStop() -> ExitRule {
        ExitRule(name: "breakeven_stop") { c in
            let p = c.position
            guard p.partialTaken, let mark = c.markCents, mark <= p.entryPriceCents else { return nil }
            return ExitSignal(rule: "breakeven_stop", detail: "breakeven_stop: mark \(Money.dollars(mark)) ≤ entry \(Money.dollars(p.entryPriceCents)) after the partial exit")
        }
    }
}
