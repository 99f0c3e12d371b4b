import Testing
import BrokerCore
import OpsModel

/// How long an order works (entry TTL, day orders on early closes), partial fills, replacements.
@Suite("Order life")
struct OrderLifeTests {

    // MARK: entry TTL

    @Test func unfilledEntryIsCancelledAfterItsTTLAndReleasesItsReservation() throws {
        var h = Harness()
        let placed = try h.feed(envelope(order("T", .buy, spyCall, qty: 2, limit: 120), at: ny(10, 0)))
        #expect(placed.snapshots.last?.reservedCents == Cents(2 * 12_068))
        // Below the mid: rests. At exactly order time + 5 minutes it is still working (and may fill).
        #expect(try h.feed(chain("SPY", at: ny(10, 3), [Quote(spyCall, 1.20, 1.27)])).isEmpty)
        #expect(try h.feed(bar("SPY", endingAt: ny(10, 5), open: 510, high: 511, low: 509, close: 510)).isEmpty)
        #expect(try h.feed(chain("SPY", at: ny(10, 5), [Quote(spyCall, 1.20, 1.27)])).isEmpty)
        // The first input after it (a bar of any ticker) cancels it.
        let late = try bar("QQQ", endingAt: ny(10, 6), open: 430, high: 431, low: 429, close: 430)
        let out = try h.feed(late)
        #expect(out.map(\.topic) == [Topics.orderEvents, Topics.accounts])
        let ev = try #require(out.events.first)
        #expect(ev.status == .cancelled && ev.filledQuantity == 0 && ev.clientOrderId == "T")
        #expect(ev.reason == "entry unfilled 5 minutes after it was placed (execution.entry_ttl_minutes)")
        #expect(out[0].envelope.id == DeterministicID.make("order-event", "T", "cancelled"))
        let s = try #require(out.snapshots.first)
        #expect(s.reservedCents == 0 && s.buyingPowerCents == 1_000_000 && s.openOrders == 0)
        // Gone: a quote that would fill it now does nothing.
        #expect(try h.feed(chain("SPY", at: ny(10, 7), [Quote(spyCall, 1.00, 1.05)])).isEmpty)
    }

    @Test func anEntryFillsAgainstTheQuoteStampedExactlyAtItsTTL() throws {
        var h = Harness()
        try h.feed(envelope(order("T", .buy, spyCall, qty: 1, limit: 124), at: ny(10, 0)))
        try h.feed(bar("SPY", endingAt: ny(10, 5), open: 510, high: 511, low: 509, close: 510))
        // A chain every 5 minutes: an entry placed at a chain's time gets the next one.
        #expect(try h.feed(chain("SPY", at: ny(10, 5), [Quote(spyCall, 1.20, 1.27)])).fills.map(\.priceCents) == [124])
    }

    @Test func anOrderInputAlsoExpiresStaleEntriesButExitsHaveNoTTL() throws {
        var params = TradingParams()
        params.execution.entryTtlMinutes = 2
        var h = Harness(params: params)
        try h.feed(envelope(order("B", .buy, spyCall, qty: 1, limit: 130), at: ny(9, 59)))
        try h.feed(chain("SPY", at: ny(10, 0), [Quote(spyCall, 1.20, 1.27)]))
        try h.feed(envelope(order("X", .sell, spyCall, qty: 1, limit: 200), at: ny(10, 1)))   // an exit, resting
        try h.feed(envelope(order("E", .buy, spyCall, qty: 1, limit: 100), at: ny(10, 1)))    // an entry, resting
        let out = try h.feed(envelope(order("E2", .buy, spyPut, qty: 1, limit: 100), at: ny(10, 4)))
        #expect(out.events.map(\.clientOrderId) == ["E", "E2"])
        #expect(out.events.map(\.status) == [.cancelled, .accepted])
        #expect(h.core.openOrderIds == ["X", "E2"])
    }

    // MARK: day orders

    /// 2024-11-29, the day after Thanksgiving, closes at 13:00 New York (18:00 UTC).
    @Test func dayOrderExpiresAfterAnEarlyClose() throws {
        let blackFriday = CivilDate(year: 2024, month: 11, day: 29)
        #expect(MarketCalendar.close(of: blackFriday) == utc("2024-11-29T18:00:00Z"))
        let call = "SPY241220C00600000"
        var h = Harness()
        try h.feed(envelope(order("B", .buy, call, qty: 1, limit: 300), at: ny(12, 40, on: blackFriday)))
        #expect(try h.feed(chain("SPY", at: ny(12, 41, on: blackFriday), [Quote(call, 2.40, 2.50)])).fills.count == 1)
        // An exit at a price no one bids: it rests (exits have no TTL).
        try h.feed(envelope(order("S", .sell, call, qty: 1, limit: 400), at: ny(12, 50, on: blackFriday)))
        #expect(try h.feed(chain("SPY", at: ny(13, 0, on: blackFriday), [Quote(call, 2.40, 2.50)])).isEmpty)
        #expect(h.core.openOrderIds == ["S"])
        let out = try h.feed(bar("SPY", endingAt: ny(13, 1, on: blackFriday), open: 600, high: 601, low: 599, close: 600))
        #expect(out.events.map(\.status) == [.cancelled])
        #expect(out.events.first?.reason == "day order expired unfilled")
        #expect(h.core.openOrderIds.isEmpty)
    }

