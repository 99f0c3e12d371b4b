import Testing
import OpsModel
@testable import PositionCore

/// Inputs as the runtime hands them to the core: validated envelopes with deterministic ids.
enum Input {
    static let account = "sim-1"

    /// A New York wall-clock instant.
    static func ny(_ y: Int, _ m: Int, _ d: Int, _ h: Int, _ min: Int, _ s: Int = 0) -> Timestamp {
        NewYorkTime.utc(date: CivilDate(year: y, month: m, day: d), hour: h, minute: min, second: s)
    }

    static func fill(at t: Timestamp, clientOrderId: String, symbol: String, underlying: String = "SPY", side: OrderSide = .buy,
                     quantity: Int = 2, priceCents: Cents = 250, commissionCents: Cents = 130, feesCents: Cents = 6,
                     intent: OrderIntent = .open, positionId: String? = nil, strategy: TradeStrategy = .swingTrade,
                     assetClass: AssetClass = .option, fillId: String? = nil, accountId: String = account) throws -> AnyEnvelope {
        let f = Fill(accountId: accountId, fillId: fillId ?? DeterministicID.make("fill", clientOrderId, t.iso8601), clientOrderId: clientOrderId,
                     symbol: symbol, underlying: underlying, assetClass: assetClass, side: side, quantity: quantity, priceCents: priceCents,
                     commissionCents: commissionCents, feesCents: feesCents, orderTime: t.adding(ms: -60_000), quoteTime: t,
                     quoteBid: 1, quoteAsk: 1.1, intent: intent, positionId: positionId, strategy: strategy)
        try f.validate(eventTime: t)
        return Envelope(id: f.fillId, eventTime: t, causationId: nil, source: "broker-gateway", payload: f).erased()
    }

    /// An exit fill for a position.
    static func exitFill(at t: Timestamp, position p: OpenPosition, clientOrderId: String? = nil, quantity: Int? = nil,
                         priceCents: Cents, commissionCents: Cents = 130, feesCents: Cents = 6) throws -> AnyEnvelope {
        try fill(at: t, clientOrderId: clientOrderId ?? p.exitClientOrderId, symbol: p.symbol, underlying: p.underlying, side: .sell,
                 quantity: quantity ?? p.remainingQuantity, priceCents: priceCents, commissionCents: commissionCents, feesCents: feesCents,
                 intent: .close, positionId: p.positionId, strategy: p.strategy, accountId: p.accountId)
    }

    static func orderEvent(at t: Timestamp, _ status: OrderEvent.Status, clientOrderId: String, position p: OpenPosition) throws -> AnyEnvelope {
        let e = OrderEvent(accountId: p.accountId, clientOrderId: clientOrderId, status: status, symbol: p.symbol, side: .sell,
                           quantity: p.remainingQuantity, filledQuantity: status == .filled ? p.remainingQuantity : 0, fillPriceCents: nil,
                           intent: .close, positionId: p.positionId, reason: status.rawValue)
        try e.validate(eventTime: t)
        return Envelope(id: DeterministicID.make("order-event", clientOrderId, status.rawValue), eventTime: t, causationId: nil,
                        source: "broker-gateway", payload: e).erased()
    }

    /// A chain with the given contracts quoted (symbol, bid, ask).
    static func chain(at t: Timestamp, underlying: String = "SPY", _ quotes: [(String, Double, Double)]) throws -> AnyEnvelope {
        let contracts = quotes.map { (s, bid, ask) -> OptionQuote in
            let occ = OCCSymbol(s)!
            return OptionQuote(symbol: s, right: occ.right, strike: occ.strike, expiration: occ.expiration, bid: bid, ask: ask,
                               volume: 100, openInterest: 1000)
        }
        let c = OptionChain(underlying: underlying, underlyingPrice: 500, asOf: t, contracts: contracts)
        try c.validate(eventTime: t)
        return Envelope(id: c.id, eventTime: t, causationId: nil, source: "market-feed", payload: c).erased()
    }
}

/// A core driven like the runtime drives it, keeping every output.
struct Harness {
    var core: PositionManagerCore
    var outputs: [Emit] = []

    init(params: TradingParams = TradingParams()) { core = PositionManagerCore(params: params) }

    /// Feeds one input; returns its outputs.
    @discardableResult
    mutating func feed(_ e: AnyEnvelope) throws -> [Emit] {
        let topic: String
        switch e.payload {
        case is Fill: topic = Topics.fills
        case is OrderEvent: topic = Topics.orderEvents
        default: topic = Topics.chains
        }
        let out = try core.handle(e, from: topic)
        for o in out {
            #expect(o.envelope.source == PositionManagerCore.name)
            #expect(o.envelope.eventTime == e.eventTime)
            #expect(o.envelope.causationId == e.id)
            #expect(o.envelope.producedAt == nil)
            #expect(core.outputTopics.contains(o.topic))
            // What the runtime would check before producing.
            try o.envelope.payload.validate(eventTime: o.envelope.eventTime)
        }
        outputs += out
        return out
    }
}

extension Emit {
    var position: PositionEvent? { envelope.payload as? PositionEvent }
    var order: OrderCommand? { envelope.payload as? OrderCommand }
}

extension Array where Element == Emit {
    var positionEvents: [PositionEvent] { compactMap(\.position) }
    var orders: [OrderCommand] { compactMap(\.order) }
    var kinds: [PositionEvent.Kind] { positionEvents.map(\.event) }
    /// The bytes on the topics.
    func encoded() throws -> [[UInt8]] {
        try map { (e: Emit) throws -> [UInt8] in
            let topic = [UInt8](e.topic.utf8)
            return topic + [0] + (try e.envelope.encoded())
        }
    }
}
