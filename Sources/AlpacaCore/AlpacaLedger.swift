import Foundation
import OpsModel

/// The Alpaca broker-gateway's pure core: what the topics say about every order of one account, and what each
/// answer from Alpaca changes — order commands in, Alpaca's answers (submit results, look-ups, trade updates,
/// listings, positions, activities, the account) in, stamped with the gateway's receive time; order events, fills
/// and account snapshots out, plus the requests to make next (`Action`).
///
/// Exactly once: a client order id is submitted only from `.unsent`; any answer that leaves doubt (timeout, 5xx,
/// 429, dropped connection, a duplicate-id error) moves it to `.uncertain`, from which the only way out is a
/// look-up. Fills are derived from Alpaca's cumulative `filled_qty`, so a trade update, a look-up and a listing
/// that report the same execution produce it once, with the same id, whichever arrives first — also across a
/// restart, since the ledger is rebuilt from the topics before anything is asked of Alpaca.
public struct AlpacaLedger: Sendable {
    public static let source = "broker-gateway"

    public let accountId: String
    public let params: TradingParams
    var orders: [String: TrackedOrder] = [:]
    var arrival: [String] = []
    var holdings: [String: Holding] = [:]
    var fillIds: Set<String> = []
    var realized: Cents = 0
    var costs: Cents = 0
    var snapshotSeq: Int64 = 0

    public init(accountId: String, params: TradingParams) {
        self.accountId = accountId
        self.params = params
    }

    public enum Submission: String, Sendable, Equatable {
        /// On the topics, never sent by us.
        case unsent
        /// A POST is on its way.
        case submitting
        /// It may have reached Alpaca: look it up before anything else.
        case uncertain
        /// Waiting for the order it replaces to end at Alpaca.
        case waitingForReplaced
        /// Alpaca has it (or refused it, or it ended).
        case known
    }

    public enum Action: Equatable, Sendable {
        case submit(Alpaca.OrderRequest)
        case lookup(clientOrderId: String)
        case cancel(alpacaId: String, clientOrderId: String)
    }

    /// What one input changed: messages to publish, requests to make, and what an operator should read.
    public struct Step: Sendable {
        public var emits: [Emit] = []
        public var actions: [Action] = []
        public var warnings: [String] = []
        public init() {}
        mutating func add(_ other: Step) { emits += other.emits; actions += other.actions; warnings += other.warnings }
    }

    struct TrackedOrder: Sendable {
        var command: OrderCommand
        var commandTime: Timestamp
        var commandEnvelopeId: String
        var submission: Submission
        var alpacaId: String?
        var acceptedPublished = false
        var terminal = false
        var filled = 0
        /// Σ price × quantity of the fills published, in dollars (exact).
        var filledNotional: Decimal = 0
        var executionIds: Set<String> = []
    }

    struct Holding: Sendable {
        var symbol: String
        var underlying: String
        var assetClass: AssetClass
        var strategy: TradeStrategy
        var positionId: String?
        var quantity = 0
        var costCents: Cents = 0
    }

    // MARK: views

    public func submission(of clientOrderId: String) -> Submission? { orders[clientOrderId]?.submission }
    public func filledQuantity(of clientOrderId: String) -> Int? { orders[clientOrderId]?.filled }
    public func isTerminal(_ clientOrderId: String) -> Bool { orders[clientOrderId]?.terminal ?? false }
    public func alpacaId(of clientOrderId: String) -> String? { orders[clientOrderId]?.alpacaId }
    /// What the topics hold, per canonical symbol.
    public var heldQuantities: [String: Int] { holdings.mapValues(\.quantity).filter { $0.value != 0 } }
    /// Client ids not yet ended, in arrival order.
    public var openClientIds: [String] { arrival.filter { orders[$0].map { !$0.terminal } ?? false } }
    /// The earliest event time of an order that has not ended: listings start there.
    public var oldestOpenOrderTime: Timestamp? { openClientIds.compactMap { orders[$0]?.commandTime }.min() }

    func multiplier(_ c: AssetClass) -> Cents { c == .option ? 100 : 1 }
}

// MARK: restore from the topics

extension AlpacaLedger {
    /// Replays what the topics hold, before any request: commands, then our own order events and fills.
    public mutating func restore(command env: Envelope<OrderCommand>) {
        let c = env.payload
        guard c.accountId == accountId, orders[c.clientOrderId] == nil else { return }
        orders[c.clientOrderId] = TrackedOrder(command: c, commandTime: env.eventTime, commandEnvelopeId: env.id, submission: .uncertain)
        arrival.append(c.clientOrderId)
    }

