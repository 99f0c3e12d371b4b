import Foundation
import OpsModel
import TestSupport
import Testing
@testable import AlpacaCore

@Suite("Alpaca wire: real bodies decode, requests follow the official spec")
struct AlpacaWireTests {
    static func body(_ file: String) throws -> Data {
        let d = try Data(contentsOf: TestPaths.shared("alpaca/\(file)"))
        let object = try #require((try JSONSerialization.jsonObject(with: d) as? [String: Any])?["body"])
        return try JSONSerialization.data(withJSONObject: object)
    }

    @Test("alpaca-py's order, order list and account bodies decode (qty as a number, sub-cent balances)", .enabled(if: TestPaths.hasSharedData))
    func realBodies() throws {
        let order = try Alpaca.decode(Alpaca.Order.self, from: try Self.body("trading_order_post_v2.json"))
        #expect(order.qty?.whole == 1 && order.status == "accepted" && order.positionIntent == "buy_to_open")
        let list = try Alpaca.decode([Alpaca.Order].self, from: try Self.body("trading_orders_list_v2.json"))
        #expect(!list.isEmpty)
        let account = try Alpaca.decode(Alpaca.Account.self, from: try Self.body("trading_account_v2.json"))
        #expect(account.buyingPower?.roundedCents == 26_211_363 && account.daytradeCount == 0)
    }

    @Test("the order request the adapter sends conforms to POST /v2/orders of trading-api.json", .enabled(if: TestPaths.hasSharedData))
    func requestMatchesSpec() throws {
        let spec = try OpenAPIRequestCheck(specFile: TestPaths.shared("alpaca/openapi/trading-api.json"))
        var l = Fixture.ledger()
        let requests = l.command(Fixture.command(), at: Fixture.at(1)).submits
            + l.command(Fixture.command("exit-1", qty: 1, limit: 305, side: .sell, intent: .close), at: Fixture.at(1)).submits
        #expect(requests.count == 2)
        for r in requests {
            #expect(spec.problems(method: "POST", path: "/v2/orders", body: Data(try Alpaca.encode(r))) == [])
        }
        #expect(spec.problems(method: "GET", path: "/v2/orders:by_client_order_id", query: ["client_order_id": "x"]) == [])
        #expect(spec.problems(method: "POST", path: "/v2/orders", body: Data(#"{"symbol":"SPY","qty":2,"type":"limit","time_in_force":"day","position_intent":"buy_open"}"#.utf8)).count == 2,
                "the check itself catches a numeric qty and a bad intent")
    }

    @Test("limit prices leave as strings on the contract's tick; off-tick prices are refused before sending", arguments: [
        (125 as Cents, "SPY", true), (305, "AAPL", true), (303, "AAPL", false), (1, "AAPL", true), (1200, "SPY", true),
    ])
    func ticks(limit: Cents, underlying: String, ok: Bool) {
        let c = OrderCommand(accountId: "a", clientOrderId: "c", symbol: "\(underlying)240315C00100000", underlying: underlying, assetClass: .option,
                             side: .buy, quantity: 1, limitPriceCents: limit, intent: .open, positionId: nil, strategy: .dayTrade, reason: "")
        let r = try? Alpaca.orderRequest(c, ticks: TradingParams().execution.ticks)
        #expect((r != nil) == ok)
        if let r { #expect(r.limitPrice == WireDecimal.price(cents: limit) && Money.cents(dollars: r.limitPrice!) == limit) }
    }

    @Test("HTTP answers classify for exactly-once submission", arguments: [
        (Int?.some(422), #"{"code":40010001,"message":"client_order_id must be unique"}"#, "known"),
        (Int?.some(403), #"{"code":40310000,"message":"insufficient buying power"}"#, "refused"),
        (Int?.some(422), #"{"code":42210000,"message":"invalid limit_price"}"#, "refused"),
        (Int?.some(429), #"{"code":42900000,"message":"rate limit exceeded"}"#, "ambiguous"),
        (Int?.some(504), "", "ambiguous"),
        (Int?.none, "", "ambiguous"),
        (Int?.some(200), "not json", "ambiguous"),
    ])
    func classify(status: Int?, body: String, expected: String) {
        let kind = switch SubmitOutcome.classify(status: status, body: Array(body.utf8), transportError: "timed out") {
        case .accepted: "accepted"
        case .refused: "refused"
        case .knownClientId: "known"
        case .ambiguous: "ambiguous"
        }
        #expect(kind == expected)
    }

    @Test("Alpaca's timestamps parse with microseconds and offsets")
    func timestamps() {
        #expect(Alpaca.timestamp("2021-03-16T18:38:01.942282Z") == Timestamp(iso8601: "2021-03-16T18:38:01.942Z"))
        #expect(Alpaca.timestamp("2024-03-05T10:31:00-05:00") == Timestamp(iso8601: "2024-03-05T15:31:00Z"))
        #expect(Alpaca.timestamp("") == nil)
    }
}

@Suite("Request pacing: 200 a minute, 429s and backoff")
struct RequestPacingTests {
    @Test("a full bucket lets 200 through at once, then one every 300 ms")
    func bucket() {
        var r = RateLimiter(perMinute: 200, nowMs: 0)
        for _ in 0..<200 { #expect(r.acquire(nowMs: 0) == 0) }
        #expect(r.acquire(nowMs: 0) == 300)
        #expect(r.acquire(nowMs: 300) == 0)
    }

    @Test("a 429 closes the bucket until X-RateLimit-Reset; remaining 0 does too")
    func tooMany() {
        var r = RateLimiter(perMinute: 200, nowMs: 1_000_000)
        r.observe(status: 429, remaining: 0, resetUnixSeconds: 1_005, nowMs: 1_000_000)
        #expect(r.acquire(nowMs: 1_000_000) == 5_000)
        #expect(r.acquire(nowMs: 1_005_000) == 0, "open again at the reset")
        var s = RateLimiter(perMinute: 200, nowMs: 0)
        s.observe(status: 200, remaining: 0, resetUnixSeconds: nil, nowMs: 0)
        #expect(s.acquire(nowMs: 0) == 1_000)
    }

    @Test("backoff grows exponentially with full jitter, capped", arguments: [(0, 0.5, 125 as Int64), (3, 0.5, 1_000), (20, 0.999, 29_970), (2, 0, 0)])
    func backoff(attempt: Int, unit: Double, expected: Int64) {
        #expect(Backoff(baseMs: 250, capMs: 30_000).delayMs(attempt: attempt, unit: unit) == expected)
    }
}

@Suite("The OpenAPI request check itself")
struct OpenAPIRequestCheckTests {
    @Test("parameters given by $ref count as declared; undeclared ones and unknown paths do not pass", .enabled(if: TestPaths.hasSharedData))
    func refs() throws {
        let spec = try OpenAPIRequestCheck(specFile: TestPaths.shared("alpaca/openapi/trading-api.json"))
        #expect(spec.problems(method: "GET", path: "/v2/calendar", query: ["start": "2024-03-01", "end": "2024-03-10"]) == [])
        #expect(spec.problems(method: "GET", path: "/v2/calendar", query: ["begin": "2024-03-01"]).count == 1)
        #expect(spec.problems(method: "GET", path: "/v2/nothing").count == 1)
        #expect(spec.problems(method: "GET", path: "/v2/orders", query: ["status": "pending"]).count == 1, "an enum is checked")
    }
}
