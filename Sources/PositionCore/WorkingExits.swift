import OpsModel

/// Marks and exits: what a chain (options) or a bar (stock) does to each open position it concerns.
///
/// With no exit being worked, the rules run in order (only those with `runsWithoutBid` when no sell could be
/// placed) and the first signal starts today's exit work: a sell of the remaining quantity at step 0 (the bid,
/// rounded down to a tick; a stock's bar close), or, without a bid, an `exit_requested` that says no sell could be
/// placed (the sell follows at the first quote with a bid; an expiring option is settled at the close anyway).
///
/// An exit being worked (requested today and not ended, or an exit order the broker still works) is repriced at
/// every new quote with a bid, one step further (`ExitPricing`): a new order with a new client id that replaces
/// the working one (`replaces_client_order_id`), and an `exit_requested` event recording the step. A reprice
/// whose limit and quantity equal the working order's is not sent (the step still counts).
extension PositionManagerCore {
    mutating func onChain(_ chain: OptionChain, _ message: AnyEnvelope) -> [Emit] {
        let concerned = positions.keys.sorted().filter { positions[$0]!.assetClass == .option && positions[$0]!.underlying == chain.underlying }
        guard !concerned.isEmpty else { return [] }
        var quotes = [String: OptionQuote]()
        for c in chain.contracts where quotes[Self.canonical(c.symbol)] == nil { quotes[Self.canonical(c.symbol)] = c }
        var out = [Emit]()
        var accounts = Set<String>()
        for id in concerned {
            guard let p = positions[id] else { continue }
            let quote = quotes[p.contract]
            let at = Market(mark: quote.flatMap(Self.markCents), quote: quote, exitQuote: quote.flatMap(ExitQuote.option),
                            underlyingPrice: chain.underlyingPrice)
            out += update(id, at, message)
            accounts.insert(p.accountId)
        }
        for a in accounts.sorted() { out += portfolioGreeks(account: a, message) }
        return out
    }

    mutating func onBar(_ bar: Bar, _ message: AnyEnvelope) -> [Emit] {
        var out = [Emit]()
        var accounts = Set<String>()
        for id in positions.keys.sorted() {
            guard let p = positions[id], p.assetClass == .equity, p.underlying == bar.ticker else { continue }
            let exitQuote = ExitQuote.stock(bar)
            let emitted = update(id, Market(mark: exitQuote.map { _ in ExitQuote.cents(bar.close) }, quote: nil, exitQuote: exitQuote,
                                            underlyingPrice: bar.close), message)
            if emitted.contains(where: { $0.topic == Topics.positions }) { accounts.insert(p.accountId) }
            out += emitted
        }
        // Stock Greeks are delta 1 a share: they change only when marks are published (every few minutes).
        for a in accounts.sorted() { out += portfolioGreeks(account: a, message) }
        return out
    }

    /// One position's view of an input.
    struct Market {
        /// Per share; nil: not quoted.
        var mark: Cents?
        var quote: OptionQuote?
        /// nil: no sell can be placed (no bid, not quoted).
        var exitQuote: ExitQuote?
        /// The underlying's price at this input.
        var underlyingPrice: Double?
    }

    private mutating func update(_ id: String, _ market: Market, _ message: AnyEnvelope) -> [Emit] {
        guard var p = positions[id] else { return [] }
        let today = NewYorkTime.date(of: message.eventTime)
        // Chain- and bar-derived state of an earlier New York date is gone (see the core's documentation).
        p.forgetBefore(today)
        var market = market
        var out = [Emit]()
        var unrealized: Cents? = nil
        if let mark = market.mark, let u = Self.unrealized(p, mark: mark) {
            unrealized = u
            p.highWaterCents = max(p.highWaterCents ?? mark, mark)
            if let q = market.quote, let spot = market.underlyingPrice {
                p.greeks = Self.contractGreeks(p, mid: q.mid, spot: spot, at: message.eventTime, params: params)
            }
            out += markIfChanged(&p, mark: mark, unrealized: u, day: today, message)
        } else {
            market.mark = nil   // an overflowing mark is no mark
            market.exitQuote = nil
        }
        if p.isExiting(on: today) {
            if let xq = market.exitQuote { out += reprice(&p, xq, market, unrealized: unrealized, message) }
        } else if let signal = firstSignal(p, market, time: message.eventTime) {
            out += startExit(&p, signal, market, unrealized: unrealized, day: today, message)
        }
        positions[id] = p
        return out
    }

