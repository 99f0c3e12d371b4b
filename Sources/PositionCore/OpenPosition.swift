import OpsModel

/// A long position as the position-manager tracks it, from its entry fill(s) to its exit fill(s) or its expiry
/// settlement: an option bought to open, or shares bought by the dispatcher's stock fallback.
public struct OpenPosition: Sendable, Equatable, Codable {
    /// `DeterministicID.make("pos", entry client order id)`.
    public internal(set) var positionId: String
    public internal(set) var accountId: String
    /// The contract as spelled on the entry fill, or the ticker of a stock position.
    public internal(set) var symbol: String
    public internal(set) var underlying: String
    public internal(set) var assetClass: AssetClass = .option
    /// The option's right, strike and expiration; nil for a stock position.
    public internal(set) var right: OptionRight?
    public internal(set) var strike: Double?
    public internal(set) var expiration: CivilDate?
    public internal(set) var strategy: TradeStrategy
    /// Contracts (or shares) bought: the sum of the entry fills.
    public internal(set) var quantity: Int
    /// Per share: the entry fill's price (several entry fills: their notional-weighted mean, half-up to a cent).
    public internal(set) var entryPriceCents: Cents
    /// Σ entry price × multiplier × quantity.
    public internal(set) var entryNotionalCents: Cents
    /// Entry notional plus entry commissions and fees.
    public internal(set) var entryCostCents: Cents
    /// The first entry fill's time.
    public internal(set) var openedAt: Timestamp
    /// Quantity sold so far by exit fills, their notional and their commissions plus fees.
    public internal(set) var exitedQuantity: Int = 0
    public internal(set) var exitNotionalCents: Cents = 0
    public internal(set) var exitCostsCents: Cents = 0
    /// Exit orders of this position the broker has accepted (or partly filled) and not yet filled, cancelled or
    /// rejected, oldest first. Derived from order events only, so it survives the night and a restore.
    public internal(set) var exitOrdersAtBroker: [String] = []

    /// The entry order's client id (its decision's plan is keyed by it).
    public internal(set) var entryClientOrderId: String = ""
    /// From the entry's decision: the underlying's price and 1-minute ATR14 at the signal (underlying-style exits),
    /// the roll it opened, the contracts a scale-in still adds. Nil/0 when the decision is unknown (an order placed
    /// by hand, or adopted).
    public internal(set) var entryUnderlyingPrice: Double? = nil
    public internal(set) var atr14: Double? = nil
    public internal(set) var openedByRoll: String? = nil
    public internal(set) var scaleInPending: Int = 0
    /// The highest mark since entry (the trailing stop's reference). Derived from every chain or bar since the
    /// position opened: the core's restore re-reads them from the oldest open position's opening date.
    public internal(set) var highWaterCents: Cents? = nil
    /// Seed 000 #20: a partial exit at the first target has sold some contracts; the rest has its stop at breakeven
    /// and trails.
    public internal(set) var partialTaken: Bool = false
    /// The Greeks at the latest mark (options), for the portfolio sums.
    public internal(set) var greeks: PositionGreeks? = nil

    /// BULL for calls and shares, BEAR for puts.
    public var direction: Direction { right == .put ? .bear : .bull }

    /// The compact OCC spelling (to find the contract in a chain), or the ticker.
    var contract: String
    /// Chain- or bar-derived state, valid only on the New York date it was set (see `PositionManagerCore`).
    var lastMark: DayMark? = nil
    var exitWork: ExitWork? = nil

    /// Contracts (or shares) still held.
    public var remainingQuantity: Int { quantity - exitedQuantity }
    /// Shares per unit of quantity: 100 per option contract, 1 per share.
    public var multiplier: Cents { assetClass == .option ? 100 : 1 }

    /// Whether an exit is being worked: one was requested today, or the broker still works an exit order.
    func isExiting(on day: CivilDate) -> Bool { exitWork(on: day) != nil || !exitOrdersAtBroker.isEmpty }

    /// Today's exit work (an older day's is stale).
    func exitWork(on day: CivilDate) -> ExitWork? { exitWork.flatMap { $0.day == day ? $0 : nil } }

    /// Drops chain- and bar-derived state of an earlier New York date.
    mutating func forgetBefore(_ day: CivilDate) {
        if let m = lastMark, m.day != day { lastMark = nil }
        if let w = exitWork, w.day != day { exitWork = nil }
    }
}

struct DayMark: Sendable, Equatable, Codable {
    var day: CivilDate
    var cents: Cents
}

/// An exit the position-manager works on one New York date: the rule that asked for it, the reprice step reached
/// and the latest order sent (nil while no sell could be placed: no bid, or the contract was not quoted).
struct ExitWork: Sendable, Equatable, Codable {
    var day: CivilDate
    /// The rule name (`stop_loss`); nil when the work continues an exit order it did not send (one the broker still
    /// works from an earlier day, or one placed by hand).
    var rule: String?
    var step: Int
    var order: SentExit?
    /// Every exit order sent by this work (a fill of any of them closes with `rule`).
    var clientOrderIds: Set<String> = []
    /// A partial exit: how many to sell, and the exited quantity at which the work is done (the rest stays open).
    var partialQuantity: Int? = nil
    var partialDoneAt: Int? = nil
    /// A roll's close leg.
    var rollId: String? = nil
}

struct SentExit: Sendable, Equatable, Codable {
    var clientOrderId: String
    var limitCents: Cents
    var quantity: Int
    /// When it was sent (nil in snapshots taken before this was kept).
    var sentAt: Timestamp? = nil
}
