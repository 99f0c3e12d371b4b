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

    /// The consumer side: with no order out, fills and order events can only answer an order made later (a decision,
    /// or an exit this core sends at a bar or a chain), so the core need not wait on the broker while it only holds.
    @Test func nothingOrderedVouchesForTheBrokersTopicsUntilAnOrderOrTheExpiry() throws {
        #expect(Harness().core.quietInputs == nil, "off by default: Alpaca's reconciliation reports fills nobody here decided")
        var h = Harness()
        h.core = PositionManagerCore(params: Harness.phaseOne, lookahead: true)
        let idle = try #require(h.core.quietInputs)
        #expect(idle.enders[Topics.orderEvents] == [Topics.decisions: 0, Topics.bars: 0, Topics.chains: 0])
        #expect(idle.enders[Topics.fills] == [Topics.decisions: 1, Topics.bars: 1, Topics.chains: 1])
        #expect(idle.until == nil)

        let symbol = "SPY240419C00500000"
        try h.feed(Input.decision(at: Input.ny(2024, 3, 6, 11, 0), clientOrderId: "e1", symbol: symbol))
        #expect(h.core.quietInputs == nil, "an entry order is out")
        try h.feed(Input.fill(at: Input.ny(2024, 3, 6, 11, 1), clientOrderId: "e1", symbol: symbol, priceCents: 250))
        #expect(h.core.quietInputs == nil, "filled, but the order's own answer is still to come")
        try h.feed(Input.entryEvent(at: Input.ny(2024, 3, 6, 11, 1), .filled, clientOrderId: "e1", symbol: symbol, quantity: 2, filled: 2))
        let holding = try #require(h.core.quietInputs, "held with no order out: nothing comes from the broker until an order")
        #expect(holding.until == MarketCalendar.close(of: CivilDate(year: 2024, month: 4, day: 19)),
                "the broker settles an option at its expiry close without an order")

        let out = try h.feed(Input.marks(at: Input.ny(2024, 3, 6, 11, 5), [(symbol, 100)]))
        #expect(out.orders.count == 1, "the stop sells")
        #expect(h.core.quietInputs == nil, "an exit order is out")
        let p = try #require(h.core.openPositions.first)
        let exitId = try #require(out.orders.first?.clientOrderId)
        try h.feed(Input.orderEvent(at: Input.ny(2024, 3, 6, 11, 5), .accepted, clientOrderId: exitId, position: p))
        #expect(h.core.quietInputs == nil, "worked at the broker")
        try h.feed(Input.orderEvent(at: Input.ny(2024, 3, 6, 15, 59), .cancelled, clientOrderId: exitId, position: p))
        #expect(h.core.quietInputs != nil, "answered: nothing out again")
    }
}
