import OpsModel
import Testing
@testable import AlpacaFakeCore

@Suite struct SettlementTests {
    static let call = "SPY240305C00500000"
    static let close = Timestamp(iso8601: "2024-03-05T16:00:00-05:00")!

    mutating func holding(_ h: inout FakeHarness) {
        h.quote(Self.call, bid: "1.10", ask: "1.20")
        _ = h.order(Self.call, qty: "2", limit: "1.20", client: "open")
    }

    @Test mutating func outOfTheMoneyExpiresWorthless() {
        var h = FakeHarness()
        holding(&h)
        h.quote("SPY", bid: "499.00", ask: "499.02")
        _ = h.advance(to: Self.close)
        #expect(h.fake.exchange.positions.isEmpty)
        let acts = h.request("GET", "/v2/account/activities", query: [("activity_types", "OPEXP,OPEXC,OPASN,OPTRD")])
        #expect(acts.body?.array?.count == 1)
        #expect(acts.body?[0]?["activity_type"]?.string == "OPEXP")
        #expect(acts.body?[0]?["symbol"]?.string == Self.call)
        #expect(acts.body?[0]?["qty"]?.string == "-2")
        #expect(h.fake.exchange.realizedPL == -24_000)
    }

    @Test mutating func inTheMoneyLongIsExercisedIntoStock() {
        var h = FakeHarness()
        holding(&h)
        let cashBefore = h.fake.exchange.cash
        h.quote("SPY", bid: "505.00", ask: "505.02")
        _ = h.advance(to: Self.close)
        #expect(h.fake.exchange.positions[Self.call] == nil)
        #expect(h.fake.exchange.positions["SPY"]?.qty == 200)
        #expect(h.fake.exchange.cash == cashBefore - 200 * 50_000)
        let types = h.fake.exchange.activities.map(\.type).filter { $0 != "FILL" }
        #expect(types == ["OPEXC", "OPTRD"])
    }

    @Test mutating func forcedExpiryAtAGivenUnderlyingPrice() {
        var h = FakeHarness()
        holding(&h)
        let reply = h.request("POST", "/control/expire", body: "{\"symbol\":\"\(Self.call)\",\"underlying_price\":490}", headers: [])
        #expect(reply.body?["settled"]?[0]?.string == Self.call)
        #expect(h.fake.exchange.activities.last?.type == "OPEXP")
    }

    @Test func shortInTheMoneyIsAssigned() {
        var h = FakeHarness()
        h.quote(Self.call, bid: "1.10", ask: "1.20")
        _ = h.order(Self.call, qty: "1", side: "sell", limit: "1.10", client: "short", intent: "sell_to_open")
        #expect(h.fake.exchange.positions[Self.call]?.qty == -1)
        _ = h.request("POST", "/control/expire", body: "{\"underlying_price\":\"510\"}", headers: [])
        #expect(h.fake.exchange.positions["SPY"]?.qty == -100)
        #expect(h.fake.exchange.activities.map(\.type).contains("OPASN"))
    }
}

@Suite struct ListingTests {
    static let call = "SPY240305C00500000"

    func placed() -> FakeHarness {
        var h = FakeHarness()
        h.quote(Self.call, bid: "1.10", ask: "1.25")
        for i in 0..<4 {
            h.wall = Int64(i) * 1000
            _ = h.order(Self.call, limit: i == 3 ? "1.25" : "1.00", client: "o\(i)")
        }
        return h
    }

    @Test(arguments: [
        ([("status", "open")], ["o2", "o1", "o0"]),
        ([("status", "closed")], ["o3"]),
        ([("status", "all"), ("direction", "asc")], ["o0", "o1", "o2", "o3"]),
        ([("status", "all"), ("limit", "2")], ["o3", "o2"]),
        ([("status", "all"), ("after", "2024-03-05T15:00:00.500Z"), ("until", "2024-03-05T15:00:02.500Z")], ["o2", "o1"]),
        ([("status", "all"), ("symbols", "QQQ")], []),
    ] as [([(String, String)], [String])])
    func filters(query: [(String, String)], expected: [String]) {
        var h = placed()
        let reply = h.request("GET", "/v2/orders", query: query)
        #expect(reply.body?.array?.compactMap { $0["client_order_id"]?.string } == expected)
    }

