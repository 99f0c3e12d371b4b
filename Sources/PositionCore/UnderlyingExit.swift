import Foundation
import OpsModel

/// Seed 000 question 2, "underlying-based": the stop and the target are prices of the underlying, set at entry as
/// ATR14 multiples away from the underlying's entry price (the signal's price for an option, the fill for shares).
/// A call or shares stop below and target above; a put the other way round. A position whose entry has no ATR
/// (warm-up) or no recorded underlying price uses the premium rule given as `fallback`, and says so.
enum UnderlyingExit {
    /// The levels of a position in dollars: (stop, target), or nil without ATR or entry price.
    static func levels(_ p: OpenPosition, _ x: TradingParams.ExitParams) -> (stop: Double, target: Double, entry: Double, atr: Double)? {
        guard let atr = p.atr14, atr > 0, let entry = entryPrice(p) else { return nil }
        let side: Double = p.direction == .bull ? 1 : -1
        return (entry - side * x.underlyingStopAtr * atr, entry + side * x.underlyingTargetAtr * atr, entry, atr)
    }

    static func entryPrice(_ p: OpenPosition) -> Double? {
        p.assetClass == .equity ? Double(p.entryPriceCents) / 100 : p.entryUnderlyingPrice
    }

    static func stop(_ x: TradingParams.ExitParams, fallback: ExitRule) -> ExitRule {
        ExitRule(name: "stop_loss") { c in
            guard let l = levels(c.position, x) else { return fallback.evaluate(c).map(noATR) }
            guard let u = c.underlyingPrice else { return nil }
            let bull = c.position.direction == .bull
            guard bull ? u <= l.stop : u >= l.stop else { return nil }
            return ExitSignal(rule: "stop_loss", detail: "stop_loss: underlying \(usd(u)) \(bull ? "≤" : "≥") \(usd(l.stop)) (entry \(usd(l.entry)) \(bull ? "−" : "+") \(num(x.underlyingStopAtr)) × ATR14 \(usd(l.atr)))")
        }
    }

    static func target(_ x: TradingParams.ExitParams, partial: Bool, fraction: Double, fallback: ExitRule) -> ExitRule {
        ExitRule(name: "profit_target") { c in
            guard let l = levels(c.position, x) else { return fallback.evaluate(c).map(noATR) }
            guard let u = c.underlyingPrice else { return nil }
            let bull = c.position.direction == .bull
            guard bull ? u >= l.target : u <= l.target else { return nil }
            let s = ExitSignal(rule: "profit_target", detail: "profit_target: underlying \(usd(u)) \(bull ? "≥" : "≤") \(usd(l.target)) (entry \(usd(l.entry)) \(bull ? "+" : "−") \(num(x.underlyingTargetAtr)) × ATR14 \(usd(l.atr)))")
            return partial ? PartialExit.split(s, c, fraction: fraction) : s
        }
    }

    static func noATR(_ s: ExitSignal) -> ExitSignal {
        var s = s
        s.detail += " (premium rule: no ATR14 or underlying price recorded at entry)"
        return s
    }

    static func usd(_ v: Double) -> String { "$" + FixedFormat.string(v, decimals: 2) }
    static func num(_ v: Double) -> String { v == v.rounded() ? FixedFormat.string(v, decimals: 1) : String(v) }
}
