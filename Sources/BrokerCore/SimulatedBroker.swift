import OpsModel

/// The broker-gateway's pure core: a simulated paper broker for one account.
///
/// It is one implementation of "the broker" behind the broker topics — order commands in; order events, fills and
/// account snapshots out — so a live adapter (Alpaca) can replace it later without any consumer noticing:
///
/// - `trading.orders.v1` (`OrderCommand`) → `trading.order-events.v1` (`OrderEvent`: accepted, rejected, filled,
///   cancelled), `trading.fills.v1` (`Fill`), `trading.accounts.v1` (`AccountSnapshot`).
/// - `market.chains.v1` (`OptionChain`) is the simulator's own exchange: it fills open orders against the first
///   quote strictly after the order, expires day orders after the 16:00 New York close and marks holdings.
///
/// Every business outcome (unknown account, duplicate id, unaffordable, no position, unsupported) is an
/// `OrderEvent` with status `rejected`; `handle` never throws. State is a deterministic function of the input
/// sequence (cash depends on every fill ever), so a restore re-reads every input topic from the beginning.
public struct SimulatedBroker: StreamCore {
    public static let name = "broker-gateway"

    public let params: TradingParams
    public let accountId: String
    public let startingCashCents: Cents

    public var serviceName: String { Self.name }
    public var inputTopics: [String] { [Topics.chains, Topics.orders] }
    public var outputTopics: [String] { [Topics.orderEvents, Topics.fills, Topics.accounts] }

    /// A fill is caused by a chain (at the chain's time) and never at its order's time (only a quote strictly
    /// after the order fills it). Order events and snapshots come from both, at the input's own time.
    public var outputCauses: [String: [String: Int64]] {
        [
            Topics.fills: [Topics.chains: 0, Topics.orders: 1],
            Topics.orderEvents: [Topics.chains: 0, Topics.orders: 0],
            Topics.accounts: [Topics.chains: 0, Topics.orders: 0],
        ]
    }

    /// Quotes above this many dollars per share are treated as no quote (neither filled against nor used as a
    /// mark), which keeps every cent computation far from Int64 overflow.
    public static let maxUsableQuote = 100_000.0

    private var state: LedgerState

    public init(params: TradingParams, accountId: String, startingCashCents: Cents) {
        precondition(!accountId.isEmpty, "account id must not be empty")
        self.params = params
        self.accountId = accountId
        self.startingCashCents = startingCashCents
        self.state = LedgerState(cash: startingCashCents)
    }

    public mutating func reset() { state = LedgerState(cash: startingCashCents) }

    /// Cash, reservations and holdings depend on every order and fill ever: re-read everything.
    public func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp { .distantPast }