    @Test func cancelAllAnswers207() {
        var h = placed()
        let reply = h.request("DELETE", "/v2/orders")
        #expect(reply.status == 207)
        #expect(reply.body?.array?.count == 3)
        #expect(reply.updates.map(\.event) == ["canceled", "canceled", "canceled"])
    }
}

@Suite struct RateLimitTests {
    @Test func twoHundredPerMinuteThen429UntilTheWindowResets() {
        var limiter = RateLimiter(limit: 200)
        for i in 0..<200 { #expect(limiter.admit(key: "k", wallMs: Int64(i)).allowed) }
        let refused = limiter.admit(key: "k", wallMs: 30_000)
        #expect(!refused.allowed)
        #expect(refused.remaining == 0)
        #expect(refused.reset == 60)
        #expect(limiter.admit(key: "other", wallMs: 30_000).allowed)
        #expect(limiter.admit(key: "k", wallMs: 60_000).allowed)
    }

    @Test func apiAnswers429WithAlpacasBodyAndHeaders() {
        var h = FakeHarness(rateLimit: 2)
        #expect(h.request("GET", "/v2/clock").status == 200)
        let second = h.request("GET", "/v2/clock")
        #expect(second.headers.first { $0.0 == "X-RateLimit-Remaining" }?.1 == "0")
        let third = h.request("GET", "/v2/clock")
        #expect(third.status == 429)
        #expect(third.body == Wire.error(42900000, "rate limit exceeded"))
    }

    @Test func rateBurstFault() {
        var h = FakeHarness()
        h.fault("{\"kind\":\"rate_burst\",\"count\":2}")
        #expect(h.request("GET", "/v2/account").status == 429)
        #expect(h.request("GET", "/v2/account").status == 429)
        #expect(h.request("GET", "/v2/account").status == 200)
    }
}

@Suite struct FaultTests {
    static let call = "SPY240305C00500000"

    @Test func statusFaultWithAcceptCreatesTheOrderAnyway() {
        var h = FakeHarness()
        h.quote(Self.call, bid: "1.10", ask: "1.25")
        h.fault("{\"kind\":\"status\",\"status\":504,\"count\":1,\"accept\":true}")
        let reply = h.order(Self.call, limit: "1.00", client: "amb")
        #expect(reply.status == 504)
        #expect(h.fake.exchange.orders.count == 1)
        h.fault("{\"kind\":\"status\",\"status\":503,\"accept\":false}")
        #expect(h.order(Self.call, limit: "1.00", client: "no").status == 503)
        #expect(h.fake.exchange.orders.count == 1)
        #expect(h.order(Self.call, limit: "1.00", client: "no").status == 200)
    }

    @Test func timeoutAfterAcceptHoldsTheAnswer() {
        var h = FakeHarness()
        h.quote(Self.call, bid: "1.10", ask: "1.25")
        h.fault("{\"kind\":\"timeout_after_accept\"}")
        let reply = h.order(Self.call, limit: "1.00", client: "t")
        #expect(reply.hold)
        #expect(h.fake.exchange.orders.count == 1)
        #expect(!h.order(Self.call, limit: "1.00", client: "t2").hold)
        #expect(h.fault("{\"kind\":\"drop_stream\"}").dropStreams)
    }

    @Test func requestLogHidesTheSecret() {
        var h = FakeHarness()
        _ = h.request("GET", "/v2/account")
        let log = h.request("GET", "/control/requests", headers: [])
        #expect(log.body?.array?.count == 1)
        #expect(!log.body!.encoded.contains("secret\""))
        #expect(log.body?[0]?["path"]?.string == "/v2/account")
    }

    @Test func clockAndCalendarFollowTheNYSECalendar() {
        var h = FakeHarness()
        let clock = h.request("GET", "/v2/clock").body
        #expect(clock?["is_open"]?.bool == true)
        #expect(clock?["next_close"]?.string == "2024-03-05T16:00:00-05:00")
        #expect(clock?["next_open"]?.string == "2024-03-06T09:30:00-05:00")
        let cal = h.request("GET", "/v2/calendar", query: [("start", "2024-11-28"), ("end", "2024-11-29")]).body
        #expect(cal?.array?.count == 1)
        #expect(cal?[0]?["close"]?.string == "13:00")
    }
}