    /// A stock position is marked from every bar but its `marked` event is published only at the first bar of the
    /// day and then at most every `stockMarkEveryMinutes` (on the New York clock): 390 events a day per position
    /// would crowd the positions topic, which consumers re-read from the beginning. The rules still see every bar.
    public static let stockMarkEveryMinutes = 5

    private func markIfChanged(_ p: inout OpenPosition, mark: Cents, unrealized: Cents, day: CivilDate, _ message: AnyEnvelope) -> [Emit] {
        guard p.lastMark?.cents != mark else { return [] }
        if p.assetClass == .equity, p.lastMark != nil,
           NewYorkTime.local(message.eventTime).secondOfDay % (Self.stockMarkEveryMinutes * 60) != 0 { return [] }
        var e = event(.marked, p)
        e.markPriceCents = mark
        e.unrealizedPnlCents = unrealized
        p.lastMark = DayMark(day: day, cents: mark)
        return [positionEmit(e, id: DeterministicID.make("position-event", p.positionId, "marked", message.eventTime.iso8601), message)]
    }

    private func firstSignal(_ p: OpenPosition, _ market: Market, time: Timestamp) -> ExitSignal? {
        if let h = flattenHalt(account: p.accountId, at: time) {
            return ExitSignal(rule: "halt_flatten", detail: "halt_flatten: operator halt with flatten since \(h.since.iso8601) by \(h.requestedBy): \(h.reason)")
        }
        let context = ExitContext(position: p, markCents: market.mark, quote: market.quote, time: time,
                                  underlyingPrice: market.underlyingPrice, lastSignalInDirection: lastSignal(for: p))
        let canSell = market.exitQuote != nil
        for rule in (p.assetClass == .equity ? stockRules : rules) where canSell || rule.runsWithoutBid {
            if let s = rule.evaluate(context) { return s }
        }
        return nil
    }

    // MARK: exit work

    private func startExit(_ p: inout OpenPosition, _ signal: ExitSignal, _ market: Market, unrealized: Cents?,
                           day: CivilDate, _ message: AnyEnvelope) -> [Emit] {
        p.exitWork = ExitWork(day: day, rule: signal.rule, step: 0, order: nil)
        p.exitWork!.rollId = signal.rollId
        if let q = signal.quantity, q < p.remainingQuantity {
            p.exitWork!.partialQuantity = q
            p.exitWork!.partialDoneAt = p.exitedQuantity + q
        }
        guard let xq = market.exitQuote else {
            let why = market.quote == nil ? "not in the chain" : "no bid"
            var e = requested(p, rule: signal.rule, step: nil, mark: market.mark, unrealized: unrealized)
            e.detail = "\(signal.detail); \(why): no sell can be placed; it is placed at the first quote with a bid, "
                + "and an option still held at its expiration close is settled by the broker"
            return [positionEmit(e, id: requestedId(p, message), message)]
        }
        return send(&p, step: 0, xq, detail: signal.detail, mark: market.mark, unrealized: unrealized, message)
    }

    /// The next step of the exit being worked, at a quote a sell can be placed against.
    private func reprice(_ p: inout OpenPosition, _ xq: ExitQuote, _ market: Market, unrealized: Cents?,
                         _ message: AnyEnvelope) -> [Emit] {
        let today = NewYorkTime.date(of: message.eventTime)
        if p.exitWork == nil {
            // The broker works an exit order today's work did not send (one of an earlier day at a GTC broker, or
            // one placed by hand): today's work continues it, with no rule.
            p.exitWork = ExitWork(day: today, rule: nil, step: 0, order: nil)
        }
        let work = p.exitWork!
        let working = work.order?.clientOrderId ?? p.exitOrdersAtBroker.last
        let step = work.order != nil ? work.step + 1 : (working == nil ? 0 : 1)
        let limit = limitCents(p, step: step, xq)
        if let sent = work.order, sent.limitCents == limit, sent.quantity == Self.exitQuantity(p) {
            p.exitWork!.step = step   // the broker already works this very order
            return []
        }
        let detail = step == 0 ? "\(work.rule ?? "exit"): first quote with a bid since the request" : walkText(p, step: step, xq, rule: work.rule)
        return send(&p, step: step, xq, detail: detail, mark: market.mark, unrealized: unrealized, replaces: working, message)
    }

