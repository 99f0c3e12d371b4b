import OpsModel
import Testing
@testable import DispatchCore

/// Seed 000 #15 in the dispatcher: with `risk.max_portfolio_delta_dollars` / `max_portfolio_vega_dollars` set, the
/// account's portfolio Greeks (from `trading.greeks.v1`) plus the order's must stay within ± the limit.
@Suite("DispatchCore: portfolio Greeks gates")
struct GreeksGateTests {
    typealias D = DispatchDesk
    static let day = D.day

    /// SPY at $500; the calls and puts carry delta ±0.5 and vega 0.25 (per share per vol point), mid $2.52.
    /// $100,000 (large, day 1%) buys 3 contracts: dollar delta ±0.5 × 300 × $500 = ±$75,000, vega 0.25 × 300 = $75.
    static let chain = Fx.chain(500, at: Fx.ny(day, 10, 0), [
        D.quote(.call, 500, "2024-03-08", delta: 0.5, vega: 0.25), D.quote(.put, 500, "2024-03-08", delta: -0.5, vega: 0.25),
    ])

    static func params(delta: Double? = nil, vega: Double? = nil) -> TradingParams {
        var p = TradingParams()
        p.risk.maxPortfolioDeltaDollars = delta
        p.risk.maxPortfolioVegaDollars = vega
        return p
    }

