import OpsModel

/// A long option position as the position-manager tracks it, from its entry fill(s) to its exit fill(s).
public struct OpenPosition: Sendable, Equatable {
    /// `DeterministicID.make("pos", entry client order id)`.
    public internal(set) var positionId: String
    public internal(set) var accountId: String
    /// The contract as spelled on the entry fill.
    public internal(set) var symbol: String
    public internal(set) var underlying: String
    public internal(set) var right: OptionRight
    public internal(set) var strike: Double
    public internal(set) var expiration: CivilDate
    public internal(set) var strategy: TradeStrategy
    /// Contracts bought (the sum of the entry fills).
    public internal(set) var quantity: Int
    /// Per share: the entry fill's price (several entry fills: their notional-weighted mean, half-up to a cent).
    public internal(set) var entryPriceCents: Cents
    /// Σ entry price × 100 × quantity.
    public internal(set) var entryNotionalCents: Cents
    /// Entry notional plus entry commissions and fees.
    public internal(set) var entryCostCents: Cents
    /// The first entry fill's time.
    public internal(set) var openedAt: Timestamp
    /// Contracts sold so far by exit fills, their notional and their commissions plus fees.
    public internal(set) var exitedQuantity: Int = 0
    public internal(set) var exitNotionalCents: Cents = 0
    public internal(set) var exitCostsCents: Cents = 0
    /// Exit orders of this position that ended cancelled or rejected; the next exit order uses this number.
    public internal(set) var exitAttempt: Int = 0
    /// The broker accepted the current exit order and has not yet filled, cancelled or rejected it.
    public internal(set) var exitWorkingAtBroker: Bool = false

    /// The compact OCC spelling, to find the contract in a chain.
    var contract: String
    /// Chain-derived state, valid only on the New York date it was set (see `PositionManagerCore`).
    var lastMark: DayMark? = nil
    var exitRequest: ExitRequest? = nil

    /// Contracts still held.
    public var remainingQuantity: Int { quantity - exitedQuantity }
    /// The client order id the next (or current) exit order uses.
    public var exitClientOrderId: String { PositionManagerCore.exitClientOrderId(positionId: positionId, attempt: exitAttempt) }
}

struct DayMark: Sendable, Equatable {
    var day: CivilDate
    var cents: Cents
}

struct ExitRequest: Sendable, Equatable {
    var day: CivilDate
    var attempt: Int
    var clientOrderId: String
    /// The rule name (`stop_loss`).
    var reason: String
}

