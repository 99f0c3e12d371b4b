import OpsModel

/// The broker-gateway's pure core: a simulated paper broker for one account.
///
/// It is one implementation of "the broker" behind the broker topics — order commands in; order events, fills and
/// account snapshots out — so a live adapter (Alpaca) can replace it later without any consumer noticing:
///
/// - `trading.orders.v1` (`OrderCommand`) → `trading.order-events.v1` (`OrderEvent`: accepted, rejected,
///   partially_filled, filled, cancelled), `trading.fills.v1` (`Fill`), `trading.accounts.v1` (`AccountSnapshot`).
/// - `market.chains.v1` (`OptionChain`) and `market.bars.v1` (`Bar`) are the simulator's own exchange: option
///   orders fill against quotes and stock orders against bars strictly after the order (`FillModel.swift`),
///   entries expire after `execution.entry_ttl_minutes`, day orders after the session's close, options settle at
///   their expiration day's close (`ExpirySettlement.swift`), and holdings are marked.
///
/// Every business outcome (unknown account, duplicate id, unaffordable, no position, unsupported) is an
/// `OrderEvent` with status `rejected`; `handle` never throws. State is a deterministic function of the input
/// sequence (cash depends on every fill ever), so a restore re-reads every input topic from the beginning.
public struct SimulatedBroker: TradingParamsCore {
    public static let name = "broker-gateway"

    public private(set) var params: TradingParams
    public let accountId: String
    public let startingCashCents: Cents

    public var serviceName: String { Self.name }
    /// Bars rank first: at one instant every underlying's last price is known before a chain or an order is.
    public var inputTopics: [String] { [Topics.bars, Topics.chains, Topics.orders] }
    public var outputTopics: [String] { [Topics.orderEvents, Topics.fills, Topics.accounts] }

    /// A fill (or a settlement) is caused by a bar or a chain at its own time, never at its order's time (only a
    /// quote or bar strictly after the order fills it). Order events and snapshots come from every input, at the
    /// input's own time.
    public var outputCauses: [String: [String: Int64]] {
        [
            Topics.fills: [Topics.bars: 0, Topics.chains: 0, Topics.orders: 1],
            Topics.orderEvents: [Topics.bars: 0, Topics.chains: 0, Topics.orders: 0],
            Topics.accounts: [Topics.bars: 0, Topics.chains: 0, Topics.orders: 0],
        ]
    }

    /// With no working order nothing fills, is cancelled or changes the account until an order comes (fills strictly
    /// after it); holdings only wait for their expiry settlement, so every declared cause resumes at the earliest
    /// expiry close of an option held. Before the first input, the opening snapshot may come from any input.
    public var lookahead: Lookahead? {
        guard state.started, state.open.isEmpty else { return nil }
        var expiry: Timestamp?
        for symbol in state.holdings.keys {
            guard let occ = OCCSymbol(symbol) else { continue }
            let close = MarketCalendar.close(of: occ.expiration)
            expiry = min(expiry ?? close, close)
        }
        return Lookahead(name: "no-working-orders", causes: Self.quietCauses, resumesAt: expiry)
    }

    public var paramsAccount: String? { accountId }
    /// Commissions, fees and the fill model apply from the next input on; what was filled stays as it was.
    public mutating func reconfigure(_ params: TradingParams) { self.params = params }

    static let quietCauses: [String: [String: Int64]] = [
        Topics.fills: [Topics.orders: 1], Topics.orderEvents: [Topics.orders: 0], Topics.accounts: [Topics.orders: 0],
    ]

    /// Prices above this many dollars per share are treated as no price (neither filled against, settled from nor
    /// used as a mark), which keeps every cent computation far from Int64 overflow.
    public static let maxUsableQuote = 100_000.0

    var state: LedgerState

    public init(params: TradingParams, accountId: String, startingCashCents: Cents) {
        precondition(!accountId.isEmpty, "account id must not be empty")
        self.params = params
        self.accountId = accountId
        self.startingCashCents = startingCashCents
        self.state = LedgerState(cash: startingCashCents)
    }

    public mutating func reset() { state = LedgerState(cash: startingCashCents) }

    /// Cash, reservations and holdings depend on every order and fill ever: without a snapshot, re-read everything.
    public func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp { .distantPast }

    /// The ledger is the whole state (parameters come from the configuration and `ops.params.v1`); the account and its
    /// starting cash go with it, so a restart configured otherwise rebuilds from the topics instead.
    struct Saved: Codable {
        var accountId: String
        var startingCashCents: Cents
        var ledger: LedgerState
    }

    public func snapshotState() throws -> String? {
        try SnapshotCoding.encode(Saved(accountId: accountId, startingCashCents: startingCashCents, ledger: state))
    }

    public mutating func restoreState(_ text: String) throws {
        let s = try SnapshotCoding.decode(Saved.self, text)
        guard s.accountId == accountId, s.startingCashCents == startingCashCents else {
            throw SnapshotMismatch("the snapshot is of account \(s.accountId) starting with \(s.startingCashCents) cents; configured: \(accountId), \(startingCashCents)")
        }
        state = s.ledger
    }

