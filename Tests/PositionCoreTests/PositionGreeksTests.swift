import Foundation
import Testing
import OpsModel
import OptionsMath
@testable import PositionCore

/// Seed 000 #15: per-position Black-Scholes Greeks at each mark, and their per-account portfolio sums.
@Suite("position-manager: position and portfolio Greeks")
struct PositionGreeksTests {
    static let put = "SPY240412P00490000"
    static let t0 = Input.ny(2024, 3, 12, 10, 0)
    static let t1 = Input.ny(2024, 3, 12, 10, 5)

    static func params(dividend: Double) -> TradingParams {
        var p = TradingParams()
        if dividend != 0 { p.greeks.dividendYield = ["SPY": dividend] }
        return p
    }

    @Test("a marked event carries the Greeks: IV from the mid, ACT/365 to 16:00 New York on the expiration day",
          arguments: [K.swing, put], [0.0, 0.013])
    func markedGreeks(symbol: String, dividend: Double) throws {
        var h = Harness(params: Self.params(dividend: dividend))
        try h.feed(Input.fill(at: Self.t0, clientOrderId: "entry-1", symbol: symbol))
        // Mid $2.50 (the mark), the underlying at $500.
        let out = try h.feed(Input.chain(at: Self.t1, [(symbol, 2.47, 2.53)]))
        let e = try #require(out.positionEvents.first)
        #expect(e.event == .marked && e.markPriceCents == 250)
        let g = try #require(e.greeks)
        // 10:05 EDT on 03-12 to 16:00 EDT on 04-12: 31 days, 5 h 55 min.
        #expect(g.years == Double(31 * 86_400 + 5 * 3_600 + 55 * 60) / (365 * 86_400))
        #expect(g.underlyingPrice == 500)
        let occ = try #require(OCCSymbol(symbol))
        let kind: OptionKind = occ.right == .call ? .call : .put
        func price(spot: Double = 500, years: Double = g.years, rate: Double = 0.05, vol: Double = g.iv) -> Double {
            BlackScholes.price(kind, spot: spot, strike: occ.strike, years: years, rate: rate, dividendYield: dividend, volatility: vol)
        }
        #expect(abs(price() - 2.50) < 1e-6)
        #expect(g.iv > 0.05 && g.iv < 1)
        if kind == .call { #expect(g.delta > 0 && g.delta < 1) } else { #expect(g.delta < 0 && g.delta > -1) }
        #expect(g.gamma > 0 && g.vega > 0 && g.theta < 0)
        #expect(kind == .call ? g.rho > 0 : g.rho < 0)
        // Units against central finite differences of the price: delta per $1, gamma per $1², vega per vol point,
        // rho per rate point, theta per calendar day (one day closer to expiry).
        let ds = 0.01, dv = 1e-4, dr = 1e-4, day = 1.0 / 365
        #expect(abs((price(spot: 500 + ds) - price(spot: 500 - ds)) / (2 * ds) - g.delta) < 1e-5)
        #expect(abs((price(spot: 500 + ds) - 2 * price() + price(spot: 500 - ds)) / (ds * ds) - g.gamma) < 1e-4)
        #expect(abs((price(vol: g.iv + dv) - price(vol: g.iv - dv)) / (2 * dv) / 100 - g.vega) < 1e-6)
        #expect(abs((price(rate: 0.05 + dr) - price(rate: 0.05 - dr)) / (2 * dr) / 100 - g.rho) < 1e-6)
        #expect(abs((price(years: g.years - day) - price()) - g.theta) < abs(g.theta) * 0.05)
        #expect(h.core.position(PhaseThree.pid)?.greeks == g)
    }

    @Test("no IV (a mid below intrinsic value): no Greeks, and the portfolio counts the position as unpriced")
    func unpriced() throws {
        var h = Harness(params: TradingParams())
        // A 490 put with the underlying at $500 is out of the money; a 510 call's intrinsic is 0. A 480 call is
        // worth at least 500 − 480 × e^(−rT) ≈ $21.98: a mid of $2.50 has no IV.
        let deep = "SPY240412C00480000"
        try h.feed(Input.fill(at: Self.t0, clientOrderId: "entry-1", symbol: deep))
        let out = try h.feed(Input.chain(at: Self.t1, [(deep, 2.47, 2.53)]))
        #expect(out.positionEvents.first?.greeks == nil)
        let g = try #require(h.greeks.last)
        #expect(g.positions == 1 && g.unpriced == 1 && g.delta == 0 && g.vega == 0)
    }

    /// sim-1: 2 calls, 3 puts, 10 shares; sim-2: 5 calls. One chain quotes both contracts.
    static func portfolio(_ h: inout Harness) throws -> (call: PositionGreeks, put: PositionGreeks, out: [Emit]) {
        h = Harness(params: TradingParams())
        try h.feed(Input.fill(at: t0, clientOrderId: "c1", symbol: K.swing, quantity: 2))
        try h.feed(Input.fill(at: t0, clientOrderId: "p1", symbol: put, quantity: 3))
        try h.feed(Input.fill(at: t0, clientOrderId: "k1", symbol: "SPY", quantity: 10, priceCents: 50_000, commissionCents: 0,
                              feesCents: 0, assetClass: .equity))
        try h.feed(Input.fill(at: t0, clientOrderId: "c2", symbol: K.swing, quantity: 5, accountId: "sim-2"))
        let out = try h.feed(Input.chain(at: t1, [(K.swing, 2.49, 2.51), (put, 3.10, 3.14)]))
        let c = try #require(out.positionEvents.first { $0.positionId == PositionManagerCore.positionId(entryClientOrderId: "c1") }?.greeks)
        let p = try #require(out.positionEvents.first { $0.positionId == PositionManagerCore.positionId(entryClientOrderId: "p1") }?.greeks)
        return (c, p, out)
    }

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(b)) }

    @Test("portfolio Greeks per account: Σ greek × 100 × contracts held, shares with delta 1; other accounts apart")
    func portfolioSums() throws {
        var h = Harness()
        let before = h.greeks.count
        let (c, p, _) = try Self.portfolio(&h)
        #expect(before == 0)
        // After the chain: one message per account concerned, in account order.
        let chainGreeks = Array(h.greeks.suffix(2))
        #expect(chainGreeks.map(\.accountId) == ["sim-1", "sim-2"])
        let one = chainGreeks[0], two = chainGreeks[1]
        #expect(one.positions == 3 && one.unpriced == 0)
        #expect(Self.close(one.delta, c.delta * 200 + p.delta * 300 + 10))
        #expect(Self.close(one.gamma, c.gamma * 200 + p.gamma * 300))
        #expect(Self.close(one.vega, c.vega * 200 + p.vega * 300))
        #expect(Self.close(one.theta, c.theta * 200 + p.theta * 300))
        #expect(Self.close(one.rho, c.rho * 200 + p.rho * 300))
        #expect(Self.close(one.dollarDelta, c.delta * 200 * 500 + p.delta * 300 * 500 + 10 * 500.00))
        #expect(Self.close(one.dollarGamma, (c.gamma * 200 + p.gamma * 300) * 500 * 500 / 100))
        #expect(two.positions == 1 && two.unpriced == 0)
        #expect(Self.close(two.delta, c.delta * 500) && Self.close(two.vega, c.vega * 500))
        #expect(Self.close(two.dollarDelta, c.delta * 500 * 500))
    }

    @Test("portfolio Greeks on an entry fill count the new position as unpriced; after a partial exit the rest counts")
    func portfolioOnFills() throws {
        var h = Harness(params: TradingParams())
        try h.feed(Input.fill(at: Self.t0, clientOrderId: "c1", symbol: K.swing, quantity: 4))
        var g = try #require(h.greeks.last)
        #expect(g.accountId == "sim-1" && g.positions == 1 && g.unpriced == 1 && g.delta == 0)
        try h.feed(Input.chain(at: Self.t1, [(K.swing, 2.49, 2.51)]))
        let pid = PositionManagerCore.positionId(entryClientOrderId: "c1")
        var c = try #require(h.core.position(pid)?.greeks)
        g = try #require(h.greeks.last)
        #expect(g.unpriced == 0 && Self.close(g.delta, c.delta * 400) && Self.close(g.vega, c.vega * 400))
        // The +50 % target sells 2 of 4; the next mark's sums count the 2 left.
        let order = try #require(try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 10), [(K.swing, 3.74, 3.76)])).orders.first)
        #expect(order.quantity == 2)
        let p = try #require(h.core.position(pid))
        try h.feed(Input.exitFill(at: Input.ny(2024, 3, 12, 10, 11), position: p, clientOrderId: order.clientOrderId, quantity: 2, priceCents: 375))
        try h.feed(Input.chain(at: Input.ny(2024, 3, 12, 10, 15), [(K.swing, 3.70, 3.76)]))
        c = try #require(h.core.position(pid)?.greeks)
        g = try #require(h.greeks.last)
        #expect(g.positions == 1 && Self.close(g.delta, c.delta * 200) && Self.close(g.gamma, c.gamma * 200))
    }

    @Test("a closed position leaves the portfolio")
    func closedLeaves() throws {
        var h = Harness()
        _ = try Self.portfolio(&h)
        let p = try #require(h.core.position(PositionManagerCore.positionId(entryClientOrderId: "c2")))
        try h.feed(Input.exitFill(at: Input.ny(2024, 3, 12, 10, 6), position: p, priceCents: 250))
        let g = try #require(h.greeks.last)
        #expect(g.accountId == "sim-2" && g.positions == 0 && g.delta == 0 && g.dollarDelta == 0)
    }

    /// The restore scenario has four option positions of one account open at once (day 3, 10:30).
    @Test("the same inputs give the same portfolio Greeks bytes in every core instance")
    func deterministicSums() throws {
        let inputs = try ExitStateRestoreTests.scenario()
        var runs = [[[UInt8]]]()
        for _ in 0..<8 {
            var core = PositionManagerCore(params: TradingParams())
            let out = try ExitStateRestoreTests.run(inputs, core: &core).flatMap { $0 }.filter { $0.topic == Topics.greeks }
            runs.append(try out.encoded())
        }
        #expect(runs[0].count > 10)
        let distinct = Set(runs.map { $0.flatMap { $0 } }).count
        #expect(distinct == 1, "sums in position-id order: the same bytes from every core")
    }
}
