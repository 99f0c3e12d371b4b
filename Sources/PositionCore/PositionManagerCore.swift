import OpsModel

/// The position-manager's pure core: opens a position from each entry fill, marks it from chains (options) or
/// 1-minute bars (stock), works an exit order when an exit rule fires, and closes the position on its exit fills
/// or its expiry settlement.
///
/// Inputs, at equal event time in this order: `trading.fills.v1` (`Fill`), `market.bars.v1` (`Bar`),
/// `market.chains.v1` (`OptionChain`), `trading.order-events.v1` (`OrderEvent`). Outputs: `trading.positions.v1`
/// (`PositionEvent`: opened, marked, exit_requested, closed) and `trading.orders.v1` (`OrderCommand`, exits only),
/// all at the causing input's event time.
///
/// What it handles:
/// - **Entry fill** (buy, intent open): an option (OCC symbol) or shares (`equity`, symbol = the ticker; the
///   dispatcher's stock fallback). Position `pos-…` from the fill's client order id; `opened`. A further fill of the
///   same entry order (a partial fill) adds to the position and emits `opened` again with the new totals (id naming
///   the fill). An entry fill for a position already closed is ignored.
/// - **Exit fill** (sell, intent close, `position_id` of an open position): when it completes the position,
///   `closed` with the exact realized P&L (exit notional − exit commissions and fees − entry cost) and the rule of
///   the exit work it filled (nil when that is unknown, see below); a partial exit fill only accumulates. A close
///   fill for an unknown (or already closed) position is ignored. One that disagrees with its position (account,
///   instrument) or sells more than is held is refused (dead-lettered).
/// - **Settlement fill** (`settlement` set, no position id): closes every open position on that contract of that
///   account, in position-id order, at the settlement price (intrinsic value, or 0), `exit_reason` = the
///   settlement kind (`settled_itm`, `expired_worthless`). See `Settlement.swift`.
/// - **Not supported, ignored with no output**: sell-to-open and buy-to-close fills (only long positions).
/// - **Order events** of a position's exit orders: `accepted`/`partially_filled` add the order to the ones the
///   broker works; `filled` (complete), `cancelled`, `rejected` remove it. A cancel or reject of the latest order
///   of today's exit work ends that work (the rules run again at the next input; the next order has a new client
///   id). The cancel of an order this core replaced (a reprice) changes nothing else.
/// - **Chain** for an underlying: every open option position on it, in position-id order: mark = mid to the
///   nearest cent when the contract is quoted with an ask (0 < ask ≤ $100,000); `marked` when the mark differs
///   from the last mark emitted the same New York day (so the first mark of each day is always emitted). Then
///   the exit (see `WorkingExits.swift`): with no exit being worked the rules run in order and the first signal
///   starts one (a sell of the remaining quantity at the bid, step 0); an exit being worked is repriced.
/// - **Bar** of a ticker: the same for every open stock position on it, the close as the mark, the bar as the quote.
///
/// Restore: fills and order events are re-read from the beginning; chains and bars from New York midnight of the
/// last processed one's date. So everything derived from chains and bars (the last emitted mark, today's exit work:
/// its rule, its reprice step, its latest order) lives only for the New York date it was made on: a later date
/// starts without it. That keeps the core a deterministic function of what a restore re-reads. Exit client ids
/// name the position and the input's time, so they never repeat and need no counter. An exit order the broker still
/// works on a later date (known from order events) is repriced there as work carried over, with no rule; an exit
/// fill on a later date than its work closes with `exit_reason` nil (the simulated broker expires day orders at
/// the close, so its exit fills are on the work's date).
public struct PositionManagerCore: TradingParamsCore {
    public static let name = "position-manager"
    /// Quotes above this many dollars per share are treated as no quote (keeps cent arithmetic far from overflow).
    public static let maxUsableQuote = 100_000.0

    public private(set) var params: TradingParams
    /// Option exit rules, evaluated in order; the first signal exits.
    public private(set) var rules: [ExitRule]
    /// Stock exit rules, evaluated in order.
    public private(set) var stockRules: [ExitRule]

