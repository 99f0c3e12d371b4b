import Testing
import BrokerCore
import OpsModel

/// Stock orders (the dispatcher's fallback): filled against the first bar strictly after the order.
@Suite("Stock orders")
struct StockOrderTests {

    func stock(_ cid: String, _ side: OrderSide, qty: Int, limit: Cents, ticker: String = "ABC") throws -> OrderCommand {
        try order(cid, side, ticker, qty: qty, limit: limit, assetClass: .equity)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var side: OrderSide
        var limit: Cents
        /// open, high, low, close
        var bars: [(Double, Double, Double, Double)]
        var fill: (Int, Cents)?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "buy limit above the open fills at the open", side: .buy, limit: 10_050, bars: [(100.20, 100.60, 100.10, 100.40)], fill: (0, 10_020)),
        Case(name: "buy limit at the open fills at the open", side: .buy, limit: 10_020, bars: [(100.20, 100.60, 100.10, 100.40)], fill: (0, 10_020)),
        Case(name: "buy limit below the open, the bar trades down to it", side: .buy, limit: 10_015, bars: [(100.20, 100.60, 100.10, 100.40)], fill: (0, 10_015)),
        Case(name: "buy limit below the low rests, then a later bar reaches it", side: .buy, limit: 10_005,
             bars: [(100.20, 100.60, 100.10, 100.40), (100.10, 100.20, 100.00, 100.05)], fill: (1, 10_005)),
        Case(name: "buy: an open between cents rounds up", side: .buy, limit: 10_050, bars: [(100.203, 100.60, 100.10, 100.40)], fill: (0, 10_021)),
        Case(name: "sell limit below the open fills at the open", side: .sell, limit: 9_990, bars: [(100.20, 100.60, 100.10, 100.40)], fill: (0, 10_020)),
        Case(name: "sell limit above the open, the bar trades up to it", side: .sell, limit: 10_050, bars: [(100.20, 100.60, 100.10, 100.40)], fill: (0, 10_050)),
        Case(name: "sell limit above the high rests", side: .sell, limit: 10_070, bars: [(100.20, 100.60, 100.10, 100.40)], fill: nil),
    ]

    @Test(arguments: cases)
    func barSequence(_ c: Case) throws {
        var h = Harness()
        if c.side == .sell {
            try h.feed(envelope(stock("HOLD", .buy, qty: 10, limit: 20_000), at: ny(9, 50)))
            #expect(try h.feed(bar("ABC", endingAt: ny(9, 51), open: 100, high: 100, low: 100, close: 100)).fills.count == 1)
        }
        try h.feed(envelope(stock("O", c.side, qty: 10, limit: c.limit), at: ny(10, 0)))
        // A bar ending at the order's own time is not after it.
        #expect(try h.feed(bar("ABC", endingAt: ny(10, 0), open: 1, high: 500, low: 1, close: 100)).fills.isEmpty)
        var fills = [(Int, Fill)]()
        for (k, b) in c.bars.enumerated() {
            let out = try h.feed(bar("ABC", endingAt: ny(10, k + 1), open: b.0, high: b.1, low: b.2, close: b.3))
            fills += out.fills.map { (k, $0) }
        }
        #expect(fills.first?.0 == c.fill?.0)
        #expect(fills.first?.1.priceCents == c.fill?.1)
        if let (k, f) = fills.first {
            // The bar's low and high stand in for the quote.
            #expect(f.quoteBid == c.bars[k].2 && f.quoteAsk == c.bars[k].1)
            #expect(f.assetClass == .equity && f.symbol == "ABC" && f.underlying == "ABC" && f.quantity == 10)
            #expect(f.commissionCents == 0 && f.feesCents == 0)
        }
    }

    @Test func aStockBuyReservesTheLimitAndIsMarkedAtTheBarClose() throws {
        var params = TradingParams()
        params.execution.stockCommissionPerShareCents = 1
        var h = Harness(params: params)
        let placed = try h.feed(envelope(stock("B", .buy, qty: 10, limit: 10_050), at: ny(10, 0)))
        #expect(placed.events.map(\.status) == [.accepted])
        #expect(placed.snapshots.last?.reservedCents == Cents(10 * 10_050 + 10))
        let out = try h.feed(bar("ABC", endingAt: ny(10, 1), open: 100.20, high: 100.60, low: 100.10, close: 100.40))
        let f = try #require(out.fills.first)
        #expect(f.priceCents == 10_020 && f.commissionCents == 10)
        let s = try #require(out.snapshots.first)
        #expect(s.cashCents == 1_000_000 - 100_200 - 10)
        #expect(s.reservedCents == 0)
        #expect(s.positionsValueCents == 10 * 10_040)   // multiplier 1, marked at the close
        #expect(h.core.heldQuantity("ABC") == 10)
        // A later bar re-marks it; the next snapshot shows it.
        try h.feed(bar("ABC", endingAt: ny(10, 2), open: 101, high: 102, low: 100.5, close: 101.5))
        let sell = try h.feed(envelope(stock("S", .sell, qty: 10, limit: 10_100), at: ny(10, 3)))
        #expect(sell.snapshots.last?.positionsValueCents == Cents(10 * 10_150))
        let sold = try h.feed(bar("ABC", endingAt: ny(10, 4), open: 101.2, high: 101.3, low: 100.9, close: 101))
        #expect(sold.fills.first?.priceCents == 10_120)
        let last = try #require(sold.snapshots.first)
        // 101,200 − 10 − (100,200 + 10)
        #expect(last.realizedPnlCents == 980 && last.commissionsCents == 20 && last.positionsValueCents == 0)
    }

    @Test func stockFillsAreCappedPerBarAndByWhatTheBarTraded() throws {
        var params = TradingParams()
        params.execution.maxSharesPerBar = 100
        var h = Harness(params: params, cash: 10_000_000)
        try h.feed(envelope(stock("B", .buy, qty: 250, limit: 10_100), at: ny(10, 0)))
        var pieces = [Int]()
        for (m, volume) in [(1, Int64(1_000)), (2, 40), (3, 0), (4, 1_000), (5, 1_000)] {
            pieces += try h.feed(bar("ABC", endingAt: ny(10, m), open: 100, high: 100.5, low: 99.5, close: 100, volume: volume)).fills.map(\.quantity)
        }
        #expect(pieces == [100, 40, 100, 10])
        #expect(h.outputs.events.map(\.status) == [.accepted, .partiallyFilled, .partiallyFilled, .partiallyFilled, .filled])
        #expect(h.core.heldQuantity("ABC") == 250)
    }

    @Test func anUnfilledStockEntryExpiresLikeAnyEntry() throws {
        var h = Harness()
        try h.feed(envelope(stock("B", .buy, qty: 10, limit: 9_000), at: ny(10, 0)))
        #expect(try h.feed(bar("ABC", endingAt: ny(10, 5), open: 100, high: 101, low: 99, close: 100)).isEmpty)
        let out = try h.feed(bar("ABC", endingAt: ny(10, 6), open: 100, high: 101, low: 89, close: 100))
        #expect(out.events.map(\.status) == [.cancelled] && out.fills.isEmpty)
        #expect(out.snapshots.first?.reservedCents == 0)
    }

    @Test func barsOfAnotherTickerAndChainsDoNotFillAStockOrder() throws {
        var h = Harness()
        try h.feed(envelope(stock("B", .buy, qty: 10, limit: 20_000), at: ny(10, 0)))
        #expect(try h.feed(bar("XYZ", endingAt: ny(10, 1), open: 100, high: 101, low: 99, close: 100)).isEmpty)
        #expect(try h.feed(chain("ABC", at: ny(10, 1), [Quote("ABC240328C00100000", 1.00, 1.05)])).isEmpty)
        #expect(try h.feed(bar("ABC", endingAt: ny(10, 2), open: 100, high: 101, low: 99, close: 100)).fills.count == 1)
    }
}
