import Testing
import BrokerCore
import OpsModel

/// Tuesday 12 March 2024 (daylight time since the 10th: 16:00 New York = 20:00 UTC).
let march12 = CivilDate(year: 2024, month: 3, day: 12)
/// Tuesday 16 January 2024 (standard time: 16:00 New York = 21:00 UTC).
let january16 = CivilDate(year: 2024, month: 1, day: 16)

func ny(_ hour: Int, _ minute: Int, on date: CivilDate = march12) -> Timestamp {
    NewYorkTime.utc(date: date, hour: hour, minute: minute)
}

func utc(_ text: String) -> Timestamp { Timestamp(iso8601: text)! }

/// Penny-pilot underlying (ticks of $0.01 at any price).
let spyCall = "SPY240328C00510000"
let spyPut = "SPY240328P00500000"
/// Not in the penny program: $0.10 ticks from $3, $0.05 below.
let xyzCall = "XYZ240419C00050000"
let account = "sim-1"

struct Quote {
    var symbol: String
    var bid: Double
    var ask: Double
    init(_ symbol: String, _ bid: Double, _ ask: Double) { self.symbol = symbol; self.bid = bid; self.ask = ask }
}

/// A valid chain envelope (validated as the runtime would before the core sees it).
func chain(_ underlying: String, at t: Timestamp, _ quotes: [Quote], price: Double = 100) throws -> AnyEnvelope {
    var contracts = [OptionQuote]()
    for q in quotes {
        let occ = try #require(OCCSymbol(q.symbol))
        contracts.append(OptionQuote(symbol: q.symbol, right: occ.right, strike: occ.strike, expiration: occ.expiration,
                                     bid: q.bid, ask: q.ask, volume: 100, openInterest: 1000))
    }
    let c = OptionChain(underlying: underlying, underlyingPrice: price, asOf: t, contracts: contracts)
    try c.validate(eventTime: t)
    return Envelope(id: c.id, eventTime: t, causationId: nil, source: "market-feed", payload: c).erased()
}

func order(_ cid: String, _ side: OrderSide, _ symbol: String, qty: Int, limit: Cents, accountId: String = account,
           assetClass: AssetClass = .option, reason: String = "test") throws -> OrderCommand {
    let underlying = assetClass == .option ? try #require(OCCSymbol(symbol)).root : symbol
    let o = OrderCommand(accountId: accountId, clientOrderId: cid, symbol: symbol, underlying: underlying, assetClass: assetClass,
                         side: side, quantity: qty, limitPriceCents: limit, intent: side == .buy ? .open : .close,
                         positionId: side == .buy ? nil : "pos-\(symbol)", strategy: .dayTrade, reason: reason)
    return o
}

/// A valid 1-minute bar envelope ending at `end` (its event time).
func bar(_ ticker: String, endingAt end: Timestamp, open: Double, high: Double, low: Double, close: Double,
         volume: Int64 = 10_000) throws -> AnyEnvelope {
    let b = Bar(ticker: ticker, start: end - Minutes(1), open: open, high: high, low: low, close: close, volume: volume)
    try b.validate(eventTime: end)
    return Envelope(id: b.id, eventTime: end, causationId: nil, source: "market-feed", payload: b).erased()
}

/// A valid order envelope; the envelope id names the command and its time, as a producer would.
func envelope(_ o: OrderCommand, at t: Timestamp, id: String? = nil) throws -> AnyEnvelope {
    try o.validate(eventTime: t)
    return Envelope(id: id ?? DeterministicID.make("order", o.clientOrderId, t.iso8601), eventTime: t, causationId: nil,
                    source: "dispatcher", payload: o).erased()
}

/// Drives the core the way the runtime does and checks every output envelope on the way.
struct Harness {
    var core: SimulatedBroker
    var outputs: [Emit] = []

    init(params: TradingParams = TradingParams(), cash: Cents = 1_000_000) {
        core = SimulatedBroker(params: params, accountId: account, startingCashCents: cash)
    }

    @discardableResult
    mutating func feed(_ e: AnyEnvelope) throws -> [Emit] {
        let topic = e.payload is OptionChain ? Topics.chains : e.payload is Bar ? Topics.bars : Topics.orders
        let out = try core.handle(e, from: topic)
        for emit in out { try checkEnvelope(emit, cause: e) }
        for f in out.fills where f.settlement == nil && f.assetClass == .option { checkPrint(f) }
        outputs += out
        return out
    }

    var snapshots: [AccountSnapshot] { outputs.payloads(AccountSnapshot.self) }

    /// Every option fill is on a valid tick; under the limit model it is also inside the quote it filled against.
    func checkPrint(_ f: Fill) {
        let ex = core.params.execution
        #expect(ex.ticks.isValid(f.priceCents, underlying: f.underlying), "fill \(f.priceCents)¢ on \(f.underlying) is off the tick grid")
        if ex.fillModel == "limit" {
            #expect(Double(f.priceCents) >= f.quoteBid * 100 - 1e-6 && Double(f.priceCents) <= f.quoteAsk * 100 + 1e-6,
                    "fill \(f.priceCents)¢ outside bid \(f.quoteBid) / ask \(f.quoteAsk)")
        }
    }
}

/// Every output: on a declared topic, re-decodes (so it validates) from its bytes, from the broker, caused by
/// the input at the input's time, with no wall clock.
func checkEnvelope(_ emit: Emit, cause: AnyEnvelope) throws {
    #expect([Topics.orderEvents, Topics.fills, Topics.accounts].contains(emit.topic))
    let e = emit.envelope
    #expect(e.source == SimulatedBroker.name)
    #expect(e.causationId == cause.id)
    #expect(e.eventTime == cause.eventTime)
    #expect(e.producedAt == nil)
    let decoded = try Topics.decoder(for: emit.topic).decode(try e.encoded())
    #expect(try decoded.encoded() == e.encoded())
    switch emit.topic {
    case Topics.orderEvents: #expect(e.payload is OrderEvent)
    case Topics.fills: #expect(e.payload is Fill)
    default: #expect(e.payload is AccountSnapshot)
    }
    if let s = e.payload as? AccountSnapshot {
        #expect(s.accountId == account)
        #expect(s.buyingPowerCents == s.cashCents - s.reservedCents)
        #expect(s.equityCents == s.cashCents + s.positionsValueCents)
        #expect(s.reservedCents >= 0 && s.openOrders >= 0)
    }
    if let f = e.payload as? Fill {
        if f.settlement == nil {
            #expect(f.quoteTime > f.orderTime)
            #expect(f.priceCents > 0)
        } else {
            #expect(f.quoteTime >= f.orderTime)
            #expect(f.priceCents >= 0 && f.commissionCents == 0 && f.feesCents == 0 && f.side == .sell && f.intent == .close)
        }
        #expect(f.quoteTime == e.eventTime)
        #expect(e.id == f.fillId)
    }
}

extension Array where Element == Emit {
    func payloads<P: Payload>(_: P.Type) -> [P] { compactMap { $0.envelope.payload as? P } }
    func on(_ topic: String) -> [Emit] { filter { $0.topic == topic } }
    var events: [OrderEvent] { payloads(OrderEvent.self) }
    var fills: [Fill] { payloads(Fill.self) }
    var snapshots: [AccountSnapshot] { payloads(AccountSnapshot.self) }
    var bytes: [[UInt8]] { get throws { try map { try $0.envelope.encoded() } } }
}
