import OpsModel

/// What an exit sell is priced against at one input: an option's bid and bid–ask spread, or, for a stock
/// position, the 1-minute bar's close and its range (a bar has no quote, so its high − low stands in for the
/// spread a sell may have to give up).
public struct ExitQuote: Sendable, Equatable {
    /// Per share, cents: the bid, or the bar's close. Always > 0.
    public var referenceCents: Cents
    /// Cents ≥ 0: ask − bid, or high − low.
    public var spreadCents: Cents
    /// `bid` or `close`, for the order's reason.
    public var label: String

    public init(referenceCents: Cents, spreadCents: Cents, label: String) {
        self.referenceCents = referenceCents; self.spreadCents = max(0, spreadCents); self.label = label
    }

    /// An option quote a sell can be placed against (a usable ask and a bid > 0), else nil.
    static func option(_ q: OptionQuote) -> ExitQuote? {
        guard PositionManagerCore.markCents(q) != nil, q.bid > 0 else { return nil }
        let bid = cents(q.bid), ask = cents(q.ask)
        guard bid > 0 else { return nil }
        return ExitQuote(referenceCents: bid, spreadCents: ask - bid, label: "bid")
    }

    static func stock(_ bar: Bar) -> ExitQuote? {
        guard bar.close <= PositionManagerCore.maxUsableQuote, bar.high <= PositionManagerCore.maxUsableQuote else { return nil }
        let close = cents(bar.close)
        guard close > 0 else { return nil }
        return ExitQuote(referenceCents: close, spreadCents: cents(bar.high) - cents(bar.low), label: "close")
    }

    /// Dollars to the nearest cent (quotes are bounded by `maxUsableQuote` before this is called).
    static func cents(_ dollars: Double) -> Cents { Cents((dollars * 100).rounded()) }
}

/// How an unfilled exit is worked: re-priced at every new quote of its instrument, from the bid toward crossing,
/// so that a stop never sits unfilled while the price falls away from it.
///
/// Step 0 is the bid (rounded down to a valid tick). Step k of N (`exits.reprice_steps`) is
/// `bid − k × ⌈spread / N⌉` (the new quote's bid and spread), rounded down to a valid tick; from step N on the
/// limit is one tick: a marketable sell that takes whatever the bid is. A walk that would go to or below zero
/// before step N is marketable too.
public enum ExitPricing {
    /// The limit of `step` (0-based) of a walk of `steps`, in cents, on `underlying`'s tick grid (options) or
    /// whole cents (stock). Always a valid, positive price.
    public static func limitCents(step: Int, steps: Int, quote: ExitQuote, underlying: String, assetClass: AssetClass,
                                  ticks: TickRule) -> Cents {
        let one = oneTick(underlying: underlying, assetClass: assetClass, ticks: ticks)
        if step >= steps { return one }
        let raw = quote.referenceCents - Cents(step) * stepCents(spreadCents: quote.spreadCents, steps: steps)
        guard raw > 0 else { return one }
        return roundedDown(raw, underlying: underlying, assetClass: assetClass, ticks: ticks)
    }

    /// The smallest valid limit: a marketable sell.
    public static func oneTick(underlying: String, assetClass: AssetClass, ticks: TickRule) -> Cents {
        assetClass == .option ? ticks.tickCents(price: 0.01, underlying: underlying) : 1
    }

    /// `cents` rounded down to a valid tick at that price (at least one tick).
    static func roundedDown(_ cents: Cents, underlying: String, assetClass: AssetClass, ticks: TickRule) -> Cents {
        guard assetClass == .option else { return max(1, cents) }
        return ticks.cents(Double(cents) / 100, underlying: underlying, rounding: .down)
    }

    /// ⌈spread / steps⌉ in cents: how far each step walks below the bid.
    public static func stepCents(spreadCents: Cents, steps: Int) -> Cents {
        let n = Cents(max(1, steps))
        return (max(0, spreadCents) + n - 1) / n
    }
}