    static func entry(_ params: TradingParams, portfolio: PortfolioGreeks?, direction: Direction = .bull,
                      chain: OptionChain = chain) throws -> (Decision, OrderCommand?) {
        var desk = D(params)
        try desk.ready(chain: chain)
        if let portfolio { try desk.feed(portfolio, at: Fx.ny(day, 10, 0), id: "g1") }
        let out = try desk.feed(D.signal("SPY", direction), at: Fx.ny(day, 10, 1), id: "s1")
        return (try #require(out.decision), out.order)
    }

    @Test("a BULL entry's dollar delta on top of the portfolio's, against ± the limit",
          arguments: [(24_999.0, true), (25_000, true), (25_001, false), (-175_000, true), (-175_001, false), (-90_000, true)])
    func bullDelta(current: Double, passes: Bool) throws {
        let (d, o) = try Self.entry(Self.params(delta: 100_000), portfolio: D.portfolio(dollarDelta: current))
        let g = try #require(D.gate(d, "portfolio_delta"))
        #expect(g.passed == passes)
        #expect(g.value == Fmt.fixed(current + 75_000, 2) && g.limit == "100000.00")
        #expect((o != nil) == passes)
        if !passes { #expect(d.skipReason == "portfolio_delta" && g.detail.contains("exceeds ±$100000")) }
        #expect(d.portfolioGreeks?.dollarDelta == current)
    }

    @Test("a BEAR entry adds negative dollar delta", arguments: [(-24_999.0, true), (-25_001, false), (50_000, true)])
    func bearDelta(current: Double, passes: Bool) throws {
        let (d, o) = try Self.entry(Self.params(delta: 100_000), portfolio: D.portfolio(dollarDelta: current), direction: .bear)
        let g = try #require(D.gate(d, "portfolio_delta"))
        #expect(g.passed == passes && g.value == Fmt.fixed(current - 75_000, 2))
        #expect((o != nil) == passes)
    }

    @Test("vega: the order's vega $ on top of the portfolio's", arguments: [(24.0, true), (25, true), (26, false), (-175, true), (-176, false)])
    func vega(current: Double, passes: Bool) throws {
        let (d, o) = try Self.entry(Self.params(vega: 100), portfolio: D.portfolio(vega: current))
        let g = try #require(D.gate(d, "portfolio_vega"))
        #expect(g.passed == passes && g.value == Fmt.fixed(current + 75, 2) && g.limit == "100.00")
        #expect((o != nil) == passes)
        if !passes { #expect(d.skipReason == "portfolio_vega") }
        #expect(D.gate(d, "portfolio_delta") == nil, "the delta limit is null")
    }

    @Test("the gates are absent when the limits are null (the default), and sit between max_exposure and buying_power when set")
    func placement() throws {
        let (off, _) = try Self.entry(TradingParams(), portfolio: D.portfolio(dollarDelta: 1e9, vega: 1e9))
        #expect(off.gates.map(\.gate) == DispatchCoreStateTests.gateNames)
        #expect(off.outcome == .order)
        let (on, _) = try Self.entry(Self.params(delta: 100_000, vega: 100), portfolio: nil)
        var names = DispatchCoreStateTests.gateNames
        names.insert(contentsOf: ["portfolio_delta", "portfolio_vega"], at: names.firstIndex(of: "buying_power")!)
        #expect(on.gates.map(\.gate) == names)
    }

    @Test("without portfolio Greeks yet (or only another account's) the portfolio counts as zero")
    func noPortfolioYet() throws {
        for portfolio in [nil, D.portfolio(dollarDelta: -60_000, account: "sim-2")] {
            let (d, o) = try Self.entry(Self.params(delta: 70_000), portfolio: portfolio)
            #expect(o == nil && d.skipReason == "portfolio_delta" && D.gate(d, "portfolio_delta")?.value == "75000.00")
            #expect(d.portfolioGreeks == nil)
        }
    }

    @Test("a stock-fallback entry adds its shares' dollars: 2 shares × $500")
    func stockFallback() throws {
        let wide = Fx.chain(500, at: Fx.ny(Self.day, 10, 0), [D.quote(.call, 500, "2024-03-08", delta: 0.5, vega: 0.25, bid: 2.00, ask: 2.60)])
        for (current, passes) in [(99_000.0, true), (99_001, false)] {
            let (d, o) = try Self.entry(Self.params(delta: 100_000, vega: 10), portfolio: D.portfolio(dollarDelta: current, vega: 10), chain: wide)
            #expect(d.route == "stock_fallback")
            #expect(D.gate(d, "portfolio_delta")?.passed == passes && D.gate(d, "portfolio_delta")?.value == Fmt.fixed(current + 1_000, 2))
            #expect(D.gate(d, "portfolio_vega")?.passed == true, "shares have no vega")
            #expect((o?.assetClass == .equity) == passes)
        }
    }

    @Test("a quote without the chain's Greeks is priced by Black-Scholes from its mid")
    func impliedFromTheMid() throws {
        // The seed chain's 500 call (no Greeks) at $2.52, two days out.
        let (d, _) = try Self.entry(Self.params(delta: 1_000_000), portfolio: nil, chain: DispatchCoreStateTests.chain)
        let g = try #require(D.gate(d, "portfolio_delta"))
        let added = try #require(Double(g.value ?? ""))
        let contracts = try #require(d.order?.quantity)
        #expect(g.passed && added > 0 && added < Double(contracts) * 100 * 500.2, "|delta| in (0, 1): \(g.detail)")
    }

    @Test("the Greeks limit refuses a scale-in add too; the entry's exposure is its first half")
    func scaleInThroughTheGreeksGates() throws {
        var p = Self.params(delta: 100_000)
        p.sizing.scaleIn = true
        // The entry: 3 sized, 1 ordered now (+$25,000) against 74,000 → 99,000 passes; the whole 3 would not.
        let (d, o) = try Self.entry(p, portfolio: D.portfolio(dollarDelta: 74_000))
        #expect(o?.quantity == 1 && D.gate(d, "portfolio_delta")?.value == "99000.00")

        var desk = D(p)
        try desk.ready(chain: Self.chain)
        try desk.feed(D.portfolio(dollarDelta: 60_000), at: Fx.ny(Self.day, 10, 0), id: "g1")
        var mark = D.position(.marked, "p1", symbol: "SPY240308C00500000", quantity: 1, entry: 200, mark: 220)
        mark.scaleInPending = 2
        #expect(try desk.feed(mark, at: Fx.ny(Self.day, 10, 2), id: "m1").isEmpty)
        // The next chain marks the call at $2.52, past the $2.40 trigger.
        let out = try desk.chain(Fx.chain(500, at: Fx.ny(Self.day, 10, 5), Self.chain.contracts))
        let add = try #require(out.decision)
        #expect(add.kind == "scale_in" && add.skipReason == "portfolio_delta" && out.orders.isEmpty)
        #expect(D.gate(add, "portfolio_delta")?.value == "110000.00", "60,000 + 0.5 × 200 × $500")
    }

    @Test("the latest portfolio Greeks of the account are used")
    func latestWins() throws {
        var desk = D(Self.params(delta: 100_000))
        try desk.ready(chain: Self.chain)
        try desk.feed(D.portfolio(dollarDelta: 50_000), at: Fx.ny(Self.day, 9, 58), id: "g1")
        try desk.feed(D.portfolio(dollarDelta: 10_000), at: Fx.ny(Self.day, 9, 59), id: "g2")
        let d = try #require(try desk.feed(D.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1").decision)
        #expect(D.gate(d, "portfolio_delta")?.value == "85000.00" && d.outcome == .order)
    }
}
