import Testing
import OpsModel
@testable import PositionCore

/// Contracts used below.
enum K {
    /// Swing contract, far from expiry.
    static let swing = "SPY240412C00510000"
    /// Expires Friday 2024-03-15.
    static let march15 = "SPY240315P00500000"
    /// Expires Friday 2024-01-19.
    static let jan19 = "SPY240119C00480000"
    static let qqq = "QQQ240412C00440000"
}

func utc(_ s: String) -> Timestamp { Timestamp(iso8601: s)! }

/// Opens a 2-lot at $2.50 (commission $1.30, fees $0.06) and returns the position.
func open(_ h: inout Harness, at t: Timestamp, symbol: String = K.swing, strategy: TradeStrategy = .swingTrade,
          clientOrderId: String = "entry-1", priceCents: Cents = 250) throws -> OpenPosition {
    try h.feed(Input.fill(at: t, clientOrderId: clientOrderId, symbol: symbol, priceCents: priceCents, strategy: strategy))
    return try #require(h.core.position(PositionManagerCore.positionId(entryClientOrderId: clientOrderId)))
}

@Suite("position-manager: opening and marking")
struct OpeningAndMarking {
    @Test("an entry fill opens a position with the exact entry cost")
    func opens() throws {
        var h = Harness()
        let t = Input.ny(2024, 3, 12, 10, 0)
        let out = try h.feed(Input.fill(at: t, clientOrderId: "entry-1", symbol: K.swing, quantity: 3, priceCents: 255,
                                        commissionCents: 195, feesCents: 9, strategy: .swingTrade))
        try #require(out.count == 1)
        let pid = DeterministicID.make("pos", "entry-1")
        #expect(out[0].topic == Topics.positions)
        #expect(out[0].envelope.id == DeterministicID.make("position-event", pid, "opened"))
        let e = try #require(out[0].position)
        #expect(e.event == .opened)
        #expect(e.positionId == pid)
        #expect(e.accountId == "sim-1")
        #expect(e.symbol == K.swing && e.underlying == "SPY")
        #expect(e.strategy == .swingTrade)
        #expect(e.quantity == 3)
        #expect(e.entryPriceCents == 255)
        #expect(e.entryCostCents == 255 * 100 * 3 + 195 + 9)   // 76,704
        #expect(e.openedAt == t)
        #expect(e.expiration == CivilDate(year: 2024, month: 4, day: 12))
        #expect(e.markPriceCents == nil && e.unrealizedPnlCents == nil && e.exitReason == nil && e.realizedPnlCents == nil)
        #expect(e.assetClass == .option && e.exitStep == nil && e.detail == nil)
        let p = try #require(h.core.position(pid))
        #expect(p.right == .call && p.strike == 510 && p.remainingQuantity == 3 && p.exitOrdersAtBroker.isEmpty)
    }

