import Foundation
import Testing
import OpsModel
@testable import DispatchCore

@Suite("ContractSelection")
struct ContractSelectionTests {
    /// Wednesday 2024-03-06, 10:00 New York.
    static let asOf = Fx.ny("2024-03-06", 10, 0)

    func choose(_ chain: OptionChain, _ direction: Direction = .bull, _ strategy: TradeStrategy = .dayTrade,
                asOf: Timestamp = asOf, params: TradingParams = Fx.params) throws -> Selection {
        try chain.validate(eventTime: chain.asOf) // fixtures are chains the runtime would accept
        return ContractSelection.choose(chain: chain, direction: direction, strategy: strategy, asOf: asOf, params: params)
    }

    @Test("with equal quality the nearest liquid strike in the window wins, with its quote filled in")
    func nearestLiquid() throws {
        let chain = Fx.chain(500.4, at: Self.asOf, [
            Fx.quote(.call, 499, "2024-03-08"),
            Fx.quote(.call, 500, "2024-03-08", bid: 2.00, ask: 2.60),      // nearest, spread 26% → refused
            Fx.quote(.call, 501, "2024-03-08"),
            Fx.quote(.call, 502, "2024-03-08"),
            Fx.quote(.call, 500, "2024-03-15"),                              // 9 DTE: outside 0–7
            Fx.quote(.put, 500, "2024-03-08"),                               // wrong right
        ])
        let s = try choose(chain)
        let c = try #require(s.chosen)
        #expect(c.symbol == "SPY240308C00501000")
        #expect(c.right == .call)
        #expect(c.strike == 501)
        #expect(c.expiration == Fx.date("2024-03-08"))
        #expect(c.dte == 2)
        #expect(c.bid == 2.51 && c.ask == 2.53)
        #expect(abs(c.mid - 2.52) < 1e-12)
        #expect(abs(c.spreadPct - 0.02 / 2.52 * 100) < 1e-9)
        #expect(c.volume == 1_000 && c.openInterest == 5_000)
        #expect(s.considered == 5)
        #expect(s.refusals == ["spread": 1, "dte": 1])
        #expect(s.detail == "4 calls in 0–7 DTE, 3 passing the option gates; chose SPY240308C00501000 (score 0.672, strike 501, 2 DTE, mid 2.52, spread 0.8%, delta n/a)")
        #expect(s.candidates.map(\.strike) == [501, 499, 502], "equal scores rank by distance to the underlying")
        #expect(s.considered == s.refusals.values.reduce(0, +) + 3) // every call is liquid or refused once
    }

    @Test("BEAR buys puts")
    func bearPuts() throws {
        let chain = Fx.chain(500.4, at: Self.asOf, [
            Fx.quote(.call, 500, "2024-03-08"),
            Fx.quote(.put, 500, "2024-03-08"),
            Fx.quote(.put, 502.5, "2024-03-08"),
        ])
        let s = try choose(chain, .bear)
        let c = try #require(s.chosen)
        #expect(c.right == .put)
        #expect(c.symbol == "SPY240308P00500000")
        #expect(s.considered == 2)
        #expect(s.detail.hasPrefix("2 puts in 0–7 DTE, 2 passing the option gates; chose SPY240308P00500000"))
    }

    @Test("a swing trade chooses inside 14–45 DTE only (with the time exit off)")
    func swingWindow() throws {
        let chain = Fx.chain(500.4, at: Self.asOf, [
            Fx.quote(.call, 500, "2024-03-08"),   // 2: day window only
            Fx.quote(.call, 500, "2024-03-19"),   // 13: just outside
            Fx.quote(.call, 505, "2024-03-20"),   // 14: first day inside
            Fx.quote(.call, 510, "2024-04-19"),   // 44
            Fx.quote(.call, 500, "2024-04-22"),   // 47: outside
        ])
        let s = try choose(chain, .bull, .swingTrade, params: Self.noTimeExit)
        let c = try #require(s.chosen)
        #expect(c.symbol == "SPY240320C00505000")
        #expect(c.dte == 14)
        #expect(s.refusals == ["dte": 3])
        #expect(s.detail.hasPrefix("2 calls in 14–45 DTE, 2 passing the option gates; chose"))
        let day = try #require(try choose(chain, .bull, .dayTrade).chosen)
        #expect(day.symbol == "SPY240308C00500000")
        // With the 21-DTE time exit on (the default) the window starts at 22: a contract it would exit at once is not bought.
        let timed = try choose(chain, .bull, .swingTrade)
        #expect(timed.chosen?.symbol == "SPY240419C00510000")
        #expect(timed.detail.hasPrefix("1 call in 22–45 DTE, 1 passing the option gates; chose"))
    }

