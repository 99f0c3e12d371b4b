import Testing
import OpsModel
@testable import PositionCore

@Suite("position-manager: partial exits (seed 000 #20)")
struct PartialExitTests {
    /// `fraction` of the held contracts, half up, at least one sold and at least one kept; one contract: nil.
    static let expected: [Double: [Int?]] = [
        0.5: [nil, 1, 2, 2, 3, 3, 4, 4, 5, 5],
        0.75: [nil, 1, 2, 3, 4, 5, 5, 6, 7, 8],
    ]

    @Test("PartialExit.quantity for 1…10 held", arguments: [0.5, 0.75], 1...10)
    func quantities(fraction: Double, held: Int) throws {
        let q = PartialExit.quantity(held: held, fraction: fraction)
        #expect(q == Self.expected[fraction]![held - 1])
        if held == 1 {
            #expect(q == nil)
        } else {
            let sold = try #require(q)
            #expect(sold >= 1 && held - sold >= 1)
        }
    }

    /// 4 contracts at $2.50 (commission $1.30 and fees $0.06 on each fill), to the partial exit's sale of 2 at $3.75.
    static func partial(_ h: inout Harness, params: TradingParams = TradingParams()) throws -> OpenPosition {
        h = Harness(params: params)
        try h.feed(Input.fill(at: Input.ny(2024, 3, 12, 10, 0), clientOrderId: "entry-1", symbol: K.swing, quantity: 4))
        let p = try #require(h.core.position(PhaseThree.pid))
        let t = Input.ny(2024, 3, 12, 10, 30)
        let out = try h.feed(Input.marks(at: t, [(K.swing, 375)]))
        #expect(out.kinds == [.marked, .exitRequested])
        let order = try #require(out.orders.first)
        #expect(out.orders.count == 1 && order.quantity == 2 && order.limitPriceCents == 374)
        #expect(order.reason == "partial_exit: mark $3.75 ≥ $3.75 (entry $2.50 + 50%); sell 2 of 4 (50%), the rest's stop to breakeven, trailing; sell 2 at limit $3.74 (bid $3.74)")
        #expect(out.positionEvents.last?.exitReason == "partial_exit")
        try h.feed(Input.orderEvent(at: t, .accepted, clientOrderId: order.clientOrderId, position: p))
        let fillAt = Input.ny(2024, 3, 12, 10, 31)
        let sold = try h.feed(Input.exitFill(at: fillAt, position: p, clientOrderId: order.clientOrderId, quantity: 2, priceCents: 375))
        #expect(sold.kinds == [.marked])
        let e = try #require(sold.positionEvents.first)
        #expect(e.exitReason == "partial_exit" && e.remainingQuantity == 2 && e.quantity == 4 && e.markPriceCents == 375)
        #expect(e.stopCents == 250 && e.targetCents == nil && e.stopBasis == "premium" && e.highWaterCents == 375)
        #expect(e.detail == "partial_exit: sold 2 of 4; 2 left with the stop at breakeven $2.50, trailing")
        #expect(sold.first?.envelope.id == DeterministicID.make("position-event", p.positionId, "partial",
                                                               DeterministicID.make("fill", order.clientOrderId, fillAt.iso8601)))
        let after = try #require(h.core.position(PhaseThree.pid))
        #expect(after.partialTaken && after.remainingQuantity == 2 && after.exitOrdersAtBroker == [order.clientOrderId])
        try h.feed(Input.orderEvent(at: fillAt, .filled, clientOrderId: order.clientOrderId, position: after))
        let done = try #require(h.core.position(PhaseThree.pid))
        #expect(done.exitOrdersAtBroker.isEmpty)
        return done
    }

    @Test("4 contracts at +50 %: 2 sold, a marked partial_exit event, the rest open with the stop at breakeven")
    func partialSale() throws {
        var h = Harness()
        _ = try Self.partial(&h)
        // The target does not fire again, however high the mark goes.
        let out = try h.feed(Input.marks(at: Input.ny(2024, 3, 12, 11, 0), [(K.swing, 500)]))
        #expect(PhaseThree.exitRule(out) == nil)
        #expect(out.positionEvents.first?.remainingQuantity == 2 && out.positionEvents.first?.stopCents == 250)
    }

    /// With the trail on, its level after a high of $3.75 is $3.00, above breakeven: the breakeven stop names the
    /// exit only when the mark falls to the entry at once (it is evaluated first).
    @Test("after the partial exit the rest exits at breakeven: mark ≤ entry",
          arguments: [(false, 251, nil), (false, 250, "breakeven_stop"), (false, 200, "breakeven_stop"),
                      (true, 301, nil), (true, 251, "trailing_stop"), (true, 250, "breakeven_stop")] as [(Bool, Cents, String?)])
    func breakeven(trailing: Bool, mark: Cents, expected: String?) throws {
        var params = TradingParams()
        params.exits.trailingStop = trailing
        var h = Harness()
        _ = try Self.partial(&h, params: params)
        // Also the next day: partialTaken is position state, not day state.
        let out = try h.feed(Input.marks(at: Input.ny(2024, 3, 13, 10, 0), [(K.swing, mark)]))
        #expect(PhaseThree.exitRule(out) == expected)
        if expected == "breakeven_stop" {
            #expect(out.orders.first?.quantity == 2)
            #expect(out.orders.first?.reason.hasPrefix("breakeven_stop: mark \(Money.dollars(mark)) ≤ entry $2.50 after the partial exit") == true)
        }
    }

    @Test("after the partial exit the rest trails its high by 20 %; the close's P&L counts both sales exactly")
    func trailAfterPartial() throws {
        var h = Harness()
        let p = try Self.partial(&h)
        // High 400; the trail is at ⌊400 × 0.8⌋ = 320.
        #expect(PhaseThree.exitRule(try h.feed(Input.marks(at: Input.ny(2024, 3, 12, 11, 0), [(K.swing, 400)]))) == nil)
        #expect(PhaseThree.exitRule(try h.feed(Input.marks(at: Input.ny(2024, 3, 12, 11, 5), [(K.swing, 321)]))) == nil)
        let t = Input.ny(2024, 3, 12, 11, 10)
        let out = try h.feed(Input.marks(at: t, [(K.swing, 320)]))
        #expect(PhaseThree.exitRule(out) == "trailing_stop")
        let order = try #require(out.orders.first)
        #expect(order.quantity == 2)
        #expect(order.reason.hasPrefix("trailing_stop: mark $3.20 ≤ $3.20 (high $4.00 − 20%; after the partial exit)"))
        let closed = try h.feed(Input.exitFill(at: Input.ny(2024, 3, 12, 11, 11), position: p, clientOrderId: order.clientOrderId,
                                               quantity: 2, priceCents: 319))
        let e = try #require(closed.positionEvents.first)
        #expect(closed.kinds == [.closed] && e.exitReason == "trailing_stop")
        let entryCost: Cents = 250 * 400 + 136
        let proceeds: Cents = (375 * 200 - 136) + (319 * 200 - 136)
        #expect(e.realizedPnlCents == proceeds - entryCost)
        #expect(e.realizedPnlCents == 38_392)
        #expect(e.exitPriceCents == 347)   // (75,000 + 63,800) / 400 = 347.0
        #expect(e.quantity == 4 && e.remainingQuantity == 0)
        #expect(h.core.openPositions.isEmpty)
    }

    @Test("the trail after a partial exit applies even when the high never reached the activation level")
    func trailArmedByPartial() throws {
        // Activation at +60 % (above the +50 % target): only the partial exit arms the trail.
        var params = TradingParams()
        params.exits.trailActivationPct = 0.60
        var h = Harness(params: params)
        try h.feed(Input.fill(at: Input.ny(2024, 3, 12, 10, 0), clientOrderId: "entry-1", symbol: K.swing, quantity: 4))
        let p = try #require(h.core.position(PhaseThree.pid))
        let t = Input.ny(2024, 3, 12, 10, 30)
        let order = try #require(try h.feed(Input.marks(at: t, [(K.swing, 380)])).orders.first)
        #expect(order.quantity == 2)
        try h.feed(Input.exitFill(at: Input.ny(2024, 3, 12, 10, 31), position: p, clientOrderId: order.clientOrderId, quantity: 2, priceCents: 379))
        // ⌊380 × 0.8⌋ = 304; 380 < ⌈250 × 1.6⌉ = 400.
        #expect(PhaseThree.exitRule(try h.feed(Input.marks(at: Input.ny(2024, 3, 12, 10, 40), [(K.swing, 305)]))) == nil)
        #expect(PhaseThree.exitRule(try h.feed(Input.marks(at: Input.ny(2024, 3, 12, 10, 45), [(K.swing, 304)]))) == "trailing_stop")
    }

    @Test("a 1-contract position exits whole at the target, as profit_target", arguments: [0.5, 0.75])
    func oneContract(fraction: Double) throws {
        var params = TradingParams()
        params.exits.partialFraction = fraction
        var h = Harness()
        let out = try PhaseThree.run(params, quantity: 1, marks: [374, 375], harness: &h)
        #expect(PhaseThree.exitRule(out[0]) == nil)
        #expect(PhaseThree.exitRule(out[1]) == "profit_target")
        #expect(out[1].orders.first?.quantity == 1)
        #expect(out[1].orders.first?.reason.hasPrefix("profit_target: mark $3.75 ≥ $3.75 (entry $2.50 + 50%); 1 held: exits whole") == true)
    }

    @Test("partial_fraction 0.75 of 4 sells 3 and keeps 1")
    func threeQuarters() throws {
        var params = TradingParams()
        params.exits.partialFraction = 0.75
        var h = Harness()
        let out = try PhaseThree.run(params, quantity: 4, marks: [375], harness: &h)
        #expect(PhaseThree.exitRule(out[0]) == "partial_exit")
        #expect(out[0].orders.first?.quantity == 3)
        #expect(out[0].orders.first?.reason.contains("sell 3 of 4 (75%)") == true)
    }

    @Test("a partial exit sold in two fills: each fill is reported, the work ends once its quantity is sold")
    func partialInTwoFills() throws {
        var h = Harness(params: TradingParams())
        try h.feed(Input.fill(at: Input.ny(2024, 3, 12, 10, 0), clientOrderId: "entry-1", symbol: K.swing, quantity: 6))
        let p = try #require(h.core.position(PhaseThree.pid))
        let order = try #require(try h.feed(Input.marks(at: Input.ny(2024, 3, 12, 10, 30), [(K.swing, 375)])).orders.first)
        #expect(order.quantity == 3)
        let first = try h.feed(Input.exitFill(at: Input.ny(2024, 3, 12, 10, 31), position: p, clientOrderId: order.clientOrderId,
                                              quantity: 1, priceCents: 375))
        #expect(first.positionEvents.first?.remainingQuantity == 5 && first.positionEvents.first?.exitReason == "partial_exit")
        #expect(h.core.position(PhaseThree.pid)?.exitWork != nil)
        let second = try h.feed(Input.exitFill(at: Input.ny(2024, 3, 12, 10, 32), position: p, clientOrderId: order.clientOrderId,
                                               quantity: 2, priceCents: 376))
        #expect(second.positionEvents.first?.remainingQuantity == 3)
        let after = try #require(h.core.position(PhaseThree.pid))
        #expect(after.exitWork == nil && after.partialTaken && after.remainingQuantity == 3)
    }
}
