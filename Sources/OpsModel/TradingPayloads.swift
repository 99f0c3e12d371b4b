/// Money is integer cents (invariant 8): cash, costs, prices of orders and fills, P&L. Market data quotes stay
/// Double (they are observations, never summed); they become cents, on a valid tick, before an order leaves.
public typealias Cents = Int64

public enum Direction: String, Codable, Sendable, CaseIterable { case bull = "BULL", bear = "BEAR" }
public enum Instrument: String, Codable, Sendable, CaseIterable { case call = "CALL", put = "PUT", stock = "STOCK" }
public enum TradeStrategy: String, Codable, Sendable, CaseIterable { case dayTrade = "day_trade", swingTrade = "swing_trade" }
public enum OrderSide: String, Codable, Sendable { case buy, sell }
public enum OrderIntent: String, Codable, Sendable { case open, close }
public enum AssetClass: String, Codable, Sendable { case option, equity }

/// How one rule of the signal engine scored.
public struct RuleScore: Codable, Sendable, Equatable {
    public var rule: String
    public var passed: Bool
    /// What it added to (or took from) the confidence.
    public var contribution: Double
    public var detail: String
    public init(rule: String, passed: Bool, contribution: Double, detail: String) {
        self.rule = rule; self.passed = passed; self.contribution = contribution; self.detail = detail
    }
}

/// A trade idea from the signal engine, with the confidence broken down rule by rule.
public struct Signal: Payload {
    public static let messageType = "signal"
    public static let version = 1

    public var ticker: String
    public var direction: Direction
    public var instrument: Instrument
    public var strategy: TradeStrategy
    /// In [0, 1].
    public var confidence: Double
    @Nullable public var volumeRatio: Double?
    /// The underlying's close at the signal.
    public var price: Double
    /// The feature vector it came from.
    public var featuresId: String
    public var rules: [RuleScore]
    /// The breakdown as one line, e.g. `trend BULL +0.40; volume 2.3x +0.25; breakout +0.15; sentiment +0.10 → 0.90`.
    public var reason: String
    /// The ticker's IV percentile and IV Rank (0–100) at the signal, from its feature vector; null when unknown.
    @Nullable public var ivPercentile: Double?
    @Nullable public var ivRank: Double?
    /// The underlying's 1-minute ATR14 at the signal (its feature vector's), for ATR sizing and underlying-style
    /// exits; null during warm-up.
    @Nullable public var atr14: Double?

    enum CodingKeys: String, CodingKey {
        case ticker, direction, instrument, strategy, confidence, price, rules, reason, atr14
        case volumeRatio = "volume_ratio", featuresId = "features_id", ivPercentile = "iv_percentile", ivRank = "iv_rank"
    }

    public init(ticker: String, direction: Direction, instrument: Instrument, strategy: TradeStrategy, confidence: Double,
                volumeRatio: Double?, price: Double, featuresId: String, rules: [RuleScore], reason: String,
                ivPercentile: Double? = nil, ivRank: Double? = nil) {
        self.ticker = ticker; self.direction = direction; self.instrument = instrument; self.strategy = strategy
        self.confidence = confidence; self.volumeRatio = volumeRatio; self.price = price; self.featuresId = featuresId
        self.rules = rules; self.reason = reason; self.ivPercentile = ivPercentile; self.ivRank = ivRank
    }

    public var partitionKey: String { ticker }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        try Validate.ticker(ticker)
        try Validate.price(confidence, "confidence")
        guard (0...1).contains(confidence) else { throw .invalid("confidence \(confidence) outside [0, 1]") }
        try Validate.price(price, "price")
        guard price > 0 else { throw .invalid("price \(price) must be > 0") }
        if let volumeRatio { try Validate.price(volumeRatio, "volume_ratio"); guard volumeRatio >= 0 else { throw .invalid("negative volume_ratio") } }
        if let atr14 { try Validate.price(atr14, "atr14"); guard atr14 >= 0 else { throw .invalid("negative atr14") } }
        guard !featuresId.isEmpty else { throw .invalid("empty features_id") }
    }
}

/// A command to the broker-gateway: place an order. Imperative, from the dispatcher (entries) and the
/// position-manager (exits). `clientOrderId` is derived from what caused it, so a replay can never place it twice.
public struct OrderCommand: Payload {
    public static let messageType = "order_command"
    public static let version = 1

