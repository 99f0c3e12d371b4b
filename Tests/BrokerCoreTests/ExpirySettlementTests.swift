import Testing
import BrokerCore
import OpsModel

/// Options settle at the close of their expiration day: in the money by ≥ $0.01 at intrinsic value, else worthless.
@Suite("Expiry settlement")
struct ExpirySettlementTests {

    /// Thursday 28 March 2024, spyCall's and spyPut's expiration (16:00 New York = 20:00 UTC).
    static let expiry = CivilDate(year: 2024, month: 3, day: 28)
    static let close = utc("2024-03-28T20:00:00Z")
    /// 2 contracts at 2.50: 50,000 + 2 × 68.
    static let cost: Cents = 50_136

    /// Holds 2 of `symbol`, bought at `hour`:00 on `date` and filled at 2.50 a minute later.
    func holding(_ symbol: String, on date: CivilDate = expiry, hour: Int = 15) throws -> Harness {
        var h = Harness()
        try h.feed(envelope(order("B", .buy, symbol, qty: 2, limit: 300), at: ny(hour, 0, on: date)))
        let underlying = try #require(OCCSymbol(symbol)).root
        #expect(try h.feed(chain(underlying, at: ny(hour, 1, on: date), [Quote(symbol, 2.40, 2.50)], price: 505)).fills.count == 1)
        return h
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var symbol: String
        var lastClose: Double
        var cents: Cents
        var kind: Fill.Settlement
        var testDescription: String { "\(symbol) at \(lastClose)" }
    }

    @Test(arguments: [
        Case(symbol: spyCall, lastClose: 512.34, cents: 234, kind: .settledItm),          // ITM call: 512.34 − 510
        Case(symbol: spyPut, lastClose: 497.50, cents: 250, kind: .settledItm),           // ITM put: 500 − 497.50
        Case(symbol: spyCall, lastClose: 509.99, cents: 0, kind: .expiredWorthless),      // OTM call
        Case(symbol: spyPut, lastClose: 500.01, cents: 0, kind: .expiredWorthless),       // OTM put
        Case(symbol: spyCall, lastClose: 510.00, cents: 0, kind: .expiredWorthless),      // at the money
        Case(symbol: spyCall, lastClose: 510.004, cents: 0, kind: .expiredWorthless),     // in by less than a cent
        Case(symbol: spyCall, lastClose: 510.01, cents: 1, kind: .settledItm),            // in by exactly a cent
    ])
    func settlesAtTheCloseFromTheLastBar(_ c: Case) throws {
        var h = try holding(c.symbol)
        #expect(try h.feed(bar("SPY", endingAt: ny(15, 59, on: Self.expiry), open: 505, high: 520, low: 490, close: 505)).isEmpty)
        let trigger = try bar("SPY", endingAt: Self.close, open: 505, high: 520, low: 490, close: c.lastClose)
        let out = try h.feed(trigger)
        #expect(out.map(\.topic) == [Topics.fills, Topics.accounts])
        let f = try #require(out.fills.first)
        #expect(f.settlement == c.kind)
        #expect(f.priceCents == c.cents)
        #expect(f.underlyingPrice == c.lastClose)
        #expect(f.clientOrderId == DeterministicID.make("settle", account, c.symbol, "2024-03-28"))
        #expect(f.clientOrderId.utf8.count <= 48)
        #expect(out[0].envelope.id == f.fillId && f.fillId == DeterministicID.make("fill", f.clientOrderId))
        #expect(f.symbol == c.symbol && f.underlying == "SPY" && f.assetClass == .option && f.quantity == 2)
        #expect(f.side == .sell && f.intent == .close && f.positionId == nil && f.strategy == .dayTrade)
        #expect(f.commissionCents == 0 && f.feesCents == 0)
        #expect(f.orderTime == Self.close && f.quoteTime == Self.close)
        let s = try #require(out.snapshots.first)
        let proceeds = c.cents * 100 * 2
        #expect(s.cashCents == 1_000_000 - Self.cost + proceeds)
        #expect(s.realizedPnlCents == proceeds - Self.cost)
        #expect(s.positionsValueCents == 0 && s.openOrders == 0)
        #expect(h.core.heldQuantity(c.symbol) == 0)
        // Settled once.
        #expect(try h.feed(chain("SPY", at: Self.close.adding(ms: 60_000), [Quote(c.symbol, 0, 0.01)])).isEmpty)
    }

    @Test func aContractMissingFromTheChainSettlesFromTheChainsUnderlyingPrice() throws {
        var h = try holding(spyCall)
        // No bars at all; the 16:00 chain no longer lists the contract.
        let out = try h.feed(chain("SPY", at: Self.close, [Quote(spyPut, 0.01, 0.02)], price: 516))
        let f = try #require(out.fills.first)
        #expect(f.settlement == .settledItm && f.priceCents == 600 && f.underlyingPrice == 516)
    }

