import OpsModel
import Testing
@testable import DispatchCore

/// The stateful dispatcher core: gates, sizing and the state it keeps from its input topics.
@Suite("DispatchCore decisions and state")
struct DispatchCoreStateTests {
    static let day = "2024-03-06"
    var core = DispatchCore(params: TradingParams())

    static func env<P: Payload>(_ p: P, at t: Timestamp, id: String) -> AnyEnvelope {
        Envelope(id: id, eventTime: t, causationId: nil, source: "test", payload: p).erased()
    }

    static func account(cash: Cents, reserved: Cents = 0, seq: Int64) -> AccountSnapshot {
        AccountSnapshot(accountId: "sim-1", seq: seq, cashCents: cash, reservedCents: reserved, buyingPowerCents: cash - reserved,
                        positionsValueCents: 0, equityCents: cash, realizedPnlCents: 0, commissionsCents: 0, openOrders: 0)
    }

    static func signal(_ ticker: String = "SPY", _ direction: Direction = .bull, confidence: Double = 0.8, volumeRatio: Double = 2.5) -> Signal {
        Signal(ticker: ticker, direction: direction, instrument: direction == .bull ? .call : .put, strategy: .dayTrade,
               confidence: confidence, volumeRatio: volumeRatio, price: 500, featuresId: "f", rules: [], reason: "test")
    }

    static let chain = Fx.chain(500.2, at: Fx.ny(day, 10, 0), [
        Fx.quote(.call, 500, "2024-03-08", bid: 2.50, ask: 2.54), Fx.quote(.call, 505, "2024-03-08", bid: 1.00, ask: 1.04),
        Fx.quote(.put, 500, "2024-03-08", bid: 2.40, ask: 2.44),
    ])

    mutating func feed<P: Payload>(_ p: P, at t: Timestamp, id: String, topic: String) throws -> [Emit] {
        try core.handle(Self.env(p, at: t, id: id), from: topic)
    }

    mutating func decide(_ s: Signal, at t: Timestamp, id: String) throws -> (Decision, OrderCommand?) {
        let out = try feed(s, at: t, id: id, topic: Topics.signals)
        let d = try #require(out.first { $0.topic == Topics.decisions }?.envelope.payload as? Decision)
        let o = out.first { $0.topic == Topics.orders }?.envelope.payload as? OrderCommand
        #expect(d.order == o)
        return (d, o)
    }

