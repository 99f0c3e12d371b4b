import OpsModel
import MarketData
@testable import AlpacaFakeCore

/// A FakeAlpaca whose clock reads 2024-03-05 10:00 New York at wall 0; `wall` moves it on.
struct FakeHarness {
    static let open = Timestamp(iso8601: "2024-03-05T10:00:00-05:00")!
    var fake: FakeAlpaca
    var wall: Int64 = 0
    static let auth = [("APCA-API-KEY-ID", "key"), ("APCA-API-SECRET-KEY", "secret")]

    init(start: Timestamp = FakeHarness.open, rateLimit: Int = 200, cash: Cents = 10_000_000) {
        fake = FakeAlpaca(config: FakeAlpacaConfig(rateLimit: rateLimit, cashCents: cash,
                                                   tickers: [SyntheticTicker.defaults[0]],
                                                   clock: LiveClock(start: start, anchorWallMs: 0, speed: 1)))
    }

    var now: Timestamp { fake.now(wallMs: wall) }

    mutating func request(_ method: String, _ path: String, query: [(String, String)] = [], body: String = "",
                          headers: [(String, String)] = FakeHarness.auth) -> FakeReply {
        fake.handle(FakeRequest(method: method, path: path, query: query, headers: headers, body: Array(body.utf8)), wallMs: wall)
    }

    mutating func order(_ symbol: String, qty: String = "1", side: String = "buy", type: String = "limit",
                        limit: String? = "1.00", tif: String = "day", client: String? = nil, intent: String? = nil) -> FakeReply {
        var fields = ["\"symbol\":\"\(symbol)\"", "\"qty\":\"\(qty)\"", "\"side\":\"\(side)\"", "\"type\":\"\(type)\"",
                      "\"time_in_force\":\"\(tif)\""]
        if let limit { fields.append("\"limit_price\":\"\(limit)\"") }
        if let client { fields.append("\"client_order_id\":\"\(client)\"") }
        if let intent { fields.append("\"position_intent\":\"\(intent)\"") }
        return request("POST", "/v2/orders", body: "{" + fields.joined(separator: ",") + "}")
    }

    @discardableResult
    mutating func quote(_ symbol: String, bid: String, ask: String) -> FakeReply {
        request("POST", "/control/quote", body: "{\"symbol\":\"\(symbol)\",\"bid\":\"\(bid)\",\"ask\":\"\(ask)\"}", headers: [])
    }

    @discardableResult
    mutating func fault(_ json: String) -> FakeReply { request("POST", "/control/fault", body: json, headers: []) }

    mutating func advance(to t: Timestamp) -> [TradeUpdate] {
        wall = t.ms - FakeHarness.open.ms
        return fake.tick(wallMs: wall).updates
    }
}