    @Test func onARegularDayTheSameOrderIsStillWorkingAt1301() throws {
        let call = "SPY240328C00510000"
        var h = Harness()
        try h.feed(envelope(order("B", .buy, call, qty: 1, limit: 300), at: ny(12, 40)))
        try h.feed(chain("SPY", at: ny(12, 41), [Quote(call, 2.40, 2.50)]))
        try h.feed(envelope(order("S", .sell, call, qty: 1, limit: 400), at: ny(12, 50)))
        #expect(try h.feed(bar("SPY", endingAt: ny(13, 1), open: 600, high: 601, low: 599, close: 600)).isEmpty)
        #expect(h.core.openOrderIds == ["S"])
    }

    // MARK: partial fills

    @Test func aLargeOrderFillsInPiecesOnePerQuoteKeepingTheRestReserved() throws {
        var h = Harness()
        let perContract: Cents = 13_000 + 68
        let placed = try h.feed(envelope(order("P", .buy, spyCall, qty: 12, limit: 130), at: ny(10, 0)))
        #expect(placed.snapshots.last?.reservedCents == 12 * perContract)

        var pieces = [Fill]()
        var events = [OrderEvent]()
        var reserved = [Cents]()
        for m in 1...4 {
            let out = try h.feed(chain("SPY", at: ny(10, m), [Quote(spyCall, 1.20, 1.27)]))
            pieces += out.fills
            events += out.events
            reserved += out.snapshots.map(\.reservedCents)
        }
        #expect(pieces.map(\.quantity) == [5, 5, 2])
        #expect(pieces.map(\.priceCents) == [127, 127, 127])
        #expect(pieces.map(\.fillId) == [DeterministicID.make("fill", "P"), DeterministicID.make("fill", "P", "2"), DeterministicID.make("fill", "P", "3")])
        #expect(pieces.map(\.commissionCents) == [325, 325, 130])
        #expect(events.map(\.status) == [.partiallyFilled, .partiallyFilled, .filled])
        #expect(events.map(\.filledQuantity) == [5, 10, 12])
        #expect(events.allSatisfy { $0.quantity == 12 && $0.fillPriceCents == 127 })
        #expect(reserved == [7 * perContract, 2 * perContract, 0])
        let ids = h.outputs.on(Topics.orderEvents).map(\.envelope.id)
        #expect(Set(ids).count == ids.count)
        let last = try #require(h.core.lastSnapshot)
        #expect(last.cashCents == 1_000_000 - 12 * (12_700 + 68))
        #expect(h.core.heldQuantity(spyCall) == 12)
    }

    @Test func aPartiallyFilledEntryCancelledByItsTTLReleasesOnlyTheRest() throws {
        var h = Harness()
        try h.feed(envelope(order("P", .buy, spyCall, qty: 8, limit: 124), at: ny(10, 0)))
        let first = try h.feed(chain("SPY", at: ny(10, 1), [Quote(spyCall, 1.20, 1.27)]))
        #expect(first.fills.map(\.quantity) == [5])
        #expect(first.snapshots.first?.reservedCents == Cents(3 * (12_400 + 68)))
        #expect(h.core.filledQuantity(ofOpenOrder: "P") == 5)
        // The quote runs away; the rest expires.
        #expect(try h.feed(chain("SPY", at: ny(10, 3), [Quote(spyCall, 1.40, 1.47)])).isEmpty)
        let out = try h.feed(chain("SPY", at: ny(10, 6), [Quote(spyCall, 1.40, 1.47)]))
        let ev = try #require(out.events.first)
        #expect(ev.status == .cancelled && ev.filledQuantity == 5 && ev.quantity == 8)
        #expect(ev.reason.hasSuffix("(5 of 8 filled)"))
        let s = try #require(out.snapshots.first)
        #expect(s.reservedCents == 0 && s.openOrders == 0)
        #expect(s.cashCents == 1_000_000 - 5 * (12_400 + 68))
        #expect(h.core.heldQuantity(spyCall) == 5)
    }

