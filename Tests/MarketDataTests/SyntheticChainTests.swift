import Foundation
import Testing
import OpsModel
import OptionsMath
@testable import MarketData

@Suite("Chain synthesizer")
struct SyntheticChainTests {
    static let monday0935 = NewYorkTime.utc(date: CivilDate(year: 2024, month: 3, day: 4), hour: 9, minute: 35)
    let synth = ChainSynthesizer(config: ChainConfig())

    func spy(at: Timestamp = monday0935, price: Double = 502.37, seed: UInt64 = 42, config: ChainConfig = ChainConfig()) -> OptionChain {
        ChainSynthesizer(config: config).chain(underlying: "SPY", price: price, at: at, baseVolatility: 0.15, seed: seed)
    }

    func date(_ y: Int, _ m: Int, _ d: Int) -> CivilDate { CivilDate(year: y, month: m, day: d) }

    @Test("a default SPY chain: 88 contracts, validates, fits in 25 KB on the wire")
    func shapeAndSize() throws {
        let chain = spy()
        try chain.validate(eventTime: Self.monday0935)
        #expect(chain.contracts.count == 88)
        #expect(Set(chain.contracts.map(\.strike)) == Set(stride(from: 475.0, through: 525, by: 5)))
        let bytes = try MarketEvent.chain(chain).envelope(source: "synthetic-market").encoded()
        #expect(bytes.count < 25_000, "chain envelope is \(bytes.count) bytes")
        // Every chain the market generates, too.
        let sizes = try SyntheticFixtures.chains(SyntheticFixtures.defaultEvents).map {
            try MarketEvent.chain($0).envelope(source: "synthetic-market").encoded().count
        }
        #expect(sizes.max()! < 25_000)
    }

    @Test("strike steps: $0.50 under $50, $1 under $300, $5 above; strikes stay positive")
    func strikes() {
        #expect(synth.strikes(price: 20.2) == stride(from: 17.5, through: 22.5, by: 0.5).map { $0 })
        #expect(synth.strikes(price: 185.4) == (180...190).map(Double.init))
        #expect(synth.strikes(price: 502.6) == stride(from: 480.0, through: 530, by: 5).map { $0 })
        #expect(synth.strikes(price: 1.2).allSatisfy { $0 > 0 })
        let custom = ChainSynthesizer(config: ChainConfig(strikesEachSide: 2, strikeStep: 2.5))
        #expect(custom.strikes(price: 100) == [95, 97.5, 100, 102.5, 105])
    }

