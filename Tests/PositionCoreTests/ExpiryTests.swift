import Testing
import OpsModel
@testable import PositionCore

@Suite("position-manager: expiry settlement")
struct ExpirySettlement {
    static let close = Input.ny(2024, 3, 15, 16, 0)

    @Test("a settlement closes every position on the contract of that account, in position-id order, net of entry costs", arguments: [
        // kind, price ¢, underlying, realized of the 2-lot (cost 50,136), of the 1-lot (cost 30,068)
        (Fill.Settlement.settledItm, Cents(320), 496.80, Cents(320 * 200 - 50_136), Cents(320 * 100 - 30_068)),
        (.expiredWorthless, 0, 503.10, -50_136, -30_068),
    ])
    func settles(kind: Fill.Settlement, price: Cents, underlying: Double, pnl2: Cents, pnl1: Cents) throws {
        var h = Harness()
        let t = Input.ny(2024, 3, 14, 10, 0)
        let a = try open(&h, at: t, symbol: K.march15, clientOrderId: "entry-a")
        try h.feed(Input.fill(at: t, clientOrderId: "entry-b", symbol: K.march15, quantity: 1, priceCents: 300, commissionCents: 65, feesCents: 3))
        let other = try open(&h, at: t, symbol: K.swing, clientOrderId: "entry-other")
        try h.feed(Input.fill(at: t, clientOrderId: "entry-sim2", symbol: K.march15, accountId: "sim-2"))
        let b = try #require(h.core.position(PositionManagerCore.positionId(entryClientOrderId: "entry-b")))

        let out = try h.feed(Input.settlement(at: Self.close, symbol: K.march15, quantity: 3, priceCents: price, kind, underlyingPrice: underlying))
        #expect(out.kinds == [.closed, .closed])
        #expect(out.positionEvents.map(\.positionId) == [a.positionId, b.positionId].sorted())
        let byId = Dictionary(uniqueKeysWithValues: out.positionEvents.map { ($0.positionId, $0) })
        #expect(byId[a.positionId]?.realizedPnlCents == pnl2)
        #expect(byId[b.positionId]?.realizedPnlCents == pnl1)
        for o in out {
            let e = try #require(o.position)
            #expect(e.exitReason == kind.rawValue && e.exitPriceCents == price && e.closedAt == Self.close)
            #expect(o.envelope.id == DeterministicID.make("position-event", e.positionId, "closed"))
        }
        let u = underlying == 496.80 ? "$496.80" : "$503.10"
        #expect(byId[a.positionId]?.detail == "\(kind.rawValue) 2024-03-15: SPY \(u) at the close, put strike $500.00: 2 at \(Money.dollars(price))")
        // Another contract and another account's position on the same contract stay open.
        #expect(Set(h.core.openPositions.map(\.positionId)) == [other.positionId, PositionManagerCore.positionId(entryClientOrderId: "entry-sim2")])
        // Later chains concern only the other account's position.
        let later = try h.feed(Input.chain(at: Input.ny(2024, 3, 18, 9, 35), [(K.march15, 0.01, 0.02)]))
        #expect(Set(later.positionEvents.map(\.accountId)) == ["sim-2"])
    }

