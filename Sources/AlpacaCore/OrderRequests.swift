import OpsModel

/// Our order command as Alpaca's `POST /v2/orders` body: the deterministic client order id, the position intent
/// (without it Alpaca once read a buy as a covered-call sell), the limit price as a string on the contract's tick,
/// `time_in_force` `day`, whole contracts.
extension Alpaca {
    public struct RequestError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public static func orderRequest(_ c: OrderCommand, ticks: TickRule) throws(RequestError) -> OrderRequest {
        guard c.quantity > 0 else { throw RequestError(description: "quantity \(c.quantity) is not a whole positive number") }
        guard c.clientOrderId.utf8.count <= 128 else { throw RequestError(description: "client order id longer than Alpaca's 128 characters") }
        guard c.limitPriceCents > 0 else { throw RequestError(description: "limit price \(c.limitPriceCents)¢ is not positive") }
        let symbol: String
        let tick: Cents
        switch c.assetClass {
        case .option:
            guard let occ = OCCSymbol(c.symbol) else { throw RequestError(description: "'\(c.symbol)' is not an OCC option symbol") }
            symbol = occ.description   // Alpaca spells contracts compact: SPY240320C00510000
            tick = ticks.tickCents(price: Double(c.limitPriceCents) / 100, underlying: c.underlying)
        case .equity:
            symbol = c.symbol
            tick = 1
        }
        guard c.limitPriceCents % tick == 0 else {
            throw RequestError(description: "limit \(WireDecimal.price(cents: c.limitPriceCents)) is off the \(tick)¢ tick of \(c.symbol)")
        }
        return OrderRequest(symbol: symbol, qty: String(c.quantity), side: c.side.rawValue, type: "limit", timeInForce: "day",
                            limitPrice: WireDecimal.price(cents: c.limitPriceCents), clientOrderId: c.clientOrderId,
                            positionIntent: positionIntent(side: c.side, intent: c.intent))
    }

    public static func positionIntent(side: OrderSide, intent: OrderIntent) -> String {
        switch (side, intent) {
        case (.buy, .open): "buy_to_open"
        case (.buy, .close): "buy_to_close"
        case (.sell, .open): "sell_to_open"
        case (.sell, .close): "sell_to_close"
        }
    }

    /// The symbol as our topics spell it: option contracts in compact OCC form, tickers as they are.
    public static func canonicalSymbol(_ symbol: String) -> String { OCCSymbol(symbol)?.description ?? symbol }
}
