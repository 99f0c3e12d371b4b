import Foundation
import OpsModel
import OptionsMath

/// How `ChainSynthesizer` lays out and prices a chain. Every field has a documented default; `ChainConfig()` gives
/// a chain of 4 expiries × 11 strikes × 2 rights = 88 contracts (about 20 KB as an envelope).
public struct ChainConfig: Sendable, Hashable {
    /// Strikes on each side of the at-the-money strike (default 5, so 11 strikes per expiry).
    public var strikesEachSide: Int
    /// Distance between strikes; nil (default) picks `ChainConfig.defaultStrikeStep(price:)`:
    /// $0.50 under $50, $1 under $300, $5 from $300.
    public var strikeStep: Double?
    /// Continuously compounded risk-free rate (default 0.05).
    public var riskFreeRate: Double
    /// Continuous dividend yield (default 0).
    public var dividendYield: Double
    /// All prices quoted in $0.01 ticks (default false: $0.01 below $3, $0.05 from $3).
    public var pennyPilot: Bool
    /// Short-dated expiries, 0–7 days to expiry (default 2, at most 3): the nearest expiry (today while the
    /// session is open, else the next trading day), then — with 3 — the trading day after it, then the weekly
    /// (Friday) expiry within 7 days, or the next trading day when no Friday is within reach.
    public var shortDatedExpiries: Int
    /// Longer expiries, Fridays 14–45 days out (default 2, at most 2): the first with ≥ 14 days, then the first
    /// with ≥ 28 days. A Friday holiday moves the expiry to the trading day before.
    public var longDatedExpiries: Int
    /// Smile: iv = base × (1 − skew·m + curvature·m²) × term, with m = ln(K/S)/√max(T, 1/365) clamped to ±3.
    /// Default skew 0.3 (puts richer than calls), curvature 0.15.
    public var skew: Double
    public var curvature: Double
    /// Term structure: term = 1 + termSlope·(√min(max(T, 1/365), 1) − √(30/365)); default 0.2 (mild contango).
    public var termSlope: Double
    /// Open interest of an at-the-money contract of a near expiry before noise (default 8000).
    public var openInterestScale: Double
    /// Full-day volume of an at-the-money 0DTE contract before noise (default 6000).
    public var dailyVolumeScale: Double

    public init(strikesEachSide: Int = 5, strikeStep: Double? = nil, riskFreeRate: Double = 0.05,
                dividendYield: Double = 0, pennyPilot: Bool = false, shortDatedExpiries: Int = 2,
                longDatedExpiries: Int = 2, skew: Double = 0.3, curvature: Double = 0.15, termSlope: Double = 0.2,
                openInterestScale: Double = 8000, dailyVolumeScale: Double = 6000) {
        self.strikesEachSide = strikesEachSide; self.strikeStep = strikeStep; self.riskFreeRate = riskFreeRate
        self.dividendYield = dividendYield; self.pennyPilot = pennyPilot
        self.shortDatedExpiries = shortDatedExpiries; self.longDatedExpiries = longDatedExpiries
        self.skew = skew; self.curvature = curvature; self.termSlope = termSlope
        self.openInterestScale = openInterestScale; self.dailyVolumeScale = dailyVolumeScale
    }

    /// $0.50 under $50, $1 under $300, $5 from $300.
    public static func defaultStrikeStep(price: Double) -> Double {
        price < 50 ? 0.5 : price < 300 ? 1 : 5
    }

    /// The tick in cents for a price: 1 under $3 (or always under penny pilot), else 5.
    public func tickCents(price: Double) -> Int { pennyPilot || price < 3 ? 1 : 5 }
}

/// Builds a plausible option chain around a price at an instant: strikes around the money, a few short-dated and
/// two monthly-ish expiries, Black-Scholes-Merton mids on a volatility smile, tick-rounded bid/ask with spreads
/// that widen away from the money and on cheap contracts, open interest and cumulative day volume that fall off
/// away from the money, and greeks. Pure and deterministic: the same arguments give the same chain.
///
/// Used by `SyntheticMarket` and to give real bar files (which have no chains) something to join against.
public struct ChainSynthesizer: Sendable {
    public var config: ChainConfig

    /// One minute, in years: the floor for time to expiry, so an expiring contract still prices without NaN.
    public static let minimumYears = 1.0 / (365 * 24 * 60)
    static let msPerYear = 365.0 * 86_400_000

    public init(config: ChainConfig = ChainConfig()) { self.config = config }

