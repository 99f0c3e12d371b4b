import OpsModel

/// The simulator's exchange: marks, order expiry (TTL, day), and fills in pieces against chains and bars.
extension SimulatedBroker {

    /// What one quote or bar executes of an order.
    struct Piece {
        var priceCents: Cents
        var quantity: Int
        /// The quote (options) or the bar's low and high (stock) it executed against.
        var bid: Double
        var ask: Double
        /// The holding's new mark, when this input gives one.
        var markCents: Cents?
    }

    mutating func onChain(_ chain: OptionChain, _ message: AnyEnvelope) -> [Emit] {
        // Only contracts of this underlying held or ordered matter: a chain of hundreds mostly concerns nobody.
        var wanted = Set<String>()
        for (symbol, h) in state.holdings where h.underlying == chain.underlying { wanted.insert(symbol) }
        for o in state.open where o.command.assetClass == .option && o.command.underlying == chain.underlying { wanted.insert(o.symbol) }
        var quotes = [String: OptionQuote]()
        if !wanted.isEmpty {
            for c in chain.contracts {
                let symbol = Self.canonical(c.symbol)
                if wanted.contains(symbol) { quotes[symbol] = c }
            }
        }
        // The chain is the latest market information at its time: mark first, so every snapshot at it uses it.
        for (symbol, quote) in quotes where state.holdings[symbol] != nil {
            if let mark = Self.markCents(quote) { state.holdings[symbol]?.markCents = mark }
        }
        var out = expireOrders(message)
        out += settleExpirations(message, input: .chain(chain))
        state.lastChain[chain.underlying] = PriceAt(time: message.eventTime, price: chain.underlyingPrice)
        out += fillOptions(chain.underlying, quotes, message)
        return out
    }

    mutating func onBar(_ bar: Bar, _ message: AnyEnvelope) -> [Emit] {
        let mark = Self.closeCents(bar)
        if let mark, state.holdings[bar.ticker] != nil { state.holdings[bar.ticker]?.markCents = mark }
        var out = expireOrders(message)
        out += settleExpirations(message, input: .bar(bar))
        state.lastBar[bar.ticker] = PriceAt(time: message.eventTime, price: bar.close)
        out += fillStock(bar, mark: mark, message)
        return out
    }

    /// A bar's close in cents (nearest), nil beyond `maxUsableQuote`.
    static func closeCents(_ bar: Bar) -> Cents? {
        bar.close <= maxUsableQuote ? Ticks.cents(bar.close, tick: 1, rounding: .nearest) : nil
    }

    // MARK: expiry of orders

    /// Cancels every open order past its life as of this input: a day order after its session's close
    /// (`MarketCalendar`, so 13:00 on an early close); an entry `entry_ttl_minutes` after it was placed. Both
    /// are inclusive: at exactly the close, or exactly the TTL, the order still fills against that quote.
    mutating func expireOrders(_ cause: AnyEnvelope) -> [Emit] {
        var out = [Emit]()
        var i = 0
        while i < state.open.count {
            if let reason = expiry(of: state.open[i], at: cause.eventTime) {
                out += cancel(at: i, reason: reason, cause: cause)
            } else {
                i += 1
            }
        }
        return out
    }

    private func expiry(of o: OpenOrder, at t: Timestamp) -> String? {
        let filled = o.filled > 0 ? " (\(o.filled) of \(o.command.quantity) filled)" : ""
        if t > MarketCalendar.close(of: NewYorkTime.date(of: o.orderTime)) { return "day order expired unfilled" + filled }
        let ttl = params.execution.entryTtlMinutes
        if o.command.intent == .open, t > o.orderTime + Minutes(ttl) {
            return "entry unfilled \(ttl) minutes after it was placed (execution.entry_ttl_minutes)" + filled
        }
        return nil
    }

    /// Removes the open order at `index`, releasing what it still reserves.
    mutating func cancel(at index: Int, reason: String, cause: AnyEnvelope) -> [Emit] {
        let o = state.open.remove(at: index)
        state.reserved -= o.reservedCents
        return [orderEvent(o.command, .cancelled, filledQuantity: o.filled, reason: reason, cause: cause), snapshot(cause: cause)]
    }

    // MARK: fills

    private mutating func fillOptions(_ underlying: String, _ quotes: [String: OptionQuote], _ cause: AnyEnvelope) -> [Emit] {
        var out = [Emit]()
        var i = 0
        while i < state.open.count {
            let o = state.open[i]
            guard o.command.assetClass == .option, o.command.underlying == underlying, o.orderTime < cause.eventTime,
                  let quote = quotes[o.symbol], quote.bid > 0, quote.ask > 0, quote.ask <= Self.maxUsableQuote,
                  let price = Self.optionFillCents(side: o.command.side, limitCents: o.command.limitPriceCents, bid: quote.bid,
                                                   ask: quote.ask, underlying: underlying, execution: params.execution) else {
                i += 1
                continue
            }
            let piece = Piece(priceCents: price, quantity: min(o.remaining, params.execution.maxFillPerQuote),
                              bid: quote.bid, ask: quote.ask, markCents: Self.markCents(quote))
            i += execute(at: i, piece, cause: cause, into: &out)
        }
        return out
    }

