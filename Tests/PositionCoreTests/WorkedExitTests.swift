import Testing
import OpsModel
@testable import PositionCore

@Suite("position-manager: exits are worked")
struct WorkedExits {
    @Test("step k of N: bid − k × ⌈spread / N⌉ rounded down to a valid tick; from step N one tick", arguments: [
        // step, steps, reference ¢, spread ¢, underlying, asset class, limit ¢
        (0, 3, Cents(149), Cents(2), "SPY", AssetClass.option, Cents(149)),
        (1, 3, 140, 6, "SPY", .option, 138),
        (2, 3, 130, 7, "SPY", .option, 124),      // ⌈7 / 3⌉ = 3
        (3, 3, 120, 5, "SPY", .option, 1),        // crossing: one tick
        (7, 3, 120, 5, "SPY", .option, 1),
        (2, 3, 130, 0, "SPY", .option, 130),      // no spread: the bid until step N
        (1, 3, 2, 9, "SPY", .option, 1),          // would go below zero: marketable
        (1, 1, 250, 4, "SPY", .option, 1),        // one step: the first reprice crosses
        (0, 3, 307, 10, "XYZ", .option, 300),     // dimes from $3 for a non-penny class
        (1, 3, 315, 30, "XYZ", .option, 300),     // 305 → the dime grid
        (2, 3, 315, 30, "XYZ", .option, 295),     // 295 on the nickel grid below $3
        (3, 3, 310, 31, "XYZ", .option, 5),       // one tick of a nickel class
        (1, 3, 320, 6, "AAPL", .option, 315),     // penny program: nickels from $3
        (2, 3, 310, 31, "AAPL", .option, 288),    // pennies below $3
        (3, 3, 310, 31, "AAPL", .option, 1),
        (0, 3, 48_900, 60, "SPY", .equity, 48_900),
        (1, 3, 48_850, 60, "SPY", .equity, 48_830),
        (2, 3, 48_850, 61, "SPY", .equity, 48_808),
        (3, 3, 48_850, 61, "SPY", .equity, 1),
    ])
    func limitTable(step: Int, steps: Int, reference: Cents, spread: Cents, underlying: String, assetClass: AssetClass, limit: Cents) {
        let ticks = TradingParams.ExecutionParams().ticks
        let quote = ExitQuote(referenceCents: reference, spreadCents: spread, label: "bid")
        let got = ExitPricing.limitCents(step: step, steps: steps, quote: quote, underlying: underlying, assetClass: assetClass, ticks: ticks)
        #expect(got == limit)
        #expect(assetClass == .equity || ticks.isValid(got, underlying: underlying))
    }