    @Test("marked only when the mark changes; the first mark of a New York day is always emitted")
    func marksOnChange() throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        var out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, 2.59, 2.61)]))
        #expect(out.kinds == [.marked])
        #expect(out.first?.position?.markPriceCents == 260)
        #expect(out.first?.position?.unrealizedPnlCents == Cents(260 * 200 - 50_136))
        #expect(out.first?.envelope.id == DeterministicID.make("position-event", p.positionId, "marked", Input.ny(2024, 3, 12, 10, 5).iso8601))

        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 10), [(K.swing, 2.58, 2.62)]))   // same mid
        #expect(out.isEmpty)

        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 15), [(K.swing, 2.60, 2.61)]))  // mid 2.605 → 2.61
        #expect(out.kinds == [.marked])
        #expect(out.first?.position?.markPriceCents == 261)
        #expect(out.first?.position?.unrealizedPnlCents == Cents(261 * 200 - 50_136))

        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 13, 9, 35), [(K.swing, 2.60, 2.62)]))   // new day, same mark
        #expect(out.kinds == [.marked])
        #expect(out.first?.position?.markPriceCents == 261)
    }

    @Test("a chain without the position's contract, or of another underlying, changes nothing")
    func chainWithoutContract() throws {
        var h = Harness()
        _ = try open(&h, at: Input.ny(2024, 3, 12, 10, 0), strategy: .dayTrade)
        try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, 2.49, 2.51)]))
        let before = h.core.openPositions
        // At 15:55 a day trade would be closed, and the mark would be a stop, if the contract were quoted.
        var out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 15, 55), [("SPY240412C00515000", 1.00, 1.02)]))
        #expect(out.isEmpty)
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 15, 56), underlying: "QQQ", [(K.qqq, 1.00, 1.02)]))
        #expect(out.isEmpty)
        // No ask: no mark, no exit.
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 15, 57), [(K.swing, 0, 0)]))
        #expect(out.isEmpty)
        #expect(h.core.openPositions == before)
    }

    @Test("fills the core does not manage are ignored with no output")
    func ignoredFills() throws {
        var h = Harness()
        let t = Input.ny(2024, 3, 12, 10, 0)
        #expect(try h.feed(Input.fill(at: t, clientOrderId: "short-1", symbol: K.swing, side: .sell)).isEmpty)
        #expect(try h.feed(Input.fill(at: t, clientOrderId: "x-1", symbol: K.swing, side: .sell, intent: .close,
                                      positionId: "pos-unknown")).isEmpty)
        #expect(try h.feed(Input.fill(at: t, clientOrderId: "x-2", symbol: K.swing, side: .sell, intent: .close)).isEmpty)
        #expect(h.core.openPositions.isEmpty)
    }

    @Test("fills that contradict a position are refused and leave the state unchanged")
    func refusals() throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        let before = h.core.openPositions
        let t = Input.ny(2024, 3, 12, 10, 5)
        #expect(throws: MessageError.self) { try h.feed(Input.exitFill(at: t, position: p, quantity: 3, priceCents: 300)) }
        #expect(throws: MessageError.self) {
            try h.feed(Input.fill(at: t, clientOrderId: "c", symbol: "SPY240412C00520000", side: .sell, intent: .close, positionId: p.positionId))
        }
        #expect(throws: MessageError.self) { try h.feed(Input.fill(at: t, clientOrderId: "bad", symbol: "QQQ240412C00440000")) }
        #expect(h.core.openPositions == before)
        #expect(h.outputs.count == 1)
    }

    @Test("several fills of one entry order add up; partial exit fills close it once, with exact P&L")
    func partialFills() throws {
        var h = Harness()
        let t = Input.ny(2024, 3, 12, 10, 0)
        try h.feed(Input.fill(at: t, clientOrderId: "entry-1", symbol: K.swing, quantity: 1, priceCents: 250, commissionCents: 65, feesCents: 3, fillId: "f1"))
        let out = try h.feed(Input.fill(at: t.adding(ms: 1000), clientOrderId: "entry-1", symbol: K.swing, quantity: 2, priceCents: 253,
                                        commissionCents: 130, feesCents: 6, fillId: "f2"))
        let pid = DeterministicID.make("pos", "entry-1")
        #expect(out.first?.envelope.id == DeterministicID.make("position-event", pid, "opened", "f2"))
        let e = try #require(out.first?.position)
        #expect(e.quantity == 3 && e.entryCostCents == Cents(25_000 + 68 + 50_600 + 136))
        #expect(e.entryPriceCents == 252)   // 75,600 / 300 = 252
        let p = try #require(h.core.position(pid))
        #expect(try h.feed(Input.exitFill(at: t.adding(ms: 60_000), position: p, clientOrderId: "manual", quantity: 1, priceCents: 300,
                                          commissionCents: 65, feesCents: 3)).isEmpty)
        #expect(h.core.position(pid)?.remainingQuantity == 2)
        let done = try h.feed(Input.exitFill(at: t.adding(ms: 120_000), position: p, clientOrderId: "manual", quantity: 2, priceCents: 301,
                                             commissionCents: 130, feesCents: 6))
        let c = try #require(done.first?.position)
        #expect(c.event == .closed)
        let exitNet: Cents = 30_000 + 60_200 - 68 - 136, entryCost: Cents = 25_000 + 68 + 50_600 + 136
        #expect(c.realizedPnlCents == exitNet - entryCost)
        #expect(c.exitPriceCents == 301)   // 90,200 / 300 = 300.67 → 301
        #expect(c.exitReason == nil)       // not an exit this core requested
        #expect(h.core.position(pid) == nil)
        // A late entry fill does not reopen it.
        #expect(try h.feed(Input.fill(at: t.adding(ms: 180_000), clientOrderId: "entry-1", symbol: K.swing, fillId: "f3")).isEmpty)
    }
}

