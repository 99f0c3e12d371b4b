import OpsModel

/// The limit price of an entry order.
public enum OrderPricing {
    /// `mid` rounded to the nearest valid tick for `underlying` (a penny for penny-pilot names and under $3, a
    /// nickel otherwise; halves away from zero), in cents, at least one tick.
    public static func limitPriceCents(mid: Double, underlying: String, params: TradingParams) -> Cents {
        let tick = Ticks.tickCents(price: mid, underlying: underlying, pennyPilot: params.execution.pennyPilot)
        return Ticks.cents(mid, tick: tick, rounding: .nearest)
    }
}