    @Test("a stop falling away is repriced at every chain, each order replacing the last, and crosses at step N")
    func repriceSequence() throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        // (time, bid, ask, expected limit, expected step); the last chain would repeat the one-tick order: none sent.
        let steps: [(Timestamp, Double, Double, Cents?, Int?)] = [
            (Input.ny(2024, 3, 12, 10, 5), 1.49, 1.51, 149, 0),
            (Input.ny(2024, 3, 12, 10, 10), 1.40, 1.46, 138, 1),
            (Input.ny(2024, 3, 12, 10, 15), 1.30, 1.37, 124, 2),
            (Input.ny(2024, 3, 12, 10, 20), 1.20, 1.25, 1, 3),
            (Input.ny(2024, 3, 12, 10, 25), 1.10, 1.15, nil, nil),
        ]
        var previous: String? = nil
        for (t, bid, ask, limit, step) in steps {
            let out = try h.feed(Input.chain(at: t, [(K.swing, bid, ask)]))
            #expect(out.kinds.first == .marked)
            guard let limit, let step else {
                #expect(out.orders.isEmpty && out.kinds == [.marked])
                continue
            }
            let order = try #require(out.orders.first)
            #expect(out.orders.count == 1)
            #expect(order.limitPriceCents == limit && order.quantity == 2 && order.side == .sell && order.intent == .close)
            #expect(order.clientOrderId == PositionManagerCore.exitClientOrderId(positionId: p.positionId, at: t))
            #expect(order.replacesClientOrderId == previous)
            let e = try #require(out.positionEvents.last)
            #expect(e.event == .exitRequested && e.exitStep == step && e.exitReason == "stop_loss" && e.detail == order.reason)
            if step > 0 { try h.feed(Input.orderEvent(at: t, .cancelled, clientOrderId: try #require(previous), position: p)) }
            try h.feed(Input.orderEvent(at: t, .accepted, clientOrderId: order.clientOrderId, position: p))
            previous = order.clientOrderId
        }
        let reasons = h.outputs.orders.map(\.reason)
        #expect(reasons[1] == "stop_loss: reprice step 1/3: bid $1.40 − 1 × $0.02 (spread $0.06 / 3); sell 2 at limit $1.38 (bid $1.40); replaces \(h.outputs.orders[0].clientOrderId)")
        #expect(reasons[3] == "stop_loss: reprice step 3/3: marketable; sell 2 at limit $0.01 (bid $1.20); replaces \(h.outputs.orders[2].clientOrderId)")
        // Only the last order is working: the broker's cancels of the replaced ones removed them.
        #expect(h.core.position(p.positionId)?.exitOrdersAtBroker == [previous!])
        // Filled: closed with the rule that started the work.
        let closed = try h.feed(Input.exitFill(at: Input.ny(2024, 3, 12, 10, 26), position: p, clientOrderId: previous, priceCents: 110))
        #expect(closed.first?.position?.exitReason == "stop_loss")
        #expect(closed.first?.position?.realizedPnlCents == 110 * 200 - 136 - 50_136)
    }

    @Test("the cancel of a replaced order ends nothing; a fill of it (a race) still closes with the rule")
    func replacedOrderRaces() throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        let t0 = Input.ny(2024, 3, 12, 10, 5), t1 = Input.ny(2024, 3, 12, 10, 10)
        let first = try #require(try h.feed(Input.chain(at: t0, [(K.swing, 1.49, 1.51)])).orders.first)
        try h.feed(Input.orderEvent(at: t0, .accepted, clientOrderId: first.clientOrderId, position: p))
        let second = try #require(try h.feed(Input.chain(at: t1, [(K.swing, 1.45, 1.51)])).orders.first)
        #expect(second.replacesClientOrderId == first.clientOrderId && second.limitPriceCents == 143)
        try h.feed(Input.orderEvent(at: t1, .cancelled, clientOrderId: first.clientOrderId, position: p))
        #expect(h.core.position(p.positionId)?.exitWork?.order?.clientOrderId == second.clientOrderId)
        let closed = try h.feed(Input.exitFill(at: t1.adding(ms: 1), position: p, clientOrderId: first.clientOrderId, priceCents: 149))
        #expect(closed.first?.position?.exitReason == "stop_loss")
        // The replacement's rejection after the close changes nothing.
        #expect(try h.feed(Input.orderEvent(at: t1.adding(ms: 2), .rejected, clientOrderId: second.clientOrderId, position: p)).isEmpty)
    }

    @Test("a reprice equal to the working order is not sent, but the step counts; after a partial fill the rest is repriced")
    func unchangedAndPartial() throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        var out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, 1.49, 1.49)]))   // no spread
        let first = try #require(out.orders.first)
        #expect(first.limitPriceCents == 149)
        for m in [10, 15] {
            out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, m), [(K.swing, 1.49, 1.49)]))
            #expect(out.isEmpty)
        }
        #expect(h.core.position(p.positionId)?.exitWork?.step == 2)
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 20), [(K.swing, 1.49, 1.49)]))
        let crossing = try #require(out.orders.first)
        #expect(crossing.limitPriceCents == 1 && crossing.replacesClientOrderId == first.clientOrderId && out.positionEvents.last?.exitStep == 3)
        // One of two fills; the order is still working (partially filled).
        try h.feed(Input.exitFill(at: Input.ny(2024, 3, 12, 10, 21), position: p, clientOrderId: crossing.clientOrderId, quantity: 1, priceCents: 149))
        try h.feed(Input.orderEvent(at: Input.ny(2024, 3, 12, 10, 21), .partiallyFilled, clientOrderId: crossing.clientOrderId, position: p, filled: 1))
        #expect(h.core.position(p.positionId)?.exitOrdersAtBroker == [crossing.clientOrderId])
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 25), [(K.swing, 1.49, 1.49)]))
        let rest = try #require(out.orders.first)
        #expect(rest.quantity == 1 && rest.limitPriceCents == 1 && rest.replacesClientOrderId == crossing.clientOrderId)
        #expect(out.positionEvents.last?.exitStep == 4)
    }

    @Test("a quote without a bid does not step the walk")
    func noBidNoStep() throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 12, 10, 0))
        try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 5), [(K.swing, 1.49, 1.51)]))
        var out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 10), [(K.swing, 0, 0.20)]))
        #expect(out.kinds == [.marked] && out.orders.isEmpty)
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 15), [("SPY240412C00515000", 1, 1.1)]))
        #expect(out.isEmpty)
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 20), [(K.swing, 0.50, 0.56)]))
        #expect(out.orders.first?.limitPriceCents == 48 && out.positionEvents.last?.exitStep == 1)
        #expect(h.core.position(p.positionId)?.exitWork?.clientOrderIds.count == 2)
    }
}