    private func limitCents(_ p: OpenPosition, step: Int, _ xq: ExitQuote) -> Cents {
        ExitPricing.limitCents(step: step, steps: params.exits.repriceSteps, quote: xq, underlying: p.underlying,
                               assetClass: p.assetClass, ticks: params.execution.ticks)
    }

    /// `stop_loss: reprice step 2/3: bid $1.20 − 2 × $0.02 (spread $0.05 / 3)`, or `…: reprice step 3/3: marketable`.
    private func walkText(_ p: OpenPosition, step: Int, _ xq: ExitQuote, rule: String?) -> String {
        let steps = params.exits.repriceSteps
        let head = "\(rule ?? "exit already at the broker"): reprice step \(step)/\(steps)"
        if step >= steps { return "\(head): marketable" }
        let walk = ExitPricing.stepCents(spreadCents: xq.spreadCents, steps: steps)
        let width = xq.label == "bid" ? "spread" : "range"
        return "\(head): \(xq.label) \(Money.dollars(xq.referenceCents)) − \(step) × \(Money.dollars(walk)) (\(width) \(Money.dollars(xq.spreadCents)) / \(steps))"
    }

    /// Emits `exit_requested` (recording the step) and the sell of the remaining quantity; records it as today's
    /// latest exit order.
    private func send(_ p: inout OpenPosition, step: Int, _ xq: ExitQuote, detail: String, mark: Cents?, unrealized: Cents?,
                      replaces: String? = nil, _ message: AnyEnvelope) -> [Emit] {
        let q = message.eventTime
        let clientId = Self.exitClientOrderId(positionId: p.positionId, at: q)
        let limit = limitCents(p, step: step, xq)
        let qty = Self.exitQuantity(p)
        var reason = "\(detail); sell \(qty) at limit \(Money.dollars(limit)) (\(xq.label) \(Money.dollars(xq.referenceCents)))"
        if let replaces { reason += "; replaces \(replaces)" }
        var order = OrderCommand(accountId: p.accountId, clientOrderId: clientId, symbol: p.symbol, underlying: p.underlying,
                                 assetClass: p.assetClass, side: .sell, quantity: qty, limitPriceCents: limit, intent: .close,
                                 positionId: p.positionId, strategy: p.strategy, reason: reason, replacesClientOrderId: replaces)
        order.rollId = p.exitWork?.rollId
        p.exitWork!.step = step
        p.exitWork!.order = SentExit(clientOrderId: clientId, limitCents: limit, quantity: qty, sentAt: q)
        p.exitWork!.clientOrderIds.insert(clientId)
        var e = requested(p, rule: p.exitWork!.rule, step: step, mark: mark, unrealized: unrealized)
        e.detail = reason
        let orderEnvelope = Envelope(id: DeterministicID.make("order-command", clientId, q.iso8601), eventTime: q,
                                     causationId: message.id, source: Self.name, payload: order)
        return [positionEmit(e, id: requestedId(p, message), message), Emit(Topics.orders, orderEnvelope.erased())]
    }

    private func requested(_ p: OpenPosition, rule: String?, step: Int?, mark: Cents?, unrealized: Cents?) -> PositionEvent {
        var e = event(.exitRequested, p)
        e.markPriceCents = mark
        e.unrealizedPnlCents = unrealized
        e.exitReason = rule
        e.exitStep = step
        if let roll = p.exitWork?.rollId { e.rollId = roll }
        return e
    }

    /// What today's exit work sells: the rest of a partial exit's quantity, or everything still held.
    static func exitQuantity(_ p: OpenPosition) -> Int {
        guard let done = p.exitWork?.partialDoneAt else { return p.remainingQuantity }
        return max(1, min(done - p.exitedQuantity, p.remainingQuantity))
    }

    private func requestedId(_ p: OpenPosition, _ message: AnyEnvelope) -> String {
        DeterministicID.make("position-event", p.positionId, "exit_requested", message.eventTime.iso8601)
    }

    /// mark × multiplier × remaining + exit proceeds so far − entry cost; nil on overflow (treated as no quote).
    static func unrealized(_ p: OpenPosition, mark: Cents) -> Cents? {
        guard let value = Checked.mul(mark, p.multiplier, Cents(p.remainingQuantity)),
              let proceeds = Checked.add(p.exitNotionalCents, -p.exitCostsCents),
              let a = Checked.add(value, proceeds) else { return nil }
        return Checked.add(a, -p.entryCostCents)
    }
}
