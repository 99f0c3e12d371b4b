import OpsModel

/// The simulator's fill model (`execution.fill_model`, README "Fills"): at what price, if any, an open order
/// executes against one quote (options) or one bar (stock) strictly after the order's time.
///
/// `limit` (default) treats the order as resting at its limit: it never pays through the quote, and an
/// unchanged quote fills it at the price the dispatcher chose (the mid on a tick). So paper results depend
/// neither on the quote moving against the signal (the old `mid` model's selection bias) nor on a price no one
/// quoted. `mid` and `cross` remain as the older, harsher alternatives.
extension SimulatedBroker {

    /// The per-share price in cents at which an option order with limit `limitCents` fills against a quote, or
    /// nil when it rests. The quote needs a bid and an ask (> 0).
    public static func optionFillCents(side: OrderSide, limitCents: Cents, bid: Double, ask: Double, underlying: String,
                                       execution: TradingParams.ExecutionParams) -> Cents? {
        switch execution.fillModel {
        case "mid", "cross":
            let p = fillPriceCents(side: side, bid: bid, ask: ask, underlying: underlying, execution: execution)
            return side == .buy ? (p <= limitCents ? p : nil) : (p >= limitCents ? p : nil)
        default:
            return limitFillCents(side: side, limitCents: limitCents, bid: bid, ask: ask, underlying: underlying, ticks: execution.ticks)
        }
    }

    /// `limit`: a buy with limit L fills at the ask when L ≥ ask (a marketable limit takes the offer), at L when L
    /// is at or above the mid (the mid rounded down to a valid tick: the best a resting bid on the grid can be),
    /// and otherwise rests; a sell mirrors it (L ≤ bid → the bid; L ≤ the mid rounded up → L). So a buy never
    /// fills below the bid or above the ask, nor a sell, and an unchanged quote fills a limit at the mid at that
    /// limit. A quote off the tick grid is narrowed to the valid ticks inside it; when none is, nothing fills.
    public static func limitFillCents(side: OrderSide, limitCents: Cents, bid: Double, ask: Double, underlying: String,
                                      ticks: TickRule) -> Cents? {
        let bidTick = ticks.cents(bid, underlying: underlying, rounding: .up)
        let askTick = ticks.cents(ask, underlying: underlying, rounding: .down)
        guard bidTick <= askTick else { return nil }
        let mid = (bid + ask) / 2
        switch side {
        case .buy:
            if limitCents >= askTick { return askTick }
            let floor = max(bidTick, ticks.cents(mid, underlying: underlying, rounding: .down))
            return limitCents >= floor ? limitCents : nil
        case .sell:
            if limitCents <= bidTick { return bidTick }
            let ceiling = min(askTick, ticks.cents(mid, underlying: underlying, rounding: .up))
            return limitCents <= ceiling ? limitCents : nil
        }
    }

    /// `mid` and `cross` (the price before the limit is checked). `mid`: buys at the mid plus slippage rounded up
    /// to a valid tick, sells at the mid minus slippage rounded down; `cross`: buys at the ask plus slippage
    /// (rounded up to a tick), sells at the bid minus slippage (rounded down). Never below one tick.
    public static func fillPriceCents(side: OrderSide, bid: Double, ask: Double, underlying: String,
                                      execution: TradingParams.ExecutionParams) -> Cents {
        let reference = execution.fillModel == "cross" ? (side == .buy ? ask : bid) : (bid + ask) / 2
        // Slippage moves the price against the trader, then the price lands on a valid tick (again against the
        // trader): an execution price is always one the exchange could print.
        let slip = Double(execution.slippageCents) / 100
        switch side {
        case .buy:
            return execution.ticks.cents(reference + slip, underlying: underlying, rounding: .up)
        case .sell:
            return execution.ticks.cents(max(0.01, reference - slip), underlying: underlying, rounding: .down)
        }
    }

    /// A stock order against the first bar after it (whatever `fill_model`): a buy with limit L ≥ the bar's open
    /// fills at the open (it was marketable when the bar began); else, when the bar traded down to L (low ≤ L),
    /// at L; else it rests. A sell mirrors it with the high. Prices are whole cents, rounded against the trader.
    public static func stockFillCents(side: OrderSide, limitCents: Cents, bar: Bar) -> Cents? {
        guard bar.high <= maxUsableQuote else { return nil }
        switch side {
        case .buy:
            let open = Ticks.cents(bar.open, tick: 1, rounding: .up)
            if limitCents >= open { return open }
            return Ticks.cents(bar.low, tick: 1, rounding: .up) <= limitCents ? limitCents : nil
        case .sell:
            let open = Ticks.cents(bar.open, tick: 1, rounding: .down)
            if limitCents <= open { return open }
            return Ticks.cents(bar.high, tick: 1, rounding: .down) >= limitCents ? limitCents : nil
        }
    }
}