    public mutating func restore(event e: OrderEvent) {
        guard e.accountId == accountId, var o = orders[e.clientOrderId] else { return }
        switch e.status {
        case .accepted: o.acceptedPublished = true
        case .partiallyFilled: o.acceptedPublished = true
        case .rejected, .cancelled, .filled: o.terminal = true; o.submission = .known
        }
        orders[e.clientOrderId] = o
    }

    public mutating func restore(fill f: Fill) {
        guard f.accountId == accountId, fillIds.insert(f.fillId).inserted else { return }
        if var o = orders[f.clientOrderId] {
            o.filled += f.quantity
            o.filledNotional += Decimal(f.priceCents) / 100 * Decimal(f.quantity)
            orders[f.clientOrderId] = o
        }
        book(f)
    }

    /// After the restore: every order the topics do not show as ended is looked up at Alpaca before anything else.
    public func restoreLookups() -> [Action] {
        openClientIds.map { .lookup(clientOrderId: $0) }
    }
}

// MARK: order commands

extension AlpacaLedger {
    public mutating func command(_ env: Envelope<OrderCommand>, at t: Timestamp) -> Step {
        var step = Step()
        let c = env.payload
        guard c.accountId == accountId else {
            step.warnings.append("order \(c.clientOrderId) is for account \(c.accountId), this gateway trades \(accountId): ignored")
            return step
        }
        if let known = orders[c.clientOrderId] {
            if known.command != c {
                step.warnings.append("client order id \(c.clientOrderId) reused for a different order: the first one stands")
            }
            return step
        }
        orders[c.clientOrderId] = TrackedOrder(command: c, commandTime: env.eventTime, commandEnvelopeId: env.id, submission: .unsent)
        arrival.append(c.clientOrderId)
        if c.intent == .open, t.ms - env.eventTime.ms > Int64(params.execution.entryTtlMinutes) * 60_000 {
            return reject(c.clientOrderId, "not submitted: the entry is older than execution.entry_ttl_minutes (\(params.execution.entryTtlMinutes)) at \(t)", at: t)
        }
        if let replaced = c.replacesClientOrderId, orders[replaced] == nil {
            return reject(c.clientOrderId, "replaces \(replaced), which this account never placed", at: t)
        }
        if let replaced = c.replacesClientOrderId, let old = orders[replaced], old.terminal {
            // As the simulator: a repricing of an order that has already ended (most often: it filled) is refused.
            return reject(c.clientOrderId, "replaces \(replaced), which is no longer open at Alpaca (\(old.filled) of \(old.command.quantity) filled)", at: t)
        }
        if let replaced = c.replacesClientOrderId, let old = orders[replaced] {
            orders[c.clientOrderId]?.submission = .waitingForReplaced
            if let id = old.alpacaId { step.actions.append(.cancel(alpacaId: id, clientOrderId: replaced)) }
            else { step.actions.append(.lookup(clientOrderId: replaced)) }
            return step
        }
        step.add(submit(c.clientOrderId, at: t))
        return step
    }

    /// The POST for an order that Alpaca is known not to have.
    mutating func submit(_ clientOrderId: String, at t: Timestamp) -> Step {
        guard let o = orders[clientOrderId] else { return Step() }
        do {
            let request = try Alpaca.orderRequest(o.command, ticks: params.execution.ticks)
            orders[clientOrderId]?.submission = .submitting
            var step = Step()
            step.actions.append(.submit(request))
            return step
        } catch {
            return reject(clientOrderId, "not submitted: \(error.description)", at: t)
        }
    }

    /// The answer to a POST.
    public mutating func submitted(_ clientOrderId: String, _ outcome: SubmitOutcome, at t: Timestamp) -> Step {
        guard orders[clientOrderId] != nil else { return Step() }
        switch outcome {
        case .accepted(let order):
            return observe(order, at: t)
        case .refused(let status, let code, let message):
            orders[clientOrderId]?.submission = .known
            return reject(clientOrderId, "Alpaca refused (HTTP \(status)\(code.map { ", code \($0)" } ?? "")): \(message)", at: t)
        case .knownClientId, .ambiguous:
            orders[clientOrderId]?.submission = .uncertain
            var step = Step()
            if case .ambiguous(let why) = outcome { step.warnings.append("order \(clientOrderId): \(why); looking it up before any resubmit") }
            step.actions.append(.lookup(clientOrderId: clientOrderId))
            return step
        }
    }