    public var accountId: String
    public var clientOrderId: String
    /// OCC symbol for options, the ticker for equity.
    public var symbol: String
    public var underlying: String
    public var assetClass: AssetClass
    public var side: OrderSide
    public var quantity: Int
    /// Limit price per share in cents, on a valid tick.
    public var limitPriceCents: Cents
    public var intent: OrderIntent
    @Nullable public var positionId: String?
    public var strategy: TradeStrategy
    public var reason: String
    /// A replacement (a repriced exit): the broker cancels this still-open order of the account and places this one
    /// in its stead; when that order has already filled, this one is rejected.
    @Nullable public var replacesClientOrderId: String?
    /// Seed 000 #18: the two legs of a roll (the close of the old position, the open of the new one) share this id.
    @Nullable public var rollId: String?

    enum CodingKeys: String, CodingKey {
        case symbol, underlying, side, quantity, intent, strategy, reason
        case accountId = "account_id", clientOrderId = "client_order_id", assetClass = "asset_class"
        case limitPriceCents = "limit_price_cents", positionId = "position_id", replacesClientOrderId = "replaces_client_order_id"
        case rollId = "roll_id"
    }

    public init(accountId: String, clientOrderId: String, symbol: String, underlying: String, assetClass: AssetClass, side: OrderSide,
                quantity: Int, limitPriceCents: Cents, intent: OrderIntent, positionId: String?, strategy: TradeStrategy, reason: String,
                replacesClientOrderId: String? = nil) {
        self.accountId = accountId; self.clientOrderId = clientOrderId; self.symbol = symbol; self.underlying = underlying
        self.assetClass = assetClass; self.side = side; self.quantity = quantity; self.limitPriceCents = limitPriceCents
        self.intent = intent; self.positionId = positionId; self.strategy = strategy; self.reason = reason
        self.replacesClientOrderId = replacesClientOrderId
    }

    public var partitionKey: String { accountId }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        guard !accountId.isEmpty, !clientOrderId.isEmpty, clientOrderId.utf8.count <= 48 else { throw .invalid("account_id and client_order_id (≤ 48 chars) are required") }
        try Validate.ticker(underlying)
        guard quantity > 0 else { throw .invalid("quantity \(quantity) must be > 0") }
        guard limitPriceCents > 0 else { throw .invalid("limit_price_cents \(limitPriceCents) must be > 0") }
        if assetClass == .option, OCCSymbol(symbol)?.root != underlying { throw .invalid("option symbol '\(symbol)' is not an OCC symbol on \(underlying)") }
        if intent == .close, positionId == nil { throw .invalid("a closing order needs position_id") }
    }
}

/// A contract considered by the dispatcher, as quoted at the decision.
public struct ContractQuote: Codable, Sendable, Equatable {
    public var symbol: String
    public var right: OptionRight
    public var strike: Double
    public var expiration: CivilDate
    public var dte: Int
    public var bid: Double
    public var ask: Double
    public var mid: Double
    public var spreadPct: Double
    public var volume: Int64
    public var openInterest: Int64
    @Nullable public var delta: Double?
    /// Seed 000 Phase 2 #7: the quality score (0–1) and its components, each normalized to [0, 1].
    @Nullable public var score: ContractScore?

    enum CodingKeys: String, CodingKey {
        case symbol, right, strike, expiration, dte, bid, ask, mid, volume, delta, score
        case spreadPct = "spread_pct", openInterest = "open_interest"
    }

    public init(symbol: String, right: OptionRight, strike: Double, expiration: CivilDate, dte: Int, bid: Double, ask: Double,
                mid: Double, spreadPct: Double, volume: Int64, openInterest: Int64, delta: Double? = nil, score: ContractScore? = nil) {
        self.symbol = symbol; self.right = right; self.strike = strike; self.expiration = expiration; self.dte = dte
        self.bid = bid; self.ask = ask; self.mid = mid; self.spreadPct = spreadPct; self.volume = volume; self.openInterest = openInterest
        self.delta = delta; self.score = score
    }
}

