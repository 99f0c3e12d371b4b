import Testing
import OpsModel
@testable import PositionCore

/// Buys 100 SPY shares at $500.00 (no commission) and returns the position.
func openStock(_ h: inout Harness, at t: Timestamp, strategy: TradeStrategy = .dayTrade, quantity: Int = 100,
               clientOrderId: String = "stock-1", fillId: String? = nil) throws -> OpenPosition {
    try h.feed(Input.fill(at: t, clientOrderId: clientOrderId, symbol: "SPY", quantity: quantity, priceCents: 50_000, commissionCents: 0,
                          feesCents: 0, strategy: strategy, assetClass: .equity, fillId: fillId))
    return try #require(h.core.position(PositionManagerCore.positionId(entryClientOrderId: clientOrderId)))
}

@Suite("position-manager: stock positions (stock fallback)")
struct StockPositions {
    @Test("an equity entry fill opens a stock position: no expiration, marked from bar closes only (published every 5 minutes)")
    func opensAndMarks() throws {
        var h = Harness()
        let t = Input.ny(2024, 3, 12, 10, 0)
        let p = try openStock(&h, at: t)
        let opened = try #require(h.outputs.last?.position)
        #expect(opened.event == .opened && opened.assetClass == .equity && opened.expiration == nil && opened.symbol == "SPY")
        #expect(opened.quantity == 100 && opened.entryPriceCents == 50_000 && opened.entryCostCents == 5_000_000)
        #expect(p.right == nil && p.strike == nil && p.multiplier == 1)
        // Chains and other tickers' bars do not touch it.
        #expect(try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 1), [(K.swing, 1.00, 1.02)])).isEmpty)
        #expect(try h.feed(Input.bar(at: Input.ny(2024, 3, 12, 10, 1), "QQQ", close: 400)).isEmpty)
        var out = try h.feed(Input.bar(at: Input.ny(2024, 3, 12, 10, 2), close: 501.234))
        #expect(out.kinds == [.marked])
        #expect(out.first?.position?.markPriceCents == 50_123 && out.first?.position?.unrealizedPnlCents == 12_300)
        out = try h.feed(Input.bar(at: Input.ny(2024, 3, 12, 10, 3), close: 501.23))
        #expect(out.isEmpty)
        // After the first mark of the day, marks are published on the 5-minute clock only.
        out = try h.feed(Input.bar(at: Input.ny(2024, 3, 12, 10, 4), close: 502))
        #expect(out.isEmpty)
        // Nor do bars move an option position.
        _ = try open(&h, at: Input.ny(2024, 3, 12, 10, 4))
        out = try h.feed(Input.bar(at: Input.ny(2024, 3, 12, 10, 5), close: 501))
        #expect(out.kinds == [.marked] && out.first?.position?.positionId == p.positionId)
    }

    @Test("stop and target on the share price, exact at the threshold", arguments: [
        // close, rule (nil: none)   entry $500.00: stop at $490.00 (−2%), target at $520.00 (+4%)
        (490.01, String?.none), (490.00, "stop_loss"), (519.99, nil), (520.00, "profit_target"),
    ])
    func stopAndTarget(close: Double, rule: String?) throws {
        var h = Harness()
        _ = try openStock(&h, at: Input.ny(2024, 3, 12, 10, 0), strategy: .swingTrade)
        let out = try h.feed(Input.bar(at: Input.ny(2024, 3, 12, 11, 0), close: close))
        #expect(out.positionEvents.last?.exitReason == rule)
        guard let rule else {
            #expect(out.orders.isEmpty)
            return
        }
        let order = try #require(out.orders.first)
        #expect(order.assetClass == .equity && order.symbol == "SPY" && order.underlying == "SPY" && order.side == .sell)
        #expect(order.quantity == 100 && order.limitPriceCents == Cents((close * 100).rounded()))
        let detail = rule == "stop_loss" ? "stop_loss: mark $490.00 ≤ $490.00 (entry $500.00 − 2%)" : "profit_target: mark $520.00 ≥ $520.00 (entry $500.00 + 4%)"
        #expect(order.reason == "\(detail); sell 100 at limit \(Money.dollars(order.limitPriceCents)) (close \(Money.dollars(order.limitPriceCents)))")
    }