    @Test("a partly exited position settles its remaining contracts; costs of the settlement are shared by quantity")
    func partlyExited() throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 14, 10, 0), symbol: K.march15)
        try h.feed(Input.exitFill(at: Input.ny(2024, 3, 15, 11, 0), position: p, clientOrderId: "manual", quantity: 1, priceCents: 300,
                                  commissionCents: 65, feesCents: 3))
        let out = try h.feed(Input.settlement(at: Self.close, symbol: K.march15, quantity: 1, priceCents: 0, .expiredWorthless, underlyingPrice: 505))
        let e = try #require(out.first?.position)
        #expect(e.realizedPnlCents == 30_000 - 68 - 50_136)
        #expect(e.exitPriceCents == 150 && e.quantity == 2)   // 30,000 over 2 contracts
        #expect(PositionManagerCore.share(5, by: [2, 1]) == [4, 1] && PositionManagerCore.share(0, by: [3]) == [0])
    }

    @Test("a settlement for a contract nobody holds, or of a short, is ignored")
    func ignored() throws {
        var h = Harness()
        _ = try open(&h, at: Input.ny(2024, 3, 14, 10, 0), symbol: K.march15)
        #expect(try h.feed(Input.settlement(at: Self.close, symbol: "SPY240315C00500000", quantity: 2, priceCents: 0, .expiredWorthless, underlyingPrice: 490)).isEmpty)
        #expect(try h.feed(Input.settlement(at: Self.close, symbol: K.march15, quantity: 2, priceCents: 0, .expiredWorthless, underlyingPrice: 490,
                                            accountId: "sim-2")).isEmpty)
        #expect(h.core.openPositions.count == 1)
    }

    @Test("expiration without a sell: the rule fires when the contract is missing or has no bid, says so once, sells at a later bid",
          arguments: [false, true])
    func expirationWithoutBid(missing: Bool) throws {
        var h = Harness()
        let p = try open(&h, at: Input.ny(2024, 3, 14, 10, 0), symbol: K.march15)
        let quotes: [(String, Double, Double)] = missing ? [("SPY240315P00505000", 1.0, 1.1)] : [(K.march15, 0, 0.05)]
        #expect(try h.feed(Input.chain(at: Input.ny(2024, 3, 15, 15, 29), quotes)).orders.isEmpty)
        var out = try h.feed(Input.chain(at: Input.ny(2024, 3, 15, 15, 30), quotes))
        #expect(out.orders.isEmpty)
        let e = try #require(out.positionEvents.last)
        #expect(e.event == .exitRequested && e.exitReason == "expiration" && e.exitStep == nil)
        let why = missing ? "not in the chain" : "no bid"
        #expect(e.detail == "expiration: expires 2024-03-15, 15:30 New York ≥ 15:30 (16:00 − 30 min); \(why): no sell can be placed; "
                + "it is placed at the first quote with a bid, and an option still held at its expiration close is settled by the broker")
        #expect(e.markPriceCents == (missing ? nil : 3))
        // Said once.
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 15, 15, 35), quotes))
        #expect(out.kinds.filter { $0 == .exitRequested }.isEmpty && out.orders.isEmpty)
        // A bid appears: the sell goes out at step 0.
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 15, 15, 40), [(K.march15, 0.10, 0.15)]))
        let order = try #require(out.orders.first)
        #expect(order.reason == "expiration: first quote with a bid since the request; sell 2 at limit $0.10 (bid $0.10)")
        #expect(out.positionEvents.last?.exitStep == 0 && out.positionEvents.last?.exitReason == "expiration")
        try h.feed(Input.orderEvent(at: Input.ny(2024, 3, 15, 15, 40), .accepted, clientOrderId: order.clientOrderId, position: p))
        // Never filled: the settlement closes it, and the broker's cancel of the exit afterwards is ignored.
        let closed = try h.feed(Input.settlement(at: Self.close, symbol: K.march15, quantity: 2, priceCents: 0, .expiredWorthless, underlyingPrice: 510))
        #expect(closed.first?.position?.exitReason == "expired_worthless" && h.core.openPositions.isEmpty)
        #expect(try h.feed(Input.orderEvent(at: Self.close, .cancelled, clientOrderId: order.clientOrderId, position: p)).isEmpty)
    }

    @Test("a position past its expiration that was never settled is flagged once a day, even unquoted")
    func pastExpiration() throws {
        var h = Harness()
        _ = try open(&h, at: Input.ny(2024, 3, 14, 10, 0), symbol: K.march15)
        var out = try h.feed(Input.chain(at: Input.ny(2024, 3, 18, 9, 35), [(K.swing, 2.49, 2.51)]))
        #expect(out.positionEvents.last?.detail?.hasPrefix("expiration: expired 2024-03-15, now 2024-03-18 09:35 New York; not in the chain") == true)
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 18, 9, 40), [(K.swing, 2.49, 2.51)]))
        #expect(out.isEmpty)
        out = try h.feed(Input.chain(at: Input.ny(2024, 3, 19, 9, 35), [(K.swing, 2.49, 2.51)]))
        #expect(out.kinds == [.exitRequested])
    }
}

@Suite("position-manager: early closes")
struct EarlyCloses {
    @Test("every before-the-close rule reads the session's close from the calendar", arguments: [
        // day, contract, strategy, last quiet second, first exit, reason
        (CivilDate(year: 2024, month: 11, day: 29), "SPY241206C00600000", TradeStrategy.dayTrade, (12, 49, 59), (12, 50, 0),
         "day_trade_close: 12:50 New York ≥ 12:50 (early close 13:00 − 10 min)"),
        (CivilDate(year: 2024, month: 11, day: 29), "SPY241129P00600000", .swingTrade, (12, 29, 59), (12, 30, 0),
         "expiration: expires 2024-11-29, 12:30 New York ≥ 12:30 (early close 13:00 − 30 min)"),
        (CivilDate(year: 2024, month: 11, day: 27), "SPY241206C00600000", .dayTrade, (15, 49, 59), (15, 50, 0),
         "day_trade_close: 15:50 New York ≥ 15:50 (16:00 − 10 min)"),
        (CivilDate(year: 2024, month: 12, day: 24), "SPY241224C00600000", .swingTrade, (12, 29, 59), (12, 30, 0),
         "expiration: expires 2024-12-24, 12:30 New York ≥ 12:30 (early close 13:00 − 30 min)"),
    ])
    func closeFromCalendar(day: CivilDate, symbol: String, strategy: TradeStrategy, quiet: (Int, Int, Int), exit: (Int, Int, Int), reason: String) throws {
        var h = Harness()
        func at(_ x: (Int, Int, Int)) -> Timestamp { NewYorkTime.utc(date: day, hour: x.0, minute: x.1, second: x.2) }
        _ = try open(&h, at: NewYorkTime.utc(date: day, hour: 10, minute: 0), symbol: symbol, strategy: strategy)
        #expect(try h.feed(Input.chain(at: at(quiet), [(symbol, 2.49, 2.51)])).orders.isEmpty)
        let out = try h.feed(Input.chain(at: at(exit), [(symbol, 2.49, 2.51)]))
        #expect(out.orders.first?.reason == "\(reason); sell 2 at limit $2.49 (bid $2.49)")
    }

    @Test("a stock day trade leaves at 12:50 on a 13:00 early close")
    func stockEarlyClose() throws {
        var h = Harness()
        let day = CivilDate(year: 2024, month: 11, day: 29)
        try h.feed(Input.fill(at: NewYorkTime.utc(date: day, hour: 10, minute: 0), clientOrderId: "stock-1", symbol: "SPY", quantity: 10,
                              priceCents: 59_000, commissionCents: 0, feesCents: 0, strategy: .dayTrade, assetClass: .equity))
        #expect(try h.feed(Input.bar(at: NewYorkTime.utc(date: day, hour: 12, minute: 49), close: 590)).orders.isEmpty)
        let out = try h.feed(Input.bar(at: NewYorkTime.utc(date: day, hour: 12, minute: 50), close: 590))
        #expect(out.orders.first?.reason == "day_trade_close: 12:50 New York ≥ 12:50 (early close 13:00 − 10 min); sell 10 at limit $590.00 (close $590.00)")
    }
}
