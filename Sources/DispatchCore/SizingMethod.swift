import Foundation
import OpsModel

/// What sizing an option entry can draw on, whatever `sizing.method` is configured.
public struct SizingInputs: Sendable {
    public var buyingPowerCents: Cents
    /// The limit price per share.
    public var premiumCents: Cents
    public var strategy: TradeStrategy
    /// The account's closed trades' realized P&L, oldest first, all of them (Kelly takes the last `lookback_trades`).
    public var closedTradePnlsCents: [Cents]
    /// |delta| of the chosen contract; nil when unknown.
    public var absDelta: Double?
    /// The underlying's 1-minute ATR14 at the signal, in dollars; nil during warm-up.
    public var atr14: Double?

    public init(buyingPowerCents: Cents, premiumCents: Cents, strategy: TradeStrategy, closedTradePnlsCents: [Cents] = [],
                absDelta: Double? = nil, atr14: Double? = nil) {
        self.buyingPowerCents = buyingPowerCents; self.premiumCents = premiumCents; self.strategy = strategy
        self.closedTradePnlsCents = closedTradePnlsCents; self.absDelta = absDelta; self.atr14 = atr14
    }
}

/// Seed 000 Phase 4 #16–17: how many contracts an option entry buys, by `sizing.method`.
///
/// - `tier`: `Sizing.size`, the tier's risk % of buying power spent on premium.
/// - `kelly`: the tier's rules with the risk % lowered to f* × `kelly.fraction` when that is smaller (`Kelly`).
/// - `atr`: contracts from the loss at an ATR stop (`ATRSizing`).
///
/// Whatever the method, the tier's risk % and `max_contracts` are ceilings. The rationale is the seed's line, which
/// always starts `Tier: `, extended with `, Sizing: …` for a method other than the tier's (and for the tier's when
/// another method fell back to it, naming why). `SizingResult.method` records the method that sized the trade:
/// `tier` when Kelly or ATR fell back to it, so `risk_pct` and the contracts always read in that method's terms.
/// An unknown method (only hand-built params; loading refuses one) sizes by tier.
public enum SizingMethod {
    public static func size(_ inputs: SizingInputs, params: TradingParams) -> SizingResult {
        switch params.sizing.method {
        case "kelly": Kelly.size(inputs, params: params)
        case "atr": ATRSizing.size(inputs, params: params)
        default: Sizing.size(buyingPowerCents: inputs.buyingPowerCents, premiumCents: inputs.premiumCents,
                             strategy: inputs.strategy, params: params)
        }
    }

    /// The tier method standing in for another, the reason appended to its line.
    static func tier(_ inputs: SizingInputs, params: TradingParams, because reason: String) -> SizingResult {
        var r = Sizing.size(buyingPowerCents: inputs.buyingPowerCents, premiumCents: inputs.premiumCents,
                            strategy: inputs.strategy, params: params)
        r.rationale += ", Sizing: " + reason
        return r
    }
}