    public mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
        var out = [Emit]()
        if !state.started {
            state.started = true
            out.append(snapshot(cause: message))
        }
        switch message.payload {
        case let order as OrderCommand:
            out += onOrder(order, message)
        case let chain as OptionChain:
            out += onChain(chain, message)
        default:
            break   // nothing else travels on the input topics; never refuse what decoded fine
        }
        return out
    }

    // MARK: read-only views (diagnostics and tests)

    /// The last snapshot emitted, nil before the first input.
    public var lastSnapshot: AccountSnapshot? { state.lastSnapshot }
    /// Client order ids of the open orders, in acceptance order.
    public var openOrderIds: [String] { state.open.map(\.command.clientOrderId) }
    /// Contracts held of a symbol (OCC compact or padded spelling).
    public func heldQuantity(_ symbol: String) -> Int { state.holdings[Self.canonical(symbol)]?.quantity ?? 0 }

    // MARK: pricing

    /// The simulated execution price per share in cents of `side` against a quote. `mid`: buys at the mid rounded
    /// up to a valid tick plus slippage, sells at the mid rounded down to a tick minus slippage; `cross`: buys at
    /// the ask (rounded up to a tick) plus slippage, sells at the bid (rounded down to a tick) minus slippage.
    /// Never below one cent.
    public static func fillPriceCents(side: OrderSide, bid: Double, ask: Double, underlying: String,
                                      execution: TradingParams.ExecutionParams) -> Cents {
        let slippage = Cents(execution.slippageCents)
        let reference: Double
        if execution.fillPrice == "cross" {
            reference = side == .buy ? ask : bid
        } else {
            reference = (bid + ask) / 2
        }
        // Slippage moves the price against the trader, then the price lands on a valid tick (again against the
        // trader): an execution price is always one the exchange could print.
        let slip = Double(slippage) / 100
        switch side {
        case .buy:
            let p = reference + slip
            return Ticks.cents(p, tick: Ticks.tickCents(price: p, underlying: underlying, pennyPilot: execution.pennyPilot), rounding: .up)
        case .sell:
            let p = max(0.01, reference - slip)
            return Ticks.cents(p, tick: Ticks.tickCents(price: p, underlying: underlying, pennyPilot: execution.pennyPilot), rounding: .down)
        }
    }

    /// The mark per share in cents of a quote: its mid, rounded half up to a cent. Nil when the contract has no
    /// usable quote (no ask, or beyond `maxUsableQuote`).
    public static func markCents(_ quote: OptionQuote) -> Cents? {
        guard quote.ask > 0, quote.ask <= maxUsableQuote, quote.bid >= 0, quote.bid <= quote.ask else { return nil }
        return Ticks.cents(quote.mid, tick: 1, rounding: .nearest)
    }

    /// The canonical (compact OCC) spelling of a contract symbol, so padded and compact spellings are one contract.
    static func canonical(_ symbol: String) -> String { OCCSymbol(symbol)?.description ?? symbol }

    // MARK: orders

    private mutating func onOrder(_ order: OrderCommand, _ message: AnyEnvelope) -> [Emit] {
        let key = OrderKey(accountId: order.accountId, clientOrderId: order.clientOrderId)
        if let prior = state.seen[key] {
            // A retried or replayed order is never placed twice; a different order reusing the id is refused. The
            // refusal's id names this input, so it can never clash with the original order's own events.
            if prior == order { return [] }
            let reason = order.accountId == accountId
                ? "duplicate client_order_id with different content"
                : unknownAccountReason(order.accountId)
            return [orderEvent(order, .rejected, reason: reason,
                               id: DeterministicID.make("order-event", order.clientOrderId, "rejected", message.id), cause: message)]
        }
        state.seen[key] = order

        guard order.accountId == accountId else {
            // Another account's client order ids are not ours to keep unique against ours: name the input.
            return [orderEvent(order, .rejected, reason: unknownAccountReason(order.accountId),
                               id: DeterministicID.make("order-event", order.clientOrderId, "rejected", message.id), cause: message)]
        }
        guard order.assetClass == .option else {
            return [reject(order, "asset class equity is not supported by the simulator for now (the pipeline trades options)", message)]
        }
        let symbol = Self.canonical(order.symbol)
        let ex = params.execution
        let perContractCosts = Cents(ex.commissionPerContractCents) + Cents(ex.feesPerContractCents)

        switch (order.side, order.intent) {
        case (.buy, .open):
            guard let notional = Checked.mul(order.limitPriceCents, 100, Cents(order.quantity)),
                  let costs = Checked.mul(perContractCosts, Cents(order.quantity)),
                  let cost = Checked.add(notional, costs) else {
                return [reject(order, "order too large: limit \(Money.dollars(order.limitPriceCents)) × 100 × \(order.quantity) does not fit in an account", message)]
            }
            let buyingPower = state.cash - state.reserved
            guard cost <= buyingPower else {
                return [reject(order, "insufficient buying power: need \(Money.dollars(cost)), have \(Money.dollars(buyingPower))", message)]
            }
            state.open.append(OpenOrder(command: order, symbol: symbol, orderTime: message.eventTime, reservedCents: cost))
            state.reserved += cost
            return [orderEvent(order, .accepted, reason: "accepted: \(Money.dollars(cost)) reserved", cause: message),
                    snapshot(cause: message)]

        case (.sell, .close):
            let held = state.holdings[symbol]?.quantity ?? 0
            let committed = state.open.reduce(0) { $1.command.side == .sell && $1.symbol == symbol ? $0 + $1.command.quantity : $0 }
            guard held - committed >= order.quantity else {
                return [reject(order, "no position to sell: \(order.quantity) × \(order.symbol) wanted, \(held) held, \(committed) already committed to open sells", message)]
            }
            state.open.append(OpenOrder(command: order, symbol: symbol, orderTime: message.eventTime, reservedCents: 0))
            return [orderEvent(order, .accepted, reason: "accepted", cause: message), snapshot(cause: message)]

        case (.buy, .close), (.sell, .open):
            return [reject(order, "\(order.side.rawValue) to \(order.intent.rawValue) is not supported: the simulator opens long positions with buys and closes them with sells", message)]
        }
    }

    private func unknownAccountReason(_ other: String) -> String {
        "unknown account '\(other)' (this broker holds account '\(accountId)')"
    }

    private func reject(_ order: OrderCommand, _ reason: String, _ message: AnyEnvelope) -> Emit {
        orderEvent(order, .rejected, reason: reason, cause: message)
    }

    // MARK: chains

    private mutating func onChain(_ chain: OptionChain, _ message: AnyEnvelope) -> [Emit] {
        let q = message.eventTime
        var quotes = [String: OptionQuote]()
        for c in chain.contracts { quotes[Self.canonical(c.symbol)] = c }
        var out = [Emit]()

        // The chain is the latest market information at q: mark holdings first, so every snapshot at q uses it.
        for symbol in state.holdings.keys {
            if let quote = quotes[symbol], let mark = Self.markCents(quote) { state.holdings[symbol]?.markCents = mark }
        }

        // Day orders: anything still open after its order date's 16:00 New York close is cancelled.
        var i = 0
        while i < state.open.count {
            let o = state.open[i]
            let close = NewYorkTime.utc(date: NewYorkTime.date(of: o.orderTime), hour: 16, minute: 0)
            if close < q {
                state.open.remove(at: i)
                state.reserved -= o.reservedCents
                out.append(orderEvent(o.command, .cancelled, reason: "day order expired unfilled", cause: message))
                out.append(snapshot(cause: message))
            } else {
                i += 1
            }
        }

        // Fills: against the first quote strictly after the order, whole quantity, when the price meets the limit.
        i = 0
        while i < state.open.count {
            let o = state.open[i]
            guard o.command.underlying == chain.underlying, o.orderTime < q, let quote = quotes[o.symbol],
                  quote.bid > 0, quote.ask > 0, quote.ask <= Self.maxUsableQuote,
                  let filled = fill(at: i, quote: quote, cause: message) else {
                i += 1
                continue
            }
            out += filled   // the order left the open list
        }
        return out
    }

    /// Fills the open order at `index` against `quote` if its price meets the limit: removes it from the open
    /// orders and updates cash, reservations, holdings, P&L and commissions. Nil (nothing changed, the order stays
    /// open) otherwise.
    private mutating func fill(at index: Int, quote: OptionQuote, cause: AnyEnvelope) -> [Emit]? {
        let order = state.open[index]
        let c = order.command
        let ex = params.execution
        let price = Self.fillPriceCents(side: c.side, bid: quote.bid, ask: quote.ask, underlying: c.underlying, execution: ex)
        let qty = Cents(c.quantity)
        let commission = Cents(ex.commissionPerContractCents) * qty
        let fees = Cents(ex.feesPerContractCents) * qty
        guard let notional = Checked.mul(price, 100, qty) else { return nil }
        let costs = commission + fees

        switch c.side {
        case .buy:
            // The reservation (limit × 100 × qty + costs) covers it: price ≤ limit.
            guard price <= c.limitPriceCents else { return nil }
            state.reserved -= order.reservedCents
            state.cash -= notional + costs
            state.commissions += costs
            var h = state.holdings[order.symbol] ?? Holding()
            h.quantity += c.quantity
            h.costCents += notional + costs
            h.markCents = Self.markCents(quote) ?? h.markCents
            state.holdings[order.symbol] = h
        case .sell:
            guard price >= c.limitPriceCents, var h = state.holdings[order.symbol], h.quantity >= c.quantity else { return nil }
            // The cost basis of the contracts sold: all of it when flattening, else their pro-rata share (floored,
            // the remainder staying with what is still held, so the pieces always add up to the total).
            let basis: Cents
            if c.quantity == h.quantity {
                basis = h.costCents
            } else {
                let wide = h.costCents.multipliedFullWidth(by: qty)
                basis = Cents(h.quantity).dividingFullWidth(wide).quotient
            }
            state.cash += notional - costs
            state.commissions += costs
            state.realized += notional - costs - basis
            h.quantity -= c.quantity
            h.costCents -= basis
            state.holdings[order.symbol] = h.quantity == 0 ? nil : h
        }
        state.open.remove(at: index)

        let fillId = DeterministicID.make("fill", c.clientOrderId)
        let f = Fill(accountId: c.accountId, fillId: fillId, clientOrderId: c.clientOrderId, symbol: c.symbol, underlying: c.underlying,
                     assetClass: c.assetClass, side: c.side, quantity: c.quantity, priceCents: price, commissionCents: commission,
                     feesCents: fees, orderTime: order.orderTime, quoteTime: cause.eventTime, quoteBid: quote.bid, quoteAsk: quote.ask,
                     intent: c.intent, positionId: c.positionId, strategy: c.strategy)
        let fillEnvelope = Envelope(id: fillId, eventTime: cause.eventTime, causationId: cause.id, source: Self.name, payload: f)
        return [
            Emit(Topics.fills, fillEnvelope.erased()),
            orderEvent(c, .filled, filledQuantity: c.quantity, fillPriceCents: price,
                       reason: "filled \(c.quantity) at \(Money.dollars(price)) against bid \(quote.bid) / ask \(quote.ask)", cause: cause),
            snapshot(cause: cause),
        ]
    }

    // MARK: outputs

    private func orderEvent(_ c: OrderCommand, _ status: OrderEvent.Status, filledQuantity: Int = 0, fillPriceCents: Cents? = nil,
                            reason: String, id: String? = nil, cause: AnyEnvelope) -> Emit {
        let event = OrderEvent(accountId: c.accountId, clientOrderId: c.clientOrderId, status: status, symbol: c.symbol, side: c.side,
                               quantity: c.quantity, filledQuantity: filledQuantity, fillPriceCents: fillPriceCents, intent: c.intent,
                               positionId: c.positionId, reason: reason)
        let envelopeId = id ?? DeterministicID.make("order-event", c.clientOrderId, status.rawValue)
        return Emit(Topics.orderEvents, Envelope(id: envelopeId, eventTime: cause.eventTime, causationId: cause.id,
                                                 source: Self.name, payload: event).erased())
    }

    /// The account as of now, as the next snapshot in sequence.
    private mutating func snapshot(cause: AnyEnvelope) -> Emit {
        state.seq += 1
        var positions: Cents = 0
        for h in state.holdings.values {   // integer sum: order-independent
            positions += h.markCents.map { $0 * 100 * Cents(h.quantity) } ?? h.costCents
        }
        let s = AccountSnapshot(accountId: accountId, seq: state.seq, cashCents: state.cash, reservedCents: state.reserved,
                                buyingPowerCents: state.cash - state.reserved, positionsValueCents: positions,
                                equityCents: state.cash + positions, realizedPnlCents: state.realized,
                                commissionsCents: state.commissions, openOrders: state.open.count)
        state.lastSnapshot = s
        let id = DeterministicID.make("account", accountId, String(state.seq), cause.id)
        return Emit(Topics.accounts, Envelope(id: id, eventTime: cause.eventTime, causationId: cause.id, source: Self.name, payload: s).erased())
    }
}