    public var serviceName: String { Self.name }
    /// At equal event time: fills, then bars, then chains, then order events. Order events at an input's time are
    /// caused by orders of that time (this service's own exits among them), so they must sort after the bars and
    /// chains; the other way round the position-manager would wait on its own exit orders and the loop could
    /// never advance.
    /// Operator commands come first: a flatten halt at a chain's time applies to that chain.
    /// Decisions (the entry's plan: the underlying at the signal, its ATR, a scale-in or a roll) and signals (a roll
    /// needs a recent one) come before the fills they precede.
    public var inputTopics: [String] {
        [Topics.control, Topics.decisions, Topics.signals, Topics.fills, Topics.bars, Topics.chains, Topics.orderEvents]
    }
    public var outputTopics: [String] { [Topics.positions, Topics.orders, Topics.greeks] }

    /// Position events and portfolio Greeks come from fills (opened, closed), bars and chains (marked,
    /// exit_requested); exit orders only from bars and chains. Decisions, signals and order events only change state.
    /// All at the input's own time.
    public var outputCauses: [String: [String: Int64]] { Self.declaredCauses }
    static let declaredCauses: [String: [String: Int64]] = [
        Topics.positions: [Topics.fills: 0, Topics.bars: 0, Topics.chains: 0],
        Topics.orders: [Topics.bars: 0, Topics.chains: 0],
        Topics.greeks: [Topics.fills: 0, Topics.bars: 0, Topics.chains: 0],
    ]

    var positions: [String: OpenPosition] = [:]
    /// Positions closed so far (a late entry fill must not reopen one).
    var closed: Set<String> = []
    /// Operator halts and resumes by account (`ops.control.v1`, re-read from the beginning on a restore).
    var controls: [String: [(Timestamp, OperatorControl)]] = [:]
    /// Entry plans from order decisions, by the entry order's client id.
    var plans: [String: EntryPlan] = [:]
    /// The latest signal per underlying and direction.
    var lastSignal: [String: Timestamp] = [:]

    /// Entry orders decided and not yet answered (filled, cancelled or rejected), by client id, with the decision's
    /// time: while one is out, a fill may come with any quote.
    var unanswered: [String: Timestamp] = [:]
    /// Promise past the next quote while nothing is held or ordered (`lookahead`). Only where every fill answers an
    /// order the dispatcher decided (the simulated broker): Alpaca's reconciliation can report fills nobody here decided.
    public var lookaheadEnabled = false

    /// `rules` nil: `ExitRule.standard(params)`; `stockRules` nil: `ExitRule.stock(params)`.
    public init(params: TradingParams, rules: [ExitRule]? = nil, stockRules: [ExitRule]? = nil, lookahead: Bool = false) {
        self.params = params
        self.rules = rules ?? ExitRule.standard(params)
        self.stockRules = stockRules ?? ExitRule.stock(params)
        self.customRules = (rules, stockRules)
        self.lookaheadEnabled = lookahead
    }

    /// Rules given at construction (tests), which parameter changes leave alone.
    let customRules: ([ExitRule]?, [ExitRule]?)

    public var paramsAccount: String? { params.account.accountId }

    /// The exit rules are derived again: a changed stop or target applies to open positions from the next quote.
    public mutating func reconfigure(_ params: TradingParams) {
        self.params = params
        rules = customRules.0 ?? ExitRule.standard(params)
        stockRules = customRules.1 ?? ExitRule.stock(params)
    }

    /// Nothing held and no entry order out: quotes, bars and operator commands move nothing, and the next fill answers
    /// an order decided later (the decision first, the fill at a quote strictly after it).
    public var lookahead: Lookahead? {
        guard lookaheadEnabled, positions.isEmpty, unanswered.isEmpty else { return nil }
        return Lookahead(name: "nothing-held", causes: Self.idleCauses)
    }