    @Test mutating func ordersWhenEveryGatePasses() throws {
        _ = try feed(Self.chain, at: Self.chain.asOf, id: "c1", topic: Topics.chains)
        _ = try feed(Self.account(cash: 18_200_000, seq: 1), at: Fx.ny(Self.day, 9, 59), id: "a1", topic: Topics.accounts)
        let (d, o) = try decide(Self.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1")
        #expect(d.outcome == .order && d.skipReason == nil)
        #expect(d.gates.allSatisfy { $0.passed })
        #expect(d.gates.map(\.gate) == DispatchCoreStateTests.gateNames)
        #expect(d.route == "option" && d.candidates?.first?.symbol == "SPY240308C00500000" && d.halt == nil)
        let order = try #require(o)
        #expect(order.symbol == "SPY240308C00500000" && order.side == .buy && order.intent == .open)
        #expect(order.limitPriceCents == 252, "mid 2.52 on a penny tick")
        #expect(order.quantity == 7, "1% of $182,000 = $1,820 / $252 = 7")
        #expect(order.clientOrderId == DeterministicID.make("ord", "s1", "sim-1") && order.clientOrderId.count <= 48)
        #expect(d.sizing?.rationale == "Tier: large, Strategy: day_trade, Risk: 1.0% of $182000 = $1820, Premium: $2.52 × 100 = $252/contract, Contracts: 7 (cap: 10), Total: $1764")
    }

    static let gateNames = ["account", "halt", "trading_hours", "daily_loss", "max_positions", "tier_min_confidence", "tier_min_volume_ratio",
                            "one_position_per_ticker", "cooldown", "max_trades_per_ticker", "chain", "contract", "sizing", "max_exposure", "buying_power"]

    @Test mutating func skipsNameTheFirstFailedGateAndStillReportEveryGate() throws {
        var noFallback = TradingParams()
        noFallback.execution.stockFallback = false
        core = DispatchCore(params: noFallback)
        var (d, _) = try decide(Self.signal(), at: Fx.ny(Self.day, 10, 1), id: "s0")
        #expect(d.outcome == .skip && d.skipReason == "account")
        #expect(d.gates.map(\.gate) == Self.gateNames)
        _ = try feed(Self.account(cash: 100_000, seq: 1), at: Fx.ny(Self.day, 9, 0), id: "a1", topic: Topics.accounts)
        (d, _) = try decide(Self.signal(confidence: 0.69), at: Fx.ny(Self.day, 10, 1), id: "s1")
        #expect(d.skipReason == "tier_min_confidence", "a $1,000 account is tiny: 0.70 needed")
        (d, _) = try decide(Self.signal(confidence: 0.75, volumeRatio: 1.9), at: Fx.ny(Self.day, 10, 2), id: "s2")
        #expect(d.skipReason == "tier_min_volume_ratio")
        (d, _) = try decide(Self.signal(confidence: 0.75), at: Fx.ny(Self.day, 10, 3), id: "s3")
        #expect(d.skipReason == "chain", "no chain yet")
        _ = try feed(Self.chain, at: Self.chain.asOf, id: "c1", topic: Topics.chains)
        (d, _) = try decide(Self.signal(confidence: 0.75), at: Fx.ny(Self.day, 10, 16), id: "s4")
        #expect(d.skipReason == "chain", "16 minutes old is stale")
    }

    @Test mutating func ownOrdersCountUntilTheBrokerReports() throws {
        _ = try feed(Self.chain, at: Self.chain.asOf, id: "c1", topic: Topics.chains)
        _ = try feed(Self.account(cash: 10_000_000, seq: 1), at: Fx.ny(Self.day, 9, 0), id: "a1", topic: Topics.accounts)
        let (_, first) = try decide(Self.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1")
        let o = try #require(first)
        var (d, _) = try decide(Self.signal(), at: Fx.ny(Self.day, 10, 2), id: "s2")
        #expect(d.skipReason == "one_position_per_ticker")
        let expectedCost = o.limitPriceCents * 100 * Cents(o.quantity) + 68 * Cents(o.quantity)
        #expect(d.buyingPowerCents == 10_000_000 - expectedCost, "the unacknowledged order is taken off the snapshot's buying power")
        #expect(d.openPositions == 1 && d.exposureCents == o.limitPriceCents * 100 * Cents(o.quantity), "exposure is notional, without costs")
        // The broker accepts: its snapshot now reserves the cost, so it is no longer subtracted twice.
        _ = try feed(OrderEvent(accountId: "sim-1", clientOrderId: o.clientOrderId, status: .accepted, symbol: o.symbol, side: .buy,
                                quantity: o.quantity, filledQuantity: 0, fillPriceCents: nil, intent: .open, positionId: nil, reason: "ok"),
                     at: Fx.ny(Self.day, 10, 1), id: "e1", topic: Topics.orderEvents)
        _ = try feed(Self.account(cash: 10_000_000, reserved: expectedCost, seq: 2), at: Fx.ny(Self.day, 10, 1), id: "a2", topic: Topics.accounts)
        (d, _) = try decide(Self.signal("QQQ"), at: Fx.ny(Self.day, 10, 3), id: "s3")
        #expect(d.buyingPowerCents == 10_000_000 - expectedCost)
        // Rejected: the ticker is free again.
        _ = try feed(OrderEvent(accountId: "sim-1", clientOrderId: o.clientOrderId, status: .cancelled, symbol: o.symbol, side: .buy,
                                quantity: o.quantity, filledQuantity: 0, fillPriceCents: nil, intent: .open, positionId: nil, reason: "day"),
                     at: Fx.ny(Self.day, 10, 4), id: "e2", topic: Topics.orderEvents)
        (d, _) = try decide(Self.signal(), at: Fx.ny(Self.day, 10, 5), id: "s4")
        #expect(d.skipReason == "cooldown", "the ticker's last entry was 4 minutes ago")
        _ = try feed(Fx.chain(500.2, at: Fx.ny(Self.day, 10, 30), Self.chain.contracts), at: Fx.ny(Self.day, 10, 30), id: "c2", topic: Topics.chains)
        (d, _) = try decide(Self.signal(), at: Fx.ny(Self.day, 10, 31), id: "s5")
        #expect(d.outcome == .order, "30 minutes later the ticker is free again")
    }

    @Test mutating func positionsAndTheDaysPnLComeFromPositionEvents() throws {
        _ = try feed(Self.account(cash: 10_000_000, seq: 1), at: Fx.ny(Self.day, 9, 0), id: "a1", topic: Topics.accounts)
        let opened = PositionEvent(event: .opened, positionId: "p1", accountId: "sim-1", symbol: "SPY240308C00500000", underlying: "SPY",
                                   strategy: .dayTrade, quantity: 2, entryPriceCents: 250, entryCostCents: 50_136, openedAt: Fx.ny(Self.day, 9, 40),
                                   expiration: Fx.date("2024-03-08"))
        _ = try feed(opened, at: Fx.ny(Self.day, 9, 40), id: "p-o", topic: Topics.positions)
        var (d, _) = try decide(Self.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1")
        #expect(d.skipReason == "one_position_per_ticker" && d.openPositions == 1 && d.exposureCents == 50_000)
        var closed = opened
        closed.event = .closed; closed.exitPriceCents = 200; closed.realizedPnlCents = -10_272; closed.closedAt = Fx.ny(Self.day, 10, 10)
        _ = try feed(closed, at: Fx.ny(Self.day, 10, 10), id: "p-c", topic: Topics.positions)
        (d, _) = try decide(Self.signal(), at: Fx.ny(Self.day, 10, 11), id: "s2")
        #expect(d.openPositions == 0 && d.dayRealizedPnlCents == -10_272)
        (d, _) = try decide(Self.signal(), at: Fx.ny("2024-03-07", 10, 11), id: "s3")
        #expect(d.dayRealizedPnlCents == 0, "a new day starts at zero")
    }

    @Test mutating func resetAndReplayGiveTheSameDecisions() throws {
        let inputs: [(AnyEnvelope, String)] = [
            (Self.env(Self.chain, at: Self.chain.asOf, id: "c1"), Topics.chains),
            (Self.env(Self.account(cash: 500_000, seq: 1), at: Fx.ny(Self.day, 9, 0), id: "a1"), Topics.accounts),
            (Self.env(Self.signal(confidence: 0.9), at: Fx.ny(Self.day, 10, 1), id: "s1"), Topics.signals),
            (Self.env(Self.signal("SPY", .bear, confidence: 0.9), at: Fx.ny(Self.day, 10, 2), id: "s2"), Topics.signals),
        ]
        func run(_ c: inout DispatchCore) throws -> [[UInt8]] {
            try inputs.flatMap { try c.handle($0.0, from: $0.1) }.map { try $0.envelope.encoded() }
        }
        let first = try run(&core)
        core.reset()
        #expect(try run(&core) == first)
        #expect(first.count == 3, "an order (decision + command), then a skip for the same ticker")
    }

    @Test func restoreStartsReadStateTopicsFromTheBeginning() {
        let t = Fx.ny(Self.day, 15, 0)
        #expect(core.restoreStart(topic: Topics.positions, after: t) == .distantPast)
        #expect(core.restoreStart(topic: Topics.accounts, after: t) == .distantPast)
        #expect(core.restoreStart(topic: Topics.chains, after: t) == Fx.ny(Self.day, 0, 0))
        #expect(core.restoreStart(topic: Topics.control, after: t) == .distantPast, "a halt survives restarts")
        // Chains, not position events, cause adds and rolls' legs: a decision caused by a position event would close the
        // loop orders → fills → positions → decisions.
        #expect(core.outputCauses == [Topics.decisions: [Topics.signals: 0, Topics.chains: 0], Topics.orders: [Topics.signals: 0, Topics.chains: 0]])
    }
}
