import OpsModel
import Testing
@testable import AlpacaFakeCore

@Suite struct OrderValidationTests {
    static let call = "SPY240305C00500000"
    static let aaplCall = "AAPL240308C00190000"

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var body: String
        var status: Int
        var code: Int64
        var message: String
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "malformed JSON", body: "{\"symbol\":", status: 400, code: 40010000, message: "request body format is invalid"),
        Case(name: "fractional qty", body: order(qty: "1.5"), status: 422, code: 40010001, message: "qty must be integer"),
        Case(name: "gtc on an option", body: order(tif: "gtc"), status: 422, code: 40010001, message: "invalid time_in_force"),
        Case(name: "sub-penny", body: order(limit: "1.234"), status: 422, code: 42210000,
             message: "invalid limit_price 1.234. sub-penny increment does not fulfill minimum pricing criteria"),
        Case(name: "nickel tick from $3 outside SPY/QQQ/IWM", body: order(symbol: aaplCall, limit: "3.12"), status: 422, code: 42210000,
             message: "invalid limit_price 3.12. sub-penny increment does not fulfill minimum pricing criteria"),
        Case(name: "unknown contract", body: order(symbol: "SPY240305C00999000"), status: 422, code: 40010001,
             message: "asset \"SPY240305C00999000\" not found"),
        Case(name: "too long client id", body: order(client: String(repeating: "x", count: 129)), status: 422, code: 40010001,
             message: "client_order_id must be no more than 128 characters"),
        Case(name: "buying power", body: order(qty: "2000", limit: "5.00"), status: 403, code: 40310000, message: "insufficient buying power"),
        Case(name: "closing more than held", body: order(qty: "2", side: "sell", intent: "sell_to_close"), status: 403, code: 40310000,
             message: "insufficient qty available for order (requested: 2, available: 0)"),
    ]

    static func order(symbol: String = call, qty: String = "1", side: String = "buy", tif: String = "day",
                      limit: String = "1.00", client: String = "c", intent: String = "buy_to_open") -> String {
        "{\"symbol\":\"\(symbol)\",\"qty\":\"\(qty)\",\"side\":\"\(side)\",\"type\":\"limit\",\"time_in_force\":\"\(tif)\","
            + "\"limit_price\":\"\(limit)\",\"client_order_id\":\"\(client)\",\"position_intent\":\"\(intent)\"}"
    }

    @Test(arguments: cases)
    func refusesWithAlpacasBody(_ c: Case) {
        var h = FakeHarness()
        h.quote(Self.call, bid: "5.00", ask: "5.10")
        h.quote(Self.aaplCall, bid: "3.00", ask: "3.20")
        let reply = h.request("POST", "/v2/orders", body: c.body)
        #expect(reply.status == c.status)
        #expect(reply.body?["code"]?.int == c.code)
        #expect(reply.body?["message"]?.string == c.message)
        #expect(h.fake.exchange.orders.isEmpty)
    }

    @Test func insufficientBuyingPowerCarriesTheNumbers() {
        var h = FakeHarness(cash: 100_000)
        h.quote(Self.call, bid: "5.00", ask: "5.10")
        let reply = h.request("POST", "/v2/orders", body: Self.order(qty: "3", limit: "5.00"))
        #expect(reply.body?["buying_power"]?.string == "1000.00")
        #expect(reply.body?["cost_basis"]?.string == "1500.00")
    }

    @Test func pennyTickForSPYAtAnyPriceAndNickelForAAPLFromThreeDollars() {
        var h = FakeHarness()
        h.quote(Self.call, bid: "5.00", ask: "5.10")
        h.quote(Self.aaplCall, bid: "3.00", ask: "3.20")
        #expect(h.order(Self.call, limit: "4.01", client: "a").status == 200)
        #expect(h.order(Self.aaplCall, limit: "3.15", client: "b").status == 200)
        #expect(h.order(Self.aaplCall, limit: "2.99", client: "c").status == 200)
    }

    @Test func duplicateClientOrderIDIsRefusedAndCreatesNothing() {
        var h = FakeHarness()
        h.quote(Self.call, bid: "5.00", ask: "5.10")
        let first = h.order(Self.call, limit: "4.00", client: "dup")
        #expect(first.status == 200)
        #expect(first.body?["status"]?.string == "accepted")
        #expect(first.body?["asset_class"]?.string == "us_option")
        #expect(first.body?["qty"]?.string == "1")
        let second = h.order(Self.call, limit: "4.00", client: "dup")
        #expect(second.status == 422)
        #expect(second.body == Wire.error(40010001, "client_order_id must be unique"))
        #expect(h.fake.exchange.orders.count == 1)
    }

    @Test func unauthorizedWithoutKeys() {
        var h = FakeHarness()
        let reply = h.request("GET", "/v2/account", headers: [])
        #expect(reply.status == 401)
        #expect(reply.body == Wire.error(40110000, "request is not authorized"))
        #expect(reply.headers.contains { $0.0 == "X-RateLimit-Limit" })
    }

    @Test func lookupByClientOrderID() {
        var h = FakeHarness()
        h.quote(Self.call, bid: "5.00", ask: "5.10")
        _ = h.order(Self.call, limit: "4.00", client: "known")
        let found = h.request("GET", "/v2/orders:by_client_order_id", query: [("client_order_id", "known")])
        #expect(found.status == 200)
        #expect(found.body?["client_order_id"]?.string == "known")
        #expect(found.body?["status"]?.string == "new")
        let missing = h.request("GET", "/v2/orders:by_client_order_id", query: [("client_order_id", "nope")])
        #expect(missing.status == 404)
        #expect(missing.body == Wire.error(40410000, "order not found for nope"))
    }
}