    static let noTimeExit: TradingParams = { var p = Fx.params; p.exits.timeExitDte = 0; return p }()

    @Test("ties on distance go to the nearer expiration, then the lower strike, whatever the chain order")
    func tieBreaks() throws {
        let a = Fx.quote(.call, 500, "2024-03-08")
        let b = Fx.quote(.call, 501, "2024-03-08")
        let c0 = Fx.quote(.call, 501, "2024-03-06")
        // 500 and 501 are both 0.5 from 500.5: same expiration → lower strike.
        for contracts in [[a, b], [b, a]] {
            #expect(try choose(Fx.chain(500.5, at: Self.asOf, contracts)).chosen?.symbol == "SPY240308C00500000")
        }
        // equal distance, different expirations → the nearer (0DTE) one even with the higher strike.
        for contracts in [[a, b, c0], [c0, b, a], [b, c0, a]] {
            #expect(try choose(Fx.chain(500.5, at: Self.asOf, contracts)).chosen?.symbol == "SPY240306C00501000")
        }
    }

    @Test("distance ties survive binary noise (100.1 and 100.3 around 100.2)")
    func noisyTie() throws {
        let chain = Fx.chain(100.2, at: Self.asOf, [
            Fx.quote(.call, 100.3, "2024-03-08", root: "XYZ"), Fx.quote(.call, 100.1, "2024-03-08", root: "XYZ"),
        ], underlying: "XYZ")
        #expect(try choose(chain).chosen?.strike == 100.1)
    }

    @Test("nothing qualifies: nil, with the reasons counted")
    func noneQualifies() throws {
        let chain = Fx.chain(500.4, at: Self.asOf, [
            Fx.quote(.call, 500, "2024-03-08", bid: 2.00, ask: 2.60),
            Fx.quote(.call, 501, "2024-03-08", bid: 0.28, ask: 0.30),
            Fx.quote(.call, 502, "2024-03-08", bid: 0, ask: 0.05),
            Fx.quote(.call, 500, "2024-03-28"),
        ])
        let s = try choose(chain)
        #expect(s.chosen == nil)
        #expect(s.considered == 4)
        #expect(s.refusals == ["spread": 1, "premium": 1, "bid_ask": 1, "dte": 1])
        #expect(s.detail == "no call chosen: 3 calls in 0–7 DTE, 0 passing the option gates (refused: bid_ask 1, spread 1, premium 1); 1 call outside the window")
    }

    @Test("an empty side of the chain says so")
    func noContractsOfThatRight() throws {
        let s = try choose(Fx.chain(500.4, at: Self.asOf, [Fx.quote(.call, 500, "2024-03-08")]), .bear)
        #expect(s.chosen == nil)
        #expect(s.considered == 0)
        #expect(s.refusals.isEmpty)
        #expect(s.detail == "no put chosen: 0 puts in 0–7 DTE, 0 passing the option gates; the chain of SPY has no puts")
    }

