import Foundation
import OpsModel

/// Seed 000 Phase 1, Step 1: the account tier of a buying power.
///
/// An account is in the first tier (smallest first, `TradingParams.orderedTiers`) whose `max_size` dollars are at
/// or above its buying power (the seed's `buying_power <= max_size`), else in the last tier. The comparison is
/// exact: `max_size` × 100 against integer cents, so with the seed's tiers $2,000.00 is tiny and $2,000.01 small.
/// A tier without `max_size` (the open-ended last one) takes every buying power that reaches it.
///
/// With `account_tiers.enabled` false every account gets the last (largest, most conservative) tier's rules.
public enum Tiering {
    public static func tier(buyingPowerCents: Cents, params: TradingParams) -> (name: String, tier: TradingParams.Tier) {
        let tiers = params.orderedTiers
        if !params.accountTiers.enabled, let last = tiers.last { return (last.0, last.1) }
        for (name, tier) in tiers where fits(buyingPowerCents, tier) {
            return (name, tier)
        }
        if let last = tiers.last { return (last.0, last.1) }
        // Only reachable with hand-built params (loading refuses an empty tier table): the seed's large tier, the
        // most conservative sizing.
        return ("large", TradingParams.AccountTiers.seedTiers["large"]!)
    }

    /// Whether `buyingPowerCents` is at or below the tier's `max_size` (always, for an open-ended tier).
    static func fits(_ buyingPowerCents: Cents, _ tier: TradingParams.Tier) -> Bool {
        guard let maxSize = tier.maxSize else { return true }
        if maxSize.isNaN { return false }
        if maxSize.isInfinite { return maxSize > 0 }
        return Decimal(buyingPowerCents) <= Exact.decimal(maxSize) * 100
    }
}

/// Exact decimal readings of configured Doubles (0.29 is 0.29, not 0.28999999999999998).
enum Exact {
    static func decimal(_ d: Double) -> Decimal {
        Decimal(string: String(d), locale: Locale(identifier: "en_US_POSIX")) ?? Decimal(d)
    }

    /// Configured dollars as exact cents (rounded half up to a cent).
    static func dollarsToCents(_ dollars: Double) -> Cents {
        var value = decimal(dollars) * 100
        var out = Decimal()
        NSDecimalRound(&out, &value, 0, .plain)
        return Cents(truncating: out as NSDecimalNumber)
    }

    /// `d` rounded down to a whole number, as cents.
    static func floorCents(_ d: Decimal) -> Cents { rounded(d, .down) }

    /// `d` rounded up to a whole number, as cents.
    static func ceilCents(_ d: Decimal) -> Cents { rounded(d, .up) }

    private static func rounded(_ d: Decimal, _ mode: NSDecimalNumber.RoundingMode) -> Cents {
        var value = d
        var out = Decimal()
        NSDecimalRound(&out, &value, 0, mode)
        return Cents(truncating: out as NSDecimalNumber)
    }
}