    /// The answer to `GET /v2/orders:by_client_order_id`: the order, or nil when Alpaca does not know the id.
    public mutating func lookedUp(_ clientOrderId: String, _ order: Alpaca.Order?, at t: Timestamp) -> Step {
        guard let o = orders[clientOrderId] else { return Step() }
        if let order { return observe(order, at: t) }
        switch o.submission {
        case .uncertain, .unsent:
            if o.command.intent == .open, t.ms - o.commandTime.ms > Int64(params.execution.entryTtlMinutes) * 60_000 {
                return reject(clientOrderId, "not placed: Alpaca has no order \(clientOrderId) and the entry is older than execution.entry_ttl_minutes", at: t)
            }
            return submit(clientOrderId, at: t)
        case .waitingForReplaced, .submitting, .known:
            // A replacement waiting on this id, which Alpaca never had: the old order is over.
            return finish(clientOrderId, status: .cancelled, reason: "Alpaca has no order \(clientOrderId)", at: t)
        }
    }
}

// MARK: what Alpaca reports

extension AlpacaLedger {
    /// A `trade_updates` message.
    public mutating func tradeUpdate(_ u: Alpaca.TradeUpdate, at t: Timestamp) -> Step {
        var step = Step()
        guard orders[u.order.clientOrderId] != nil else {
            step.warnings.append("trade update \(u.event) for \(u.order.clientOrderId) (\(u.order.symbol)), an order this pipeline did not place: ignored")
            return step
        }
        if let id = u.executionId, orders[u.order.clientOrderId]?.executionIds.contains(id) == true { return step }
        var execution: (qty: Int, price: Decimal)?
        if ["fill", "partial_fill"].contains(u.event), let q = u.qty?.whole, let p = u.price?.value { execution = (q, p) }
        step.add(observe(u.order, execution: execution, at: t))
        if let id = u.executionId { orders[u.order.clientOrderId]?.executionIds.insert(id) }
        return step
    }

    /// `GET /v2/orders` after a (re)connect: what changed while we were not listening.
    public mutating func listed(_ list: [Alpaca.Order], at t: Timestamp) -> Step {
        var step = Step()
        // Oldest first, so fills of the same contract are booked in the order they happened.
        for order in list.sorted(by: { ($0.submittedAt ?? "", $0.id) < ($1.submittedAt ?? "", $1.id) }) where orders[order.clientOrderId] != nil {
            step.add(observe(order, at: t))
        }
        return step
    }

    /// Brings one order's published state up to Alpaca's: accepted once, a fill for every new contract filled,
    /// the terminal event once.
    mutating func observe(_ order: Alpaca.Order, execution: (qty: Int, price: Decimal)? = nil, at t: Timestamp) -> Step {
        var step = Step()
        let id = order.clientOrderId
        guard var o = orders[id] else { return step }
        o.alpacaId = order.id
        o.submission = .known
        orders[id] = o
        if order.status == "rejected" {
            return o.terminal ? step : finish(id, status: .rejected, reason: "Alpaca rejected the order", at: t)
        }
        if !o.acceptedPublished {
            orders[id]?.acceptedPublished = true
            step.emits.append(event(o.command, .accepted, filled: 0, price: nil, reason: "accepted by Alpaca as \(order.id) (\(order.status))", at: t))
        }
        let cumulative = min(order.filled, o.command.quantity)
        if cumulative > o.filled {
            step.add(fill(id, upTo: cumulative, average: order.filledAvgPrice?.value, execution: execution, at: t))
        }
        if order.isTerminal, !(orders[id]?.terminal ?? true), order.status != "filled" || cumulative < o.command.quantity {
            let filled = orders[id]?.filled ?? 0
            step.add(finish(id, status: .cancelled, reason: "Alpaca \(order.status) with \(filled) of \(o.command.quantity) filled", at: t))
        }
        step.add(releaseReplacement(of: id, at: t))
        return step
    }

    /// Publishes the contracts filled beyond what the topics hold: one fill of `cumulative − filled` at this
    /// execution's price, or the price implied by Alpaca's new average.
    mutating func fill(_ id: String, upTo cumulative: Int, average: Decimal?, execution: (qty: Int, price: Decimal)?, at t: Timestamp) -> Step {
        var step = Step()
        guard var o = orders[id] else { return step }
        let quantity = cumulative - o.filled
        var price: Decimal
        if let execution, execution.qty == quantity { price = execution.price }
        else if let average { price = (average * Decimal(cumulative) - o.filledNotional) / Decimal(quantity) }
        else if let execution { price = execution.price }
        else { price = Decimal(o.command.limitPriceCents) / 100 }
        let cents = WireDecimal(price).roundedCents
        let c = o.command
        let unit = params.execution.unitCosts(c.assetClass)
        let fillId = DeterministicID.make("fill", accountId, id, String(cumulative))
        let f = Fill(accountId: accountId, fillId: fillId, clientOrderId: id, symbol: c.symbol, underlying: c.underlying,
                     assetClass: c.assetClass, side: c.side, quantity: quantity, priceCents: cents,
                     commissionCents: unit.0 * Cents(quantity), feesCents: unit.1 * Cents(quantity), orderTime: o.commandTime,
                     quoteTime: t, quoteBid: 0, quoteAsk: 0, intent: c.intent, positionId: c.positionId, strategy: c.strategy)
        o.filled = cumulative
        o.filledNotional += Decimal(cents) / 100 * Decimal(quantity)
        let done = cumulative >= c.quantity
        if done { o.terminal = true }
        orders[id] = o
        guard fillIds.insert(fillId).inserted else { return step }
        book(f)
        step.emits.append(Emit(Topics.fills, Envelope(id: fillId, eventTime: t, causationId: o.commandEnvelopeId, source: Self.source, payload: f).erased()))
        let reason = "filled \(quantity) (\(cumulative) of \(c.quantity)) at \(Money.dollars(cents)) on Alpaca"
        step.emits.append(event(c, done ? .filled : .partiallyFilled, filled: cumulative, price: cents, reason: reason, at: t))
        return step
    }

