import Foundation
import OpsModel
import Testing
@testable import MarketData

@Suite("Synthetic ticker universe (market-feed --tickers)")
struct SyntheticUniverseTests {
    /// One session of every ticker, generated once.
    static let events = SyntheticMarket(config: SyntheticMarketConfig(tickers: SyntheticTicker.universe, sessions: 1)).events()

    @Test("the default run keeps SPY, QQQ and AAPL as they were; the universe has at least 12 distinct tickers")
    func defaultsAndUniverse() {
        #expect(SyntheticTicker.defaults.map(\.symbol) == ["SPY", "QQQ", "AAPL"])
        #expect(SyntheticTicker.defaults == Array(SyntheticTicker.universe.prefix(3)))
        #expect(SyntheticTicker.defaults.map(\.startPrice) == [500, 430, 185])
        #expect(SyntheticTicker.defaults.map(\.volatility) == [0.15, 0.20, 0.25])
        #expect(SyntheticTicker.defaults.map(\.minuteVolume) == [180_000, 110_000, 140_000])
        #expect(SyntheticTicker.defaults.allSatisfy { $0.pennyProgram && $0.optionLiquidity == 1 })
        #expect(SyntheticMarketConfig().tickers == SyntheticTicker.defaults)
        let symbols = SyntheticTicker.universe.map(\.symbol)
        #expect(symbols.count >= 12 && Set(symbols).count == symbols.count)
    }

    @Test("penny flags agree with the trading params' tick rule: SPY/QQQ/IWM pennies at any price, penny program $0.01/$0.05, the rest $0.05/$0.10")
    func tickClasses() {
        let rule = TradingParams().execution.ticks
        for t in SyntheticTicker.universe {
            let expected: (below: Cents, above: Cents) = t.pennyPilot ? (1, 1) : t.pennyProgram ? (1, 5) : (5, 10)
            #expect(rule.tickCents(price: 2.5, underlying: t.symbol) == expected.below, "\(t.symbol) below $3")
            #expect(rule.tickCents(price: 4, underlying: t.symbol) == expected.above, "\(t.symbol) from $3")
        }
        #expect(Set(SyntheticTicker.universe.filter(\.pennyPilot).map(\.symbol)) == ["SPY", "QQQ", "IWM"])
        #expect(SyntheticTicker.universe.contains { !$0.pennyProgram }, "some classes trade outside the penny program")
    }

    static let picks: [(String, [String]?)] = [
        ("all", SyntheticTicker.universe.map(\.symbol)),
        ("ALL", SyntheticTicker.universe.map(\.symbol)),
        ("3", ["SPY", "QQQ", "AAPL"]),
        ("5", ["SPY", "QQQ", "AAPL", "IWM", "TSLA"]),
        ("spy, DE", ["SPY", "DE"]),
        ("16", SyntheticTicker.universe.map(\.symbol) + ["ZAAA", "ZAAB"]),
        ("0", nil), ("2001", nil), ("XYZ", nil), ("SPY,SPY", nil), ("", nil), (",", nil),
    ]

    @Test("--tickers all | N | SYM,SYM…", arguments: picks)
    func pick(_ c: (String, [String]?)) {
        do {
            let got = try SyntheticTicker.pick(c.0)
            #expect(got.map(\.symbol) == c.1, "'\(c.0)'")
        } catch {
            #expect(c.1 == nil, "'\(c.0)' refused: \(error)")
            #expect(error.description.contains("--tickers"))
        }
    }

    @Test("past the universe, --tickers N generates distinct symbols, the same on every call; one session of them validates")
    func generatedTickers() throws {
        let picked = try SyntheticTicker.pick("500")
        #expect(picked.count == 500 && Set(picked.map(\.symbol)).count == 500)
        #expect(picked[SyntheticTicker.universe.count + 27].symbol == "ZABB")
        #expect(try SyntheticTicker.pick("500") == picked)
        let extra = Array(picked.suffix(3))
        #expect(extra.allSatisfy { !$0.pennyPilot && $0.startPrice >= 15 && $0.startPrice <= 600 && $0.volatility >= 0.15 })
        for e in SyntheticMarket(config: SyntheticMarketConfig(tickers: extra, sessions: 1)).events() {
            switch e {
            case .bar(let b): try b.validate(eventTime: e.eventTime)
            case .chain(let c): try c.validate(eventTime: e.eventTime)
            default: break
            }
        }
    }

    @Test("every event of the full universe validates; classes outside the penny program quote on the nickel/dime grid")
    func validatesOnTicks() throws {
        let outside = Set(SyntheticTicker.universe.filter { !$0.pennyProgram }.map(\.symbol))
        var outsideQuotes = 0
        for e in Self.events {
            switch e {
            case .bar(let b): try b.validate(eventTime: e.eventTime)
            case .chain(let c):
                try c.validate(eventTime: e.eventTime)
                guard outside.contains(c.underlying) else { continue }
                for q in c.contracts {
                    for p in [q.bid, q.ask] + (q.last.map { [$0] } ?? []) where p > 0 {
                        let cents = Int((p * 100).rounded())
                        #expect(cents % (cents < 300 ? 5 : 10) == 0, "\(q.symbol) \(p)")
                    }
                    #expect(q.ask > q.bid)
                    outsideQuotes += 1
                }
            case .sentiment(let s, let t): try s.validate(eventTime: t)
            default: break
            }
        }
        #expect(outsideQuotes > 0)
    }

    /// Median (ask − bid) / mid of a ticker's contracts with a bid within 5% of the money, over the session.
    static func medianSpread(_ ticker: String) -> Double {
        var spreads = [Double]()
        for e in events {
            guard case .chain(let c) = e, c.underlying == ticker else { continue }
            for q in c.contracts where q.bid > 0 && abs(q.strike / c.underlyingPrice - 1) <= 0.05 {
                spreads.append((q.ask - q.bid) / q.mid)
            }
        }
        spreads.sort()
        return spreads[spreads.count / 2]
    }

    static func totals(_ ticker: String) -> (shares: Int64, openInterest: Int64) {
        var shares: Int64 = 0, oi: Int64 = 0
        for e in events {
            if case .bar(let b) = e, b.ticker == ticker { shares += b.volume }
            if case .chain(let c) = e, c.underlying == ticker, NewYorkTime.minuteOfDay(c.asOf) == 12 * 60 { oi = c.contracts.reduce(0) { $0 + $1.openInterest } }
        }
        return (shares, oi)
    }

    @Test("liquidity differs: share volume, option open interest and spreads separate the liquid names from the thin ones")
    func liquidityDifferences() {
        let spy = Self.totals("SPY"), tsla = Self.totals("TSLA"), lmt = Self.totals("LMT"), cmg = Self.totals("CMG")
        #expect(tsla.shares > spy.shares, "TSLA trades more shares than SPY")
        #expect(lmt.shares * 20 < spy.shares && cmg.shares * 100 < spy.shares)
        #expect(lmt.openInterest * 4 < spy.openInterest && cmg.openInterest * 5 < spy.openInterest)
        #expect(Self.medianSpread("LMT") > Self.medianSpread("SPY"), "nickel/dime quotes a tick wider cost more than pennies")
        #expect(Self.medianSpread("DE") > Self.medianSpread("MSFT"))
    }
}