/// The position-manager's pure core: opens a position from each entry fill, marks it from chain updates, and
/// when an exit rule fires sends a closing sell order to the broker; an exit fill closes the position.
///
/// Inputs, at equal event time in this order: `trading.fills.v1` (`Fill`), `trading.order-events.v1`
/// (`OrderEvent`), `market.chains.v1` (`OptionChain`). Outputs: `trading.positions.v1` (`PositionEvent`: opened,
/// marked, exit_requested, closed) and `trading.orders.v1` (`OrderCommand`, exits only), all at the causing
/// input's event time.
///
/// What it handles:
/// - **Entry fill** (option, buy, intent open): position `pos-…` from the fill's client order id; `opened`. A
///   further fill of the same entry order (a partial fill) adds to the position and emits `opened` again with the
///   new totals (id naming the fill). An entry fill for a position already closed is ignored.
/// - **Exit fill** (option, sell, intent close, `position_id` of an open position): when it completes the
///   position, `closed` with the exact realized P&L (exit notional − exit commissions and fees − entry cost) and
///   the reason of the exit request it filled (nil when that request is unknown, see below); a partial exit fill
///   only accumulates. A close fill for an unknown (or already closed) position is ignored. One that disagrees
///   with its position (account, contract) or sells more than is held is refused (dead-lettered).
/// - **Not supported, ignored with no output**: equity fills (the pipeline trades options), sell-to-open and
///   buy-to-close fills (only long premium positions are managed).
/// - **Order events** for a position's current exit order (matched by client order id): `accepted` marks it
///   working at the broker; `cancelled`/`rejected` end it (exit no longer pending, attempt + 1, so the next exit
///   order gets a new client order id); `filled` (complete) ends its working state.
/// - **Chain** for an underlying: every open position on it, in position-id order, whose contract is quoted with
///   an ask (0 < ask ≤ $100,000): mark = mid to the nearest cent; `marked` when the mark differs from the last
///   mark emitted the same New York day (so the first mark of each day is always emitted). Then, unless an exit
///   is pending and only when the bid is > 0, the exit rules run in order; the first signal sends a sell of the
///   remaining quantity, limit = the bid rounded down to a valid tick (at least one tick), and emits
///   `exit_requested`. Without a usable quote nothing happens (the rules run again on the next chain).
///
/// Restore: fills and order events are re-read from the beginning; chains from New York midnight of the last
/// processed chain's date. So everything derived from chains (the last emitted mark, the exit request and its
/// reason) lives only for the New York date it was made on: a later date starts without it. That keeps the core
/// a deterministic function of what a restore re-reads. An exit is pending when the broker is working it (known
/// from order events, across days) or it was requested today at the current attempt. An exit fill on a later date
/// than its request therefore closes with `exit_reason` nil (the simulated broker expires day orders at the close,
/// so its exit fills are always on the request's date).
public struct PositionManagerCore: StreamCore {
    public static let name = "position-manager"
    /// Quotes above this many dollars per share are treated as no quote (keeps cent arithmetic far from overflow).
    public static let maxUsableQuote = 100_000.0

    public let params: TradingParams
    /// Evaluated in order; the first signal exits.
    public let rules: [ExitRule]

    public var serviceName: String { Self.name }
    /// At equal event time: fills, then chains, then order events. Order events at a chain's time are caused by
    /// orders of that time (this service's own exits among them), so they must sort after the chain; the other way
    /// round the position-manager would wait on its own exit orders and the loop could never advance.
    public var inputTopics: [String] { [Topics.fills, Topics.chains, Topics.orderEvents] }
    public var outputTopics: [String] { [Topics.positions, Topics.orders] }

    /// Position events come from fills (opened, closed) and chains (marked, exit_requested); exit orders only
    /// from chains. Order events only change state. All at the input's own time.
    public var outputCauses: [String: [String: Int64]] {
        [
            Topics.positions: [Topics.fills: 0, Topics.chains: 0],
            Topics.orders: [Topics.chains: 0],
        ]
    }

    private var positions: [String: OpenPosition] = [:]
    /// Positions closed so far (a late entry fill must not reopen one).
    private var closed: Set<String> = []

    /// `rules` nil: `ExitRule.standard(params.exits)`.
    public init(params: TradingParams, rules: [ExitRule]? = nil) {
        self.params = params
        self.rules = rules ?? ExitRule.standard(params.exits)
    }

    public mutating func reset() {
        positions = [:]
        closed = []
    }

    /// Fills and order events from the beginning (positions live for days); chains from New York midnight of the
    /// last processed chain's date (chain-derived state lives for one New York date).
    public func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp {
        guard topic == Topics.chains else { return .distantPast }
        return NewYorkTime.utc(date: NewYorkTime.date(of: lastProcessed), hour: 0, minute: 0)
    }