    /// Ends an order on the topics.
    mutating func finish(_ id: String, status: OrderEvent.Status, reason: String, at t: Timestamp) -> Step {
        var step = Step()
        guard var o = orders[id], !o.terminal else { return step }
        o.terminal = true
        o.submission = .known
        orders[id] = o
        step.emits.append(event(o.command, status, filled: o.filled, price: nil, reason: reason, at: t))
        step.add(releaseReplacement(of: id, at: t))
        return step
    }

    mutating func reject(_ id: String, _ reason: String, at t: Timestamp) -> Step { finish(id, status: .rejected, reason: reason, at: t) }

    /// A replacement waits for its predecessor to end; then it goes out, unless the old order filled in full.
    mutating func releaseReplacement(of id: String, at t: Timestamp) -> Step {
        guard orders[id]?.terminal == true,
              let next = arrival.first(where: { orders[$0]?.command.replacesClientOrderId == id && orders[$0]?.submission == .waitingForReplaced })
        else { return Step() }
        if let old = orders[id], old.filled >= old.command.quantity {
            return reject(next, "not submitted: \(id), which it replaces, filled first", at: t)
        }
        return submit(next, at: t)
    }

    func event(_ c: OrderCommand, _ status: OrderEvent.Status, filled: Int, price: Cents?, reason: String, at t: Timestamp) -> Emit {
        let e = OrderEvent(accountId: c.accountId, clientOrderId: c.clientOrderId, status: status, symbol: c.symbol, side: c.side,
                           quantity: c.quantity, filledQuantity: filled, fillPriceCents: price, intent: c.intent,
                           positionId: c.positionId, reason: reason)
        let id = DeterministicID.make("order-event", c.clientOrderId, status.rawValue, String(filled))
        return Emit(Topics.orderEvents, Envelope(id: id, eventTime: t, causationId: orders[c.clientOrderId]?.commandEnvelopeId,
                                                 source: Self.source, payload: e).erased())
    }

    /// Books a fill into holdings, realized P&L and costs (average cost, as the simulator does).
    mutating func book(_ f: Fill) {
        let key = Alpaca.canonicalSymbol(f.symbol)
        var h = holdings[key] ?? Holding(symbol: f.symbol, underlying: f.underlying, assetClass: f.assetClass, strategy: f.strategy, positionId: f.positionId)
        let m = multiplier(f.assetClass)
        let notional = f.priceCents * m * Cents(f.quantity)
        let fees = f.commissionCents + f.feesCents
        costs += fees
        if f.side == .buy {
            h.quantity += f.quantity
            h.costCents += notional + fees
        } else {
            let basis = h.quantity <= 0 ? 0 : (f.quantity >= h.quantity ? h.costCents : h.costCents * Cents(f.quantity) / Cents(h.quantity))
            realized += notional - fees - basis
            h.quantity -= f.quantity
            h.costCents -= basis
        }
        holdings[key] = h.quantity == 0 ? nil : h
    }
}

// MARK: entries that outlive their TTL

extension AlpacaLedger {
    /// Open entries older than `execution.entry_ttl_minutes` are cancelled at Alpaca (as the simulator cancels
    /// them); the cancel's trade update ends them on the topics.
    public func expiredEntries(at t: Timestamp) -> [Action] {
        let ttl = Int64(params.execution.entryTtlMinutes) * 60_000
        return openClientIds.compactMap { id in
            guard let o = orders[id], o.command.intent == .open, o.submission == .known, let alpacaId = o.alpacaId,
                  t.ms - o.commandTime.ms > ttl else { return nil }
            return .cancel(alpacaId: alpacaId, clientOrderId: id)
        }
    }
}
