import OpsModel

/// The limit price of an entry order.
public enum OrderPricing {
    /// `mid` rounded to the nearest valid tick for `underlying` (`TickRule`; halves away from zero), in cents,
    /// at least one tick.
    public static func limitPriceCents(mid: Double, underlying: String, params: TradingParams) -> Cents {
        params.execution.ticks.cents(mid, underlying: underlying, rounding: .nearest)
    }
}
