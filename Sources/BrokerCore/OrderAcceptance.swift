import OpsModel

/// Order commands: accepted (a buy's cost reserved) or rejected with the reason; replacements.
extension SimulatedBroker {

    mutating func onOrder(_ order: OrderCommand, _ message: AnyEnvelope) -> [Emit] {
        let key = OrderKey(accountId: order.accountId, clientOrderId: order.clientOrderId)
        if let prior = state.seen[key] {
            // A retried or replayed order is never placed twice; a different order reusing the id is refused. The
            // refusal's id names this input, so it can never clash with the original order's own events.
            if prior == order { return [] }
            let reason = order.accountId == accountId
                ? "duplicate client_order_id with different content"
                : unknownAccountReason(order.accountId)
            return [rejectNamingInput(order, reason, message)]
        }
        state.seen[key] = order

        guard order.accountId == accountId else {
            // Another account's client order ids are not ours to keep unique against ours: name the input.
            return [rejectNamingInput(order, unknownAccountReason(order.accountId), message)]
        }
        if let replaced = order.replacesClientOrderId { return replace(replaced, with: order, message) }
        return place(order, message)
    }

    /// A replacement cancels the still-open order it names and takes its place, or is rejected (and the named
    /// order keeps working) when that order is no longer open or the replacement itself cannot be accepted.
    private mutating func replace(_ replacedId: String, with order: OrderCommand, _ message: AnyEnvelope) -> [Emit] {
        guard let j = state.open.firstIndex(where: { $0.command.clientOrderId == replacedId }) else {
            return [reject(order, "replaces \(replacedId), which is not open at the broker (filled, cancelled or unknown)", message)]
        }
        let old = state.open[j]
        guard old.symbol == Self.canonical(order.symbol), old.command.side == order.side, old.command.intent == order.intent else {
            return [reject(order, "a replacement must keep the contract, side and intent of \(replacedId)", message)]
        }
        state.open.remove(at: j)
        state.reserved -= old.reservedCents
        let placed = place(order, message)
        guard placed.contains(where: { ($0.envelope.payload as? OrderEvent)?.status == .accepted }) else {
            state.open.insert(old, at: j)
            state.reserved += old.reservedCents
            return placed
        }
        let cancelled = orderEvent(old.command, .cancelled, filledQuantity: old.filled,
                                   reason: "replaced by \(order.clientOrderId) (\(old.filled) of \(old.command.quantity) filled)", cause: message)
        return [cancelled] + placed
    }

    private mutating func place(_ order: OrderCommand, _ message: AnyEnvelope) -> [Emit] {
        if let why = unacceptable(order, at: message.eventTime) { return [reject(order, why, message)] }
        switch (order.side, order.intent) {
        case (.buy, .open):
            return placeBuy(order, message)
        case (.sell, .close):
            return placeSell(order, message)
        case (.buy, .close), (.sell, .open):
            return [reject(order, "\(order.side.rawValue) to \(order.intent.rawValue) is not supported: the simulator opens long positions with buys and closes them with sells", message)]
        }
    }

    /// What an exchange would refuse outright: a stock order not on its ticker, an option past its expiration
    /// day's close, a limit off the tick grid.
    private func unacceptable(_ order: OrderCommand, at t: Timestamp) -> String? {
        switch order.assetClass {
        case .equity:
            if order.symbol != order.underlying { return "a stock order's symbol must be its ticker (\(order.symbol) ≠ \(order.underlying))" }
            return nil
        case .option:
            if let occ = OCCSymbol(order.symbol), MarketCalendar.close(of: occ.expiration) <= t {
                return "contract expired at the \(occ.expiration) close"
            }
            let ticks = params.execution.ticks
            if !ticks.isValid(order.limitPriceCents, underlying: order.underlying) {
                let tick = ticks.tickCents(price: Double(order.limitPriceCents) / 100, underlying: order.underlying)
                return "limit \(Money.dollars(order.limitPriceCents)) is not on a valid tick (\(Money.dollars(tick)) for \(order.underlying) at that price)"
            }
            return nil
        }
    }

    private mutating func placeBuy(_ order: OrderCommand, _ message: AnyEnvelope) -> [Emit] {
        guard let cost = reservation(order, quantity: order.quantity) else {
            return [reject(order, "order too large: limit \(Money.dollars(order.limitPriceCents)) × \(Self.multiplier(order.assetClass)) × \(order.quantity) does not fit in an account", message)]
        }
        let buyingPower = state.cash - state.reserved
        guard cost <= buyingPower else {
            return [reject(order, "insufficient buying power: need \(Money.dollars(cost)), have \(Money.dollars(buyingPower))", message)]
        }
        state.open.append(OpenOrder(command: order, symbol: Self.canonical(order.symbol), orderTime: message.eventTime, reservedCents: cost))
        state.reserved += cost
        return [orderEvent(order, .accepted, reason: "accepted: \(Money.dollars(cost)) reserved", cause: message), snapshot(cause: message)]
    }

    private mutating func placeSell(_ order: OrderCommand, _ message: AnyEnvelope) -> [Emit] {
        let symbol = Self.canonical(order.symbol)
        let held = state.holdings[symbol]?.quantity ?? 0
        let committed = state.open.reduce(0) { $1.command.side == .sell && $1.symbol == symbol ? $0 + $1.remaining : $0 }
        guard held - committed >= order.quantity else {
            return [reject(order, "no position to sell: \(order.quantity) × \(order.symbol) wanted, \(held) held, \(committed) already committed to open sells", message)]
        }
        state.open.append(OpenOrder(command: order, symbol: symbol, orderTime: message.eventTime, reservedCents: 0))
        return [orderEvent(order, .accepted, reason: "accepted", cause: message), snapshot(cause: message)]
    }

    /// What `quantity` of a buy holds back: (limit × multiplier + commission + fees) × quantity; nil on overflow.
    /// Linear in the quantity, so the reservation left after each piece is exact.
    func reservation(_ order: OrderCommand, quantity: Int) -> Cents? {
        let costs = unitCosts(order.assetClass)
        guard let notional = Checked.mul(order.limitPriceCents, Self.multiplier(order.assetClass)),
              let unit = Checked.add(notional, costs.commission + costs.fees) else { return nil }
        return Checked.mul(unit, Cents(quantity))
    }

    private func unknownAccountReason(_ other: String) -> String {
        "unknown account '\(other)' (this broker holds account '\(accountId)')"
    }

    private func reject(_ order: OrderCommand, _ reason: String, _ message: AnyEnvelope) -> Emit {
        orderEvent(order, .rejected, reason: reason, cause: message)
    }

    private func rejectNamingInput(_ order: OrderCommand, _ reason: String, _ message: AnyEnvelope) -> Emit {
        orderEvent(order, .rejected, reason: reason, id: DeterministicID.make("order-event", order.clientOrderId, "rejected", message.id), cause: message)
    }
}