@Suite("position-manager: exit rules")
struct ExitRules {
    @Test("stop loss at exactly entry × (1 − 40%), not a cent above")
    func stopLoss() throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        var out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, 1.50, 1.52)]))   // mark 151
        #expect(out.kinds == [.marked] && out.orders.isEmpty)
        let q = Input.ny(2024, 3, 12, 10, 10)
        out = try h.feed(Input.chain(at: q, [(K.swing, 1.49, 1.51)]))                               // mark 150
        #expect(out.kinds == [.marked, .exitRequested])
        let order = try #require(out.orders.first)
        #expect(out.orders.count == 1)
        #expect(order.side == .sell && order.intent == .close && order.quantity == 2 && order.limitPriceCents == 149)
        #expect(order.positionId == p.positionId && order.accountId == "sim-1" && order.strategy == .swingTrade)
        #expect(order.symbol == K.swing && order.underlying == "SPY" && order.assetClass == .option)
        #expect(order.clientOrderId == DeterministicID.make("exit", p.positionId, q.iso8601))
        #expect(order.clientOrderId == PositionManagerCore.exitClientOrderId(positionId: p.positionId, at: q))
        #expect(order.replacesClientOrderId == nil)
        #expect(order.reason == "stop_loss: mark $1.50 ≤ $1.50 (entry $2.50 − 40%); sell 2 at limit $1.49 (bid $1.49)")
        let requested = try #require(out.positionEvents.last)
        #expect(requested.exitReason == "stop_loss" && requested.markPriceCents == 150 && requested.exitStep == 0)
        #expect(requested.detail == order.reason)
        #expect(requested.unrealizedPnlCents == Cents(150 * 200 - 50_136))
        let orderEmit = try #require(out.first { $0.topic == Topics.orders })
        #expect(orderEmit.envelope.id == DeterministicID.make("order-command", order.clientOrderId, q.iso8601))
    }

    @Test("profit target at exactly entry × (1 + 50%), not a cent below")
    func profitTarget() throws {
        var h = Harness()
        _ = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        var out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, 3.73, 3.75)]))   // 374
        #expect(out.orders.isEmpty)
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 10), [(K.swing, 3.74, 3.76)]))      // 375
        let order = try #require(out.orders.first)
        #expect(order.reason == "profit_target: mark $3.75 ≥ $3.75 (entry $2.50 + 50%); sell 2 at limit $3.74 (bid $3.74)")
        #expect(out.positionEvents.last?.exitReason == "profit_target")
    }

    @Test("thresholds that fall between cents: the stop rounds down, the target up", arguments: [
        // entry, mark, stop?, target?  (257 × 0.6 = 154.2; 257 × 1.5 = 385.5)
        (Cents(257), Cents(155), false, false), (257, 154, true, false), (257, 385, false, false), (257, 386, false, true),
    ])
    func fractionalThresholds(entry: Cents, mark: Cents, stop: Bool, target: Bool) throws {
        #expect(ExitRule.stopLossThresholdCents(entryCents: 257, fraction: 0.4) == 154)
        #expect(ExitRule.profitTargetThresholdCents(entryCents: 257, fraction: 0.5) == 386)
        #expect(ExitRule.stopLossThresholdCents(entryCents: 250, fraction: 0.4) == 150)
        #expect(ExitRule.profitTargetThresholdCents(entryCents: 250, fraction: 0.5) == 375)
        // 0.7 is 0.69999999999999996 in binary; read as the decimal 0.7: 1000 × 0.3 = 300 exactly.
        #expect(ExitRule.stopLossThresholdCents(entryCents: 1000, fraction: 0.7) == 300)
        #expect(ExitRule.profitTargetThresholdCents(entryCents: 1000, fraction: 0.7) == 1700)
        #expect(Exact.percentText(Exact.decimal(0.425)) == "42.5" && Exact.percentText(Exact.decimal(1e-05)) == "0.001")

        var h = Harness()
        _ = try open(&h, at: Input.ny(2024, 3, 12, 10, 0), priceCents: entry)
        let dollars = Double(mark) / 100
        let out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, dollars - 0.01, dollars + 0.01)]))
        #expect(out.positionEvents.first?.markPriceCents == mark)
        #expect(out.positionEvents.last?.exitReason == (stop ? "stop_loss" : target ? "profit_target" : nil))
        #expect(out.orders.count == (stop || target ? 1 : 0))
    }

    @Test("the exit limit is the bid rounded down to a valid tick, at least one tick")
    func exitLimit() {
        let ex = TradingParams.ExecutionParams()
        #expect(PositionManagerCore.exitLimitCents(bid: 3.07, underlying: "SPY", execution: ex) == 307)   // pennies at any price
        #expect(PositionManagerCore.exitLimitCents(bid: 3.07, underlying: "AAPL", execution: ex) == 305)  // penny program: nickels from $3
        #expect(PositionManagerCore.exitLimitCents(bid: 2.99, underlying: "AAPL", execution: ex) == 299)
        #expect(PositionManagerCore.exitLimitCents(bid: 3.07, underlying: "XYZ", execution: ex) == 300)   // other classes: dimes from $3
        #expect(PositionManagerCore.exitLimitCents(bid: 2.99, underlying: "XYZ", execution: ex) == 295)   // nickels below
        #expect(PositionManagerCore.exitLimitCents(bid: 2.555, underlying: "XYZ", execution: ex) == 255)
        #expect(PositionManagerCore.exitLimitCents(bid: 0.004, underlying: "XYZ", execution: ex) == 5)
    }

    @Test("a day trade closes from 15:50 New York, in daylight and standard time", arguments: [
        // 2024-03-12 is after the 2024-03-10 DST change (EDT, UTC−4); 2024-01-16 is EST (UTC−5).
        ("SPY240315C00510000", "2024-03-12T14:00:00Z", "2024-03-12T19:49:00Z", "2024-03-12T19:50:00Z"),
        (K.jan19, "2024-01-16T15:00:00Z", "2024-01-16T20:49:59Z", "2024-01-16T20:50:00Z"),
    ])
    func dayTradeClose(symbol: String, openedAt: String, before: String, at: String) throws {
        var h = Harness()
        let p = try open(&h, at: utc(openedAt), symbol: symbol, strategy: .dayTrade)
        // Mid = entry: no price rule fires.
        if symbol == K.jan19 {   // 19:50Z is 15:50 in March but 14:50 in January
            #expect(try h.feed(Input.chain(at: utc("2024-01-16T19:50:00Z"), [(symbol, 2.49, 2.51)])).orders.isEmpty)
        }
        var out = try h.feed(Input.chain(at: utc(before), [(symbol, 2.49, 2.51)]))
        #expect(out.orders.isEmpty)
        out = try h.feed(Input.chain(at: utc(at), [(symbol, 2.49, 2.51)]))
        let order = try #require(out.orders.first)
        #expect(order.reason == "day_trade_close: 15:50 New York ≥ 15:50 (16:00 − 10 min); sell 2 at limit $2.49 (bid $2.49)")
        #expect(order.positionId == p.positionId && order.strategy == .dayTrade)
        #expect(out.positionEvents.last?.exitReason == "day_trade_close")
    }

    @Test("a swing trade is held through 15:50 and overnight")
    func swingHeldOvernight() throws {
        var h = Harness()
        _ = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        for t in [Input.ny(2024, 3, 12, 15, 50), Input.ny(2024, 3, 12, 15, 59), Input.ny(2024, 3, 13, 9, 35), Input.ny(2024, 3, 13, 15, 55)] {
            #expect(try h.feed(Input.chain(at: t, [(K.swing, 2.49, 2.51)])).orders.isEmpty)
        }
        #expect(h.outputs.orders.isEmpty)
        #expect(h.core.openPositions.count == 1)
    }

    @Test("a day trade still open on a later New York date is closed at the first quote")
    func overdueDayTrade() throws {
        var h = Harness()
        _ = try open(&h, at: Input.ny(2024, 3, 12, 10, 0), symbol: "SPY240315C00510000", strategy: .dayTrade)
        let out = try h.feed(Input.chain(at: Input.ny(2024, 3, 13, 9, 35), [("SPY240315C00510000", 2.49, 2.51)]))
        #expect(out.orders.first?.reason == "day_trade_close: opened 2024-03-12, still open 2024-03-13 09:35 New York; sell 2 at limit $2.49 (bid $2.49)")
    }

    @Test("a swing position expiring today is closed from 15:30 New York")
    func expirationDay() throws {
        var h = Harness()
        _ = try open(&h, at: Input.ny(2024, 3, 14, 10, 0), symbol: K.march15)
        #expect(try h.feed(Input.chain(at: Input.ny(2024, 3, 14, 15, 55), [(K.march15, 2.49, 2.51)])).orders.isEmpty)
        #expect(try h.feed(Input.chain(at: Input.ny(2024, 3, 15, 15, 29, 59), [(K.march15, 2.49, 2.51)])).orders.isEmpty)
        let out = try h.feed(Input.chain(at: Input.ny(2024, 3, 15, 15, 30), [(K.march15, 2.49, 2.51)]))
        #expect(out.orders.first?.reason == "expiration: expires 2024-03-15, 15:30 New York ≥ 15:30 (16:00 − 30 min); sell 2 at limit $2.49 (bid $2.49)")
        #expect(out.positionEvents.last?.exitReason == "expiration")
    }

    @Test("rules run in order: a stop loss on a day trade at 15:55 is a stop loss")
    func ruleOrder() throws {
        var h = Harness()
        _ = try open(&h, at: Input.ny(2024, 3, 12, 10, 0), symbol: "SPY240315C00510000", strategy: .dayTrade)
        let out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 15, 55), [("SPY240315C00510000", 1.00, 1.02)]))
        #expect(out.positionEvents.last?.exitReason == "stop_loss")
    }

    @Test("no bid: marked, but no exit until a quote with a bid")
    func noBid() throws {
        var h = Harness()
        _ = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        var out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, 0, 0.10)]))
        #expect(out.kinds == [.marked] && out.orders.isEmpty)
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 10), [(K.swing, 0.04, 0.06)]))
        #expect(out.kinds == [.exitRequested] && out.orders.first?.limitPriceCents == 4)
    }

    @Test("custom rules plug in as values evaluated in order")
    func customRule() throws {
        let anyMark = ExitRule(name: "test") { c in c.markCents == 251 ? ExitSignal(rule: "test_rule", detail: "test: mark 251") : nil }
        var h = Harness()
        h.core = PositionManagerCore(params: Harness.phaseOne, rules: [anyMark] + ExitRule.standard(Harness.phaseOne))
        _ = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        #expect(try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, 2.49, 2.51)])).orders.isEmpty)
        let out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 10), [(K.swing, 2.50, 2.52)]))
        #expect(out.positionEvents.last?.exitReason == "test_rule")
        #expect(out.orders.first?.reason == "test: mark 251; sell 2 at limit $2.50 (bid $2.50)")
    }
}