    @Test("a 0DTE contract after 16:00 New York is refused as expired")
    func zeroDTEAfterClose() throws {
        let chain = Fx.chain(500.4, at: Self.asOf, [Fx.quote(.call, 500, "2024-03-06"), Fx.quote(.call, 505, "2024-03-07")])
        let before = try choose(chain, asOf: Fx.ny("2024-03-06", 16, 0))
        #expect(before.chosen?.symbol == "SPY240306C00500000")
        #expect(before.chosen?.dte == 0)
        let after = try choose(chain, asOf: Fx.ny("2024-03-06", 16, 1))
        #expect(after.chosen?.symbol == "SPY240307C00505000")
        #expect(after.refusals == ["expiration": 1])
    }

    @Test("DTE counts New York calendar days, not UTC ones")
    func newYorkDays() throws {
        var p = TradingParams()
        p.contractSelection.dayTradeDte = [0, 1]
        let chain = Fx.chain(500.4, at: Self.asOf, [Fx.quote(.call, 500, "2024-03-08")])
        // 21:00 New York on 6 March is 02:00 UTC on 7 March: 2 New York days to the 8th (1 by UTC date).
        let evening = Fx.time("2024-03-07T02:00:00Z")
        let s = try choose(chain, asOf: evening, params: p)
        #expect(s.chosen == nil)
        #expect(s.refusals == ["dte": 1])
        // 00:30 New York on 7 March: 1 day.
        let s2 = try choose(chain, asOf: Fx.time("2024-03-07T05:30:00Z"), params: p)
        #expect(s2.chosen?.dte == 1)
    }

    @Test("the liquidity floors apply to the choice")
    func floorsApply() throws {
        let chain = Fx.chain(500.4, at: Self.asOf, [
            Fx.quote(.call, 500, "2024-03-08", volume: 50, openInterest: 5_000),
            Fx.quote(.call, 503, "2024-03-08", volume: 250, openInterest: 600),
        ])
        let s = try choose(chain, params: Fx.phase2)
        #expect(s.chosen?.strike == 503)
        #expect(s.refusals == ["volume": 1])
        var off = TradingParams()
        off.liquidityThresholds.minVolume = 0
        off.liquidityThresholds.minOpenInterest = 0
        #expect(try choose(chain, params: off).chosen?.strike == 500, "with the floors off the deeper book scores best")
    }

    @Test("the quality score: deeper books, tighter spreads and a delta near the target beat the nearest strike")
    func qualityScore() throws {
        var thin = Fx.quote(.call, 500, "2024-03-08", bid: 2.40, ask: 2.60, volume: 250, openInterest: 600)
        thin.delta = 0.50
        var deep = Fx.quote(.call, 503, "2024-03-08", bid: 1.20, ask: 1.22, volume: 20_000, openInterest: 60_000)
        deep.delta = 0.40
        let s = try choose(Fx.chain(500.4, at: Self.asOf, [thin, deep]))
        #expect(s.chosen?.strike == 503)
        let top = try #require(s.candidates.first?.score)
        #expect(top.delta == 1 && top.openInterest == 1 && top.volume == 1, "the deepest book and the exact target delta score 1")
        let low = try #require(s.candidates.last?.score)
        #expect(abs(low.delta - (1 - 0.10 / 0.60)) < 1e-6, "|0.50 − 0.40| ÷ max(0.40, 0.60)")
        #expect(abs(low.spread - (1 - (0.20 / 2.50 * 100) / 10)) < 1e-6)
        #expect(abs(low.openInterest - log1p(600.0) / log1p(60_000.0)) < 1e-6)
        let w = TradingParams().contractSelection.scoreWeights
        #expect(abs(low.total - (w.spread * low.spread + w.openInterest * low.openInterest + w.volume * low.volume + w.delta * low.delta)) < 1e-5)
    }

    @Test("a swing trade targets delta 0.50")
    func swingTargetDelta() throws {
        var a = Fx.quote(.call, 505, "2024-03-22"); a.delta = 0.40
        var b = Fx.quote(.call, 500, "2024-03-22"); b.delta = 0.52
        let s = try choose(Fx.chain(503, at: Self.asOf, [a, b]), .bull, .swingTrade, params: Self.noTimeExit)
        #expect(s.chosen?.strike == 500)
    }
}