    private mutating func fillStock(_ bar: Bar, mark: Cents?, _ cause: AnyEnvelope) -> [Emit] {
        var out = [Emit]()
        var i = 0
        while i < state.open.count {
            let o = state.open[i]
            // Never more than the bar traded: a bar with no volume fills nothing.
            let quantity = min(Int64(o.remaining), Int64(params.execution.maxSharesPerBar), bar.volume)
            guard o.command.assetClass == .equity, o.symbol == bar.ticker, o.orderTime < cause.eventTime, quantity > 0,
                  let price = Self.stockFillCents(side: o.command.side, limitCents: o.command.limitPriceCents, bar: bar) else {
                i += 1
                continue
            }
            let piece = Piece(priceCents: price, quantity: Int(quantity), bid: bar.low, ask: bar.high, markCents: mark)
            i += execute(at: i, piece, cause: cause, into: &out)
        }
        return out
    }

    /// Executes `piece` of the open order at `index` and appends its fill, order event and snapshot. Returns how
    /// far to advance the scan: 1 when the order is still open (unfilled or partially filled), 0 when it left.
    private mutating func execute(at index: Int, _ piece: Piece, cause: AnyEnvelope, into out: inout [Emit]) -> Int {
        var o = state.open[index]
        guard let costs = apply(piece, to: &o) else { return 1 }
        o.filled += piece.quantity
        o.pieces += 1
        state.commissions += costs.commission + costs.fees
        let completed = o.remaining == 0
        if completed { state.open.remove(at: index) } else { state.open[index] = o }
        out += emits(o, piece, costs, completed: completed, cause: cause)
        return completed ? 0 : 1
    }

    /// Moves cash, reservation and holdings for one piece; nil (nothing changed) when the holding cannot cover a
    /// sell or the amounts overflow.
    private mutating func apply(_ p: Piece, to o: inout OpenOrder) -> (commission: Cents, fees: Cents)? {
        let c = o.command
        let m = Self.multiplier(c.assetClass), qty = Cents(p.quantity)
        let unit = unitCosts(c.assetClass)
        let commission = unit.commission * qty, fees = unit.fees * qty
        guard let notional = Checked.mul(p.priceCents, m, qty) else { return nil }
        switch c.side {
        case .buy:
            // The reservation was at the limit; what the rest of the order still needs stays reserved.
            guard p.priceCents <= c.limitPriceCents, let keep = reservation(c, quantity: o.remaining - p.quantity) else { return nil }
            state.reserved -= o.reservedCents - keep
            o.reservedCents = keep
            state.cash -= notional + commission + fees
            var h = state.holdings[o.symbol] ?? Holding(symbol: c.symbol, underlying: c.underlying, multiplier: m, strategy: c.strategy)
            h.quantity += p.quantity
            h.costCents += notional + commission + fees
            h.markCents = p.markCents ?? h.markCents
            state.holdings[o.symbol] = h
        case .sell:
            guard p.priceCents >= c.limitPriceCents, var h = state.holdings[o.symbol], h.quantity >= p.quantity else { return nil }
            let basis = Self.basis(of: p.quantity, in: h)
            state.cash += notional - commission - fees
            state.realized += notional - commission - fees - basis
            h.quantity -= p.quantity
            h.costCents -= basis
            h.markCents = p.markCents ?? h.markCents
            state.holdings[o.symbol] = h.quantity == 0 ? nil : h
        }
        return (commission, fees)
    }

    /// The cost basis of `quantity` of a holding: all of it when flattening, else its pro-rata share (floored, the
    /// remainder staying with what is still held, so the pieces always add up to the total).
    static func basis(of quantity: Int, in h: Holding) -> Cents {
        if quantity == h.quantity { return h.costCents }
        let wide = h.costCents.multipliedFullWidth(by: Cents(quantity))
        return Cents(h.quantity).dividingFullWidth(wide).quotient
    }

    private mutating func emits(_ o: OpenOrder, _ p: Piece, _ costs: (commission: Cents, fees: Cents), completed: Bool,
                                cause: AnyEnvelope) -> [Emit] {
        let c = o.command
        // The first piece keeps the id a whole fill always had; later pieces are numbered.
        let fillId = o.pieces == 1 ? DeterministicID.make("fill", c.clientOrderId) : DeterministicID.make("fill", c.clientOrderId, String(o.pieces))
        let f = Fill(accountId: c.accountId, fillId: fillId, clientOrderId: c.clientOrderId, symbol: c.symbol, underlying: c.underlying,
                     assetClass: c.assetClass, side: c.side, quantity: p.quantity, priceCents: p.priceCents, commissionCents: costs.commission,
                     feesCents: costs.fees, orderTime: o.orderTime, quoteTime: cause.eventTime, quoteBid: p.bid, quoteAsk: p.ask,
                     intent: c.intent, positionId: c.positionId, strategy: c.strategy)
        let against = c.assetClass == .option ? "bid \(p.bid) / ask \(p.ask)" : "bar low \(p.bid) / high \(p.ask)"
        let reason = "filled \(p.quantity) (\(o.filled) of \(c.quantity)) at \(Money.dollars(p.priceCents)) against \(against)"
        let event = completed
            ? orderEvent(c, .filled, filledQuantity: o.filled, fillPriceCents: p.priceCents, reason: reason, cause: cause)
            : orderEvent(c, .partiallyFilled, filledQuantity: o.filled, fillPriceCents: p.priceCents, reason: reason,
                         id: DeterministicID.make("order-event", c.clientOrderId, OrderEvent.Status.partiallyFilled.rawValue, String(o.filled)),
                         cause: cause)
        return [fillEmit(f, cause: cause), event, snapshot(cause: cause)]
    }
}
