import Testing
import BrokerCore
import OpsModel

/// The `limit` fill model (the default), through the core: an order, then a sequence of quotes one minute apart;
/// which quote fills it and at what price.
@Suite("Fill model")
struct FillModelTests {

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var symbol: String
        var side: OrderSide
        var limit: Cents
        var quotes: [(Double, Double)]
        /// (index of the quote that fills it, price), or nil when it rests through them all.
        var fill: (Int, Cents)?
        var testDescription: String { name }
    }

    static let aaplCall = "AAPL240328C00170000"

    static let cases: [Case] = [
        // Penny pricing (SPY): the dispatcher's limit is the mid on a tick (1.235 → 1.24).
        Case(name: "unchanged quote fills a buy at the dispatcher's price", symbol: spyCall, side: .buy, limit: 124,
             quotes: [(1.20, 1.27)], fill: (0, 124)),
        Case(name: "a buy at the mid rounded down still fills an unchanged quote", symbol: spyCall, side: .buy, limit: 123,
             quotes: [(1.20, 1.27)], fill: (0, 123)),
        Case(name: "a buy below the mid rests", symbol: spyCall, side: .buy, limit: 122, quotes: [(1.20, 1.27)], fill: nil),
        Case(name: "quote up: the buy rests", symbol: spyCall, side: .buy, limit: 124, quotes: [(1.30, 1.37), (1.35, 1.40)], fill: nil),
        Case(name: "quote up then back: fills when it returns", symbol: spyCall, side: .buy, limit: 124,
             quotes: [(1.30, 1.37), (1.20, 1.27)], fill: (1, 124)),
        Case(name: "quote down through the limit: takes the lower offer", symbol: spyCall, side: .buy, limit: 124,
             quotes: [(1.10, 1.16)], fill: (0, 116)),
        Case(name: "quote down, limit still inside: fills at the limit", symbol: spyCall, side: .buy, limit: 124,
             quotes: [(1.15, 1.25)], fill: (0, 124)),
        Case(name: "crossed limit takes the ask, not the limit", symbol: spyCall, side: .buy, limit: 130,
             quotes: [(1.20, 1.27)], fill: (0, 127)),
        Case(name: "no bid: nothing fills", symbol: spyCall, side: .buy, limit: 130, quotes: [(0, 0.05), (1.20, 1.27)], fill: (1, 127)),
        // Sells mirror it.
        Case(name: "sell at the bid (an exit) hits the bid", symbol: spyCall, side: .sell, limit: 120, quotes: [(1.20, 1.27)], fill: (0, 120)),
        Case(name: "sell at the mid fills an unchanged quote", symbol: spyCall, side: .sell, limit: 124, quotes: [(1.20, 1.27)], fill: (0, 124)),
        Case(name: "sell above the mid rests", symbol: spyCall, side: .sell, limit: 125, quotes: [(1.20, 1.27)], fill: nil),
        Case(name: "quote up: a sell hits the higher bid", symbol: spyCall, side: .sell, limit: 124, quotes: [(1.30, 1.37)], fill: (0, 130)),
        Case(name: "quote down: the sell rests", symbol: spyCall, side: .sell, limit: 124, quotes: [(1.10, 1.16), (1.05, 1.12)], fill: nil),
        // A class outside the penny program: dimes from $3, nickels below.
        Case(name: "non-penny, unchanged quote, mid on a dime", symbol: xyzCall, side: .buy, limit: 320, quotes: [(3.10, 3.30)], fill: (0, 320)),
        Case(name: "non-penny, mid between dimes: the dispatcher's 3.30", symbol: xyzCall, side: .buy, limit: 330,
             quotes: [(3.10, 3.40)], fill: (0, 330)),
        Case(name: "non-penny, mid between dimes: 3.20 is the tick below the mid", symbol: xyzCall, side: .buy, limit: 320,
             quotes: [(3.10, 3.40)], fill: (0, 320)),
        Case(name: "non-penny, 3.10 is below the mid", symbol: xyzCall, side: .buy, limit: 310, quotes: [(3.10, 3.40)], fill: nil),
        Case(name: "non-penny below $3: nickels", symbol: xyzCall, side: .buy, limit: 255, quotes: [(2.50, 2.60)], fill: (0, 255)),
        Case(name: "non-penny across $3 (nickel bid, dime ask)", symbol: xyzCall, side: .buy, limit: 300, quotes: [(2.95, 3.10)], fill: (0, 300)),
        Case(name: "non-penny sell hits the bid", symbol: xyzCall, side: .sell, limit: 300, quotes: [(3.10, 3.40)], fill: (0, 310)),
        Case(name: "off-grid quote with no tick inside it fills nothing", symbol: xyzCall, side: .buy, limit: 330,
             quotes: [(3.12, 3.18)], fill: nil),
        // A penny-program class (AAPL): nickels from $3.
        Case(name: "penny program from $3: nickels", symbol: aaplCall, side: .buy, limit: 515, quotes: [(5.10, 5.20)], fill: (0, 515)),
        Case(name: "penny program below $3: pennies", symbol: aaplCall, side: .buy, limit: 256, quotes: [(2.50, 2.61)], fill: (0, 256)),
    ]

    @Test(arguments: cases)
    func quoteSequence(_ c: Case) throws {
        var h = Harness()
        let underlying = try #require(OCCSymbol(c.symbol)).root
        if c.side == .sell {
            // Hold 1 first: a marketable buy filled at 9:51.
            try h.feed(envelope(order("HOLD", .buy, c.symbol, qty: 1, limit: 9_000), at: ny(9, 50)))
            #expect(try h.feed(chain(underlying, at: ny(9, 51), [Quote(c.symbol, 1.00, 1.10)])).fills.count == 1)
        }
        try h.feed(envelope(order("O", c.side, c.symbol, qty: 1, limit: c.limit), at: ny(10, 0)))
        var fills = [(Int, Cents)]()
        for (k, q) in c.quotes.enumerated() {
            let out = try h.feed(chain(underlying, at: ny(10, k + 1), [Quote(c.symbol, q.0, q.1)]))
            fills += out.fills.map { (k, $0.priceCents) }
        }
        #expect(fills.count <= 1)
        #expect(fills.first?.0 == c.fill?.0)
        #expect(fills.first?.1 == c.fill?.1)
        #expect(h.core.openOrderIds == (c.fill == nil ? ["O"] : []))
    }

    /// Over a grid of quotes on the tick grid (every spread of 1–4 ticks, bids from a nickel to $6): the
    /// dispatcher's limit (the mid to the nearest tick) fills an unchanged quote at exactly that limit (or at the
    /// ask, if it rounded up to it); a buy at the ask or a sell at the bid fills there; nothing fills outside the quote.
    @Test(arguments: ["SPY", "AAPL", "XYZ"])
    func unchangedQuoteFillsAtTheDispatchersPriceAndNeverOutsideTheQuote(_ underlying: String) {
        let ticks = TradingParams().execution.ticks
        var bid: Cents = 5
        var checked = 0
        while bid < 600 {
            for width in 1...4 {
                var ask = bid
                for _ in 0..<width { ask += ticks.tickCents(price: Double(ask) / 100, underlying: underlying) }
                let b = Double(bid) / 100, a = Double(ask) / 100
                let limit = ticks.cents((b + a) / 2, underlying: underlying, rounding: .nearest)
                let buy = SimulatedBroker.limitFillCents(side: .buy, limitCents: limit, bid: b, ask: a, underlying: underlying, ticks: ticks)
                let sell = SimulatedBroker.limitFillCents(side: .sell, limitCents: limit, bid: b, ask: a, underlying: underlying, ticks: ticks)
                #expect(buy == min(limit, ask), "\(underlying) \(b)/\(a) limit \(limit)")
                #expect(sell == max(limit, bid), "\(underlying) \(b)/\(a) limit \(limit)")
                for l in [bid - 1, bid, limit, ask, ask + 7] where l > 0 {
                    for side in [OrderSide.buy, .sell] {
                        if let p = SimulatedBroker.limitFillCents(side: side, limitCents: l, bid: b, ask: a, underlying: underlying, ticks: ticks) {
                            #expect(p >= bid && p <= ask)
                            #expect(side == .buy ? p <= l : p >= l)
                        }
                    }
                }
                checked += 1
            }
            bid += ticks.tickCents(price: Double(bid) / 100, underlying: underlying)
        }
        #expect(checked > 100)
    }

    /// The alternatives: `mid` (the next mid plus slippage, rounded against the trader, must meet the limit) and
    /// `cross` (ask or bid plus slippage).
    @Test(arguments: [
        ("mid", Cents(130), Cents?(125)), ("mid", Cents(124), nil), ("cross", Cents(130), Cents?(128)), ("cross", Cents(127), nil),
        ("limit", Cents(124), Cents?(124)),
    ])
    func alternativeModels(model: String, limit: Cents, expected: Cents?) throws {
        var params = TradingParams()
        params.execution.fillModel = model
        var h = Harness(params: params)
        try h.feed(envelope(order("O", .buy, spyCall, qty: 1, limit: limit), at: ny(10, 0)))
        let out = try h.feed(chain("SPY", at: ny(10, 1), [Quote(spyCall, 1.20, 1.27)]))
        #expect(out.fills.first?.priceCents == expected)
    }
}