    /// Fills and order events answer orders: the entries decided (and not yet answered) and the exits sent here. So
    /// nothing comes on them before the earliest order still out — nor, with none out, before an order made later: an
    /// entry at its decision, an exit at a bar or a chain (the order's acceptance at its time, its fills strictly
    /// after). Holding then costs no wait on the broker per minute, and running ahead to an exit sent later does not
    /// hold this core's promises back to the broker's. An option held settles at its expiry close without an order, so
    /// the quiet ends there too. Only where every order is one decided or sent here (the simulated broker, as
    /// `lookahead`).
    ///
    /// Decisions too while none can come at a chain: the dispatcher decides at a chain only a scale-in add (for a position
    /// with an add pending) or a roll's opening leg (at the first chain of the underlying after the roll was requested,
    /// the same day); otherwise only at a signal, which this core reads too. So a held position does not wait on the
    /// dispatcher at every chain either.
    public var quietInputs: QuietInputs? {
        guard lookaheadEnabled else { return nil }
        var enders = Self.orderAnswers
        var names = ["orders-answered"]
        let expiry = positions.values.compactMap { $0.expiration.map(MarketCalendar.close(of:)) }.min()
        let until = QuietInputs.until([expiry, earliestOrderOut].compactMap { $0 }.min(), on: Self.orderAnswers.keys)
        if rollLegsDue.isEmpty, positions.values.allSatisfy({ $0.scaleInPending == 0 }) {
            enders[Topics.decisions] = Self.signalDecisions
            names.append("no-chain-decisions")
        }
        return QuietInputs(name: names.joined(separator: "+"), enders: enders, until: until)
    }

    /// The time of the earliest order the broker may still answer (nil: none out); `.distantPast` for a sell at the
    /// broker whose time this core does not know (one of an earlier work, day or run).
    var earliestOrderOut: Timestamp? {
        var earliest = unanswered.values.min()
        for p in positions.values {
            let current = p.exitWork?.order
            if p.exitOrdersAtBroker.contains(where: { $0 != current?.clientOrderId }) { return .distantPast }
            if let o = current { earliest = min(earliest ?? .distantFuture, o.sentAt ?? .distantPast) }
        }
        return earliest
    }

    /// What can make an order (the dispatcher's decisions and this service's own exits), and so the least event time to
    /// its acceptance (order events) and to its fills.
    static let orderAnswers: [String: [String: Int64]] = {
        let orders = declaredCauses[Topics.orders]!.merging([Topics.decisions: 0]) { min($0, $1) }
        return [Topics.orderEvents: orders, Topics.fills: orders.mapValues { $0 + 1 }]
    }()

    /// A decision at a signal's time; one at a chain only after a fill opened a position with an add pending or after
    /// this core requested a roll at a bar or a chain (the dispatcher reads both at their time, after that time's chains).
    static let signalDecisions: [String: Int64] = [Topics.signals: 0, Topics.fills: 1, Topics.bars: 1, Topics.chains: 1]

    /// Rolls requested whose opening leg the dispatcher may still decide: by roll id, the underlying and the first
    /// request's time (it decides at the first chain of the underlying after it, the same New York day).
    var rollLegsDue: [String: RollLegDue] = [:]

    struct RollLegDue: Codable, Equatable, Sendable {
        var underlying: String
        var requestedAt: Timestamp
    }

    /// Keeps `rollLegsDue` as the dispatcher's waiting rolls: a roll's first request adds it; a chain of its underlying
    /// after it, or any input on a later day, ends it.
    mutating func trackRollLegs(_ out: [Emit], _ message: AnyEnvelope) {
        let t = message.eventTime, day = NewYorkTime.date(of: t)
        if !rollLegsDue.isEmpty {
            let chain = message.payload as? OptionChain
            rollLegsDue = rollLegsDue.filter { _, due in
                NewYorkTime.date(of: due.requestedAt) == day && !(chain?.underlying == due.underlying && t > due.requestedAt)
            }
        }
        for emit in out where emit.topic == Topics.positions {
            guard let e = emit.envelope.payload as? PositionEvent, e.event == .exitRequested, e.exitReason == "roll",
                  let roll = e.rollId, rollLegsDue[roll] == nil else { continue }
            rollLegsDue[roll] = RollLegDue(underlying: e.underlying, requestedAt: t)
        }
    }