    /// The expiries quoted at `at`, ascending: short-dated (0–7 DTE) then long-dated (14–45 DTE), all trading days,
    /// days-to-expiry counted between New York dates.
    public func expirations(at: Timestamp) -> [CivilDate] {
        let local = NewYorkTime.local(at)
        let today = local.date
        func dte(_ d: CivilDate) -> Int { today.days(until: d) }
        // Weekly expiry of the week of a date: its Friday, or the trading day before a Friday holiday.
        func weekly(fridayOnOrAfter d: CivilDate) -> CivilDate {
            let friday = d.adding(days: (5 - d.weekday + 7) % 7)
            return SyntheticCalendar.tradingDay(onOrBefore: friday)
        }
        var out = [CivilDate]()
        let shortCount = min(max(config.shortDatedExpiries, 0), 3)
        if shortCount > 0 {
            let openToday = SyntheticCalendar.closeMinute(of: today).map { local.secondOfDay < $0 * 60 } ?? false
            let first = openToday ? today : SyntheticCalendar.tradingDay(after: today)
            out.append(first)
            if shortCount >= 3 {
                let next = SyntheticCalendar.tradingDay(after: first)
                if dte(next) <= 7 { out.append(next) }
            }
            if shortCount >= 2 {
                var candidate: CivilDate?
                for offset in 1...7 {
                    let d = first.adding(days: offset)
                    if dte(d) > 7 { break }
                    if SyntheticCalendar.isTradingDay(d), weekly(fridayOnOrAfter: d) == d, !out.contains(d) {
                        candidate = d
                        break
                    }
                }
                if candidate == nil, let last = out.max() {
                    let next = SyntheticCalendar.tradingDay(after: last)
                    if dte(next) <= 7 { candidate = next }
                }
                if let candidate { out.append(candidate) }
            }
        }
        let longCount = min(max(config.longDatedExpiries, 0), 2)
        for minimum in [14, 28].prefix(longCount) {
            var friday = today.adding(days: (5 - today.weekday + 7) % 7)
            for _ in 0..<10 {
                let e = SyntheticCalendar.tradingDay(onOrBefore: friday)
                if dte(e) >= minimum {
                    if dte(e) <= 45, !out.contains(e) { out.append(e) }
                    break
                }
                friday = friday.adding(days: 7)
            }
        }
        return out.sorted()
    }

    /// The strike step used for a price.
    public func strikeStep(price: Double) -> Double { config.strikeStep ?? ChainConfig.defaultStrikeStep(price: price) }

    /// Strikes around the money, ascending: the step multiple nearest the price ± `strikesEachSide` steps,
    /// keeping only positive strikes.
    public func strikes(price: Double) -> [Double] {
        let step = strikeStep(price: price)
        guard price > 0, price.isFinite, step > 0 else { return [] }
        let atm = (price / step).rounded()
        let n = max(0, config.strikesEachSide)
        return (-n...n).map { ((atm + Double($0)) * step * 1000).rounded() / 1000 }.filter { $0 > 0 }
    }

    /// Years from `at` to the close of the expiration date (16:00 New York, 13:00 on an early close), floored at
    /// `minimumYears`.
    public static func years(from at: Timestamp, to expiration: CivilDate) -> Double {
        max(minimumYears, Double(MarketCalendar.close(of: expiration).ms - at.ms) / msPerYear)
    }

    /// The smile and term structure: implied volatility of a strike for a given base volatility.
    public func impliedVolatility(base: Double, spot: Double, strike: Double, years: Double) -> Double {
        let tm = max(years, 1.0 / 365)
        let m = min(3, max(-3, log(strike / spot) / tm.squareRoot()))
        let smile = 1 - config.skew * m + config.curvature * m * m
        let term = 1 + config.termSlope * (min(tm, 1).squareRoot() - (30.0 / 365).squareRoot())
        return min(4, max(0.01, base * smile * term))
    }

