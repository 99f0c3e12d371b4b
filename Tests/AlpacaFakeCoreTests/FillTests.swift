import OpsModel
import Testing
@testable import AlpacaFakeCore

@Suite struct FillTests {
    static let call = "SPY240305C00500000"

    @Test(arguments: [
        // side, limit, bid, ask, fills at (nil: rests)
        ("buy", "1.20", "1.10", "1.20", Optional("1.2")),
        ("buy", "1.19", "1.10", "1.20", nil),
        ("sell", "1.10", "1.10", "1.20", Optional("1.1")),
        ("sell", "1.11", "1.10", "1.20", nil),
        ("buy", "1.50", "1.10", "1.20", Optional("1.2")),
    ] as [(String, String, String, String, String?)])
    func limitCrossesAtTheQuote(side: String, limit: String, bid: String, ask: String, price: String?) {
        var h = FakeHarness()
        h.quote(Self.call, bid: bid, ask: ask)
        if side == "sell" {
            _ = h.order(Self.call, qty: "1", limit: "9.00", client: "open", intent: "buy_to_open")
        }
        let reply = h.order(Self.call, side: side, limit: limit, client: "x", intent: side == "buy" ? "buy_to_open" : "sell_to_close")
        #expect(reply.status == 200)
        let fill = reply.updates.first { $0.event == "fill" }
        #expect(fill.flatMap { $0.priceCents.map(Wire.price) } == price)
        #expect(reply.updates.first?.event == "new")
        let order = h.fake.exchange.orders.last!
        #expect(order.status == (price == nil ? "new" : "filled"))
    }

    @Test func restingOrderFillsWhenTheQuoteComesToIt() {
        var h = FakeHarness()
        h.quote(Self.call, bid: "1.10", ask: "1.25")
        #expect(h.order(Self.call, qty: "2", limit: "1.20", client: "rest").updates.map(\.event) == ["new"])
        let moved = h.quote(Self.call, bid: "1.12", ask: "1.18")
        #expect(moved.updates.map(\.event) == ["fill"])
        #expect(moved.updates.first?.priceCents == 118)
        #expect(moved.updates.first?.qty == 2)
        #expect(moved.updates.first?.positionQty == 2)
        #expect(moved.updates.first?.executionID != nil)
    }

    @Test func cashAndPositionsFollowFills() {
        var h = FakeHarness(cash: 1_000_000)
        h.quote(Self.call, bid: "1.10", ask: "1.20")
        _ = h.order(Self.call, qty: "3", limit: "1.20", client: "b1")
        #expect(h.fake.exchange.cash == 1_000_000 - 3 * 120 * 100)
        #expect(h.fake.exchange.positions[Self.call]?.qty == 3)
        h.quote(Self.call, bid: "1.50", ask: "1.60")
        let sell = h.order(Self.call, qty: "2", side: "sell", limit: "1.50", client: "s1", intent: "sell_to_close")
        #expect(sell.updates.last?.positionQty == 1)
        #expect(h.fake.exchange.cash == 1_000_000 - 36_000 + 30_000)
        #expect(h.fake.exchange.realizedPL == 2 * 30 * 100)
        let positions = h.request("GET", "/v2/positions")
        #expect(positions.body?[0]?["qty"]?.string == "1")
        #expect(positions.body?[0]?["avg_entry_price"]?.string == "1.2")
        #expect(positions.body?[0]?["market_value"]?.string == "155.00")
        let account = h.request("GET", "/v2/account")
        #expect(account.body?["cash"]?.string == "9940.00")
        #expect(account.body?["equity"]?.string == "10095.00")
        #expect(account.body?["daytrade_count"] == nil)
        #expect(account.body?["pattern_day_trader"] == nil)
    }

    @Test func partialFillsAtMostMaxQtyPerRound() {
        var h = FakeHarness()
        h.fault("{\"kind\":\"partial_fills\",\"max_qty\":1}")
        h.quote(Self.call, bid: "1.10", ask: "1.20")
        let first = h.order(Self.call, qty: "3", limit: "1.20", client: "p")
        #expect(first.updates.map(\.event) == ["new", "partial_fill"])
        let second = h.advance(to: FakeHarness.open.adding(ms: 100))
        let third = h.advance(to: FakeHarness.open.adding(ms: 200))
        #expect(second.map(\.event) == ["partial_fill"])
        #expect(third.map(\.event) == ["fill"])
        #expect(third.first?.order.filledQty == 3)
        #expect(third.first?.order.json["filled_avg_price"]?.string == "1.2")
    }

    @Test func holdFillsKeepsOrdersOpenUntilReleased() {
        var h = FakeHarness()
        h.fault("{\"kind\":\"hold_fills\",\"on\":true}")
        h.quote(Self.call, bid: "1.10", ask: "1.20")
        #expect(h.order(Self.call, limit: "1.20", client: "h").updates.map(\.event) == ["new"])
        #expect(h.advance(to: FakeHarness.open.adding(ms: 100)).isEmpty)
        #expect(h.fault("{\"kind\":\"hold_fills\",\"on\":false}").updates.map(\.event) == ["fill"])
    }

    @Test func dayOrdersExpireAtTheClose() {
        var h = FakeHarness()
        h.quote(Self.call, bid: "1.10", ask: "1.25")
        _ = h.order(Self.call, limit: "1.00", client: "d")
        let close = Timestamp(iso8601: "2024-03-05T16:00:00-05:00")!
        #expect(h.advance(to: close.adding(ms: -1)).isEmpty)
        let updates = h.advance(to: close)
        #expect(updates.map(\.event) == ["expired"])
        #expect(updates.first?.order.expiredAt == close)
    }

    @Test func cancelThenNotCancelable() {
        var h = FakeHarness()
        h.quote(Self.call, bid: "1.10", ask: "1.25")
        let id = h.order(Self.call, limit: "1.00", client: "c").body!["id"]!.string!
        let cancel = h.request("DELETE", "/v2/orders/\(id)")
        #expect(cancel.status == 204)
        #expect(cancel.updates.map(\.event) == ["canceled"])
        let again = h.request("DELETE", "/v2/orders/\(id)")
        #expect(again.status == 422)
        #expect(again.body == Wire.error(42210000, "order is not cancelable"))
    }
}