    static let idleCauses: [String: [String: Int64]] = [
        Topics.positions: [Topics.decisions: 1], Topics.orders: [Topics.decisions: 1], Topics.greeks: [Topics.decisions: 1],
    ]

    public mutating func reset() {
        positions = [:]
        closed = []
        controls = [:]
        plans = [:]
        lastSignal = [:]
        unanswered = [:]
        rollLegsDue = [:]
    }

    /// Everything the positions derive from their inputs (parameters and rules come from the configuration and
    /// `ops.params.v1`).
    struct Saved: Codable {
        var positions: [String: OpenPosition]
        var closed: Set<String>
        var controls: [String: [TimedControl]]
        var plans: [String: EntryPlan]
        var lastSignal: [String: Timestamp]
        var unanswered: [String: Timestamp]
        var rollLegsDue: [String: RollLegDue]?
    }

    public func snapshotState() throws -> String? {
        try SnapshotCoding.encode(Saved(positions: positions, closed: closed, controls: controls.mapValues { $0.map { TimedControl($0.0, $0.1) } },
                                        plans: plans, lastSignal: lastSignal, unanswered: unanswered, rollLegsDue: rollLegsDue))
    }

    public mutating func restoreState(_ text: String) throws {
        let s = try SnapshotCoding.decode(Saved.self, text)
        positions = s.positions; closed = s.closed; controls = s.controls.mapValues { $0.map(\.pair) }
        plans = s.plans; lastSignal = s.lastSignal; unanswered = s.unanswered; rollLegsDue = s.rollLegsDue ?? [:]
    }

    /// Fills, order events and controls from the beginning (positions live for days). Chains, bars and decisions
    /// from New York midnight of the earlier of the last processed input's date and the oldest open position's
    /// opening date: everything a position derives from them (its high-water mark, a partial exit taken, its entry
    /// plan) is rebuilt exactly, and day-scoped state (today's marks and exit work) too. Signals from `roll.signal_minutes`
    /// before that.
    public func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp {
        switch topic {
        case Topics.chains, Topics.bars, Topics.decisions: return derivedStateStart(lastProcessed)
        case Topics.signals: return derivedStateStart(lastProcessed).adding(ms: -Int64(params.roll.signalMinutes) * 60_000)
        default: return .distantPast
        }
    }

    func derivedStateStart(_ lastProcessed: Timestamp) -> Timestamp {
        let oldest = positions.values.map(\.openedAt).min().map { min($0, lastProcessed) } ?? lastProcessed
        return NewYorkTime.utc(date: NewYorkTime.date(of: oldest), hour: 0, minute: 0)
    }