@Suite("position-manager: partial entry fills")
struct PartialEntryFills {
    @Test("fills of one entry order add up; the entry's partially_filled and cancelled events change nothing")
    func entryInParts() throws {
        var h = Harness()
        let t = Input.ny(2024, 3, 12, 10, 0)
        let pid = PositionManagerCore.positionId(entryClientOrderId: "entry-1")
        var out = try h.feed(Input.fill(at: t, clientOrderId: "entry-1", symbol: K.swing, quantity: 1, priceCents: 250,
                                        commissionCents: 65, feesCents: 3, fillId: "f1"))
        #expect(out.kinds == [.opened] && out.first?.position?.quantity == 1)
        #expect(try h.feed(Input.entryEvent(at: t, .partiallyFilled, clientOrderId: "entry-1", symbol: K.swing, quantity: 3, filled: 1)).isEmpty)
        out = try h.feed(Input.fill(at: t.adding(ms: 60_000), clientOrderId: "entry-1", symbol: K.swing, quantity: 1, priceCents: 252,
                                    commissionCents: 65, feesCents: 3, fillId: "f2"))
        #expect(out.first?.envelope.id == DeterministicID.make("position-event", pid, "opened", "f2"))
        #expect(out.first?.position?.quantity == 2 && out.first?.position?.entryPriceCents == 251)
        // The rest expires unfilled: the position keeps what filled.
        #expect(try h.feed(Input.entryEvent(at: t.adding(ms: 300_000), .cancelled, clientOrderId: "entry-1", symbol: K.swing, quantity: 3, filled: 2)).isEmpty)
        let p = try #require(h.core.position(pid))
        #expect(p.quantity == 2 && p.entryCostCents == 25_000 + 25_200 + 136)
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 10), [(K.swing, 1.49, 1.51)]))
        #expect(out.orders.first?.quantity == 2)
    }

    @Test("an entry fill after the exit started: the exit filled in full, the work goes on with a fresh order for the rest")
    func entryGrowsDuringExit() throws {
        var h = Harness()
        let t = Input.ny(2024, 3, 12, 10, 0)
        try h.feed(Input.fill(at: t, clientOrderId: "entry-1", symbol: K.swing, quantity: 1, priceCents: 250, fillId: "f1"))
        let pid = PositionManagerCore.positionId(entryClientOrderId: "entry-1")
        let t1 = Input.ny(2024, 3, 12, 10, 5)
        let exit = try #require(try h.feed(Input.chain(at: t1, [(K.swing, 1.49, 1.51)])).orders.first)
        #expect(exit.quantity == 1)
        var p = try #require(h.core.position(pid))
        try h.feed(Input.orderEvent(at: t1, .accepted, clientOrderId: exit.clientOrderId, position: p))
        try h.feed(Input.fill(at: t1.adding(ms: 30_000), clientOrderId: "entry-1", symbol: K.swing, quantity: 1, priceCents: 250, fillId: "f2"))
        p = try #require(h.core.position(pid))
        try h.feed(Input.exitFill(at: t1.adding(ms: 60_000), position: p, clientOrderId: exit.clientOrderId, quantity: 1, priceCents: 149))
        let filled = OrderEvent(accountId: "sim-1", clientOrderId: exit.clientOrderId, status: .filled, symbol: K.swing, side: .sell, quantity: 1,
                                filledQuantity: 1, fillPriceCents: 149, intent: .close, positionId: pid, reason: "filled")
        try h.feed(Envelope(id: "ev-filled", eventTime: t1.adding(ms: 60_000), causationId: nil, source: "broker-gateway", payload: filled).erased())
        #expect(h.core.position(pid)?.remainingQuantity == 1 && h.core.position(pid)?.exitOrdersAtBroker == [])
        let t2 = Input.ny(2024, 3, 12, 10, 10)
        let out = try h.feed(Input.chain(at: t2, [(K.swing, 1.45, 1.51)]))
        let rest = try #require(out.orders.first)
        #expect(rest.quantity == 1 && rest.replacesClientOrderId == nil && rest.limitPriceCents == 145)
        #expect(rest.reason == "stop_loss: first quote with a bid since the request; sell 1 at limit $1.45 (bid $1.45)")
        #expect(out.positionEvents.last?.exitStep == 0)
    }
}
