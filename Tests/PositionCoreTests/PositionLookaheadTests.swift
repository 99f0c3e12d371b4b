import Testing
import OpsModel
@testable import PositionCore

/// The position-manager's lookahead (issue 9): with nothing held and no entry order out, only a decision (whose fill
/// comes strictly after it) can lead to output.
@Suite("Position-manager lookahead")
struct PositionLookaheadTests {
    @Test func nothingHeldPromisesPastQuotesUntilADecisionAndOnlyWhenEnabled() throws {
        #expect(Harness().core.lookahead == nil, "off by default: Alpaca's reconciliation reports fills nobody here decided")
        var h = Harness()
        h.core = PositionManagerCore(params: Harness.phaseOne, lookahead: true)
        let idle = try #require(h.core.lookahead)
        for topic in [Topics.positions, Topics.orders, Topics.greeks] { #expect(idle.causes[topic] == [Topics.decisions: 1]) }

        let symbol = "SPY240419C00500000"
        try h.feed(Input.decision(at: Input.ny(2024, 3, 6, 10, 0), clientOrderId: "e1", symbol: symbol))
        #expect(h.core.lookahead == nil, "an entry order is out: its fill may come with any quote")
        try h.feed(Input.entryEvent(at: Input.ny(2024, 3, 6, 10, 0), .accepted, clientOrderId: "e1", symbol: symbol, quantity: 2, filled: 0))
        #expect(h.core.lookahead == nil)
        try h.feed(Input.entryEvent(at: Input.ny(2024, 3, 6, 10, 30), .cancelled, clientOrderId: "e1", symbol: symbol, quantity: 2, filled: 0))
        #expect(h.core.lookahead != nil, "answered without a fill: nothing held again")

        try h.feed(Input.decision(at: Input.ny(2024, 3, 6, 11, 0), clientOrderId: "e2", symbol: symbol))
        try h.feed(Input.fill(at: Input.ny(2024, 3, 6, 11, 1), clientOrderId: "e2", symbol: symbol))
        try h.feed(Input.entryEvent(at: Input.ny(2024, 3, 6, 11, 1), .filled, clientOrderId: "e2", symbol: symbol, quantity: 2, filled: 2))
        #expect(h.core.lookahead == nil, "a position is held: every quote may exit it")
    }

    /// The consumer side: fills and order events answer orders — the entries decided, the exits sent here — so
    /// nothing comes on them before the earliest order out, nor, with none out, before an order made later (a decision,
    /// or an exit this core sends at a bar or a chain); an option held settles at its expiry close without an order.
    @Test func theBrokersTopicsAreVouchedForUpToTheEarliestOrderOut() throws {
        #expect(Harness().core.quietInputs == nil, "off by default: Alpaca's reconciliation reports fills nobody here decided")
        var h = Harness()
        h.core = PositionManagerCore(params: Harness.phaseOne, lookahead: true)
        let idle = try #require(h.core.quietInputs)
        #expect(idle.enders[Topics.orderEvents] == [Topics.decisions: 0, Topics.bars: 0, Topics.chains: 0])
        #expect(idle.enders[Topics.fills] == [Topics.decisions: 1, Topics.bars: 1, Topics.chains: 1])
        #expect(idle.until.isEmpty)
        func until() -> Timestamp? {
            let u = h.core.quietInputs?.until ?? [:]
            #expect(u[Topics.fills] == u[Topics.orderEvents] && u[Topics.decisions] == nil)
            return u[Topics.fills]
        }

        let symbol = "SPY240419C00500000"
        try h.feed(Input.decision(at: Input.ny(2024, 3, 6, 11, 0), clientOrderId: "e1", symbol: symbol))
        #expect(until() == Input.ny(2024, 3, 6, 11, 0), "an entry order is out")
        try h.feed(Input.fill(at: Input.ny(2024, 3, 6, 11, 1), clientOrderId: "e1", symbol: symbol, priceCents: 250))
        #expect(until() == Input.ny(2024, 3, 6, 11, 0), "filled, but the order's own answer is still to come")
        try h.feed(Input.entryEvent(at: Input.ny(2024, 3, 6, 11, 1), .filled, clientOrderId: "e1", symbol: symbol, quantity: 2, filled: 2))
        let expiry = MarketCalendar.close(of: CivilDate(year: 2024, month: 4, day: 19))
        #expect(until() == expiry, "held with nothing out: only the expiry settlement comes without an order")

        let out = try h.feed(Input.marks(at: Input.ny(2024, 3, 6, 11, 5), [(symbol, 100)]))
        #expect(out.orders.count == 1, "the stop sells")
        #expect(until() == Input.ny(2024, 3, 6, 11, 5), "an exit order is out")
        let p = try #require(h.core.openPositions.first)
        let exitId = try #require(out.orders.first?.clientOrderId)
        try h.feed(Input.orderEvent(at: Input.ny(2024, 3, 6, 11, 5), .accepted, clientOrderId: exitId, position: p))
        #expect(until() == Input.ny(2024, 3, 6, 11, 5), "worked at the broker")
        try h.feed(Input.orderEvent(at: Input.ny(2024, 3, 6, 15, 59), .cancelled, clientOrderId: exitId, position: p))
        #expect(until() == expiry, "answered: nothing out again")
    }

    /// Decisions are vouched for while no chain can bring one: no roll waiting for its opening leg (the dispatcher
    /// decides it at the first chain of the underlying after the request, that day) and no position with an add pending.
    @Test func decisionsAreQuietUntilARollOrAnAddCanBeDecidedAtAChain() throws {
        var h = Harness(params: PhaseThree.params())
        h.core = PositionManagerCore(params: PhaseThree.params(), lookahead: true)
        #expect(h.core.quietInputs?.enders[Topics.decisions] == [Topics.signals: 0, Topics.fills: 1, Topics.bars: 1, Topics.chains: 1])
        let p = try open(&h, at: Input.ny(2024, 4, 5, 9, 45))
        #expect(h.core.quietInputs?.enders[Topics.decisions] != nil, "held, no add pending, no roll")
        try h.feed(Input.signal(at: Input.ny(2024, 4, 5, 10, 20)))
        let t = Input.ny(2024, 4, 5, 10, 30)
        let out = try h.feed(Input.marks(at: t, [(K.swing, 260)]))
        let order = try #require(out.orders.first)
        #expect(order.rollId != nil)
        #expect(h.core.quietInputs?.enders[Topics.decisions] == nil, "a roll requested: its opening leg comes at the next SPY chain")
        try h.feed(Input.orderEvent(at: t, .accepted, clientOrderId: order.clientOrderId, position: p))
        try h.feed(Input.exitFill(at: Input.ny(2024, 4, 5, 10, 31), position: p, clientOrderId: order.clientOrderId, priceCents: 259))
        try h.feed(Input.orderEvent(at: Input.ny(2024, 4, 5, 10, 31), .filled, clientOrderId: order.clientOrderId, position: p))
        #expect(h.core.quietInputs?.enders[Topics.decisions] == nil, "closed, but the leg is still to be decided")
        try h.feed(Input.marks(at: Input.ny(2024, 4, 5, 10, 35), underlying: "QQQ", [("QQQ240412C00440000", 300)]))
        #expect(h.core.quietInputs?.enders[Topics.decisions] == nil, "another underlying's chain decides no SPY leg")
        try h.feed(Input.marks(at: Input.ny(2024, 4, 5, 10, 35), [(K.swing, 260)]))
        #expect(h.core.quietInputs?.enders[Topics.decisions] != nil, "the dispatcher decided the leg (or not) at that chain")

        try h.feed(Input.decision(at: Input.ny(2024, 4, 5, 11, 0), clientOrderId: "add-me", symbol: K.swing, quantity: 2, sizedContracts: 4))
        try h.feed(Input.fill(at: Input.ny(2024, 4, 5, 11, 1), clientOrderId: "add-me", symbol: K.swing))
        #expect(h.core.quietInputs?.enders[Topics.decisions] == nil, "two more contracts pending: a chain may decide the add")
    }
}
