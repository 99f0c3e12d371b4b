import OpsModel
import Testing
@testable import DispatchCore

/// The dispatcher core with the issue-6 gates: kill switches from topic state, halts, quality scoring, stock fallback.
@Suite("DispatchCore: kill switches, halt, contract quality, stock fallback")
struct DispatchGatesTests {
    static let day = "2024-03-06"
    typealias S = DispatchCoreStateTests
    var core = DispatchCore(params: TradingParams())

    mutating func feed<P: Payload>(_ p: P, at t: Timestamp, id: String, topic: String) throws -> [Emit] {
        try core.handle(S.env(p, at: t, id: id), from: topic)
    }

    mutating func decide(_ s: Signal, at t: Timestamp, id: String) throws -> (Decision, OrderCommand?) {
        let out = try feed(s, at: t, id: id, topic: Topics.signals)
        let d = try #require(out.first { $0.topic == Topics.decisions }?.envelope.payload as? Decision)
        return (d, out.first { $0.topic == Topics.orders }?.envelope.payload as? OrderCommand)
    }

    mutating func ready(cash: Cents = 10_000_000) throws {
        _ = try feed(S.chain, at: S.chain.asOf, id: "c1", topic: Topics.chains)
        _ = try feed(S.account(cash: cash, seq: 1), at: Fx.ny(Self.day, 9, 0), id: "a1", topic: Topics.accounts)
    }

    static func position(_ id: String, _ symbol: String, qty: Int, entry: Cents, unrealized: Cents?, event: PositionEvent.Kind = .marked) -> PositionEvent {
        var p = PositionEvent(event: event, positionId: id, accountId: "sim-1", symbol: symbol, underlying: String(symbol.prefix(while: { $0.isLetter && $0.isUppercase }).prefix(3)),
                              strategy: .dayTrade, quantity: qty, entryPriceCents: entry, entryCostCents: entry * 100 * Cents(qty),
                              openedAt: Fx.ny(day, 9, 40), expiration: Fx.date("2024-03-08"))
        p.unrealizedPnlCents = unrealized
        return p
    }