/// A contract's quality score: Σ weight × component ÷ Σ weights, every component in [0, 1] (1 best).
public struct ContractScore: Codable, Sendable, Equatable {
    public var total: Double
    public var spread: Double
    public var openInterest: Double
    public var volume: Double
    public var delta: Double

    enum CodingKeys: String, CodingKey { case total, spread, volume, delta, openInterest = "open_interest" }

    public init(total: Double, spread: Double, openInterest: Double, volume: Double, delta: Double) {
        self.total = total; self.spread = spread; self.openInterest = openInterest; self.volume = volume; self.delta = delta
    }
}

/// Seed 004 §1 `validate_option_contract`: (passed, reason, fallback_to_stock).
public struct OptionGateVerdict: Codable, Sendable, Equatable {
    public var passed: Bool
    public var reason: String
    /// Whether a failure should be traded in the underlying instead (a market-quality failure, not a risk limit).
    public var fallback: Bool

    public init(passed: Bool, reason: String, fallback: Bool) { self.passed = passed; self.reason = reason; self.fallback = fallback }
}

/// The sizing arithmetic of a decision, every input and output of it.
public struct SizingResult: Codable, Sendable, Equatable {
    public var tier: String
    public var strategy: TradeStrategy
    /// A fraction, e.g. 0.25.
    public var riskPct: Double
    public var buyingPowerCents: Cents
    public var riskCents: Cents
    public var premiumCents: Cents
    public var costPerContractCents: Cents
    public var contracts: Int
    public var maxContracts: Int
    public var totalCostCents: Cents
    /// True when the one-contract-if-affordable rule made it 1 (bounded by the affordability multiple).
    public var minimumContractRule: Bool
    public var rationale: String
    /// `shares` for a stock order (then `contracts` counts shares, `max_contracts` is the tier's `max_shares` and
    /// the premium is the price per share); null for options.
    @Nullable public var unit: String?
    /// `tier`, `kelly` or `atr` (null in records written before the methods existed: `tier`).
    @Nullable public var method: String?
    /// Seed 000 #19 scaling in: the quantity the method sized; `contracts` is the first half and
    /// `sized_contracts − contracts` is added later. Null when not scaling in.
    @Nullable public var sizedContracts: Int?

    enum CodingKeys: String, CodingKey {
        case tier, strategy, contracts, rationale, unit, method
        case sizedContracts = "sized_contracts"
        case riskPct = "risk_pct", buyingPowerCents = "buying_power_cents", riskCents = "risk_cents", premiumCents = "premium_cents"
        case costPerContractCents = "cost_per_contract_cents", maxContracts = "max_contracts", totalCostCents = "total_cost_cents"
        case minimumContractRule = "minimum_contract_rule"
    }

    public init(tier: String, strategy: TradeStrategy, riskPct: Double, buyingPowerCents: Cents, riskCents: Cents, premiumCents: Cents,
                costPerContractCents: Cents, contracts: Int, maxContracts: Int, totalCostCents: Cents, minimumContractRule: Bool, rationale: String) {
        self.tier = tier; self.strategy = strategy; self.riskPct = riskPct; self.buyingPowerCents = buyingPowerCents
        self.riskCents = riskCents; self.premiumCents = premiumCents; self.costPerContractCents = costPerContractCents
        self.contracts = contracts; self.maxContracts = maxContracts; self.totalCostCents = totalCostCents
        self.minimumContractRule = minimumContractRule; self.rationale = rationale
    }
}

/// One gate's verdict.
public struct GateResult: Codable, Sendable, Equatable {
    public var gate: String
    public var passed: Bool
    /// The reason, in the seed's wording ("Daily loss $612 exceeds limit $500").
    public var detail: String
    /// What was measured and what it was held against, as text in the limit's unit (`-612.00` vs `-500.00`,
    /// `5` vs `5`, `09:34` vs `09:35`); null when the gate has no number (or was not reached).
    @Nullable public var value: String?
    @Nullable public var limit: String?
    public init(gate: String, passed: Bool, detail: String, value: String? = nil, limit: String? = nil) {
        self.gate = gate; self.passed = passed; self.detail = detail; self.value = value; self.limit = limit
    }
}

/// Every signal's auditable outcome: an order or a skip, with every gate's result.
public struct Decision: Payload {
    public static let messageType = "decision"
    public static let version = 1