    @Test("expiries: two within 0–7 DTE, two Fridays in 14–45 DTE, all trading days")
    func expiries() throws {
        func dtes(_ at: Timestamp) -> [Int] {
            let today = NewYorkTime.date(of: at)
            return synth.expirations(at: at).map { today.days(until: $0) }
        }
        let monday = Self.monday0935
        #expect(synth.expirations(at: monday) == [date(2024, 3, 4), date(2024, 3, 8), date(2024, 3, 22), date(2024, 4, 5)])
        #expect(dtes(monday) == [0, 4, 18, 32])
        // Friday during the session: 0DTE, next Friday (7 DTE).
        let friday = NewYorkTime.utc(date: date(2024, 3, 8), hour: 12, minute: 0)
        #expect(dtes(friday) == [0, 7, 14, 28])
        // Thursday after the close: Friday (1 DTE); next Friday is 8 days away, so Monday.
        let thursdayEvening = NewYorkTime.utc(date: date(2024, 3, 7), hour: 16, minute: 0)
        #expect(synth.expirations(at: thursdayEvening).prefix(2) == [date(2024, 3, 8), date(2024, 3, 11)])
        // Saturday: Monday and Friday.
        let saturday = NewYorkTime.utc(date: date(2024, 3, 9), hour: 12, minute: 0)
        #expect(synth.expirations(at: saturday).prefix(2) == [date(2024, 3, 11), date(2024, 3, 15)])
        // Good Friday (2024-03-29) week: the weekly expires on Thursday.
        let holidayWeek = NewYorkTime.utc(date: date(2024, 3, 25), hour: 10, minute: 0)
        #expect(synth.expirations(at: holidayWeek).prefix(2) == [date(2024, 3, 25), date(2024, 3, 28)])
        // Three short-dated expiries when asked.
        let three = ChainSynthesizer(config: ChainConfig(shortDatedExpiries: 3))
        #expect(three.expirations(at: monday).prefix(3) == [date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 8)])

        // A sweep over every 5 hours of two months: the windows always hold.
        var t = NewYorkTime.utc(date: date(2024, 2, 1), hour: 0, minute: 0)
        let end = NewYorkTime.utc(date: date(2024, 4, 1), hour: 0, minute: 0)
        while t < end {
            let today = NewYorkTime.date(of: t)
            let exps = synth.expirations(at: t)
            #expect(exps.count == 4, "\(t)")
            #expect(exps == exps.sorted() && Set(exps).count == exps.count)
            let d = exps.map { today.days(until: $0) }
            #expect(d.prefix(2).allSatisfy { (0...7).contains($0) }, "\(t): \(d)")
            #expect(d.suffix(2).allSatisfy { (14...45).contains($0) }, "\(t): \(d)")
            #expect(exps.allSatisfy(SyntheticCalendar.isTradingDay))
            #expect(exps.suffix(2).allSatisfy { $0.weekday == 5 || SyntheticCalendar.isHoliday($0.adding(days: 1)) })
            t = t.adding(ms: 5 * 3_600_000)
        }
    }

