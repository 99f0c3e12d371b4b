import Testing
import OpsModel
@testable import PositionCore

/// `opsctl halt --flatten`: every open position of the halted account exits at its next quote; a plain halt exits nothing.
@Suite("position-manager: operator halt with flatten")
struct FlattenTests {
    static func control(_ action: OperatorControl.Action, flatten: Bool, at t: Timestamp, account: String = Input.account) -> AnyEnvelope {
        let c = OperatorControl(accountId: account, action: action, reason: "desk says stop", flatten: flatten, requestedBy: "ops@desk")
        return Envelope(id: c.id(at: t), eventTime: t, causationId: nil, source: "opsctl", payload: c).erased()
    }

    @Test func aFlattenHaltExitsEveryOpenPositionAtItsNextQuote() throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        // A plain halt, or another account's flatten, leaves the position alone.
        try h.feed(Self.control(.halt, flatten: false, at: Input.ny(2024, 3, 12, 10, 1)))
        try h.feed(Self.control(.halt, flatten: true, at: Input.ny(2024, 3, 12, 10, 1), account: "other"))
        var out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, 2.50, 2.52)]))
        #expect(!out.contains { $0.topic == Topics.orders })
        try h.feed(Self.control(.halt, flatten: true, at: Input.ny(2024, 3, 12, 10, 6)))
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 10), [(K.swing, 2.50, 2.52)]))
        let order = try #require(out.compactMap { $0.envelope.payload as? OrderCommand }.first)
        #expect(order.positionId == p.positionId && order.side == .sell && order.intent == .close && order.quantity == p.quantity)
        let requested = try #require(out.compactMap { $0.envelope.payload as? PositionEvent }.first { $0.event == .exitRequested })
        #expect(requested.exitReason == "halt_flatten")
    }

    @Test func aResumeBeforeTheQuoteCancelsTheFlatten() throws {
        var h = Harness()
        _ = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        try h.feed(Self.control(.halt, flatten: true, at: Input.ny(2024, 3, 12, 10, 1)))
        try h.feed(Self.control(.resume, flatten: false, at: Input.ny(2024, 3, 12, 10, 2)))
        let out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, 2.50, 2.52)]))
        #expect(!out.contains { $0.topic == Topics.orders })
        #expect(h.core.restoreStart(topic: Topics.control, after: Input.ny(2024, 3, 12, 10, 5)) == .distantPast)
    }
}