    public enum Outcome: String, Codable, Sendable { case order, skip }

    public var accountId: String
    public var signalId: String
    public var ticker: String
    public var direction: Direction
    public var strategy: TradeStrategy
    public var confidence: Double
    public var outcome: Outcome
    /// The first failed gate's name (`skip` only).
    @Nullable public var skipReason: String?
    public var gates: [GateResult]
    @Nullable public var contract: ContractQuote?
    @Nullable public var sizing: SizingResult?
    @Nullable public var order: OrderCommand?
    /// The account state the decision saw.
    public var buyingPowerCents: Cents
    public var openPositions: Int
    public var exposureCents: Cents
    public var dayRealizedPnlCents: Cents
    /// What was (or would have been) traded: `option`, `stock` (a STOCK signal) or `stock_fallback` (seed 004 §1).
    @Nullable public var route: String?
    /// The option gates' verdict on the chosen contract, or on why none could be chosen.
    @Nullable public var optionGate: OptionGateVerdict?
    /// The best-scored candidates (best first), so "why this contract?" is answered by the record.
    @Nullable public var candidates: [ContractQuote]?
    /// The session's realized plus unrealized P&L the daily-loss kill switch saw.
    @Nullable public var dayPnlCents: Cents?
    /// The operator halt in force, if any ("since … by …: reason").
    @Nullable public var halt: String?
    /// What is decided: `entry` (a signal; null in older records), `scale_in` (the add of a scaled-in position) or
    /// `roll` (the opening leg of a roll).
    @Nullable public var kind: String?
    /// The position a `scale_in` adds to, or the one a `roll` replaces.
    @Nullable public var positionId: String?
    @Nullable public var rollId: String?
    /// The portfolio Greeks the Greeks gates saw (from `trading.greeks.v1`), when any.
    @Nullable public var portfolioGreeks: PortfolioGreeks?
    /// The underlying's price and 1-minute ATR14 at the signal: the position-manager's reference for
    /// underlying-style exits and the scale-in setup.
    @Nullable public var underlyingPrice: Double?
    @Nullable public var atr14: Double?
    /// The `params_version` of the parameters the decision was made under (0: as configured; see `ParamsChange`).
    @Nullable public var paramsVersion: Int64?

    enum CodingKeys: String, CodingKey {
        case ticker, direction, strategy, confidence, outcome, gates, contract, sizing, order, route, candidates, halt, kind
        case positionId = "position_id", rollId = "roll_id", portfolioGreeks = "portfolio_greeks"
        case underlyingPrice = "underlying_price", atr14
        case accountId = "account_id", signalId = "signal_id", skipReason = "skip_reason", buyingPowerCents = "buying_power_cents"
        case openPositions = "open_positions", exposureCents = "exposure_cents", dayRealizedPnlCents = "day_realized_pnl_cents"
        case optionGate = "option_gate", dayPnlCents = "day_pnl_cents", paramsVersion = "params_version"
    }

    public init(accountId: String, signalId: String, ticker: String, direction: Direction, strategy: TradeStrategy, confidence: Double,
                outcome: Outcome, skipReason: String?, gates: [GateResult], contract: ContractQuote?, sizing: SizingResult?, order: OrderCommand?,
                buyingPowerCents: Cents, openPositions: Int, exposureCents: Cents, dayRealizedPnlCents: Cents) {
        self.accountId = accountId; self.signalId = signalId; self.ticker = ticker; self.direction = direction; self.strategy = strategy
        self.confidence = confidence; self.outcome = outcome; self.skipReason = skipReason; self.gates = gates; self.contract = contract
        self.sizing = sizing; self.order = order; self.buyingPowerCents = buyingPowerCents; self.openPositions = openPositions
        self.exposureCents = exposureCents; self.dayRealizedPnlCents = dayRealizedPnlCents
    }

    public var partitionKey: String { accountId }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        guard !accountId.isEmpty, !signalId.isEmpty else { throw .invalid("account_id and signal_id are required") }
        if outcome == .order, order == nil { throw .invalid("an order decision without an order") }
        if outcome == .skip, skipReason == nil { throw .invalid("a skip without a reason") }
    }
}

