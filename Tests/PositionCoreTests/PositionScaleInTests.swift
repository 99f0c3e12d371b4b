import Testing
import OpsModel
@testable import PositionCore

/// Seed 000 #19 as the position-manager sees it: the entry's decision names the contracts still to add; the add
/// (a buy to open naming the position) grows the same position.
@Suite("position-manager: scale-in plan and add")
struct PositionScaleInTests {
    static let t0 = Input.ny(2024, 3, 12, 10, 0)

    /// The entry decision (sized 4, ordered 2) and its fill of 2 at $2.50.
    static func scaledIn(_ h: inout Harness) throws -> [Emit] {
        h = Harness(params: TradingParams())
        try h.feed(Input.decision(at: t0.adding(ms: -60_000), clientOrderId: "entry-1", symbol: K.swing, quantity: 2, sizedContracts: 4,
                                  underlyingPrice: 500.25, atr14: 0.4))
        return try h.feed(Input.fill(at: t0, clientOrderId: "entry-1", symbol: K.swing, quantity: 2))
    }

    @Test("the entry's decision sized 4 and ordered 2: the opened event says 2 are pending")
    func pending() throws {
        var h = Harness()
        let out = try Self.scaledIn(&h)
        let e = try #require(out.positionEvents.first)
        #expect(out.kinds == [.opened] && e.quantity == 2 && e.scaleInPending == 2 && e.entryUnderlyingPrice == 500.25)
        let p = try #require(h.core.position(PhaseThree.pid))
        #expect(p.scaleInPending == 2 && p.atr14 == 0.4 && p.entryClientOrderId == "entry-1")
        // The marks carry it too (the dispatcher's trigger reads them).
        let marked = try h.feed(Input.marks(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, 300)]))
        #expect(marked.positionEvents.first?.scaleInPending == 2)
    }

    @Test("no pending add without a decision, or when the decision sized what it ordered", arguments: [nil, 2] as [Int?])
    func nothingPending(sized: Int?) throws {
        var h = Harness(params: TradingParams())
        if let sized {
            try h.feed(Input.decision(at: Self.t0.adding(ms: -60_000), clientOrderId: "entry-1", symbol: K.swing, quantity: 2,
                                      sizedContracts: sized))
        }
        let out = try h.feed(Input.fill(at: Self.t0, clientOrderId: "entry-1", symbol: K.swing, quantity: 2))
        #expect(out.positionEvents.first?.scaleInPending == nil)
        #expect(h.core.position(PhaseThree.pid)?.scaleInPending == 0)
    }

    @Test("the add fill (its own order, naming the position) grows the same position at the weighted entry price")
    func add() throws {
        var h = Harness()
        _ = try Self.scaledIn(&h)
        let t = Input.ny(2024, 3, 12, 11, 0)
        // The add's decision (kind scale_in) plans nothing.
        try h.feed(Input.decision(at: t.adding(ms: -60_000), clientOrderId: "add-1", symbol: K.swing, quantity: 2, limitCents: 301,
                                  kind: "scale_in", positionId: PhaseThree.pid))
        let fill = try Input.fill(at: t, clientOrderId: "add-1", symbol: K.swing, quantity: 2, priceCents: 301, positionId: PhaseThree.pid)
        let out = try h.feed(fill)
        #expect(out.kinds == [.opened])
        #expect(out.first?.envelope.id == DeterministicID.make("position-event", PhaseThree.pid, "opened", fill.id))
        let e = try #require(out.positionEvents.first)
        #expect(e.positionId == PhaseThree.pid && e.quantity == 4)
        #expect(e.entryPriceCents == 276)                                  // (250 × 200 + 301 × 200) / 400 = 275.5, half up
        #expect(e.entryCostCents == (250 * 200 + 136) + (301 * 200 + 136))
        #expect(e.scaleInPending == nil)
        #expect(e.openedAt == Self.t0)
        #expect(h.core.openPositions.count == 1)
        let p = try #require(h.core.position(PhaseThree.pid))
        #expect(p.scaleInPending == 0 && p.quantity == 4 && p.entryClientOrderId == "entry-1")
        // The plan's underlying price and ATR stay the entry's.
        #expect(p.entryUnderlyingPrice == 500.25 && p.atr14 == 0.4)
        // The exits now use the new entry: the stop at ⌊276 × 0.7⌋ = $1.93.
        #expect(e.stopCents == 193)
    }

    @Test("a second fill of the entry order itself keeps the pending add")
    func entryPartialFill() throws {
        var h = Harness(params: TradingParams())
        try h.feed(Input.decision(at: Self.t0.adding(ms: -60_000), clientOrderId: "entry-1", symbol: K.swing, quantity: 2, sizedContracts: 4))
        try h.feed(Input.fill(at: Self.t0, clientOrderId: "entry-1", symbol: K.swing, quantity: 1))
        let out = try h.feed(Input.fill(at: Self.t0.adding(ms: 1_000), clientOrderId: "entry-1", symbol: K.swing, quantity: 1))
        #expect(out.positionEvents.first?.quantity == 2 && out.positionEvents.first?.scaleInPending == 2)
    }

    @Test("an add for a position of another contract is refused")
    func addOtherContract() throws {
        var h = Harness()
        _ = try Self.scaledIn(&h)
        let fill = try Input.fill(at: Input.ny(2024, 3, 12, 11, 0), clientOrderId: "add-1", symbol: "SPY240412C00515000", quantity: 2,
                                  positionId: PhaseThree.pid)
        #expect(throws: MessageError.self) { try h.feed(fill) }
        #expect(h.core.position(PhaseThree.pid)?.quantity == 2 && h.core.position(PhaseThree.pid)?.scaleInPending == 2)
    }

    @Test("a roll's opening leg: the new position's events carry the roll id of its decision")
    func rollOpen() throws {
        var h = Harness(params: TradingParams())
        try h.feed(Input.decision(at: Self.t0.adding(ms: -60_000), clientOrderId: "roll-open-1", symbol: K.swing, kind: "roll",
                                  positionId: "pos-old", rollId: "roll-abc"))
        let out = try h.feed(Input.fill(at: Self.t0, clientOrderId: "roll-open-1", symbol: K.swing))
        let e = try #require(out.positionEvents.first)
        #expect(e.event == .opened && e.rollId == "roll-abc")
        #expect(e.positionId == PositionManagerCore.positionId(entryClientOrderId: "roll-open-1"))
        let marked = try h.feed(Input.marks(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, 260)]))
        #expect(marked.positionEvents.first?.rollId == "roll-abc")
    }
}