// MARK: state

/// Identity of an order command: client order ids are unique per account.
struct OrderKey: Hashable, Sendable {
    var accountId: String
    var clientOrderId: String
}

struct OpenOrder: Sendable {
    var command: OrderCommand
    /// Canonical contract symbol.
    var symbol: String
    /// The order's event time.
    var orderTime: Timestamp
    /// What the order holds back from buying power (buys: limit × 100 × qty + costs; sells: 0).
    var reservedCents: Cents
}

struct Holding: Sendable {
    var quantity = 0
    /// Total cost of what is held: entry notional plus entry commissions and fees, in cents.
    var costCents: Cents = 0
    /// Mid of the latest usable quote, per share, in cents.
    var markCents: Cents? = nil
}

struct LedgerState: Sendable {
    var started = false
    var seq: Int64 = 0
    var cash: Cents
    /// Σ reservedCents of the open orders.
    var reserved: Cents = 0
    var realized: Cents = 0
    /// Commissions and fees paid.
    var commissions: Cents = 0
    /// Accepted and not yet filled or cancelled, in acceptance order.
    var open: [OpenOrder] = []
    /// Every order command handled, by (account, client order id), as first seen.
    var seen: [OrderKey: OrderCommand] = [:]
    /// By canonical symbol; only non-zero quantities.
    var holdings: [String: Holding] = [:]
    var lastSnapshot: AccountSnapshot? = nil

    init(cash: Cents) { self.cash = cash }
}