    @Test("quotes: 0 ≤ bid ≤ ask, on their ticks, mids close to Black-Scholes at the quoted iv")
    func quotes() throws {
        for pennyPilot in [false, true] {
            let config = ChainConfig(pennyPilot: pennyPilot)
            let chain = spy(config: config)
            for q in chain.contracts {
                #expect(q.bid >= 0 && q.bid <= q.ask && q.ask > 0, "\(q.symbol)")
                for p in [q.bid, q.ask] {
                    let cents = (p * 100).rounded()
                    #expect(abs(p * 100 - cents) < 1e-6)
                    if !pennyPilot && p >= 3 { #expect(Int(cents) % 5 == 0, "\(q.symbol) \(p) not on a nickel") }
                }
                if q.bid == 0 { #expect(q.ask <= 0.05, "\(q.symbol) bid 0 ask \(q.ask)") }
                let iv = try #require(q.iv)
                let years = ChainSynthesizer.years(from: chain.asOf, to: q.expiration)
                let theo = BlackScholes.price(q.right == .call ? .call : .put, spot: chain.underlyingPrice, strike: q.strike,
                                              years: years, rate: config.riskFreeRate, dividendYield: config.dividendYield, volatility: iv)
                // Within the half-spread plus a tick (the iv is rounded to 4 decimals).
                #expect(abs(q.mid - theo) <= (q.ask - q.bid) / 2 + 0.01, "\(q.symbol): mid \(q.mid) vs \(theo)")
                let delta = try #require(q.delta), gamma = try #require(q.gamma), vega = try #require(q.vega)
                #expect(q.right == .call ? delta >= 0 : delta <= 0)
                #expect(gamma >= 0 && vega >= 0 && q.theta != nil)
                if let last = q.last { #expect(last >= q.bid && last <= q.ask) }
            }
        }
    }

    @Test("greeks are Black-Scholes' at the quoted iv (theta per day, vega per vol point)")
    func greeks() throws {
        let chain = spy()
        let q = try #require(chain.contracts.first { $0.expiration == date(2024, 3, 22) && $0.strike == 500 && $0.right == .call })
        let g = BlackScholes.greeks(.call, spot: chain.underlyingPrice, strike: 500, years: ChainSynthesizer.years(from: chain.asOf, to: q.expiration),
                                    rate: 0.05, volatility: try #require(q.iv))
        #expect(abs(try #require(q.delta) - g.delta) < 1e-3)
        #expect(abs(try #require(q.gamma) - g.gamma) < 1e-4)
        #expect(abs(try #require(q.theta) - g.thetaPerDay) < 1e-2)
        #expect(abs(try #require(q.vega) - g.vega / 100) < 1e-2)
    }

    @Test("the smile: puts' wing richer than calls', the wings above the money")
    func smile() throws {
        let chain = spy(price: 500)
        let exp = date(2024, 3, 22)
        func iv(_ k: Double) throws -> Double { try #require(chain.contracts.first { $0.expiration == exp && $0.strike == k }?.iv) }
        #expect(try iv(475) > iv(500))
        #expect(try iv(475) > iv(525))
    }

    /// Relative spread (ask − bid) / mid.
    func relativeSpread(_ q: OptionQuote) -> Double { (q.ask - q.bid) / q.mid }

    /// Checked on penny ticks: with $0.05 ticks from $3 the rounding of an at-the-money quote out to whole nickels
    /// can outweigh the model's widening over the few strikes of a chain.
    @Test("spreads widen away from the money; open interest falls off away from the money")
    func wingsAndInterest() throws {
        let synth = ChainSynthesizer(config: ChainConfig(pennyPilot: true))
        for (ticker, price) in [("SPY", 502.37), ("AAPL", 185.2), ("XYZ", 23.4)] {
            let chain = synth.chain(underlying: ticker, price: price, at: Self.monday0935, baseVolatility: 0.25, seed: 9)
            try chain.validate(eventTime: Self.monday0935)
            let strikes = synth.strikes(price: price)
            let atm = strikes[strikes.count / 2], low = strikes.first!, high = strikes.last!
            for exp in synth.expirations(at: Self.monday0935) {
                for right in OptionRight.allCases {
                    func q(_ k: Double) throws -> OptionQuote {
                        try #require(chain.contracts.first { $0.expiration == exp && $0.right == right && $0.strike == k })
                    }
                    let atmQ = try q(atm), otm = try q(right == .call ? high : low), itm = try q(right == .call ? low : high)
                    let label = "\(ticker) \(exp) \(right)"
                    #expect(relativeSpread(otm) > relativeSpread(atmQ), "\(label) K \(otm.strike): OTM \(otm.bid)/\(otm.ask) vs ATM \(atmQ.bid)/\(atmQ.ask)")
                    #expect(itm.ask - itm.bid >= atmQ.ask - atmQ.bid, "\(label): ITM \(itm.bid)/\(itm.ask) vs ATM \(atmQ.bid)/\(atmQ.ask)")
                    #expect(atmQ.openInterest > otm.openInterest && atmQ.openInterest > itm.openInterest, "\(label)")
                }
            }
            // In aggregate, the middle strikes hold more open interest than the outer ones.
            let inner = chain.contracts.filter { abs($0.strike - atm) <= 2 * (high - low) / 10 }.map { Double($0.openInterest) }
            let outer = chain.contracts.filter { abs($0.strike - atm) > 3 * (high - low) / 10 }.map { Double($0.openInterest) }
            #expect(SyntheticFixtures.mean(inner) > 1.5 * SyntheticFixtures.mean(outer), "\(ticker)")
        }
    }

    @Test("near expiries carry more open interest and volume")
    func nearExpiries() {
        let chain = spy(at: NewYorkTime.utc(date: date(2024, 3, 4), hour: 15, minute: 0))
        let exps = synth.expirations(at: chain.asOf)
        func total(_ e: CivilDate, _ f: (OptionQuote) -> Int64) -> Int64 { chain.contracts.filter { $0.expiration == e }.map(f).reduce(0, +) }
        #expect(total(exps[0], \.openInterest) > total(exps[3], \.openInterest))
        #expect(total(exps[0], \.volume) > 5 * total(exps[3], \.volume))
    }

    @Test("day volume accumulates through the session; open interest holds for the day")
    func volumeThroughTheDay() {
        let day = date(2024, 3, 4)
        let times = [(9, 30), (9, 45), (11, 0), (13, 0), (15, 30), (16, 0)].map { NewYorkTime.utc(date: day, hour: $0.0, minute: $0.1) }
        let chains = times.map { spy(at: $0, price: 500) }
        let symbol = "SPY240308C00500000"
        let series = chains.map { $0.contracts.first { $0.symbol == symbol }! }
        #expect(series[0].volume == 0)
        for (a, b) in zip(series, series.dropFirst()) {
            #expect(b.volume > a.volume)
            #expect(b.openInterest == a.openInterest)
        }
        // The open is busier than midday: more volume in 09:30–09:45 than in 11:00–13:00 per minute.
        #expect(Double(series[1].volume - series[0].volume) / 15 > Double(series[3].volume - series[2].volume) / 120)
        // Before the open nothing has traded yet.
        let early = spy(at: NewYorkTime.utc(date: day, hour: 8, minute: 0), price: 500)
        #expect(early.contracts.allSatisfy { $0.volume == 0 && $0.last == nil })
    }

    @Test("deterministic in its arguments")
    func deterministic() {
        #expect(spy() == spy())
        #expect(spy(seed: 1) != spy(seed: 2))
        #expect(spy(seed: 1).contracts.map(\.bid) == spy(seed: 2).contracts.map(\.bid))
    }

    @Test("edge cases: expiring contracts, long roots, bad inputs")
    func edges() throws {
        // One minute before the close on an expiry day: the 0DTE still prices, nothing is NaN.
        let late = NewYorkTime.utc(date: date(2024, 3, 8), hour: 15, minute: 59)
        let chain = spy(at: late)
        try chain.validate(eventTime: late)
        #expect(chain.contracts.contains { $0.expiration == date(2024, 3, 8) })
        #expect(chain.contracts.allSatisfy { [$0.iv, $0.delta, $0.gamma, $0.theta, $0.vega].allSatisfy { $0?.isFinite == true } })
        // At the close the 0DTE is gone.
        let close = NewYorkTime.utc(date: date(2024, 3, 8), hour: 16, minute: 0)
        #expect(!spy(at: close).contracts.contains { $0.expiration == date(2024, 3, 8) })
        // No OCC root longer than 6 characters; nonsense prices give no contracts.
        #expect(synth.chain(underlying: "ABCDEFG", price: 50, at: late, baseVolatility: 0.2, seed: 1).contracts.isEmpty)
        #expect(synth.chain(underlying: "SPY", price: .nan, at: late, baseVolatility: 0.2, seed: 1).contracts.isEmpty)
        #expect(synth.chain(underlying: "SPY", price: 500, at: late, baseVolatility: 0, seed: 1).contracts.isEmpty)
        // A very cheap underlying still validates.
        let penny = synth.chain(underlying: "PNY", price: 1.37, at: late, baseVolatility: 0.9, seed: 1)
        try penny.validate(eventTime: late)
        #expect(!penny.contracts.isEmpty)
    }

    @Test("market chains: at bar ends, on the bar's close, base vol near the ticker's")
    func marketChains() throws {
        let events = SyntheticFixtures.defaultEvents
        for t in SyntheticTicker.defaults {
            let closes = Dictionary(uniqueKeysWithValues: SyntheticFixtures.bars(events, t.symbol).map { ($0.end, $0.close) })
            for c in SyntheticFixtures.chains(events, t.symbol) {
                #expect(closes[c.asOf] == c.underlyingPrice)
                #expect(NewYorkTime.minuteOfDay(c.asOf) % 5 == 0)
                let atm = try #require(c.contracts.min { abs($0.strike - c.underlyingPrice) < abs($1.strike - c.underlyingPrice) })
                let iv = try #require(atm.iv)
                #expect(iv > 0.5 * t.volatility && iv < 2 * t.volatility, "\(t.symbol) \(c.asOf): atm iv \(iv)")
                if !t.pennyPilot {
                    #expect(c.contracts.filter { $0.ask >= 3 }.allSatisfy { Int(($0.ask * 100).rounded()) % 5 == 0 })
                }
            }
        }
    }
}