    public mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
        switch message.payload {
        case let fill as Fill:
            return try onFill(fill, message)
        case let event as OrderEvent:
            onOrderEvent(event)
            return []
        case let chain as OptionChain:
            return onChain(chain, message)
        default:
            return []
        }
    }

    // MARK: views and ids

    /// Open positions in position-id order.
    public var openPositions: [OpenPosition] { positions.keys.sorted().map { positions[$0]! } }
    public func position(_ id: String) -> OpenPosition? { positions[id] }

    public static func positionId(entryClientOrderId: String) -> String { DeterministicID.make("pos", entryClientOrderId) }

    /// `exit-` + 24 hex digits: 29 characters (an order's client id may have 48).
    public static func exitClientOrderId(positionId: String, attempt: Int) -> String {
        DeterministicID.make("exit", positionId, String(attempt))
    }

    /// The mark per share in cents: the quote's mid to the nearest cent; nil without a usable ask.
    public static func markCents(_ quote: OptionQuote) -> Cents? {
        guard quote.ask > 0, quote.ask <= maxUsableQuote, quote.bid >= 0, quote.bid <= quote.ask else { return nil }
        return Ticks.cents(quote.mid, tick: 1, rounding: .nearest)
    }

    /// The exit sell's limit: the bid rounded down to a valid tick for the contract, at least one tick.
    public static func exitLimitCents(bid: Double, underlying: String, execution: TradingParams.ExecutionParams) -> Cents {
        let tick = Ticks.tickCents(price: bid, underlying: underlying, pennyPilot: execution.pennyPilot)
        return Ticks.cents(bid, tick: tick, rounding: .down)
    }

    static func canonical(_ symbol: String) -> String { OCCSymbol(symbol)?.description ?? symbol }

    // MARK: fills

    private mutating func onFill(_ fill: Fill, _ message: AnyEnvelope) throws(MessageError) -> [Emit] {
        guard fill.assetClass == .option else { return [] }   // equity: not supported yet
        guard let occ = OCCSymbol(fill.symbol), occ.root == fill.underlying else {
            throw .invalid("fill \(fill.fillId): '\(fill.symbol)' is not an OCC option symbol on \(fill.underlying)")
        }
        let qty = Cents(fill.quantity)
        guard let notional = Checked.mul(fill.priceCents, 100, qty),
              let costs = Checked.add(fill.commissionCents, fill.feesCents),
              let total = Checked.add(notional, costs) else {
            throw .invalid("fill \(fill.fillId): amounts overflow (\(fill.quantity) × \(fill.priceCents)¢)")
        }
        switch (fill.intent, fill.side) {
        case (.open, .buy):
            return try openFill(fill, occ: occ, notional: notional, cost: total, message)
        case (.close, .sell):
            return try closeFill(fill, occ: occ, notional: notional, costs: costs, message)
        case (.open, .sell), (.close, .buy):
            return []   // short option positions are not managed
        }
    }

    private mutating func openFill(_ fill: Fill, occ: OCCSymbol, notional: Cents, cost: Cents, _ message: AnyEnvelope) throws(MessageError) -> [Emit] {
        let id = Self.positionId(entryClientOrderId: fill.clientOrderId)
        if closed.contains(id) { return [] }
        let eventId: String
        var p: OpenPosition
        if var existing = positions[id] {
            // Another fill of the same entry order.
            guard existing.accountId == fill.accountId, existing.contract == occ.description else {
                throw .invalid("entry fill \(fill.fillId) for \(id) disagrees with the position (account \(existing.accountId), contract \(existing.symbol))")
            }
            guard let n = Checked.add(existing.entryNotionalCents, notional), let c = Checked.add(existing.entryCostCents, cost),
                  existing.quantity <= Int.max - fill.quantity else {
                throw .invalid("entry fill \(fill.fillId): position \(id) totals overflow")
            }
            existing.quantity += fill.quantity
            existing.entryNotionalCents = n
            existing.entryCostCents = c
            existing.entryPriceCents = Self.perShare(notional: n, quantity: existing.quantity)
            p = existing
            eventId = DeterministicID.make("position-event", id, "opened", fill.fillId)
        } else {
            p = OpenPosition(positionId: id, accountId: fill.accountId, symbol: fill.symbol, underlying: fill.underlying,
                             right: occ.right, strike: occ.strike, expiration: occ.expiration, strategy: fill.strategy,
                             quantity: fill.quantity, entryPriceCents: fill.priceCents, entryNotionalCents: notional,
                             entryCostCents: cost, openedAt: message.eventTime, contract: occ.description)
            eventId = DeterministicID.make("position-event", id, "opened")
        }
        positions[id] = p
        return [positionEmit(event(.opened, p), id: eventId, message)]
    }

    private mutating func closeFill(_ fill: Fill, occ: OCCSymbol, notional: Cents, costs: Cents, _ message: AnyEnvelope) throws(MessageError) -> [Emit] {
        guard let id = fill.positionId, var p = positions[id] else { return [] }
        guard p.accountId == fill.accountId, p.contract == occ.description else {
            throw .invalid("exit fill \(fill.fillId) for \(id) disagrees with the position (account \(p.accountId), contract \(p.symbol))")
        }
        guard fill.quantity <= p.remainingQuantity else {
            throw .invalid("exit fill \(fill.fillId) sells \(fill.quantity) of \(id), which holds \(p.remainingQuantity)")
        }
        guard let n = Checked.add(p.exitNotionalCents, notional), let c = Checked.add(p.exitCostsCents, costs),
              let proceeds = Checked.add(n, -c), let realized = Checked.add(proceeds, -p.entryCostCents) else {
            throw .invalid("exit fill \(fill.fillId): position \(id) totals overflow")
        }
        p.exitedQuantity += fill.quantity
        p.exitNotionalCents = n
        p.exitCostsCents = c
        guard p.remainingQuantity == 0 else {
            positions[id] = p   // partial exit: the rest follows
            return []
        }
        let day = NewYorkTime.date(of: message.eventTime)
        let reason = p.exitRequest.flatMap { $0.day == day && $0.clientOrderId == fill.clientOrderId ? $0.reason : nil }
        var e = event(.closed, p)
        e.exitReason = reason
        e.exitPriceCents = Self.perShare(notional: n, quantity: p.quantity)
        e.realizedPnlCents = realized
        e.closedAt = message.eventTime
        positions[id] = nil
        closed.insert(id)
        return [positionEmit(e, id: DeterministicID.make("position-event", id, "closed"), message)]
    }

    /// notional / (100 × quantity), half up to a cent (exact for a single fill).
    static func perShare(notional: Cents, quantity: Int) -> Cents {
        let d = 100 * Cents(quantity)
        return (notional / d) + ((notional % d) * 2 >= d ? 1 : 0)
    }

    // MARK: order events

    private mutating func onOrderEvent(_ e: OrderEvent) {
        guard e.intent == .close, let id = e.positionId, var p = positions[id], p.accountId == e.accountId,
              e.clientOrderId == p.exitClientOrderId else { return }
        switch e.status {
        case .accepted:
            p.exitWorkingAtBroker = true
        case .cancelled, .rejected:
            p.exitWorkingAtBroker = false
            p.exitAttempt += 1
            p.exitRequest = nil
        case .filled:
            if e.filledQuantity >= e.quantity { p.exitWorkingAtBroker = false }
        }
        positions[id] = p
    }

    // MARK: chains

    private mutating func onChain(_ chain: OptionChain, _ message: AnyEnvelope) -> [Emit] {
        let q = message.eventTime
        let today = NewYorkTime.date(of: q)
        var quotes = [String: OptionQuote]()
        for c in chain.contracts where quotes[Self.canonical(c.symbol)] == nil { quotes[Self.canonical(c.symbol)] = c }
        var out = [Emit]()
        for id in positions.keys.sorted() {
            guard var p = positions[id], p.underlying == chain.underlying,
                  let quote = quotes[p.contract], let mark = Self.markCents(quote),
                  let unrealized = Self.unrealized(p, mark: mark) else { continue }
            // Chain-derived state of an earlier New York date is gone (see the type's documentation).
            if let m = p.lastMark, m.day != today { p.lastMark = nil }
            if let r = p.exitRequest, r.day != today { p.exitRequest = nil }

            if p.lastMark?.cents != mark {
                var e = event(.marked, p)
                e.markPriceCents = mark
                e.unrealizedPnlCents = unrealized
                out.append(positionEmit(e, id: DeterministicID.make("position-event", id, "marked", q.iso8601), message))
                p.lastMark = DayMark(day: today, cents: mark)
            }

            let pending = p.exitWorkingAtBroker || p.exitRequest.map { $0.attempt == p.exitAttempt } == true
            if !pending, quote.bid > 0 {
                let context = ExitContext(position: p, markCents: mark, quote: quote, time: q)
                if let signal = firstSignal(context) {
                    out += exit(&p, signal: signal, mark: mark, unrealized: unrealized, quote: quote, day: today, message)
                }
            }
            positions[id] = p
        }
        return out
    }

    private func firstSignal(_ context: ExitContext) -> ExitSignal? {
        for rule in rules {
            if let s = rule.evaluate(context) { return s }
        }
        return nil
    }

    private func exit(_ p: inout OpenPosition, signal: ExitSignal, mark: Cents, unrealized: Cents, quote: OptionQuote,
                      day: CivilDate, _ message: AnyEnvelope) -> [Emit] {
        let q = message.eventTime
        let clientId = p.exitClientOrderId
        precondition(clientId.utf8.count <= 48, "exit client order id longer than 48 characters")
        let limit = Self.exitLimitCents(bid: quote.bid, underlying: p.underlying, execution: params.execution)
        let bidText = Money.dollars(Ticks.cents(quote.bid, tick: 1, rounding: .nearest))
        let order = OrderCommand(accountId: p.accountId, clientOrderId: clientId, symbol: p.symbol, underlying: p.underlying,
                                 assetClass: .option, side: .sell, quantity: p.remainingQuantity, limitPriceCents: limit,
                                 intent: .close, positionId: p.positionId, strategy: p.strategy,
                                 reason: "\(signal.detail); sell \(p.remainingQuantity) at limit \(Money.dollars(limit)) (bid \(bidText))")
        var e = event(.exitRequested, p)
        e.markPriceCents = mark
        e.unrealizedPnlCents = unrealized
        e.exitReason = signal.rule
        p.exitRequest = ExitRequest(day: day, attempt: p.exitAttempt, clientOrderId: clientId, reason: signal.rule)
        let orderEnvelope = Envelope(id: DeterministicID.make("order-command", clientId, q.iso8601), eventTime: q,
                                     causationId: message.id, source: Self.name, payload: order)
        return [
            positionEmit(e, id: DeterministicID.make("position-event", p.positionId, "exit_requested", String(p.exitAttempt), q.iso8601), message),
            Emit(Topics.orders, orderEnvelope.erased()),
        ]
    }

    /// mark × 100 × remaining + exit proceeds so far − entry cost (no exits yet: mark × 100 × qty − entry cost);
    /// nil on overflow (treated as no usable quote).
    static func unrealized(_ p: OpenPosition, mark: Cents) -> Cents? {
        guard let value = Checked.mul(mark, 100, Cents(p.remainingQuantity)),
              let proceeds = Checked.add(p.exitNotionalCents, -p.exitCostsCents),
              let a = Checked.add(value, proceeds) else { return nil }
        return Checked.add(a, -p.entryCostCents)
    }

    // MARK: outputs

    private func event(_ kind: PositionEvent.Kind, _ p: OpenPosition) -> PositionEvent {
        PositionEvent(event: kind, positionId: p.positionId, accountId: p.accountId, symbol: p.symbol, underlying: p.underlying,
                      strategy: p.strategy, quantity: p.quantity, entryPriceCents: p.entryPriceCents, entryCostCents: p.entryCostCents,
                      openedAt: p.openedAt, expiration: p.expiration)
    }

    private func positionEmit(_ e: PositionEvent, id: String, _ cause: AnyEnvelope) -> Emit {
        Emit(Topics.positions, Envelope(id: id, eventTime: cause.eventTime, causationId: cause.id, source: Self.name, payload: e).erased())
    }
}