    @Test mutating func dailyLossCountsUnrealizedMarksAndStaysTripped() throws {
        try ready()
        _ = try feed(Self.position("p1", "QQQ240308C00430000", qty: 2, entry: 300, unrealized: -50_001), at: Fx.ny(Self.day, 10, 0), id: "m1", topic: Topics.positions)
        var (d, o) = try decide(S.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1")
        #expect(o == nil && d.skipReason == "daily_loss" && d.dayPnlCents == -50_001)
        #expect(d.gates.first { $0.gate == "daily_loss" }?.detail == "Daily loss $500 exceeds limit $500")
        // The mark recovers; the session stays blocked.
        _ = try feed(Self.position("p1", "QQQ240308C00430000", qty: 2, entry: 300, unrealized: 0), at: Fx.ny(Self.day, 10, 5), id: "m2", topic: Topics.positions)
        (d, o) = try decide(S.signal(), at: Fx.ny(Self.day, 10, 6), id: "s2")
        #expect(o == nil && d.skipReason == "daily_loss")
        // The next session starts clean.
        _ = try feed(Fx.chain(500.2, at: Fx.ny("2024-03-07", 10, 0), S.chain.contracts), at: Fx.ny("2024-03-07", 10, 0), id: "c2", topic: Topics.chains)
        (d, _) = try decide(S.signal(), at: Fx.ny("2024-03-07", 10, 1), id: "s3")
        #expect(d.gates.first { $0.gate == "daily_loss" }?.passed == true)
    }

    @Test mutating func positionLimitCountsOpenPositionsAndPendingEntries() throws {
        var p = TradingParams()
        p.risk.maxOpenPositions = 2
        core = DispatchCore(params: p)
        try ready()
        _ = try feed(Self.position("p1", "QQQ240308C00430000", qty: 1, entry: 300, unrealized: 0, event: .opened), at: Fx.ny(Self.day, 9, 50), id: "o1", topic: Topics.positions)
        let (d1, o1) = try decide(S.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1")
        #expect(o1 != nil && d1.openPositions == 1)
        _ = try feed(Fx.chain(180, at: Fx.ny(Self.day, 10, 0), [Fx.quote(.call, 180, "2024-03-08", root: "AAPL")], underlying: "AAPL"),
                     at: Fx.ny(Self.day, 10, 0), id: "c-aapl", topic: Topics.chains)
        let (d2, o2) = try decide(S.signal("AAPL"), at: Fx.ny(Self.day, 10, 2), id: "s2")
        #expect(o2 == nil && d2.skipReason == "max_positions" && d2.openPositions == 2)
        #expect(d2.gates.first { $0.gate == "max_positions" }?.detail == "At position limit: 2/2")
    }

    @Test mutating func exposureIncludesThisOrder() throws {
        var p = TradingParams()
        p.risk.maxNotionalExposure = 1_700   // the 7-contract $2.52 order is $1,764
        core = DispatchCore(params: p)
        try ready(cash: 18_200_000)
        let (d, o) = try decide(S.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1")
        #expect(o == nil && d.skipReason == "max_exposure")
        let g = try #require(d.gates.first { $0.gate == "max_exposure" })
        #expect(g.value == "1764.00" && g.limit == "1700.00")
    }

    @Test mutating func aHaltBlocksEntriesFromItsMinuteAndShowsInEveryDecision() throws {
        try ready()
        let halt = OperatorControl(accountId: "sim-1", action: .halt, reason: "feed check", flatten: false, requestedBy: "ops@desk")
        _ = try feed(halt, at: Fx.ny(Self.day, 10, 1), id: "h1", topic: Topics.control)
        var (d, o) = try decide(S.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1")
        #expect(o == nil && d.skipReason == "halt" && d.halt?.contains("feed check") == true)
        _ = try feed(OperatorControl(accountId: "sim-2", action: .resume, reason: "x", flatten: false, requestedBy: "ops@desk"),
                     at: Fx.ny(Self.day, 10, 2), id: "h2", topic: Topics.control)
        (d, o) = try decide(S.signal(), at: Fx.ny(Self.day, 10, 3), id: "s2")
        #expect(o == nil && d.skipReason == "halt", "another account's resume changes nothing")
        _ = try feed(OperatorControl(accountId: "sim-1", action: .resume, reason: "ok", flatten: false, requestedBy: "ops@desk"),
                     at: Fx.ny(Self.day, 10, 4), id: "h3", topic: Topics.control)
        (d, o) = try decide(S.signal(), at: Fx.ny(Self.day, 10, 5), id: "s3")
        #expect(o != nil && d.halt == nil)
    }

    @Test mutating func qualityScoreBeatsTheNearestStrike() throws {
        _ = try feed(S.account(cash: 10_000_000, seq: 1), at: Fx.ny(Self.day, 9, 0), id: "a1", topic: Topics.accounts)
        var near = Fx.quote(.call, 500, "2024-03-08", bid: 2.40, ask: 2.60, volume: 250, openInterest: 600)   // 8% spread, thin
        near.delta = 0.52
        var better = Fx.quote(.call, 502, "2024-03-08", bid: 1.60, ask: 1.62, volume: 9_000, openInterest: 40_000)
        better.delta = 0.41
        let chain = Fx.chain(500.1, at: Fx.ny(Self.day, 10, 0), [near, better])
        _ = try feed(chain, at: chain.asOf, id: "c1", topic: Topics.chains)
        let (d, o) = try decide(S.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1")
        #expect(o?.symbol == better.symbol)
        let cands = try #require(d.candidates)
        #expect(cands.map(\.symbol) == [better.symbol, near.symbol])
        let top = try #require(cands[0].score), second = try #require(cands[1].score)
        #expect(top.total > second.total && top.delta > second.delta && top.spread > second.spread)
    }

    @Test mutating func stockFallbackWhenTheOptionGatesFail() throws {
        _ = try feed(S.account(cash: 10_000_000, seq: 1), at: Fx.ny(Self.day, 9, 0), id: "a1", topic: Topics.accounts)
        let wide = Fx.chain(500.1, at: Fx.ny(Self.day, 10, 0), [Fx.quote(.call, 500, "2024-03-08", bid: 2.00, ask: 2.60)])
        _ = try feed(wide, at: wide.asOf, id: "c1", topic: Topics.chains)
        let (d, o) = try decide(S.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1")
        let order = try #require(o)
        #expect(d.route == "stock_fallback" && d.optionGate?.fallback == true && d.optionGate?.passed == false)
        #expect(order.assetClass == .equity && order.symbol == "SPY" && order.limitPriceCents == 50_000)
        #expect(order.quantity == 2, "large tier 1% of $100,000 = $1,000 / $500 = 2 shares")
        #expect(d.sizing?.unit == "shares" && d.sizing?.rationale.contains("Shares: 2 (cap: 500)") == true)
        #expect(d.gates.first { $0.gate == "contract" }?.detail.contains("Spread too wide") == true)
    }

    @Test mutating func noFallbackWhenItIsOff() throws {
        var p = TradingParams()
        p.execution.stockFallback = false
        core = DispatchCore(params: p)
        _ = try feed(S.account(cash: 10_000_000, seq: 1), at: Fx.ny(Self.day, 9, 0), id: "a1", topic: Topics.accounts)
        let wide = Fx.chain(500.1, at: Fx.ny(Self.day, 10, 0), [Fx.quote(.call, 500, "2024-03-08", bid: 2.00, ask: 2.60)])
        _ = try feed(wide, at: wide.asOf, id: "c1", topic: Topics.chains)
        let (d, o) = try decide(S.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1")
        #expect(o == nil && d.skipReason == "contract" && d.route == "option")
    }

    @Test mutating func ivPercentileAboveTheLimitFallsBackToStock() throws {
        try ready()
        var s = S.signal()
        s.ivPercentile = 80.5
        let (d, o) = try decide(s, at: Fx.ny(Self.day, 10, 1), id: "s1")
        #expect(o?.assetClass == .equity && d.optionGate?.reason.contains("IV too high: 80.5th percentile") == true)
    }

    @Test mutating func entriesPerTickerAreCountedPerSession() throws {
        var p = TradingParams()
        p.risk.tickerCooldownMinutes = 0
        core = DispatchCore(params: p)
        try ready()
        var orders = 0
        for i in 0..<4 {
            let t = Fx.ny(Self.day, 10, 1 + i)
            let (d, o) = try decide(S.signal(), at: t, id: "s\(i)")
            if let o {
                orders += 1
                _ = try feed(OrderEvent(accountId: "sim-1", clientOrderId: o.clientOrderId, status: .cancelled, symbol: o.symbol, side: .buy,
                                        quantity: o.quantity, filledQuantity: 0, fillPriceCents: nil, intent: .open, positionId: nil, reason: "ttl"),
                             at: t, id: "e\(i)", topic: Topics.orderEvents)
            } else {
                #expect(d.skipReason == "max_trades_per_ticker" && i == 3)
            }
        }
        #expect(orders == 3)
    }
}