@Suite("position-manager: exit orders and closing")
struct ExitLifecycle {
    @Test("an exit fill closes with exact realized P&L including both sides' commissions and fees")
    func closes() throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        let out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 11, 0), [(K.swing, 3.80, 3.82)]))
        let order = try #require(out.orders.first)
        try h.feed(Input.orderEvent(at: Input.ny(2024, 3, 12, 11, 0), .accepted, clientOrderId: order.clientOrderId, position: p))
        let t = Input.ny(2024, 3, 12, 11, 5)
        let closed = try h.feed(Input.exitFill(at: t, position: p, clientOrderId: order.clientOrderId, priceCents: 379, commissionCents: 140, feesCents: 8))
        try #require(closed.count == 1)
        #expect(closed[0].envelope.id == DeterministicID.make("position-event", p.positionId, "closed"))
        let e = try #require(closed[0].position)
        #expect(e.event == .closed)
        #expect(e.exitPriceCents == 379)
        let entryCost: Cents = 250 * 200 + 130 + 6, exitProceeds: Cents = 379 * 200 - 140 - 8
        #expect(e.realizedPnlCents == exitProceeds - entryCost)
        #expect(e.realizedPnlCents == 25_516)
        #expect(e.exitReason == "profit_target")
        #expect(e.closedAt == t)
        #expect(e.entryCostCents == 50_136 && e.quantity == 2)
        #expect(h.core.openPositions.isEmpty)
        // Gone: later chains and order events do nothing.
        #expect(try h.feed(Input.orderEvent(at: t, .filled, clientOrderId: order.clientOrderId, position: p)).isEmpty)
        #expect(try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 11, 10), [(K.swing, 1.00, 1.02)])).isEmpty)
    }

    @Test("a cancelled or rejected exit ends the work: the rules start a new one at the next chain, with a new client id")
    func cancelAndReissue() throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        let t0 = Input.ny(2024, 3, 12, 10, 5)
        let first = try #require(try h.feed(Input.chain(at: t0, [(K.swing, 1.00, 1.02)])).orders.first)
        #expect(first.clientOrderId == PositionManagerCore.exitClientOrderId(positionId: p.positionId, at: t0))
        try h.feed(Input.orderEvent(at: t0, .accepted, clientOrderId: first.clientOrderId, position: p))
        #expect(h.core.position(p.positionId)?.exitOrdersAtBroker == [first.clientOrderId])
        // An event for some other order of the position changes nothing.
        try h.feed(Input.orderEvent(at: Input.ny(2024, 3, 12, 10, 7), .cancelled, clientOrderId: "other", position: p))
        #expect(h.core.position(p.positionId)?.exitOrdersAtBroker == [first.clientOrderId])
        // Cancelled (not replaced), then a chain: the stop still fires; a fresh exit at step 0, replacing nothing.
        try h.feed(Input.orderEvent(at: Input.ny(2024, 3, 12, 10, 8), .cancelled, clientOrderId: first.clientOrderId, position: p))
        #expect(h.core.position(p.positionId)?.exitOrdersAtBroker == [])
        let t1 = Input.ny(2024, 3, 12, 10, 10)
        var out = try h.feed(Input.chain(at: t1, [(K.swing, 0.80, 0.82)]))
        let second = try #require(out.orders.first)
        #expect(out.kinds == [.marked, .exitRequested])
        #expect(out.positionEvents.last?.exitStep == 0 && out.positionEvents.last?.exitReason == "stop_loss")
        #expect(second.clientOrderId == PositionManagerCore.exitClientOrderId(positionId: p.positionId, at: t1))
        #expect(second.clientOrderId != first.clientOrderId && second.replacesClientOrderId == nil)
        #expect(second.limitPriceCents == 80)
        // Rejected: the same again at the next chain.
        try h.feed(Input.orderEvent(at: t1.adding(ms: 1), .rejected, clientOrderId: second.clientOrderId, position: p))
        let t2 = Input.ny(2024, 3, 12, 10, 15)
        out = try h.feed(Input.chain(at: t2, [(K.swing, 0.80, 0.82)]))
        #expect(out.orders.first?.clientOrderId == PositionManagerCore.exitClientOrderId(positionId: p.positionId, at: t2))
        #expect(out.orders.first?.replacesClientOrderId == nil && out.positionEvents.last?.exitStep == 0)
        #expect(h.outputs.orders.count == 3)
    }

    @Test("an exit the broker still works the next morning is repriced as carried-over work; its fill closes with no reason")
    func pendingOvernight() throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        let last = Input.ny(2024, 3, 12, 16, 0)
        let first = try #require(try h.feed(Input.chain(at: last, [(K.swing, 1.00, 1.02)])).orders.first)
        try h.feed(Input.orderEvent(at: last, .accepted, clientOrderId: first.clientOrderId, position: p))
        let t = Input.ny(2024, 3, 13, 9, 30)
        let out = try h.feed(Input.chain(at: t, [(K.swing, 0.90, 0.96)]))
        #expect(out.kinds == [.marked, .exitRequested])
        let order = try #require(out.orders.first)
        #expect(order.replacesClientOrderId == first.clientOrderId)
        #expect(order.limitPriceCents == 88)   // step 1 of 3: 90 − ⌈6 / 3⌉
        #expect(order.reason == "exit already at the broker: reprice step 1/3: bid $0.90 − 1 × $0.02 (spread $0.06 / 3); sell 2 at limit $0.88 (bid $0.90); replaces \(first.clientOrderId)")
        let e = try #require(out.positionEvents.last)
        #expect(e.exitReason == nil && e.exitStep == 1)
        let closed = try h.feed(Input.exitFill(at: Input.ny(2024, 3, 13, 9, 31), position: p, clientOrderId: first.clientOrderId, priceCents: 92))
        #expect(closed.kinds == [.closed] && closed.first?.position?.exitReason == nil)
    }

    @Test("exit client ids fit the 48 characters an order allows and differ per input time")
    func clientIdLength() throws {
        let pid = DeterministicID.make("pos", String(repeating: "x", count: 48))
        var seen = Set<String>()
        for t in [Input.ny(2024, 3, 12, 10, 0), Input.ny(2024, 3, 12, 10, 5), Input.ny(2024, 3, 13, 10, 0), Input.ny(2024, 3, 13, 10, 0, 1)] {
            let id = PositionManagerCore.exitClientOrderId(positionId: pid, at: t)
            #expect(id.utf8.count == 29)
            seen.insert(id)
        }
        #expect(seen.count == 4)
    }
}