/// What happened to an order at the broker. Past tense.
public struct OrderEvent: Payload {
    public static let messageType = "order_event"
    public static let version = 1

    /// `partially_filled`: some of the quantity filled, the rest still works (and keeps its reservation).
    public enum Status: String, Codable, Sendable { case accepted, rejected, partiallyFilled = "partially_filled", filled, cancelled }

    public var accountId: String
    public var clientOrderId: String
    public var status: Status
    public var symbol: String
    public var side: OrderSide
    public var quantity: Int
    public var filledQuantity: Int
    @Nullable public var fillPriceCents: Cents?
    public var intent: OrderIntent
    @Nullable public var positionId: String?
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case status, symbol, side, quantity, intent, reason
        case accountId = "account_id", clientOrderId = "client_order_id", filledQuantity = "filled_quantity"
        case fillPriceCents = "fill_price_cents", positionId = "position_id"
    }

    public init(accountId: String, clientOrderId: String, status: Status, symbol: String, side: OrderSide, quantity: Int,
                filledQuantity: Int, fillPriceCents: Cents?, intent: OrderIntent, positionId: String?, reason: String) {
        self.accountId = accountId; self.clientOrderId = clientOrderId; self.status = status; self.symbol = symbol; self.side = side
        self.quantity = quantity; self.filledQuantity = filledQuantity; self.fillPriceCents = fillPriceCents; self.intent = intent
        self.positionId = positionId; self.reason = reason
    }

    public var partitionKey: String { accountId }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        guard !accountId.isEmpty, !clientOrderId.isEmpty else { throw .invalid("account_id and client_order_id are required") }
        guard quantity > 0, filledQuantity >= 0, filledQuantity <= quantity else { throw .invalid("bad quantities \(filledQuantity)/\(quantity)") }
    }
}

/// An execution: the broker filled (part of) an order against a quote whose time is after the order's. Or an
/// expiry settlement (`settlement` set): at the close of its expiration day the broker closes an option holding at
/// its intrinsic value from the underlying's last price (`underlying_price`), or at 0 when it expires worthless.
public struct Fill: Payload {
    public static let messageType = "fill"
    public static let version = 1

    public enum Settlement: String, Codable, Sendable { case settledItm = "settled_itm", expiredWorthless = "expired_worthless" }

    public var accountId: String
    public var fillId: String
    public var clientOrderId: String
    public var symbol: String
    public var underlying: String
    public var assetClass: AssetClass
    public var side: OrderSide
    public var quantity: Int
    /// Per share, in cents.
    public var priceCents: Cents
    public var commissionCents: Cents
    public var feesCents: Cents
    /// The order's event time; the fill's event time is the quote's, always later.
    public var orderTime: Timestamp
    public var quoteTime: Timestamp
    public var quoteBid: Double
    public var quoteAsk: Double
    public var intent: OrderIntent
    @Nullable public var positionId: String?
    public var strategy: TradeStrategy
    /// Set only on an expiry settlement; then `order_time` is the expiration day's close and `quote_time` the
    /// input at or after it that settled the holding.
    @Nullable public var settlement: Settlement?
    /// The underlying's price a settlement used (null on a trade).
    @Nullable public var underlyingPrice: Double?

    enum CodingKeys: String, CodingKey {
        case symbol, underlying, side, quantity, intent, strategy, settlement
        case accountId = "account_id", fillId = "fill_id", clientOrderId = "client_order_id", assetClass = "asset_class"
        case priceCents = "price_cents", commissionCents = "commission_cents", feesCents = "fees_cents", orderTime = "order_time"
        case quoteTime = "quote_time", quoteBid = "quote_bid", quoteAsk = "quote_ask", positionId = "position_id"
        case underlyingPrice = "underlying_price"
    }