    @Test func aLargeExitSellsInPiecesWithTheBasisSplitExactly() throws {
        var h = Harness()
        try h.feed(envelope(order("B", .buy, spyCall, qty: 7, limit: 130), at: ny(10, 0)))
        try h.feed(chain("SPY", at: ny(10, 1), [Quote(spyCall, 1.20, 1.27)]))
        try h.feed(chain("SPY", at: ny(10, 2), [Quote(spyCall, 1.20, 1.27)]))
        #expect(h.core.heldQuantity(spyCall) == 7)   // 7 × 12,768 = 89,376 cost
        try h.feed(envelope(order("S", .sell, spyCall, qty: 7, limit: 120), at: ny(10, 3)))
        let a = try h.feed(chain("SPY", at: ny(10, 4), [Quote(spyCall, 1.50, 1.60)]))
        #expect(a.fills.map(\.quantity) == [5] && a.events.map(\.status) == [.partiallyFilled])
        // 5 × 15,000 − 5 × 68 − ⌊89,376 × 5 / 7⌋ = 74,660 − 63,840
        #expect(a.snapshots.first?.realizedPnlCents == 10_820)
        // Another exit could only sell what the working one has not committed: nothing.
        #expect(try h.feed(envelope(order("S2", .sell, spyCall, qty: 1, limit: 120), at: ny(10, 4))).events.map(\.status) == [.rejected])
        let b = try h.feed(chain("SPY", at: ny(10, 5), [Quote(spyCall, 1.30, 1.40)]))
        #expect(b.fills.map(\.quantity) == [2] && b.events.map(\.status) == [.filled])
        // + 2 × 13,000 − 136 − the remaining 25,536
        let s = try #require(b.snapshots.first)
        #expect(s.realizedPnlCents == 10_820 + 328)
        #expect(s.cashCents - 1_000_000 == s.realizedPnlCents && s.positionsValueCents == 0)
    }

    // MARK: replacements

    @Test func aReplacementCancelsTheWorkingOrderAndTakesItsPlace() throws {
        var h = Harness()
        try h.feed(envelope(order("B", .buy, spyCall, qty: 2, limit: 130), at: ny(10, 0)))
        try h.feed(chain("SPY", at: ny(10, 1), [Quote(spyCall, 1.20, 1.27)]))
        try h.feed(envelope(order("X1", .sell, spyCall, qty: 2, limit: 125), at: ny(10, 2)))
        #expect(try h.feed(chain("SPY", at: ny(10, 3), [Quote(spyCall, 1.10, 1.17)])).isEmpty)
        var step = try order("X2", .sell, spyCall, qty: 2, limit: 110)
        step.replacesClientOrderId = "X1"
        let out = try h.feed(envelope(step, at: ny(10, 3)))
        #expect(out.events.map(\.clientOrderId) == ["X1", "X2"])
        #expect(out.events.map(\.status) == [.cancelled, .accepted])
        #expect(out.events.first?.reason.hasPrefix("replaced by X2") == true)
        #expect(h.core.openOrderIds == ["X2"])
        #expect(try h.feed(chain("SPY", at: ny(10, 4), [Quote(spyCall, 1.10, 1.17)])).fills.map(\.priceCents) == [110])
        // Replacing an order that has filled is rejected.
        var late = try order("X3", .sell, spyCall, qty: 2, limit: 100)
        late.replacesClientOrderId = "X2"
        let rejected = try h.feed(envelope(late, at: ny(10, 5)))
        #expect(rejected.events.map(\.status) == [.rejected])
        #expect(rejected.events.first?.reason.hasPrefix("replaces X2, which is not open") == true)
    }

    @Test func aReplacementThatCannotBeAcceptedLeavesTheOriginalWorking() throws {
        var h = Harness()
        try h.feed(envelope(order("B", .buy, spyCall, qty: 2, limit: 130), at: ny(10, 0)))
        try h.feed(chain("SPY", at: ny(10, 1), [Quote(spyCall, 1.20, 1.27)]))
        try h.feed(envelope(order("X1", .sell, spyCall, qty: 2, limit: 150), at: ny(10, 2)))
        var tooMany = try order("X2", .sell, spyCall, qty: 3, limit: 140)
        tooMany.replacesClientOrderId = "X1"
        let out = try h.feed(envelope(tooMany, at: ny(10, 3)))
        #expect(out.events.map(\.status) == [.rejected])
        #expect(out.events.first?.reason.hasPrefix("no position") == true)
        #expect(h.core.openOrderIds == ["X1"])
    }

    // MARK: ticks

    @Test func aLimitOffTheTickGridIsRejected() throws {
        var h = Harness()
        // XYZ is outside the penny program: $0.10 from $3.
        let out = try h.feed(envelope(order("N", .buy, xyzCall, qty: 1, limit: 325), at: ny(10, 0)))
        #expect(out.events.first?.status == .rejected)
        #expect(out.events.first?.reason == "limit $3.25 is not on a valid tick ($0.10 for XYZ at that price)")
        #expect(try h.feed(envelope(order("N2", .buy, xyzCall, qty: 1, limit: 330), at: ny(10, 0))).events.map(\.status) == [.accepted])
    }
}