    @Test func afterTheCloseOnlyPricesAtOrBeforeItCount() throws {
        var h = try holding(spyCall)
        try h.feed(chain("SPY", at: ny(15, 55, on: Self.expiry), [Quote(spyCall, 5.00, 5.10)], price: 515))
        // The next input is the next session's first chain (Good Friday is a holiday): its price is too late.
        let monday = CivilDate(year: 2024, month: 4, day: 1)
        let next = try chain("SPY", at: ny(9, 31, on: monday), [], price: 600)
        let out = try h.feed(next)
        let f = try #require(out.fills.first)
        #expect(f.priceCents == 500 && f.underlyingPrice == 515)
        #expect(f.orderTime == Self.close && f.quoteTime == next.eventTime)
    }

    @Test func aBarAtTheCloseSettlesOnlyItsOwnTickersContracts() throws {
        var h = try holding(spyCall)
        try h.feed(bar("SPY", endingAt: ny(15, 59, on: Self.expiry), open: 511, high: 511, low: 511, close: 511))
        // AAA's bar at 16:00 comes first (bars at one instant go by ticker): SPY's own 16:00 close is still to come.
        #expect(try h.feed(bar("AAA", endingAt: Self.close, open: 10, high: 10, low: 10, close: 10)).isEmpty)
        let out = try h.feed(bar("SPY", endingAt: Self.close, open: 512, high: 512, low: 512, close: 512))
        #expect(out.fills.first?.priceCents == 200)
    }

    @Test func withoutABarAtTheCloseTheLastBarStillBeatsTheChainPrice() throws {
        var h = try holding(spyCall)
        try h.feed(bar("SPY", endingAt: ny(15, 59, on: Self.expiry), open: 511, high: 511, low: 511, close: 511))
        let out = try h.feed(chain("SPY", at: Self.close, [Quote(spyCall, 0.90, 1.10)], price: 530))
        #expect(out.fills.first?.priceCents == 100 && out.fills.first?.underlyingPrice == 511)
    }

    @Test func openOrdersOnTheContractAreCancelledFirst() throws {
        var h = try holding(spyCall)
        try h.feed(envelope(order("X", .sell, spyCall, qty: 2, limit: 900), at: ny(15, 50, on: Self.expiry)))
        let out = try h.feed(bar("SPY", endingAt: Self.close, open: 505, high: 505, low: 505, close: 505))
        #expect(out.map(\.topic) == [Topics.orderEvents, Topics.accounts, Topics.fills, Topics.accounts])
        #expect(out.events.first?.status == .cancelled && out.events.first?.reason == "contract expired at the 2024-03-28 close")
        #expect(out.fills.first?.settlement == .expiredWorthless)
        #expect(h.core.openOrderIds.isEmpty)
    }

    @Test func ordersNeverSettleAndExpiredContractsCannotBeBought() throws {
        var h = try holding(spyCall)
        // An order at the close is not a price: it settles nothing (fills come only from bars and chains).
        let buy = try h.feed(envelope(order("Late", .buy, spyCall, qty: 1, limit: 100), at: Self.close))
        #expect(buy.fills.isEmpty)
        #expect(buy.events.map(\.status) == [.rejected])
        #expect(buy.events.first?.reason == "contract expired at the 2024-03-28 close")
        #expect(h.core.heldQuantity(spyCall) == 2)
        #expect(try h.feed(bar("SPY", endingAt: Self.close.adding(ms: 60_000), open: 505, high: 505, low: 505, close: 505)).fills.count == 1)
    }

    /// 2024-11-29 closes at 13:00 New York: the contract settles then, not at 16:00.
    @Test func anEarlyCloseExpirationSettlesAt1300() throws {
        let blackFriday = CivilDate(year: 2024, month: 11, day: 29)
        let call = "SPY241129C00590000"
        var h = try holding(call, on: blackFriday, hour: 12)
        #expect(try h.feed(bar("SPY", endingAt: ny(12, 59, on: blackFriday), open: 595, high: 596, low: 594, close: 595)).isEmpty)
        let out = try h.feed(bar("SPY", endingAt: ny(13, 0, on: blackFriday), open: 595, high: 596, low: 594, close: 595.5))
        let f = try #require(out.fills.first)
        #expect(f.settlement == .settledItm && f.priceCents == 550)
        #expect(f.orderTime == utc("2024-11-29T18:00:00Z"))
    }

    @Test(arguments: [
        ("SPY240328C00510000", 512.346, Cents(235)), ("SPY240328P00500000", 499.999, Cents(0)),
        ("XYZ240419C00012500", 13.0, Cents(50)), ("XYZ240419P00012500", 12.0, Cents(50)),
    ])
    func intrinsicValue(symbol: String, spot: Double, expected: Cents) throws {
        let occ = try #require(OCCSymbol(symbol))
        #expect(SimulatedBroker.intrinsicCents(occ, underlyingPrice: spot) == expected)
    }
}