    public mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
        var out = [Emit]()
        if !state.started {
            state.started = true
            out.append(snapshot(cause: message))
        }
        switch message.payload {
        case let order as OrderCommand:
            out += expireOrders(message)
            out += onOrder(order, message)
        case let chain as OptionChain:
            out += onChain(chain, message)
        case let bar as Bar:
            out += onBar(bar, message)
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
    /// Quantity already filled of an open order, nil when it is not open.
    public func filledQuantity(ofOpenOrder clientOrderId: String) -> Int? {
        state.open.first { $0.command.clientOrderId == clientOrderId }?.filled
    }
    /// Contracts (or shares) held of a symbol (OCC compact or padded spelling, or a ticker).
    public func heldQuantity(_ symbol: String) -> Int { state.holdings[Self.canonical(symbol)]?.quantity ?? 0 }

    /// The mark per share in cents of a quote: its mid, rounded half up to a cent. Nil when the contract has no
    /// usable quote (no ask, or beyond `maxUsableQuote`).
    public static func markCents(_ quote: OptionQuote) -> Cents? {
        guard quote.ask > 0, quote.ask <= maxUsableQuote, quote.bid >= 0, quote.bid <= quote.ask else { return nil }
        return Ticks.cents(quote.mid, tick: 1, rounding: .nearest)
    }

    /// The canonical (compact OCC) spelling of a contract symbol, so padded and compact spellings are one contract;
    /// a ticker stays itself.
    static func canonical(_ symbol: String) -> String { OCCSymbol.canonical(symbol) }

    /// Shares per unit: 100 per option contract, 1 per share.
    static func multiplier(_ assetClass: AssetClass) -> Cents { assetClass == .option ? 100 : 1 }

    /// Commission and fees per contract (options) or per share (stock), each side.
    func unitCosts(_ assetClass: AssetClass) -> (commission: Cents, fees: Cents) { params.execution.unitCosts(assetClass) }

    // MARK: outputs

    func orderEvent(_ c: OrderCommand, _ status: OrderEvent.Status, filledQuantity: Int = 0, fillPriceCents: Cents? = nil,
                    reason: String, id: String? = nil, cause: AnyEnvelope) -> Emit {
        let event = OrderEvent(accountId: c.accountId, clientOrderId: c.clientOrderId, status: status, symbol: c.symbol, side: c.side,
                               quantity: c.quantity, filledQuantity: filledQuantity, fillPriceCents: fillPriceCents, intent: c.intent,
                               positionId: c.positionId, reason: reason)
        let envelopeId = id ?? DeterministicID.make("order-event", c.clientOrderId, status.rawValue)
        return Emit(Topics.orderEvents, Envelope(id: envelopeId, eventTime: cause.eventTime, causationId: cause.id,
                                                 source: Self.name, payload: event).erased())
    }

    func fillEmit(_ f: Fill, cause: AnyEnvelope) -> Emit {
        Emit(Topics.fills, Envelope(id: f.fillId, eventTime: cause.eventTime, causationId: cause.id, source: Self.name, payload: f).erased())
    }

    /// The account as of now, as the next snapshot in sequence.
    mutating func snapshot(cause: AnyEnvelope) -> Emit {
        state.seq += 1
        var positions: Cents = 0
        for h in state.holdings.values {   // integer sum: order-independent
            positions += h.markCents.map { $0 * h.multiplier * Cents(h.quantity) } ?? h.costCents
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
struct OrderKey: Hashable, Sendable, Codable {
    var accountId: String
    var clientOrderId: String
}

struct OpenOrder: Sendable, Codable {
    var command: OrderCommand
    /// Canonical contract symbol (or the ticker).
    var symbol: String
    /// The order's event time.
    var orderTime: Timestamp
    /// What the rest of the order holds back from buying power (buys: (limit × multiplier + costs) × unfilled
    /// quantity; sells: 0).
    var reservedCents: Cents
    /// Filled so far, and in how many pieces (each piece is one fill).
    var filled = 0
    var pieces = 0

    var remaining: Int { command.quantity - filled }
}

struct Holding: Sendable, Codable {
    /// As the first fill spelled it (what the position-manager's positions carry).
    var symbol: String
    var underlying: String
    var multiplier: Cents
    var strategy: TradeStrategy
    var quantity = 0
    /// Total cost of what is held: entry notional plus entry commissions and fees, in cents.
    var costCents: Cents = 0
    /// Per share, in cents: the mid of the latest usable quote (options) or the latest bar's close (stock).
    var markCents: Cents? = nil
}

/// A price and when it was observed.
struct PriceAt: Sendable, Codable {
    var time: Timestamp
    var price: Double
}

struct LedgerState: Sendable, Codable {
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
    /// Per ticker, the last bar's close (at its end); per underlying, the last chain's underlying price.
    var lastBar: [String: PriceAt] = [:]
    var lastChain: [String: PriceAt] = [:]
    var lastSnapshot: AccountSnapshot? = nil

    init(cash: Cents) { self.cash = cash }
}