    public init(accountId: String, fillId: String, clientOrderId: String, symbol: String, underlying: String, assetClass: AssetClass,
                side: OrderSide, quantity: Int, priceCents: Cents, commissionCents: Cents, feesCents: Cents, orderTime: Timestamp,
                quoteTime: Timestamp, quoteBid: Double, quoteAsk: Double, intent: OrderIntent, positionId: String?, strategy: TradeStrategy,
                settlement: Settlement? = nil, underlyingPrice: Double? = nil) {
        self.accountId = accountId; self.fillId = fillId; self.clientOrderId = clientOrderId; self.symbol = symbol
        self.underlying = underlying; self.assetClass = assetClass; self.side = side; self.quantity = quantity
        self.priceCents = priceCents; self.commissionCents = commissionCents; self.feesCents = feesCents; self.orderTime = orderTime
        self.quoteTime = quoteTime; self.quoteBid = quoteBid; self.quoteAsk = quoteAsk; self.intent = intent
        self.positionId = positionId; self.strategy = strategy; self.settlement = settlement; self.underlyingPrice = underlyingPrice
    }

    /// Shares per contract for options, 1 for equity.
    public var multiplier: Int64 { assetClass == .option ? 100 : 1 }
    /// Price × multiplier × quantity, before costs.
    public var notionalCents: Cents { priceCents * multiplier * Int64(quantity) }

    public var partitionKey: String { accountId }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        guard eventTime == quoteTime else { throw .invalid("event_time must equal quote_time") }
        if settlement != nil {
            // A settlement is not a trade: worthless is a price of 0, and it happens at (or after) the close it settles at.
            guard quantity > 0, priceCents >= 0, commissionCents == 0, feesCents == 0 else { throw .invalid("settlement quantity must be > 0, price ≥ 0, no costs") }
            guard assetClass == .option, side == .sell, intent == .close else { throw .invalid("a settlement closes an option holding (sell, close)") }
            guard quoteTime >= orderTime else { throw .invalid("settlement at \(quoteTime) is before the close \(orderTime)") }
            if let underlyingPrice { try Validate.price(underlyingPrice, "underlying_price") }
            return
        }
        guard quantity > 0, priceCents > 0, commissionCents >= 0, feesCents >= 0 else { throw .invalid("fill quantities, price and costs must be positive") }
        guard quoteTime > orderTime else { throw .invalid("fill quote \(quoteTime) is not after the order \(orderTime)") }
    }
}

/// The broker's account as of an event: cash, what open buy orders reserve, buying power, positions at their
/// last marks, equity. `seq` orders snapshots of one account that share an event time.
public struct AccountSnapshot: Payload {
    public static let messageType = "account"
    public static let version = 1

    public var accountId: String
    public var seq: Int64
    public var cashCents: Cents
    public var reservedCents: Cents
    public var buyingPowerCents: Cents
    public var positionsValueCents: Cents
    public var equityCents: Cents
    public var realizedPnlCents: Cents
    public var commissionsCents: Cents
    public var openOrders: Int

    enum CodingKeys: String, CodingKey {
        case seq
        case accountId = "account_id", cashCents = "cash_cents", reservedCents = "reserved_cents", buyingPowerCents = "buying_power_cents"
        case positionsValueCents = "positions_value_cents", equityCents = "equity_cents", realizedPnlCents = "realized_pnl_cents"
        case commissionsCents = "commissions_cents", openOrders = "open_orders"
    }

    public init(accountId: String, seq: Int64, cashCents: Cents, reservedCents: Cents, buyingPowerCents: Cents, positionsValueCents: Cents,
                equityCents: Cents, realizedPnlCents: Cents, commissionsCents: Cents, openOrders: Int) {
        self.accountId = accountId; self.seq = seq; self.cashCents = cashCents; self.reservedCents = reservedCents
        self.buyingPowerCents = buyingPowerCents; self.positionsValueCents = positionsValueCents; self.equityCents = equityCents
        self.realizedPnlCents = realizedPnlCents; self.commissionsCents = commissionsCents; self.openOrders = openOrders
    }

    public var partitionKey: String { accountId }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        guard !accountId.isEmpty else { throw .invalid("empty account_id") }
        guard buyingPowerCents == cashCents - reservedCents else { throw .invalid("buying_power_cents must be cash_cents − reserved_cents") }
        guard equityCents == cashCents + positionsValueCents else { throw .invalid("equity_cents must be cash_cents + positions_value_cents") }
    }
}

/// A position's life: opened from an entry fill, marked from chains, closed by an exit fill. Past tense.
public struct PositionEvent: Payload {
    public static let messageType = "position"
    public static let version = 1