    public mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
        let out = try apply(message)
        trackRollLegs(out, message)
        return out
    }

    private mutating func apply(_ message: AnyEnvelope) throws(MessageError) -> [Emit] {
        switch message.payload {
        case let fill as Fill:
            return try onFill(fill, message)
        case let event as OrderEvent:
            onOrderEvent(event)
            return []
        case let c as OperatorControl:
            controls[c.accountId, default: []].append((message.eventTime, c))
            return []
        case let d as Decision:
            onDecision(d, at: message.eventTime)
            return []
        case let s as Signal:
            lastSignal[Self.signalKey(s.ticker, s.direction)] = message.eventTime
            return []
        case let chain as OptionChain:
            return onChain(chain, message)
        case let bar as Bar:
            return onBar(bar, message)
        default:
            return []
        }
    }

    /// A halt with flatten in force for the account at `t`: every open position of it exits at its next quote.
    func flattenHalt(account: String, at t: Timestamp) -> HaltState? {
        guard let h = HaltState.inForce(at: t, commands: controls[account] ?? []), h.flatten else { return nil }
        return h
    }

    // MARK: views and ids

    /// Open positions in position-id order.
    public var openPositions: [OpenPosition] { positions.keys.sorted().map { positions[$0]! } }
    public func position(_ id: String) -> OpenPosition? { positions[id] }

    public static func positionId(entryClientOrderId: String) -> String { DeterministicID.make("pos", entryClientOrderId) }

    /// `exit-` + 24 hex digits: 29 characters (an order's client id may have 48). A position sends at most one exit
    /// order per input, so its id and the input's time name the order uniquely, forever.
    public static func exitClientOrderId(positionId: String, at time: Timestamp) -> String {
        DeterministicID.make("exit", positionId, time.iso8601)
    }

    /// The mark per share in cents: the quote's mid to the nearest cent; nil without a usable ask.
    public static func markCents(_ quote: OptionQuote) -> Cents? {
        guard quote.ask > 0, quote.ask <= maxUsableQuote, quote.bid >= 0, quote.bid <= quote.ask else { return nil }
        return Ticks.cents(quote.mid, tick: 1, rounding: .nearest)
    }

    /// The first exit sell's limit (step 0): the bid rounded down to a valid tick for the contract, at least one tick.
    public static func exitLimitCents(bid: Double, underlying: String, execution: TradingParams.ExecutionParams) -> Cents {
        execution.ticks.cents(bid, underlying: underlying, rounding: .down)
    }

    static func canonical(_ symbol: String) -> String { OCCSymbol.canonical(symbol) }

    // MARK: fills

    private mutating func onFill(_ fill: Fill, _ message: AnyEnvelope) throws(MessageError) -> [Emit] {
        if fill.settlement != nil { return try settle(fill, message) }
        let instrument = try Self.instrument(of: fill)
        let qty = Cents(fill.quantity)
        guard let notional = Checked.mul(fill.priceCents, fill.multiplier, qty),
              let costs = Checked.add(fill.commissionCents, fill.feesCents),
              let total = Checked.add(notional, costs) else {
            throw .invalid("fill \(fill.fillId): amounts overflow (\(fill.quantity) × \(fill.priceCents)¢)")
        }
        switch (fill.intent, fill.side) {
        case (.open, .buy):
            return try openFill(fill, instrument: instrument, notional: notional, cost: total, message)
        case (.close, .sell):
            return try closeFill(fill, contract: instrument.contract, notional: notional, costs: costs, message)
        case (.open, .sell), (.close, .buy):
            return []   // short positions are not managed
        }
    }

    /// What a fill trades: an option (its OCC symbol on its underlying) or shares (symbol = the ticker).
    struct Instrument {
        var contract: String
        var option: OCCSymbol?
    }

    static func instrument(of fill: Fill) throws(MessageError) -> Instrument {
        switch fill.assetClass {
        case .option:
            guard let occ = OCCSymbol(fill.symbol), occ.root == fill.underlying else {
                throw .invalid("fill \(fill.fillId): '\(fill.symbol)' is not an OCC option symbol on \(fill.underlying)")
            }
            return Instrument(contract: occ.description, option: occ)
        case .equity:
            guard fill.symbol == fill.underlying else {
                throw .invalid("fill \(fill.fillId): a stock fill's symbol '\(fill.symbol)' must be its ticker \(fill.underlying)")
            }
            return Instrument(contract: fill.symbol, option: nil)
        }
    }

    private mutating func openFill(_ fill: Fill, instrument: Instrument, notional: Cents, cost: Cents,
                                   _ message: AnyEnvelope) throws(MessageError) -> [Emit] {
        // A scale-in add (seed 000 #19) names the position it adds to.
        let id = fill.positionId.flatMap { positions[$0] != nil ? $0 : nil } ?? Self.positionId(entryClientOrderId: fill.clientOrderId)
        if closed.contains(id) { return [] }
        let eventId: String
        var p: OpenPosition
        if var existing = positions[id] {
            // Another fill of the same entry order.
            guard existing.accountId == fill.accountId, existing.contract == instrument.contract else {
                throw .invalid("entry fill \(fill.fillId) for \(id) disagrees with the position (account \(existing.accountId), instrument \(existing.symbol))")
            }
            guard let n = Checked.add(existing.entryNotionalCents, notional), let c = Checked.add(existing.entryCostCents, cost),
                  existing.quantity <= Int.max - fill.quantity else {
                throw .invalid("entry fill \(fill.fillId): position \(id) totals overflow")
            }
            existing.quantity += fill.quantity
            existing.entryNotionalCents = n
            existing.entryCostCents = c
            existing.entryPriceCents = Self.perShare(notional: n, quantity: existing.quantity, multiplier: existing.multiplier)
            if fill.clientOrderId != existing.entryClientOrderId { existing.scaleInPending = 0 }
            p = existing
            eventId = DeterministicID.make("position-event", id, "opened", fill.fillId)
        } else {
            let occ = instrument.option
            p = OpenPosition(positionId: id, accountId: fill.accountId, symbol: fill.symbol, underlying: fill.underlying,
                             assetClass: fill.assetClass, right: occ?.right, strike: occ?.strike, expiration: occ?.expiration,
                             strategy: fill.strategy, quantity: fill.quantity, entryPriceCents: fill.priceCents,
                             entryNotionalCents: notional, entryCostCents: cost, openedAt: message.eventTime,
                             contract: instrument.contract)
            p.entryClientOrderId = fill.clientOrderId
            if let plan = plans[fill.clientOrderId] { plan.apply(to: &p) }
            eventId = DeterministicID.make("position-event", id, "opened")
        }
        positions[id] = p
        return [positionEmit(event(.opened, p), id: eventId, message)] + portfolioGreeks(account: p.accountId, message)
    }

    private mutating func closeFill(_ fill: Fill, contract: String, notional: Cents, costs: Cents,
                                    _ message: AnyEnvelope) throws(MessageError) -> [Emit] {
        guard let id = fill.positionId, var p = positions[id] else { return [] }
        guard p.accountId == fill.accountId, p.contract == contract, p.assetClass == fill.assetClass else {
            throw .invalid("exit fill \(fill.fillId) for \(id) disagrees with the position (account \(p.accountId), instrument \(p.symbol))")
        }
        guard fill.quantity <= p.remainingQuantity else {
            throw .invalid("exit fill \(fill.fillId) sells \(fill.quantity) of \(id), which holds \(p.remainingQuantity)")
        }
        try Self.addExit(&p, quantity: fill.quantity, notional: notional, costs: costs, fillId: fill.fillId)
        let work = p.exitWork(on: NewYorkTime.date(of: message.eventTime)).flatMap { $0.clientOrderIds.contains(fill.clientOrderId) ? $0 : nil }
        guard p.remainingQuantity == 0 else {
            if let done = work?.partialDoneAt {
                // Seed 000 #20: the first target's sale; once it is complete the work ends and the rest stays open.
                p.partialTaken = true
                if p.exitedQuantity >= done { p.exitWork = nil }
            }
            positions[id] = p   // the rest follows
            guard let work, work.partialDoneAt != nil else { return [] }
            return [positionEmit(partialEvent(p, work), id: DeterministicID.make("position-event", id, "partial", fill.fillId), message)]
                + portfolioGreeks(account: p.accountId, message)
        }
        return [try close(p, reason: work?.rule, detail: nil, rollId: work?.rollId, message)] + portfolioGreeks(account: p.accountId, message)
    }

    /// Accumulates an exit (a sale or a settlement) of `quantity`.
    static func addExit(_ p: inout OpenPosition, quantity: Int, notional: Cents, costs: Cents, fillId: String) throws(MessageError) {
        guard let n = Checked.add(p.exitNotionalCents, notional), let c = Checked.add(p.exitCostsCents, costs) else {
            throw .invalid("exit fill \(fillId): position \(p.positionId) totals overflow")
        }
        p.exitedQuantity += quantity
        p.exitNotionalCents = n
        p.exitCostsCents = c
    }

    /// `closed` for a position whose remaining quantity is 0, with its realized P&L; forgets the position.
    mutating func close(_ p: OpenPosition, reason: String?, detail: String?, rollId: String? = nil, _ message: AnyEnvelope) throws(MessageError) -> Emit {
        guard let proceeds = Checked.add(p.exitNotionalCents, -p.exitCostsCents),
              let realized = Checked.add(proceeds, -p.entryCostCents) else {
            throw .invalid("position \(p.positionId): realized P&L overflows")
        }
        var e = event(.closed, p)
        e.exitReason = reason
        e.detail = detail
        e.exitPriceCents = Self.perShare(notional: p.exitNotionalCents, quantity: p.quantity, multiplier: p.multiplier)
        e.realizedPnlCents = realized
        e.closedAt = message.eventTime
        if let rollId { e.rollId = rollId }
        positions[p.positionId] = nil
        plans[p.entryClientOrderId] = nil
        closed.insert(p.positionId)
        return positionEmit(e, id: DeterministicID.make("position-event", p.positionId, "closed"), message)
    }

    /// notional / (multiplier × quantity), half up to a cent (exact for a single fill).
    static func perShare(notional: Cents, quantity: Int, multiplier: Cents) -> Cents {
        let d = multiplier * Cents(quantity)
        return (notional / d) + ((notional % d) * 2 >= d ? 1 : 0)
    }

    // MARK: order events

    private mutating func onOrderEvent(_ e: OrderEvent) {
        if e.status == .cancelled || e.status == .rejected || (e.status == .filled && e.filledQuantity >= e.quantity) {
            unanswered[e.clientOrderId] = nil
        }
        guard e.intent == .close, let id = e.positionId, var p = positions[id], p.accountId == e.accountId else { return }
        let latest = p.exitWork?.order?.clientOrderId == e.clientOrderId
        switch e.status {
        case .accepted, .partiallyFilled:
            if !p.exitOrdersAtBroker.contains(e.clientOrderId) { p.exitOrdersAtBroker.append(e.clientOrderId) }
        case .filled:
            guard e.filledQuantity >= e.quantity else { break }
            p.exitOrdersAtBroker.removeAll { $0 == e.clientOrderId }
            // Filled yet the position is still open (it grew after the order): the work goes on with a new order.
            if latest { p.exitWork?.order = nil }
        case .cancelled, .rejected:
            p.exitOrdersAtBroker.removeAll { $0 == e.clientOrderId }
            if latest { p.exitWork = nil }
        }
        positions[id] = p
    }

    // MARK: outputs

    func event(_ kind: PositionEvent.Kind, _ p: OpenPosition) -> PositionEvent {
        var e = PositionEvent(event: kind, positionId: p.positionId, accountId: p.accountId, symbol: p.symbol, underlying: p.underlying,
                              strategy: p.strategy, quantity: p.quantity, entryPriceCents: p.entryPriceCents, entryCostCents: p.entryCostCents,
                              openedAt: p.openedAt, expiration: p.expiration, assetClass: p.assetClass)
        e.direction = p.direction
        e.remainingQuantity = p.exitedQuantity > 0 ? p.remainingQuantity : nil
        e.highWaterCents = p.highWaterCents
        e.greeks = p.greeks
        e.rollId = p.openedByRoll
        e.scaleInPending = p.scaleInPending > 0 ? p.scaleInPending : nil
        e.entryUnderlyingPrice = p.entryUnderlyingPrice
        let plan = ExitLevels.levels(p, params.exits)
        e.stopCents = plan?.stop
        e.targetCents = plan?.target
        e.stopBasis = plan?.basis
        return e
    }

    /// `marked` after the partial exit's sale completed: the quantity left and the moved stop.
    func partialEvent(_ p: OpenPosition, _ work: ExitWork) -> PositionEvent {
        var e = event(.marked, p)
        e.markPriceCents = p.lastMark?.cents
        e.exitReason = "partial_exit"
        e.detail = "partial_exit: sold \(p.exitedQuantity) of \(p.quantity); \(p.remainingQuantity) left with the stop at breakeven \(Money.dollars(p.entryPriceCents)), trailing"
        return e
    }

    func positionEmit(_ e: PositionEvent, id: String, _ cause: AnyEnvelope) -> Emit {
        Emit(Topics.positions, Envelope(id: id, eventTime: cause.eventTime, causationId: cause.id, source: Self.name, payload: e).erased())
    }
}
