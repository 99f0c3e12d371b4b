import Testing
import BrokerCore
import OpsModel

/// The broker's lookahead: with no working order it can only answer an order (fills strictly after it), until the
/// earliest expiry close of an option it holds.
@Suite("Broker lookahead")
struct BrokerLookaheadTests {
    @Test func noPromiseBeyondTheDeclaredCausesBeforeTheFirstInputOrWhileAnOrderWorks() throws {
        var h = Harness()
        #expect(h.core.lookahead == nil, "the opening snapshot may come from any input")
        try h.feed(bar("SPY", endingAt: ny(9, 31), open: 500, high: 501, low: 499, close: 500))
        let quiet = try #require(h.core.lookahead)
        #expect(quiet.causes[Topics.fills] == [Topics.orders: 1])
        #expect(quiet.causes[Topics.orderEvents] == [Topics.orders: 0])
        #expect(quiet.causes[Topics.accounts] == [Topics.orders: 0])
        #expect(quiet.resumesAt == nil)

        try h.feed(envelope(order("B", .buy, spyCall, qty: 2, limit: 300), at: ny(10, 0)))
        #expect(h.core.lookahead == nil, "a working order fills with any quote")
        #expect(try h.feed(chain("SPY", at: ny(10, 1), [Quote(spyCall, 2.40, 2.50)], price: 505)).fills.count == 1)

        let holding = try #require(h.core.lookahead, "filled: nothing works any more")
        #expect(holding.resumesAt == utc("2024-03-28T20:00:00Z"), "the held call settles at its expiration's close")
    }

    @Test func aStockHoldingNeverResumesTheQuoteCauses() throws {
        var h = Harness()
        try h.feed(envelope(order("S", .buy, "SPY", qty: 10, limit: 50_100, assetClass: .equity), at: ny(10, 0)))
        #expect(h.core.lookahead == nil)
        #expect(try h.feed(bar("SPY", endingAt: ny(10, 1), open: 500, high: 501, low: 499, close: 500)).fills.count == 1)
        let quiet = try #require(h.core.lookahead)
        #expect(quiet.resumesAt == nil, "shares do not expire")
    }
}