    public enum Kind: String, Codable, Sendable { case opened, marked, exitRequested = "exit_requested", closed }

    public var event: Kind
    public var positionId: String
    public var accountId: String
    public var symbol: String
    public var underlying: String
    public var strategy: TradeStrategy
    public var quantity: Int
    public var entryPriceCents: Cents
    /// Entry notional plus entry commissions and fees.
    public var entryCostCents: Cents
    public var openedAt: Timestamp
    /// The option's expiration; null for a stock position.
    @Nullable public var expiration: CivilDate?
    @Nullable public var markPriceCents: Cents?
    @Nullable public var unrealizedPnlCents: Cents?
    @Nullable public var exitReason: String?
    @Nullable public var exitPriceCents: Cents?
    @Nullable public var realizedPnlCents: Cents?
    @Nullable public var closedAt: Timestamp?
    /// `option` or `equity` (a stock-fallback position); null in records written before stock positions existed
    /// (read as `option`).
    @Nullable public var assetClass: AssetClass?
    /// On `exit_requested`: the exit's reprice step (0 = the first limit, at the bid; from `exits.reprice_steps` on
    /// the sell is marketable).
    @Nullable public var exitStep: Int?
    /// The rule or settlement in words, e.g. why no sell could be placed.
    @Nullable public var detail: String?
    /// Contracts (shares) still held, when some were sold (a partial exit).
    @Nullable public var remainingQuantity: Int?
    /// The highest mark since entry (per share, cents): the trailing stop's reference.
    @Nullable public var highWaterCents: Cents?
    /// The exit plan in force: the stop and the target, as prices of what they are measured on (`stop_basis`:
    /// `premium` or `underlying`), per share in cents; the stop moves to breakeven after a partial exit.
    @Nullable public var stopCents: Cents?
    @Nullable public var targetCents: Cents?
    @Nullable public var stopBasis: String?
    /// Per-contract Black-Scholes Greeks at this mark (options).
    @Nullable public var greeks: PositionGreeks?
    /// Seed 000 #18: the roll this event belongs to (the close of the old position or the open of the new one).
    @Nullable public var rollId: String?
    /// Seed 000 #19: contracts still to be added to a scaled-in position (the dispatcher decides the add).
    @Nullable public var scaleInPending: Int?
    /// BULL or BEAR: calls and stock are BULL, puts BEAR.
    @Nullable public var direction: Direction?
    /// The underlying's price at the entry's signal (the underlying-style stop and the scale-in setup refer to it).
    @Nullable public var entryUnderlyingPrice: Double?

    enum CodingKeys: String, CodingKey {
        case event, symbol, underlying, strategy, quantity, expiration, detail, greeks, direction
        case remainingQuantity = "remaining_quantity", highWaterCents = "high_water_cents", stopCents = "stop_cents"
        case targetCents = "target_cents", stopBasis = "stop_basis", rollId = "roll_id", scaleInPending = "scale_in_pending"
        case entryUnderlyingPrice = "entry_underlying_price"
        case positionId = "position_id", accountId = "account_id", entryPriceCents = "entry_price_cents"
        case entryCostCents = "entry_cost_cents", openedAt = "opened_at", markPriceCents = "mark_price_cents"
        case unrealizedPnlCents = "unrealized_pnl_cents", exitReason = "exit_reason", exitPriceCents = "exit_price_cents"
        case realizedPnlCents = "realized_pnl_cents", closedAt = "closed_at", assetClass = "asset_class", exitStep = "exit_step"
    }

    public init(event: Kind, positionId: String, accountId: String, symbol: String, underlying: String, strategy: TradeStrategy,
                quantity: Int, entryPriceCents: Cents, entryCostCents: Cents, openedAt: Timestamp, expiration: CivilDate?,
                markPriceCents: Cents? = nil, unrealizedPnlCents: Cents? = nil, exitReason: String? = nil, exitPriceCents: Cents? = nil,
                realizedPnlCents: Cents? = nil, closedAt: Timestamp? = nil, assetClass: AssetClass? = nil, exitStep: Int? = nil,
                detail: String? = nil) {
        self.event = event; self.positionId = positionId; self.accountId = accountId; self.symbol = symbol; self.underlying = underlying
        self.strategy = strategy; self.quantity = quantity; self.entryPriceCents = entryPriceCents; self.entryCostCents = entryCostCents
        self.openedAt = openedAt; self.expiration = expiration; self.markPriceCents = markPriceCents; self.unrealizedPnlCents = unrealizedPnlCents
        self.exitReason = exitReason; self.exitPriceCents = exitPriceCents; self.realizedPnlCents = realizedPnlCents; self.closedAt = closedAt
        self.assetClass = assetClass; self.exitStep = exitStep; self.detail = detail
    }