    /// A chain snapshot of `underlying` at `at` (the chain's `asOf`), priced off `price` with `baseVolatility` as
    /// the at-the-money 30-day volatility. `seed` drives the open-interest and volume noise (fixed per contract
    /// and New York day). An underlying longer than 6 characters (no OCC root), a non-positive or non-finite
    /// price or volatility give a chain without contracts.
    public func chain(underlying: String, price: Double, at: Timestamp, baseVolatility: Double, seed: UInt64) -> OptionChain {
        var contracts = [OptionQuote]()
        guard underlying.utf8.count <= 6, price > 0, price.isFinite, baseVolatility > 0, baseVolatility.isFinite else {
            return OptionChain(underlying: underlying, underlyingPrice: price, asOf: at, contracts: [])
        }
        let local = NewYorkTime.local(at)
        let today = local.date
        // Fraction of the regular session elapsed, for the cumulative day volume.
        let sessionFraction: Double = {
            guard let close = SyntheticCalendar.closeMinute(of: today) else { return 0 }
            let x = (Double(local.secondOfDay) / 60 - Double(SyntheticCalendar.openMinute)) / Double(close - SyntheticCalendar.openMinute)
            return Self.cumulativeIntradayVolume(min(1, max(0, x)))
        }()
        let strikes = strikes(price: price)
        let r = config.riskFreeRate, q = config.dividendYield
        // The noise seeds' fixed parts, hashed once a chain (`StableHash.combine(_:parts:)` hashes each part).
        let spreadPart = StableHash.fnv1a("spread"), dayPart = StableHash.fnv1a(today.iso)
        for expiration in expirations(at: at) {
            let t = Self.years(from: at, to: expiration)
            let dte = today.days(until: expiration)
            // Near expiries carry more open interest and (much) more volume.
            let oiExpiry = 0.5 + 1.0 / (1 + Double(dte) / 7)
            let volExpiry = 3.0 / (1 + Double(dte))
            for right in OptionRight.allCases {
                for k in strikes {
                    let kind: OptionKind = right == .call ? .call : .put
                    let iv = impliedVolatility(base: baseVolatility, spot: price, strike: k, years: t)
                    let g = BlackScholes.greeks(kind, spot: price, strike: k, years: t, rate: r, dividendYield: q, volatility: iv)
                    let symbol = OCCSymbol(root: underlying, expiration: expiration, right: right, strike: k).description
                    let distance = abs(log(k / price))
                    let stdDistance = min(4, distance / (iv * max(t, 1.0 / 365).squareRoot()))
                    let symbolPart = StableHash.fnv1a(symbol)
                    let (bid, ask) = quote(mid: g.price, stdDistance: stdDistance,
                                           noise: StableHash.combine(seed, values: [symbolPart, spreadPart]))
                    var noise = SeededRandom(seed: StableHash.combine(seed, values: [symbolPart, dayPart]))
                    let oi = config.openInterestScale * oiExpiry * exp(-distance / 0.03) * noise.uniform(0.8, 1.25)
                    let dayVolume = config.dailyVolumeScale * volExpiry * exp(-distance / 0.02) * noise.uniform(0.7, 1.4)
                    let volume = Int64((dayVolume * sessionFraction).rounded())
                    let last: Double? = volume > 0 && ask > 0 ? roundToTick((bid + ask) / 2) : nil
                    contracts.append(OptionQuote(
                        symbol: symbol, right: right, strike: k, expiration: expiration, bid: bid, ask: ask, last: last,
                        volume: volume, openInterest: Int64(oi.rounded()),
                        iv: Self.round(iv, decimals: 4), delta: Self.round(g.delta, decimals: 4),
                        gamma: Self.round(g.gamma, significant: 4), theta: Self.round(g.thetaPerDay, significant: 4),
                        vega: Self.round(g.vega / 100, significant: 4)))
                }
            }
        }
        return OptionChain(underlying: underlying, underlyingPrice: price, asOf: at, contracts: contracts)
    }

    /// Bid and ask around a theoretical mid. The full spread is a fraction of the mid that is larger for cheap
    /// contracts (1 % + 4 % / (1 + mid)) and grows with the distance from the money in standard deviations
    /// (× (1 + 0.35·z), z ≤ 4), at least one tick; the bid is rounded down and the ask up to their ticks. A contract
    /// whose bid would be below one tick is bid 0 and offered at 1–3 cents (deterministic per contract).
    func quote(mid: Double, stdDistance z: Double, noise: UInt64) -> (bid: Double, ask: Double) {
        let m = max(0, mid)
        let relative = 0.01 + 0.04 / (1 + m)
        let half = 0.5 * max(0.01, m * relative * (1 + 0.35 * z))
        let low = m - half, high = m + half
        let bidTick = config.tickCents(price: max(0, low)), askTick = config.tickCents(price: high)
        var bidCents = Int((low * 100 / Double(bidTick) + 1e-9).rounded(.down)) * bidTick
        var askCents = Int((high * 100 / Double(askTick) - 1e-9).rounded(.up)) * askTick
        if bidCents < bidTick { // worthless on the bid: bid 0, a small offer
            bidCents = 0
            askCents = max(askCents, 1 + Int(noise % 3))
        }
        askCents = max(askCents, bidCents + askTick)
        return (Double(bidCents) / 100, Double(askCents) / 100)
    }

    func roundToTick(_ price: Double) -> Double {
        let tick = config.tickCents(price: price)
        return Double(Int((price * 100 / Double(tick)).rounded()) * tick) / 100
    }

    /// Fraction of a day's volume traded by session fraction x ∈ [0, 1], for a U-shaped intensity 1 + 3·(2x − 1)².
    static func cumulativeIntradayVolume(_ x: Double) -> Double {
        let a = 3.0
        let u = 2 * x - 1
        return (x + a * (u * u * u + 1) / 6) / (1 + a / 3)
    }

    /// Rounded to `decimals` places; negative zero becomes zero.
    static func round(_ x: Double, decimals: Int) -> Double {
        let p = pow(10, Double(decimals))
        return (x * p).rounded() / p + 0.0
    }

    /// Rounded to `significant` digits; magnitudes below 1e-6 become zero (keeps the JSON short and finite).
    static func round(_ x: Double, significant: Int) -> Double {
        guard x.isFinite else { return x }
        guard abs(x) >= 1e-6 else { return 0 }
        let e = Int(floor(log10(abs(x))))
        let shift = significant - 1 - e
        if shift >= 0 {
            let p = pow(10, Double(shift))
            return (x * p).rounded() / p
        }
        let p = pow(10, Double(-shift))
        return (x / p).rounded() * p
    }
}