    @Test("the stock exit is repriced at each bar over the bar's range, then crosses; the fill closes it with exact P&L")
    func repricedAndClosed() throws {
        var h = Harness()
        let p = try openStock(&h, at: Input.ny(2024, 3, 12, 10, 0))
        let t0 = Input.ny(2024, 3, 12, 11, 0)
        let first = try #require(try h.feed(Input.bar(at: t0, close: 489.00)).orders.first)
        #expect(first.limitPriceCents == 48_900)
        let t1 = Input.ny(2024, 3, 12, 11, 1)
        var out = try h.feed(Input.bar(at: t1, close: 488.50, high: 488.80, low: 488.20))
        let second = try #require(out.orders.first)
        #expect(second.limitPriceCents == 48_830 && second.replacesClientOrderId == first.clientOrderId)
        #expect(second.reason == "stop_loss: reprice step 1/3: close $488.50 − 1 × $0.20 (range $0.60 / 3); sell 100 at limit $488.30 (close $488.50); replaces \(first.clientOrderId)")
        out = try h.feed(Input.bar(at: Input.ny(2024, 3, 12, 11, 2), close: 488.00, high: 488.10, low: 487.90))
        let stepTwo: Cents = 48_800 - 2 * 7   // range $0.20 / 3 → 7¢ a step
        #expect(out.orders.first?.limitPriceCents == stepTwo)
        out = try h.feed(Input.bar(at: Input.ny(2024, 3, 12, 11, 3), close: 487.00))
        let crossing = try #require(out.orders.first)
        #expect(crossing.limitPriceCents == 1 && out.positionEvents.last?.exitStep == 3)
        let closed = try h.feed(Input.exitFill(at: Input.ny(2024, 3, 12, 11, 4), position: p, clientOrderId: crossing.clientOrderId,
                                               priceCents: 48_690, commissionCents: 0, feesCents: 0))
        let e = try #require(closed.first?.position)
        #expect(e.event == .closed && e.exitReason == "stop_loss" && e.exitPriceCents == 48_690 && e.assetClass == .equity)
        #expect(e.realizedPnlCents == (48_690 - 50_000) * 100)
    }

    @Test("a stock day trade leaves before the close; a stock swing trade stays overnight")
    func dayTradeOut() throws {
        var h = Harness()
        let day = try openStock(&h, at: Input.ny(2024, 3, 12, 10, 0))
        let swing = try openStock(&h, at: Input.ny(2024, 3, 12, 10, 0), strategy: .swingTrade, clientOrderId: "stock-2")
        #expect(try h.feed(Input.bar(at: Input.ny(2024, 3, 12, 15, 49), close: 500)).orders.isEmpty)
        let out = try h.feed(Input.bar(at: Input.ny(2024, 3, 12, 15, 50), close: 500))
        #expect(out.orders.map(\.positionId) == [day.positionId])
        #expect(out.orders.first?.reason == "day_trade_close: 15:50 New York ≥ 15:50 (16:00 − 10 min); sell 100 at limit $500.00 (close $500.00)")
        let next = try h.feed(Input.bar(at: Input.ny(2024, 3, 13, 9, 31), close: 500))
        #expect(!next.orders.contains { $0.positionId == swing.positionId })
    }

    @Test("stock entry fills in parts add up; a stock fill whose symbol is not its ticker is refused")
    func partsAndRefusal() throws {
        var h = Harness()
        let t = Input.ny(2024, 3, 12, 10, 0)
        _ = try openStock(&h, at: t, quantity: 60, fillId: "s1")
        try h.feed(Input.fill(at: t.adding(ms: 60_000), clientOrderId: "stock-1", symbol: "SPY", quantity: 40, priceCents: 50_010,
                              commissionCents: 0, feesCents: 0, strategy: .dayTrade, assetClass: .equity, fillId: "s2"))
        let p = try #require(h.core.position(PositionManagerCore.positionId(entryClientOrderId: "stock-1")))
        #expect(p.quantity == 100 && p.entryPriceCents == 50_004 && p.entryCostCents == 60 * 50_000 + 40 * 50_010)
        #expect(throws: MessageError.self) {
            try h.feed(Input.fill(at: t, clientOrderId: "bad", symbol: "SPX", quantity: 1, assetClass: .equity))
        }
        // An option fill claiming the stock position is refused too.
        #expect(throws: MessageError.self) {
            try h.feed(Input.fill(at: t, clientOrderId: "x", symbol: K.swing, side: .sell, intent: .close, positionId: p.positionId))
        }
    }
}
