import Testing
import BrokerCore
import OpsModel

@Suite("SimulatedBroker")
struct SimulatedBrokerTests {

    // MARK: shape

    @Test func topicsCausesAndRestore() {
        let core = SimulatedBroker(params: TradingParams(), accountId: account, startingCashCents: 1)
        #expect(SimulatedBroker.name == "broker-gateway")
        #expect(core.serviceName == "broker-gateway")
        #expect(core.inputTopics == [Topics.bars, Topics.chains, Topics.orders])
        #expect(core.outputTopics == [Topics.orderEvents, Topics.fills, Topics.accounts])
        #expect(core.outputCauses == [
            Topics.fills: [Topics.bars: 0, Topics.chains: 0, Topics.orders: 1],
            Topics.orderEvents: [Topics.bars: 0, Topics.chains: 0, Topics.orders: 0],
            Topics.accounts: [Topics.bars: 0, Topics.chains: 0, Topics.orders: 0],
        ])
        for topic in core.inputTopics {
            #expect(core.restoreStart(topic: topic, after: ny(15, 0)) == .distantPast)
        }
    }

    // MARK: account

    @Test func initialSnapshotOnFirstChain() throws {
        var h = Harness(cash: 250_000)
        let first = try chain("SPY", at: ny(9, 35), [Quote(spyCall, 1.20, 1.27)])
        let out = try h.feed(first)
        #expect(out.count == 1)
        let e = try #require(out.first)
        #expect(e.topic == Topics.accounts)
        #expect(e.envelope.eventTime == ny(9, 35))
        #expect(e.envelope.causationId == first.id)
        let s = try #require(e.envelope.payload as? AccountSnapshot)
        #expect(s == AccountSnapshot(accountId: account, seq: 1, cashCents: 250_000, reservedCents: 0, buyingPowerCents: 250_000,
                                     positionsValueCents: 0, equityCents: 250_000, realizedPnlCents: 0, commissionsCents: 0, openOrders: 0))
        // Nothing changed: no more snapshots.
        #expect(try h.feed(chain("SPY", at: ny(9, 40), [Quote(spyCall, 1.20, 1.27)])).isEmpty)
    }

    @Test func initialSnapshotOnFirstOrderComesBeforeItsEvents() throws {
        var h = Harness(cash: 1_000_000)
        let out = try h.feed(envelope(order("A", .buy, spyCall, qty: 1, limit: 130), at: ny(10, 0)))
        #expect(out.map(\.topic) == [Topics.accounts, Topics.orderEvents, Topics.accounts])
        #expect(out.snapshots.map(\.seq) == [1, 2])
        #expect(out.snapshots[0].cashCents == 1_000_000 && out.snapshots[0].reservedCents == 0 && out.snapshots[0].openOrders == 0)
        #expect(out.snapshots[1].reservedCents == 13_068 && out.snapshots[1].buyingPowerCents == 986_932 && out.snapshots[1].openOrders == 1)
        #expect(out.events.map(\.status) == [.accepted])
    }

    // MARK: fills

    @Test func orderIsNeverFilledAtItsOwnInstant() throws {
        var h = Harness()
        #expect(try h.feed(chain("SPY", at: ny(10, 0), [Quote(spyCall, 1.20, 1.27)])).count == 1)   // the runtime: chain first
        let orderEnvelope = try envelope(order("A", .buy, spyCall, qty: 2, limit: 130), at: ny(10, 0))
        let placed = try h.feed(orderEnvelope)
        #expect(placed.events.map(\.status) == [.accepted])
        #expect(placed.on(Topics.orderEvents).first?.envelope.id == DeterministicID.make("order-event", "A", "accepted"))
        let reserved: Cents = 2 * 13_000 + 2 * 68   // limit × 100 × qty + (65 + 3)¢ × qty
        #expect(placed.snapshots.last?.reservedCents == reserved)
        #expect(placed.fills.isEmpty)

        let next = try chain("SPY", at: ny(10, 5), [Quote(spyCall, 1.20, 1.27)])
        let out = try h.feed(next)
        #expect(out.map(\.topic) == [Topics.fills, Topics.orderEvents, Topics.accounts])
        let f = try #require(out.fills.first)
        #expect(f.fillId == DeterministicID.make("fill", "A"))
        #expect(f.clientOrderId == "A" && f.symbol == spyCall && f.underlying == "SPY" && f.side == .buy && f.quantity == 2)
        #expect(f.priceCents == 127)                 // limit 1.30 ≥ ask 1.27: takes the offer
        #expect(f.commissionCents == 130 && f.feesCents == 6)
        #expect(f.orderTime == ny(10, 0))
        #expect(f.quoteTime == ny(10, 5) && f.quoteTime > f.orderTime)
        #expect(f.quoteBid == 1.20 && f.quoteAsk == 1.27)
        #expect(f.intent == .open && f.positionId == nil && f.strategy == .dayTrade)
        #expect(out[0].envelope.eventTime == ny(10, 5) && out[0].envelope.causationId == next.id)
        let ev = try #require(out.events.first)
        #expect(ev.status == .filled && ev.filledQuantity == 2 && ev.fillPriceCents == 127)
        #expect(out[1].envelope.id == DeterministicID.make("order-event", "A", "filled"))
        let s = try #require(out.snapshots.first)
        #expect(s.cashCents == 1_000_000 - 25_400 - 136)
        #expect(s.reservedCents == 0 && s.openOrders == 0)
        #expect(s.positionsValueCents == 2 * 100 * 124)   // mark: mid 1.235 rounded half up
        #expect(s.commissionsCents == 136)
        #expect(h.core.heldQuantity(spyCall) == 2)
        // Filled once only.
        #expect(try h.feed(chain("SPY", at: ny(10, 10), [Quote(spyCall, 1.20, 1.27)])).isEmpty)
    }

    @Test func orderBeforeASameTimeChainIsStillNotFilledThen() throws {
        var h = Harness()
        try h.feed(envelope(order("A", .buy, spyCall, qty: 1, limit: 130), at: ny(10, 0)))
        #expect(try h.feed(chain("SPY", at: ny(10, 0), [Quote(spyCall, 1.20, 1.27)])).isEmpty)
        #expect(try h.feed(chain("SPY", at: ny(10, 0).adding(ms: 1), [Quote(spyCall, 1.20, 1.27)])).fills.map(\.priceCents) == [127])
    }

    @Test func onlyTheOrdersUnderlyingAndAUsableQuoteFill() throws {
        var h = Harness()
        try h.feed(envelope(order("A", .buy, spyCall, qty: 1, limit: 130), at: ny(10, 0)))
        // Another underlying, the contract missing, a one-sided quote: no fill.
        #expect(try h.feed(chain("XYZ", at: ny(10, 1), [Quote(xyzCall, 1.00, 1.05)])).isEmpty)
        #expect(try h.feed(chain("SPY", at: ny(10, 2), [Quote(spyPut, 1.20, 1.27)])).isEmpty)
        #expect(try h.feed(chain("SPY", at: ny(10, 3), [Quote(spyCall, 0, 1.27)])).isEmpty)
        // The padded OCC spelling is the same contract.
        let padded = "SPY   240328C00510000"
        #expect(try h.feed(chain("SPY", at: ny(10, 4), [Quote(padded, 1.20, 1.27)])).fills.count == 1)
    }

    struct PriceCase: Sendable, CustomTestStringConvertible {
        var mode: String, slippage: Int, underlying: String, bid: Double, ask: Double, buy: Cents, sell: Cents
        var testDescription: String { "\(mode) \(underlying) \(bid)/\(ask) slip \(slippage)" }
    }

    @Test(arguments: [
        // SPY: pennies at any price.
        PriceCase(mode: "mid", slippage: 1, underlying: "SPY", bid: 1.20, ask: 1.27, buy: 125, sell: 122),
        PriceCase(mode: "cross", slippage: 1, underlying: "SPY", bid: 1.20, ask: 1.27, buy: 128, sell: 119),
        PriceCase(mode: "mid", slippage: 1, underlying: "SPY", bid: 5.10, ask: 5.13, buy: 513, sell: 510),
        PriceCase(mode: "mid", slippage: 0, underlying: "SPY", bid: 1.20, ask: 1.27, buy: 124, sell: 123),
        // A class outside the penny program at $3 and above: mid ± slippage goes to a dime, up for buys, down for
        // sells (always a valid tick).
        PriceCase(mode: "mid", slippage: 1, underlying: "XYZ", bid: 3.10, ask: 3.25, buy: 320, sell: 310),
        PriceCase(mode: "mid", slippage: 1, underlying: "XYZ", bid: 5.10, ask: 5.13, buy: 520, sell: 510),
        PriceCase(mode: "mid", slippage: 3, underlying: "XYZ", bid: 3.10, ask: 3.25, buy: 330, sell: 310),
        PriceCase(mode: "cross", slippage: 1, underlying: "XYZ", bid: 3.10, ask: 3.25, buy: 330, sell: 300),
        // Below $3: nickels.
        PriceCase(mode: "mid", slippage: 1, underlying: "XYZ", bid: 2.50, ask: 2.63, buy: 260, sell: 255),
        // A penny-program class (AAPL) from $3: nickels; below $3: pennies.
        PriceCase(mode: "mid", slippage: 1, underlying: "AAPL", bid: 5.10, ask: 5.13, buy: 515, sell: 510),
        PriceCase(mode: "mid", slippage: 1, underlying: "AAPL", bid: 2.50, ask: 2.63, buy: 258, sell: 255),
        // Binary noise (2.55 × 100 = 254.99999…) does not move a price on its tick.
        PriceCase(mode: "mid", slippage: 1, underlying: "SPY", bid: 2.55, ask: 2.55, buy: 256, sell: 254),
        // Never below a cent.
        PriceCase(mode: "cross", slippage: 1, underlying: "SPY", bid: 0.01, ask: 0.02, buy: 3, sell: 1),
    ])
    func fillPrice(_ c: PriceCase) {
        var ex = TradingParams.ExecutionParams()
        ex.fillModel = c.mode
        ex.slippageCents = c.slippage
        #expect(SimulatedBroker.fillPriceCents(side: .buy, bid: c.bid, ask: c.ask, underlying: c.underlying, execution: ex) == c.buy)
        #expect(SimulatedBroker.fillPriceCents(side: .sell, bid: c.bid, ask: c.ask, underlying: c.underlying, execution: ex) == c.sell)
    }

    /// The quote 3.10 / 3.25 is off XYZ's dime grid: `limit` narrows it to the ticks inside (3.10 / 3.20).
    @Test(arguments: [("mid", Cents(320)), ("cross", Cents(330)), ("limit", Cents(320))])
    func nonPennyBuyFillsThroughTheCore(mode: String, expected: Cents) throws {
        var params = TradingParams()
        params.execution.fillModel = mode
        var h = Harness(params: params)
        try h.feed(envelope(order("X", .buy, xyzCall, qty: 1, limit: 330), at: ny(10, 0)))
        let out = try h.feed(chain("XYZ", at: ny(10, 5), [Quote(xyzCall, 3.10, 3.25)], price: 52))
        #expect(out.fills.map(\.priceCents) == [expected])
        #expect(out.events.first?.fillPriceCents == expected)
        #expect(out.snapshots.first?.cashCents == 1_000_000 - expected * 100 - 68)
        #expect(out.snapshots.first?.positionsValueCents == 31_800)   // mark: mid 3.175 → 3.18 (half up, to the cent)
    }

    @Test func limitNotReachedStaysOpenThenFillsWhenTheQuoteMoves() throws {
        var params = TradingParams()
        params.execution.entryTtlMinutes = 15   // this test is about resting, not the TTL
        var h = Harness(params: params)
        try h.feed(chain("SPY", at: ny(9, 55), [Quote(spyCall, 1.20, 1.27)]))
        try h.feed(envelope(order("B", .buy, spyCall, qty: 1, limit: 120), at: ny(10, 0)))
        // 120 is below the mid (1.235, 1.23 on the tick below).
        #expect(try h.feed(chain("SPY", at: ny(10, 5), [Quote(spyCall, 1.20, 1.27)])).isEmpty)
        #expect(h.core.openOrderIds == ["B"])
        // The offer came down to 1.16 ≤ 1.20: it takes the offer.
        let out = try h.feed(chain("SPY", at: ny(10, 10), [Quote(spyCall, 1.10, 1.16)]))
        #expect(out.fills.map(\.priceCents) == [116])
        let s = try #require(out.snapshots.first)
        #expect(s.cashCents == 1_000_000 - 11_600 - 68 && s.reservedCents == 0 && s.buyingPowerCents == s.cashCents)
        #expect(s.positionsValueCents == 11_300)
        #expect(h.core.openOrderIds.isEmpty)

        // A sell below the market's reach stays open until the bid comes up.
        try h.feed(envelope(order("S", .sell, spyCall, qty: 1, limit: 150), at: ny(10, 11)))
        #expect(try h.feed(chain("SPY", at: ny(10, 15), [Quote(spyCall, 1.43, 1.47)])).isEmpty)   // 150 above the mid 1.45
        let sold = try h.feed(chain("SPY", at: ny(10, 20), [Quote(spyCall, 1.60, 1.64)]))          // bid 1.60 ≥ 150: hits the bid
        #expect(sold.fills.map(\.priceCents) == [160])
        #expect(sold.fills.first?.positionId == "pos-\(spyCall)" && sold.fills.first?.intent == .close)
    }

    // MARK: rejections

    @Test func unaffordableBuyIsRejectedWithTheAmounts() throws {
        var h = Harness(cash: 100_000)
        let out = try h.feed(envelope(order("C", .buy, spyCall, qty: 2, limit: 500), at: ny(10, 0)))
        #expect(out.map(\.topic) == [Topics.accounts, Topics.orderEvents])   // initial snapshot, then the rejection only
        let ev = try #require(out.events.first)
        #expect(ev.status == .rejected)
        #expect(ev.reason == "insufficient buying power: need $1,001.36, have $1,000.00")
        #expect(out[1].envelope.id == DeterministicID.make("order-event", "C", "rejected"))

        // Reservations count: after one $500.68 buy, another does not fit.
        #expect(try h.feed(envelope(order("D", .buy, spyCall, qty: 1, limit: 500), at: ny(10, 1))).events.map(\.status) == [.accepted])
        let again = try h.feed(envelope(order("E", .buy, spyCall, qty: 1, limit: 500), at: ny(10, 2)))
        #expect(again.count == 1)
        #expect(again.events.first?.reason == "insufficient buying power: need $500.68, have $499.32")
    }

    @Test func repeatedIdenticalCommandProducesNothing() throws {
        var h = Harness()
        let o = try order("R", .buy, spyCall, qty: 1, limit: 130)
        #expect(try h.feed(envelope(o, at: ny(10, 0))).events.map(\.status) == [.accepted])
        // A retry (new envelope id, later time) and a replay of the same envelope: no output, not placed twice.
        #expect(try h.feed(envelope(o, at: ny(10, 1), id: "retry-1")).isEmpty)
        #expect(try h.feed(envelope(o, at: ny(10, 0))).isEmpty)
        #expect(h.core.openOrderIds == ["R"])
        #expect(try h.feed(chain("SPY", at: ny(10, 5), [Quote(spyCall, 1.20, 1.27)])).fills.count == 1)
        #expect(try h.feed(envelope(o, at: ny(10, 6), id: "retry-2")).isEmpty)
        #expect(h.core.heldQuantity(spyCall) == 1)
        // Same for a command that was rejected.
        let big = try order("BIG", .buy, spyCall, qty: 1000, limit: 9_999)
        #expect(try h.feed(envelope(big, at: ny(10, 7))).events.map(\.status) == [.rejected])
        #expect(try h.feed(envelope(big, at: ny(10, 8), id: "retry-3")).isEmpty)
    }

    @Test func sameIdDifferentContentIsRejected() throws {
        var h = Harness()
        #expect(try h.feed(envelope(order("R", .buy, spyCall, qty: 1, limit: 130), at: ny(10, 0))).events.map(\.status) == [.accepted])
        let before = h.core.lastSnapshot
        let out = try h.feed(envelope(order("R", .buy, spyCall, qty: 5, limit: 130), at: ny(10, 1)))
        #expect(out.count == 1)
        let ev = try #require(out.events.first)
        #expect(ev.status == .rejected && ev.reason == "duplicate client_order_id with different content" && ev.quantity == 5)
        // Its id cannot clash with the original order's own events.
        #expect(out[0].envelope.id != DeterministicID.make("order-event", "R", "rejected"))
        #expect(h.core.lastSnapshot == before)
        // The original still fills, with its own quantity.
        #expect(try h.feed(chain("SPY", at: ny(10, 5), [Quote(spyCall, 1.20, 1.27)])).fills.map(\.quantity) == [1])
    }

    @Test func sellWithoutPositionIsRejected() throws {
        var h = Harness()
        let out = try h.feed(envelope(order("S1", .sell, spyCall, qty: 1, limit: 100), at: ny(10, 0)))
        let ev = try #require(out.events.first)
        #expect(ev.status == .rejected && ev.reason.hasPrefix("no position"))
        #expect(out.snapshots.count == 1)   // the initial one only

        try h.feed(envelope(order("B", .buy, spyCall, qty: 2, limit: 130), at: ny(10, 1)))
        try h.feed(chain("SPY", at: ny(10, 5), [Quote(spyCall, 1.20, 1.27)]))
        #expect(try h.feed(envelope(order("S2", .sell, spyCall, qty: 1, limit: 500), at: ny(10, 6))).events.map(\.status) == [.accepted])
        // 2 held, 1 committed to S2: selling 2 more is refused, 1 is fine.
        let tooMany = try h.feed(envelope(order("S3", .sell, spyCall, qty: 2, limit: 500), at: ny(10, 7)))
        #expect(tooMany.events.map(\.status) == [.rejected])
        #expect(tooMany.events.first?.reason.hasPrefix("no position") == true)
        #expect(try h.feed(envelope(order("S4", .sell, spyCall, qty: 1, limit: 500), at: ny(10, 8))).events.map(\.status) == [.accepted])
        // Another contract is not held at all.
        #expect(try h.feed(envelope(order("S5", .sell, spyPut, qty: 1, limit: 1), at: ny(10, 9))).events.first?.reason.hasPrefix("no position") == true)
    }

    @Test func orderForAnotherAccountIsRejected() throws {
        var h = Harness()
        let foreign = try order("F", .buy, spyCall, qty: 1, limit: 130, accountId: "someone-else")
        let out = try h.feed(envelope(foreign, at: ny(10, 0)))
        #expect(out.map(\.topic) == [Topics.accounts, Topics.orderEvents])
        let ev = try #require(out.events.first)
        #expect(ev.status == .rejected && ev.accountId == "someone-else" && ev.reason.hasPrefix("unknown account"))
        #expect(h.core.openOrderIds.isEmpty)
        #expect(try h.feed(envelope(foreign, at: ny(10, 1), id: "again")).isEmpty)
        // Our own order with the same client order id is a different order, and its events have other ids.
        let mine = try h.feed(envelope(order("F", .buy, spyCall, qty: 1, limit: 130), at: ny(10, 2)))
        #expect(mine.events.map(\.status) == [.accepted])
        #expect(!mine.on(Topics.orderEvents).map(\.envelope.id).contains(out[1].envelope.id))
    }

    @Test func unsupportedOrdersAreRejectedNotRefused() throws {
        var h = Harness()
        var equity = try order("EQ", .buy, "SPY", qty: 1, limit: 50_000, assetClass: .equity)
        equity.symbol = "QQQ"
        let e = try h.feed(envelope(equity, at: ny(10, 0)))
        #expect(e.events.first?.status == .rejected)
        #expect(e.events.first?.reason.hasPrefix("a stock order's symbol must be its ticker") == true)
        var buyToClose = try order("BC", .buy, spyCall, qty: 1, limit: 130)
        buyToClose.intent = .close
        buyToClose.positionId = "p"
        #expect(try h.feed(envelope(buyToClose, at: ny(10, 1))).events.map(\.status) == [.rejected])
        var tooLarge = try order("TL", .buy, spyCall, qty: Int.max / 2, limit: 9_999_999)
        tooLarge.reason = "overflow"
        #expect(try h.feed(envelope(tooLarge, at: ny(10, 2))).events.first?.reason.hasPrefix("order too large") == true)
        #expect(h.core.lastSnapshot?.seq == 1)
    }

    // MARK: money

    @Test func buyThenSellIsExactToTheCent() throws {
        var h = Harness()
        try h.feed(chain("SPY", at: ny(9, 55), [Quote(spyCall, 1.20, 1.27)]))
        try h.feed(envelope(order("A", .buy, spyCall, qty: 3, limit: 130), at: ny(10, 0)))
        let bought = try #require(try h.feed(chain("SPY", at: ny(10, 5), [Quote(spyCall, 1.20, 1.27)])).snapshots.first)
        #expect(bought.cashCents == 961_696)            // 1,000,000 − 3 × 127 × 100 − 3 × 68
        #expect(bought.positionsValueCents == 37_200)   // 3 × 100 × 124
        #expect(bought.equityCents == 998_896)
        #expect(bought.realizedPnlCents == 0 && bought.commissionsCents == 204)

        // A later chain re-marks the holding; the next snapshot shows it (mid 1.315 → 132).
        try h.feed(chain("SPY", at: ny(10, 7), [Quote(spyCall, 1.30, 1.33)]))
        let placed = try h.feed(envelope(order("B", .sell, spyCall, qty: 3, limit: 100), at: ny(10, 10)))
        #expect(placed.snapshots.first?.positionsValueCents == 39_600)

        let out = try h.feed(chain("SPY", at: ny(10, 15), [Quote(spyCall, 1.50, 1.60)]))
        #expect(out.fills.map(\.priceCents) == [150])  // limit 1.00 ≤ bid 1.50: hits the bid
        #expect(out.fills.first?.commissionCents == 195 && out.fills.first?.feesCents == 9)
        let s = try #require(out.snapshots.first)
        #expect(s.cashCents == 1_006_492)              // + 45,000 − 204
        #expect(s.realizedPnlCents == 6_492)           // 45,000 − 204 − 38,304
        #expect(s.commissionsCents == 408)
        #expect(s.positionsValueCents == 0 && s.equityCents == 1_006_492 && s.reservedCents == 0 && s.openOrders == 0)
        #expect(s.cashCents - 1_000_000 == s.realizedPnlCents)
        #expect(h.core.heldQuantity(spyCall) == 0)
    }

    @Test func partialSellsSplitTheCostBasisExactly() throws {
        var h = Harness()
        try h.feed(envelope(order("C", .buy, spyCall, qty: 1, limit: 130), at: ny(10, 0)))
        try h.feed(chain("SPY", at: ny(10, 5), [Quote(spyCall, 1.20, 1.27)]))            // 1 × 127: 12,768 with costs
        try h.feed(envelope(order("D", .buy, spyCall, qty: 2, limit: 140), at: ny(10, 6)))
        try h.feed(chain("SPY", at: ny(10, 10), [Quote(spyCall, 1.28, 1.31)]))           // 2 × 131: 26,336 with costs
        try h.feed(envelope(order("E", .sell, spyCall, qty: 1, limit: 100), at: ny(10, 12)))
        let first = try #require(try h.feed(chain("SPY", at: ny(10, 15), [Quote(spyCall, 1.50, 1.60)])).snapshots.first)
        // 15,000 − 68 − ⌊39,104 / 3⌋ = 14,932 − 13,034
        #expect(first.realizedPnlCents == 1_898)
        try h.feed(envelope(order("F", .sell, spyCall, qty: 2, limit: 100), at: ny(10, 16)))
        let last = try #require(try h.feed(chain("SPY", at: ny(10, 20), [Quote(spyCall, 1.40, 1.42)])).snapshots.first)
        // 28,000 − 136 − the remaining 26,070
        #expect(last.realizedPnlCents == 1_898 + 1_794)
        #expect(last.cashCents == 1_000_000 - 12_768 - 26_336 + 14_932 + 27_864)
        #expect(last.cashCents - 1_000_000 == last.realizedPnlCents)
        #expect(last.commissionsCents == 6 * 68)
    }

    // MARK: day orders

    /// Day-order tests place entries minutes before the close; the entry TTL would cancel them first.
    var longTTL: TradingParams {
        var p = TradingParams()
        p.execution.entryTtlMinutes = 60
        return p
    }

    @Test func dayOrderExpiresAfterTheCloseInDaylightTime() throws {
        #expect(ny(16, 0) == utc("2024-03-12T20:00:00Z"))
        var h = Harness(params: longTTL)
        try h.feed(chain("SPY", at: utc("2024-03-12T19:45:00Z"), [Quote(spyCall, 1.20, 1.27)]))
        let placed = try h.feed(envelope(order("G", .buy, spyCall, qty: 1, limit: 100), at: ny(15, 50)))
        #expect(placed.snapshots.last?.reservedCents == 10_068)
        // At 16:00 exactly it is still a live order (and 100 is below the mid: no fill).
        #expect(try h.feed(chain("SPY", at: utc("2024-03-12T20:00:00Z"), [Quote(spyCall, 1.20, 1.27)])).isEmpty)
        // 16:01: cancelled before this chain (where it would fill at 95) is looked at for fills.
        let late = try chain("SPY", at: utc("2024-03-12T20:01:00Z"), [Quote(spyCall, 0.90, 0.95)])
        let out = try h.feed(late)
        #expect(out.map(\.topic) == [Topics.orderEvents, Topics.accounts])
        let ev = try #require(out.events.first)
        #expect(ev.status == .cancelled && ev.reason == "day order expired unfilled" && ev.filledQuantity == 0)
        #expect(out[0].envelope.id == DeterministicID.make("order-event", "G", "cancelled"))
        #expect(out[0].envelope.eventTime == late.eventTime)
        let s = try #require(out.snapshots.first)
        #expect(s.reservedCents == 0 && s.buyingPowerCents == 1_000_000 && s.cashCents == 1_000_000 && s.openOrders == 0)
        #expect(h.core.openOrderIds.isEmpty)
    }

    @Test func dayOrderExpiresAfterTheCloseInStandardTime() throws {
        #expect(ny(16, 0, on: january16) == utc("2024-01-16T21:00:00Z"))
        var h = Harness(params: longTTL)
        try h.feed(envelope(order("J", .buy, spyCall, qty: 2, limit: 100), at: ny(15, 50, on: january16)))
        // 20:55Z and 21:00Z are 15:55 and 16:00 in New York: still live.
        #expect(try h.feed(chain("SPY", at: utc("2024-01-16T20:55:00Z"), [Quote(spyCall, 1.20, 1.27)])).isEmpty)
        #expect(try h.feed(chain("SPY", at: utc("2024-01-16T21:00:00Z"), [Quote(spyCall, 1.20, 1.27)])).isEmpty)
        // Any chain after the close expires it, whatever its underlying.
        let out = try h.feed(chain("XYZ", at: utc("2024-01-16T21:01:00Z"), [Quote(xyzCall, 1.00, 1.05)], price: 50))
        #expect(out.events.map(\.status) == [.cancelled])
        #expect(out.snapshots.first?.reservedCents == 0)
        #expect(out.snapshots.first?.buyingPowerCents == 1_000_000)
    }

    // MARK: invariants, determinism, restore

    /// A day of everything: fills both ways, rejections, duplicates, a cancel, two accounts.
    static func scenario() throws -> [AnyEnvelope] {
        [
            try chain("SPY", at: ny(9, 35), [Quote(spyCall, 1.20, 1.27), Quote(spyPut, 2.00, 2.04)]),
            try envelope(order("o1", .buy, spyCall, qty: 3, limit: 130), at: ny(9, 40)),
            try envelope(order("o2", .buy, spyPut, qty: 2, limit: 150), at: ny(9, 40)),
            try chain("SPY", at: ny(9, 40), [Quote(spyCall, 1.20, 1.27), Quote(spyPut, 2.00, 2.04)]),
            try envelope(order("o3", .buy, xyzCall, qty: 1, limit: 330), at: ny(9, 41)),
            try envelope(order("o1", .buy, spyCall, qty: 3, limit: 130), at: ny(9, 42), id: "retry"),
            try envelope(order("o1", .buy, spyCall, qty: 4, limit: 130), at: ny(9, 42)),
            try envelope(order("x1", .buy, spyCall, qty: 1, limit: 130, accountId: "other"), at: ny(9, 43)),
            try chain("SPY", at: ny(9, 45), [Quote(spyCall, 1.25, 1.29), Quote(spyPut, 1.40, 1.44)]),
            try chain("XYZ", at: ny(9, 45), [Quote(xyzCall, 3.10, 3.25)], price: 52),
            try envelope(order("o4", .sell, spyCall, qty: 2, limit: 120), at: ny(9, 50)),
            try envelope(order("o5", .sell, spyCall, qty: 2, limit: 120), at: ny(9, 50)),
            try envelope(order("o6", .buy, spyCall, qty: 10_000, limit: 130), at: ny(9, 51)),
            try chain("SPY", at: ny(9, 55), [Quote(spyCall, 1.35, 1.37), Quote(spyPut, 1.50, 1.52)]),
            try envelope(order("o7", .sell, spyPut, qty: 1, limit: 200), at: ny(10, 0)),
            try chain("SPY", at: ny(16, 30), [Quote(spyCall, 1.35, 1.37), Quote(spyPut, 1.50, 1.52)]),
        ]
    }

    @Test func invariantsHoldInEverySnapshotAndSeqIsStrictlyIncreasing() throws {
        var h = Harness()
        for e in try Self.scenario() { try h.feed(e) }   // Harness checks bp = cash − reserved, equity = cash + positions
        let snaps = h.snapshots
        #expect(snaps.count >= 8)
        #expect(snaps.map(\.seq) == Array(1...Int64(snaps.count)))
            #expect(h.outputs.fills.count == 4)   // o1, o2 (9:45), o3 (XYZ), o4 (9:55)
        #expect(h.outputs.events.filter { $0.status == .cancelled }.map(\.clientOrderId) == ["o7"])
        let last = try #require(snaps.last)
        #expect(last.openOrders == 0 && last.reservedCents == 0)
        #expect(h.core.heldQuantity(spyCall) == 1 && h.core.heldQuantity(spyPut) == 2 && h.core.heldQuantity(xyzCall) == 1)
        // Every output id is unique.
        let ids = h.outputs.map(\.envelope.id)
        #expect(Set(ids).count == ids.count)
    }

    @Test func sameInputsGiveIdenticalBytes() throws {
        var a = Harness(), b = Harness()
        for e in try Self.scenario() { try a.feed(e) }
        for e in try Self.scenario() { try b.feed(e) }
        #expect(!a.outputs.isEmpty)
        #expect(try a.outputs.bytes == b.outputs.bytes)
        #expect(a.outputs.map(\.topic) == b.outputs.map(\.topic))
    }

    @Test func resetThenRefeedRestoresTheSameOutputs() throws {
        var h = Harness()
        for e in try Self.scenario() { try h.feed(e) }
        let first = h.outputs
        let lastBefore = h.core.lastSnapshot
        h.core.reset()
        #expect(h.core.lastSnapshot == nil && h.core.openOrderIds.isEmpty && h.core.heldQuantity(spyCall) == 0)
        h.outputs = []
        for e in try Self.scenario() { try h.feed(e) }
        #expect(try h.outputs.bytes == first.bytes)
        #expect(h.core.lastSnapshot == lastBefore)
        // And the restored core carries on exactly as the original would.
        var original = Harness()
        for e in try Self.scenario() { try original.feed(e) }
        let next = try envelope(order("after", .sell, spyCall, qty: 1, limit: 100), at: ny(9, 31, on: march12.adding(days: 1)))
        #expect(try h.feed(next).bytes == original.feed(next).bytes)
    }
}
