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
}