@Suite("position-manager: runtime contract")
struct RuntimeContract {
    @Test("topics, causes and restore starts")
    func topology() {
        let core = PositionManagerCore(params: Harness.phaseOne)
        #expect(PositionManagerCore.name == "position-manager" && core.serviceName == "position-manager")
        #expect(core.inputTopics == [Topics.control, Topics.decisions, Topics.signals, Topics.fills, Topics.bars, Topics.chains, Topics.orderEvents])
        #expect(core.outputTopics == [Topics.positions, Topics.orders, Topics.greeks])
        #expect(core.outputCauses == [Topics.positions: [Topics.fills: 0, Topics.bars: 0, Topics.chains: 0],
                                      Topics.orders: [Topics.bars: 0, Topics.chains: 0],
                                      Topics.greeks: [Topics.fills: 0, Topics.bars: 0, Topics.chains: 0]])
        #expect(core.restoreStart(topic: Topics.decisions, after: utc("2024-03-12T15:00:00Z")) == utc("2024-03-12T04:00:00Z"))
        #expect(core.restoreStart(topic: Topics.signals, after: utc("2024-03-12T15:00:00Z")) == utc("2024-03-12T03:30:00Z"))
        #expect(core.restoreStart(topic: Topics.bars, after: utc("2024-03-12T15:00:00Z")) == utc("2024-03-12T04:00:00Z"))
        #expect(core.restoreStart(topic: Topics.fills, after: utc("2024-03-12T15:00:00Z")) == .distantPast)
        #expect(core.restoreStart(topic: Topics.orderEvents, after: utc("2024-03-12T15:00:00Z")) == .distantPast)
        #expect(core.restoreStart(topic: Topics.chains, after: utc("2024-03-12T15:00:00Z")) == utc("2024-03-12T04:00:00Z"))
        #expect(core.restoreStart(topic: Topics.chains, after: utc("2024-01-17T03:00:00Z")) == utc("2024-01-16T05:00:00Z"))
    }

    /// Two days, two underlyings and a stock position, every kind of event: marks (one position steady across
    /// days), a stop loss repriced once and filled (QQQ); a stock stop from bars, repriced and filled; a day-trade
    /// close partly filled, repriced for the rest and filled; an expiring contract with no bid at 15:30 and
    /// missing at 15:50 (no sell placed), settled in the money at the close; stop losses at the last chain of a day:
    /// one expired by the broker at the close and re-issued fresh the next morning, one accepted and filled the
    /// next morning (a GTC broker), one never acknowledged (re-issued fresh the next day, rejected, re-issued and
    /// repriced).
    static func scenario() throws -> [AnyEnvelope] {
        var inputs = [AnyEnvelope]()
        let d1 = { (h: Int, m: Int) in Input.ny(2024, 3, 12, h, m) }
        let d2 = { (h: Int, m: Int) in Input.ny(2024, 3, 13, h, m) }
        let day = "SPY240315C00510000", steady = "SPY240412C00520000", gtc = "SPY240412C00530000", silent = "SPY240412C00540000"
        let expiring = "SPY240312C00495000"
        func spy(_ t: Timestamp, _ bid: Double, _ dayBid: Double, gtcBid: Double = 3.00, silentBid: Double = 3.00,
                 expiringBid: Double? = 5.00) throws -> AnyEnvelope {
            var quotes = [(K.swing, bid, bid + 0.02), (day, dayBid, dayBid + 0.02), (steady, 1.99, 2.01),
                          (gtc, gtcBid, gtcBid + 0.02), (silent, silentBid, silentBid + 0.02)]
            if let e = expiringBid { quotes.append((expiring, e, e + 0.05)) }
            return try Input.chain(at: t, quotes)
        }
        /// What the tests need of a position to write the broker's messages for it.
        func view(_ clientOrderId: String, _ symbol: String, underlying: String = "SPY", quantity: Int = 2,
                  assetClass: AssetClass = .option) -> OpenPosition {
            let occ = OCCSymbol(symbol)
            return OpenPosition(positionId: PositionManagerCore.positionId(entryClientOrderId: clientOrderId), accountId: "sim-1",
                                symbol: symbol, underlying: underlying, assetClass: assetClass, right: occ?.right, strike: occ?.strike,
                                expiration: occ?.expiration, strategy: .swingTrade, quantity: quantity, entryPriceCents: 1,
                                entryNotionalCents: 1, entryCostCents: 1, openedAt: d1(9, 45), contract: symbol)
        }
        func exitId(_ p: OpenPosition, _ t: Timestamp) -> String { PositionManagerCore.exitClientOrderId(positionId: p.positionId, at: t) }

        let a = view("a", K.swing), b = view("b", day), q = view("q", K.qqq, underlying: "QQQ", quantity: 1)
        let g = view("g", gtc), k = view("k", "SPY", quantity: 10, assetClass: .equity)
        inputs.append(try Input.fill(at: d1(9, 45), clientOrderId: "a", symbol: K.swing))
        inputs.append(try Input.fill(at: d1(9, 45), clientOrderId: "b", symbol: day, strategy: .dayTrade))
        inputs.append(try Input.fill(at: d1(9, 45), clientOrderId: "s", symbol: steady, priceCents: 200))
        inputs.append(try Input.fill(at: d1(9, 45), clientOrderId: "g", symbol: gtc, priceCents: 300))
        inputs.append(try Input.fill(at: d1(9, 45), clientOrderId: "u", symbol: silent, priceCents: 300))
        inputs.append(try Input.fill(at: d1(9, 45), clientOrderId: "e", symbol: expiring, priceCents: 500))
        inputs.append(try Input.fill(at: d1(9, 46), clientOrderId: "q", symbol: K.qqq, underlying: "QQQ", quantity: 1, priceCents: 100))
        inputs.append(try Input.fill(at: d1(9, 46), clientOrderId: "k", symbol: "SPY", quantity: 10, priceCents: 50_000,
                                     commissionCents: 0, feesCents: 0, strategy: .dayTrade, assetClass: .equity))
        inputs.append(try spy(d1(10, 0), 2.49, 2.60))
        inputs.append(try Input.bar(at: d1(10, 0), close: 500.50))
        inputs.append(try Input.chain(at: d1(10, 0), underlying: "QQQ", [(K.qqq, 0.99, 1.01)]))
        inputs.append(try Input.bar(at: d1(10, 1), close: 499.00))
        inputs.append(try spy(d1(10, 5), 2.49, 2.61))
        inputs.append(try spy(d1(11, 0), 2.39, 2.61))
        inputs.append(try Input.chain(at: d1(11, 0), underlying: "QQQ", [(K.qqq, 0.50, 0.52)]))   // QQQ stop loss
        inputs.append(try Input.orderEvent(at: d1(11, 0), .accepted, clientOrderId: exitId(q, d1(11, 0)), position: q))
        inputs.append(try Input.chain(at: d1(11, 5), underlying: "QQQ", [(K.qqq, 0.40, 0.42)]))   // reprice step 1
        inputs.append(try Input.orderEvent(at: d1(11, 5), .cancelled, clientOrderId: exitId(q, d1(11, 0)), position: q))
        inputs.append(try Input.orderEvent(at: d1(11, 5), .accepted, clientOrderId: exitId(q, d1(11, 5)), position: q))
        inputs.append(try Input.exitFill(at: d1(11, 6), position: q, clientOrderId: exitId(q, d1(11, 5)), priceCents: 39))
        inputs.append(try Input.bar(at: d1(11, 10), close: 489.00))                                 // stock stop loss
        inputs.append(try Input.bar(at: d1(11, 11), close: 488.50, high: 488.80, low: 488.20))      // reprice step 1
        inputs.append(try Input.exitFill(at: d1(11, 12), position: k, clientOrderId: exitId(k, d1(11, 11)), priceCents: 48_830,
                                         commissionCents: 0, feesCents: 0))
        inputs.append(try spy(d1(15, 30), 2.50, 2.62, expiringBid: 0))                              // expiration, no bid
        inputs.append(try spy(d1(15, 50), 2.50, 2.62, expiringBid: nil))                            // day-trade close for b
        inputs.append(try Input.orderEvent(at: d1(15, 50), .accepted, clientOrderId: exitId(b, d1(15, 50)), position: b))
        inputs.append(try Input.exitFill(at: d1(15, 55), position: b, clientOrderId: exitId(b, d1(15, 50)), quantity: 1, priceCents: 262))
        inputs.append(try spy(d1(15, 55), 2.52, 2.52, expiringBid: nil))                            // b: step 1 for the rest
        inputs.append(try Input.orderEvent(at: d1(15, 55), .partiallyFilled, clientOrderId: exitId(b, d1(15, 50)), position: b, filled: 1))
        inputs.append(try Input.exitFill(at: d1(15, 56), position: b, clientOrderId: exitId(b, d1(15, 55)), quantity: 1, priceCents: 251))
        inputs.append(try Input.settlement(at: d1(16, 0), symbol: expiring, quantity: 2, priceCents: 520, .settledItm, underlyingPrice: 500.20))
        inputs.append(try spy(d1(16, 0), 1.40, 2.62, gtcBid: 1.50, silentBid: 1.50, expiringBid: nil))   // stop losses for a, g, u
        inputs.append(try Input.orderEvent(at: d1(16, 0), .accepted, clientOrderId: exitId(a, d1(16, 0)), position: a))
        inputs.append(try Input.orderEvent(at: d1(16, 0), .accepted, clientOrderId: exitId(g, d1(16, 0)), position: g))
        inputs.append(try Input.orderEvent(at: d1(16, 0).adding(ms: 1), .cancelled, clientOrderId: exitId(a, d1(16, 0)), position: a))
        inputs.append(try Input.chain(at: d2(9, 30), underlying: "QQQ", [(K.qqq, 0.40, 0.42)]))
        inputs.append(try Input.exitFill(at: d2(9, 32), position: g, clientOrderId: exitId(g, d1(16, 0)), priceCents: 150))
        inputs.append(try spy(d2(9, 35), 1.30, 2.62, gtcBid: 1.50, silentBid: 1.50, expiringBid: nil))   // a, u: fresh exits
        inputs.append(try Input.orderEvent(at: d2(9, 35), .accepted, clientOrderId: exitId(a, d2(9, 35)), position: a))
        inputs.append(try Input.orderEvent(at: d2(9, 36), .rejected, clientOrderId: exitId(view("u", silent), d2(9, 35)), position: view("u", silent)))
        inputs.append(try Input.fill(at: d2(9, 36), clientOrderId: "c", symbol: K.swing, quantity: 1, priceCents: 130))
        inputs.append(try Input.exitFill(at: d2(9, 40), position: a, clientOrderId: exitId(a, d2(9, 35)), priceCents: 131))
        inputs.append(try spy(d2(9, 40), 1.30, 2.62, gtcBid: 1.50, silentBid: 1.50, expiringBid: nil))  // u: fresh again
        inputs.append(try spy(d2(9, 45), 1.35, 2.62, gtcBid: 1.48, silentBid: 1.48, expiringBid: nil))  // u: step 1
        return inputs
    }

    static func run(_ inputs: [AnyEnvelope], core: inout PositionManagerCore) throws -> [[Emit]] {
        var h = Harness()
        h.core = core
        let out = try inputs.map { try h.feed($0) }
        core = h.core
        return out
    }

    @Test("the scenario does what it says")
    func scenarioShape() throws {
        var core = PositionManagerCore(params: Harness.phaseOne)
        let out = try Self.run(Self.scenario(), core: &core).flatMap { $0 }
        func pid(_ c: String) -> String { PositionManagerCore.positionId(entryClientOrderId: c) }
        func exitId(_ c: String, _ t: Timestamp) -> String { PositionManagerCore.exitClientOrderId(positionId: pid(c), at: t) }
        let d1 = { (h: Int, m: Int) in Input.ny(2024, 3, 12, h, m) }
        let d2 = { (h: Int, m: Int) in Input.ny(2024, 3, 13, h, m) }
        func orders(_ c: String) -> [OrderCommand] { out.orders.filter { $0.positionId == pid(c) } }
        #expect(orders("q").map(\.clientOrderId) == [exitId("q", d1(11, 0)), exitId("q", d1(11, 5))])
        #expect(orders("q").map(\.replacesClientOrderId) == [nil, exitId("q", d1(11, 0))])
        #expect(orders("q").map(\.limitPriceCents) == [50, 39])
        #expect(orders("k").map(\.limitPriceCents) == [48_900, 48_830] && orders("k").allSatisfy { $0.assetClass == .equity && $0.quantity == 10 })
        #expect(orders("b").map(\.clientOrderId) == [exitId("b", d1(15, 50)), exitId("b", d1(15, 55))])
        #expect(orders("b").map(\.quantity) == [2, 1] && orders("b").map(\.limitPriceCents) == [262, 251])
        #expect(orders("e").isEmpty)
        #expect(orders("a").map(\.clientOrderId) == [exitId("a", d1(16, 0)), exitId("a", d2(9, 35))])
        #expect(orders("a").map(\.replacesClientOrderId) == [nil, nil])
        #expect(orders("g").map(\.clientOrderId) == [exitId("g", d1(16, 0))])
        #expect(orders("u").map(\.clientOrderId) == [exitId("u", d1(16, 0)), exitId("u", d2(9, 35)), exitId("u", d2(9, 40)), exitId("u", d2(9, 45))])
        #expect(orders("u").map(\.replacesClientOrderId) == [nil, nil, nil, exitId("u", d2(9, 40))])
        #expect(out.orders.count == 13)
        let requestedE = out.positionEvents.filter { $0.positionId == pid("e") && $0.event == .exitRequested }
        #expect(requestedE.count == 1 && requestedE.first?.exitReason == "expiration" && requestedE.first?.exitStep == nil)
        #expect(requestedE.first?.detail?.contains("no bid: no sell can be placed") == true)
        let closed = out.positionEvents.filter { $0.event == .closed }
        #expect(closed.map(\.positionId) == ["q", "k", "b", "e", "g", "a"].map(pid))
        // g was requested on the 12th and filled on the 13th: its reason did not outlive the day.
        #expect(closed.map(\.exitReason) == ["stop_loss", "stop_loss", "day_trade_close", "settled_itm", nil, "stop_loss"])
        let settledPnl: Cents = 520 * 200 - (500 * 200 + 136), stockPnl: Cents = (48_830 - 50_000) * 10
        #expect(closed.first { $0.positionId == pid("e") }?.realizedPnlCents == settledPnl)
        #expect(closed.first { $0.positionId == pid("k") }?.realizedPnlCents == stockPnl)
        #expect(Set(core.openPositions.map(\.positionId)) == Set(["c", "s", "u"].map(pid)))
        // The steady position is marked once a day.
        let steady = PositionManagerCore.positionId(entryClientOrderId: "s")
        #expect(out.positionEvents.filter { $0.positionId == steady }.map(\.event) == [.opened, .marked, .marked])
    }

    @Test("same inputs twice, and after reset, give identical bytes")
    func determinism() throws {
        let inputs = try Self.scenario()
        var a = PositionManagerCore(params: Harness.phaseOne), b = PositionManagerCore(params: Harness.phaseOne)
        let first = try Self.run(inputs, core: &a).flatMap { $0 }
        let second = try Self.run(inputs, core: &b).flatMap { $0 }
        #expect(first.count > 20)
        #expect(try first.encoded() == second.encoded())
        a.reset()
        #expect(a.openPositions.isEmpty)
        let replay = try Self.run(inputs, core: &a).flatMap { $0 }
        #expect(try first.encoded() == replay.encoded())
        #expect(Set(first.map(\.envelope.id)).count == first.count)
    }

    @Test("a restore that re-reads chains and bars from the restore start the core names at each cut gives the same outputs",
          arguments: [Harness.phaseOne, TradingParams()])
    func restoreAtEveryCut(params: TradingParams) throws {
        let inputs = try Self.scenario()
        var original = PositionManagerCore(params: params)
        let expected = try Self.run(inputs, core: &original)
        var checked = 0
        for cut in inputs.indices {
            // The runtime's view after committing inputs[0...cut]: chains and bars re-read from the restore start
            // the live core names at that commit (one partition each), fills and order events from the beginning.
            let lastChain = inputs[0...cut].last { $0.payload is OptionChain }
            let lastBar = inputs[0...cut].last { $0.payload is Bar }
            var live = PositionManagerCore(params: params)
            _ = try Self.run(Array(inputs[0...cut]), core: &live)
            let chainStart = lastChain.map { live.restoreStart(topic: Topics.chains, after: $0.eventTime) } ?? .distantPast
            let barStart = lastBar.map { live.restoreStart(topic: Topics.bars, after: $0.eventTime) } ?? .distantPast
            let core = PositionManagerCore(params: params)
            var h = Harness()
            h.core = core
            for (i, input) in inputs.enumerated() {
                if input.payload is OptionChain, input.eventTime < chainStart { continue }
                if input.payload is Bar, input.eventTime < barStart { continue }
                let out = try h.feed(input)
                if i > cut {
                    #expect(try out.encoded() == expected[i].encoded(), "cut after input \(cut), input \(i)")
                    checked += 1
                }
            }
        }
        #expect(checked == inputs.count * (inputs.count - 1) / 2)
    }
}