    public var partitionKey: String { positionId }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        guard !positionId.isEmpty, !accountId.isEmpty else { throw .invalid("position_id and account_id are required") }
        guard quantity > 0, entryPriceCents > 0 else { throw .invalid("quantity and entry price must be > 0") }
        if event == .closed, realizedPnlCents == nil || exitPriceCents == nil { throw .invalid("a closed position needs exit price and realized P&L") }
    }
}

/// One option contract's Black-Scholes Greeks at a mark, per share (× 100 for a contract): IV solved from the
/// mid; time to expiry from the event time to 16:00 New York on the expiration day, in years of 365 days (ACT/365).
public struct PositionGreeks: Codable, Sendable, Equatable {
    public var iv: Double
    public var delta: Double
    public var gamma: Double
    /// Per calendar day.
    public var theta: Double
    /// Per 1 vol point (0.01 of volatility).
    public var vega: Double
    /// Per 1 percentage point of the rate.
    public var rho: Double
    public var underlyingPrice: Double
    public var years: Double

    enum CodingKeys: String, CodingKey {
        case iv, delta, gamma, theta, vega, rho, years
        case underlyingPrice = "underlying_price"
    }

    public init(iv: Double, delta: Double, gamma: Double, theta: Double, vega: Double, rho: Double, underlyingPrice: Double, years: Double) {
        self.iv = iv; self.delta = delta; self.gamma = gamma; self.theta = theta; self.vega = vega; self.rho = rho
        self.underlyingPrice = underlyingPrice; self.years = years
    }
}

/// Seed 000 #15: an account's portfolio Greeks, Σ greek × 100 × signed contracts over its open option positions
/// (stock: delta 1 per share), at a mark minute. Units: delta in shares, gamma in shares per $1, theta in dollars
/// per calendar day, vega in dollars per vol point, rho in dollars per rate point; dollar delta = Σ delta × shares ×
/// spot; dollar gamma = Σ gamma × shares × spot² / 100 (the change of dollar delta for a 1 % move).
public struct PortfolioGreeks: Payload {
    public static let messageType = "portfolio_greeks"
    public static let version = 1

    public var accountId: String
    public var delta: Double
    public var gamma: Double
    public var theta: Double
    public var vega: Double
    public var rho: Double
    public var dollarDelta: Double
    public var dollarGamma: Double
    /// Open positions counted, and those left out because they could not be priced (no quote, no IV).
    public var positions: Int
    public var unpriced: Int

    enum CodingKeys: String, CodingKey {
        case delta, gamma, theta, vega, rho, positions, unpriced
        case accountId = "account_id", dollarDelta = "dollar_delta", dollarGamma = "dollar_gamma"
    }

    public init(accountId: String, delta: Double, gamma: Double, theta: Double, vega: Double, rho: Double, dollarDelta: Double,
                dollarGamma: Double, positions: Int, unpriced: Int) {
        self.accountId = accountId; self.delta = delta; self.gamma = gamma; self.theta = theta; self.vega = vega; self.rho = rho
        self.dollarDelta = dollarDelta; self.dollarGamma = dollarGamma; self.positions = positions; self.unpriced = unpriced
    }

    public var partitionKey: String { accountId }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        guard !accountId.isEmpty else { throw .invalid("empty account_id") }
        for (k, v) in [("delta", delta), ("gamma", gamma), ("theta", theta), ("vega", vega), ("rho", rho),
                       ("dollar_delta", dollarDelta), ("dollar_gamma", dollarGamma)] where !v.isFinite {
            throw .invalid("\(k) is not finite")
        }
        guard positions >= 0, unpriced >= 0 else { throw .invalid("negative counts") }
    }
}
