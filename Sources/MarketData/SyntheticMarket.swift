import Foundation
import OpsModel

/// One simulated underlying.
public struct SyntheticTicker: Sendable, Hashable {
    public var symbol: String
    /// Price at the first session's open.
    public var startPrice: Double
    /// Annualized volatility of the price path; also the chains' base implied volatility in a calm regime.
    public var volatility: Double
    /// Option prices in $0.01 ticks everywhere (SPY, QQQ, IWM); else, in the penny program, $0.01 below $3 and
    /// $0.05 from $3.
    public var pennyPilot: Bool
    /// Mean shares per regular-session minute (before the intraday U-shape and noise).
    public var minuteVolume: Double
    /// false: a class outside the penny program, quoted on the $0.05 (below $3) / $0.10 grid and a tick wider on
    /// each side, as thinly traded classes are (`pennyPilot` must then be false).
    public var pennyProgram: Bool
    /// Scales the chains' open interest and option volume (1 = `ChainConfig`'s scales): how actively the
    /// ticker's options trade.
    public var optionLiquidity: Double

    public init(symbol: String, startPrice: Double, volatility: Double, pennyPilot: Bool = true,
                minuteVolume: Double = 100_000, pennyProgram: Bool = true, optionLiquidity: Double = 1) {
        precondition(pennyProgram || !pennyPilot, "\(symbol): pennies at any price only within the penny program")
        self.symbol = symbol; self.startPrice = startPrice; self.volatility = volatility
        self.pennyPilot = pennyPilot; self.minuteVolume = minuteVolume
        self.pennyProgram = pennyProgram; self.optionLiquidity = optionLiquidity
    }

    /// SPY ~$500 vol 0.15, QQQ ~$430 vol 0.20 (both penny pilot), AAPL ~$185 vol 0.25 (quoted with the
    /// $0.05 tick from $3, so both tick regimes are exercised).
    public static let defaults: [SyntheticTicker] = Array(universe.prefix(3))

    /// Every ticker the synthetic market knows, most liquid first, priced as in early March 2024: the defaults;
    /// index and mega-cap names whose stock and options trade heavily (pennies: IWM at any price, the others
    /// $0.01/$0.05); and three classes outside the penny program with thin stock and option volume (nickel/dime
    /// quotes, a tick wider), so liquidity separates them in a watchlist (`market-feed --tickers`).
    public static let universe: [SyntheticTicker] = [
        SyntheticTicker(symbol: "SPY", startPrice: 500, volatility: 0.15, pennyPilot: true, minuteVolume: 180_000),
        SyntheticTicker(symbol: "QQQ", startPrice: 430, volatility: 0.20, pennyPilot: true, minuteVolume: 110_000),
        SyntheticTicker(symbol: "AAPL", startPrice: 185, volatility: 0.25, pennyPilot: false, minuteVolume: 140_000),
        SyntheticTicker(symbol: "IWM", startPrice: 205, volatility: 0.22, pennyPilot: true, minuteVolume: 75_000, optionLiquidity: 0.9),
        SyntheticTicker(symbol: "TSLA", startPrice: 190, volatility: 0.55, pennyPilot: false, minuteVolume: 250_000),
        SyntheticTicker(symbol: "NVDA", startPrice: 850, volatility: 0.55, pennyPilot: false, minuteVolume: 120_000),
        SyntheticTicker(symbol: "AMD", startPrice: 205, volatility: 0.50, pennyPilot: false, minuteVolume: 150_000, optionLiquidity: 0.8),
        SyntheticTicker(symbol: "AMZN", startPrice: 175, volatility: 0.32, pennyPilot: false, minuteVolume: 110_000, optionLiquidity: 0.7),
        SyntheticTicker(symbol: "MSFT", startPrice: 410, volatility: 0.24, pennyPilot: false, minuteVolume: 55_000, optionLiquidity: 0.7),
        SyntheticTicker(symbol: "GOOGL", startPrice: 135, volatility: 0.30, pennyPilot: false, minuteVolume: 80_000, optionLiquidity: 0.6),
        SyntheticTicker(symbol: "META", startPrice: 495, volatility: 0.38, pennyPilot: false, minuteVolume: 40_000, optionLiquidity: 0.6),
        SyntheticTicker(symbol: "DE", startPrice: 365, volatility: 0.25, pennyPilot: false, minuteVolume: 3_800, pennyProgram: false, optionLiquidity: 0.2),
        SyntheticTicker(symbol: "LMT", startPrice: 455, volatility: 0.17, pennyPilot: false, minuteVolume: 2_600, pennyProgram: false, optionLiquidity: 0.15),
        SyntheticTicker(symbol: "CMG", startPrice: 2750, volatility: 0.28, pennyPilot: false, minuteVolume: 800, pennyProgram: false, optionLiquidity: 0.1),
    ]

    /// The most tickers `--tickers N` gives: the universe, then generated ones (`generated`).
    public static let maxCount = 2_000

    /// The `index`th ticker past the universe, for load tests (e.g. 500 tickers streaming): a four-letter symbol
    /// `Z` + three letters (ZAAA, ZAAB, …), outside the penny program's pilot, with price, volatility, volume and
    /// option liquidity drawn from a stream named after the symbol (the same on every run).
    public static func generated(_ index: Int) -> SyntheticTicker {
        let k = index - universe.count
        precondition(k >= 0 && k < 26 * 26 * 26, "generated tickers: ZAAA to ZZZZ")
        let letters = [k / 676, (k / 26) % 26, k % 26].map { Character(UnicodeScalar(UInt8(65 + $0))) }
        let symbol = "Z" + String(letters)
        var r = SeededRandom(seed: 7, "generated-ticker", symbol)
        return SyntheticTicker(symbol: symbol, startPrice: (r.uniform(15, 600) * 100).rounded() / 100,
                               volatility: (r.uniform(0.15, 0.65) * 100).rounded() / 100, pennyPilot: false,
                               minuteVolume: (r.uniform(2_000, 120_000)).rounded(), optionLiquidity: (r.uniform(0.1, 0.9) * 100).rounded() / 100)
    }

    /// `market-feed --tickers`: `all` (the universe), `N` (its first N) or `SYM,SYM…` (those, in that order).
    public static func pick(_ spec: String) throws(TickerChoiceError) -> [SyntheticTicker] {
        let text = spec.trimmingCharacters(in: .whitespaces)
        if text.lowercased() == "all" { return universe }
        if let n = Int(text) {
            guard (1...maxCount).contains(n) else { throw TickerChoiceError("--tickers \(n): choose 1 to \(maxCount)") }
            return Array(universe.prefix(n)) + (universe.count..<max(n, universe.count)).map(generated)
        }
        let symbols = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
        guard !symbols.isEmpty, Set(symbols).count == symbols.count else { throw TickerChoiceError("--tickers '\(spec)': give all, a count or distinct symbols") }
        return try symbols.map { (s) throws(TickerChoiceError) -> SyntheticTicker in
            guard let t = universe.first(where: { $0.symbol == s }) else {
                throw TickerChoiceError("--tickers: no synthetic ticker '\(s)'; known: \(universe.map(\.symbol).joined(separator: ", "))")
            }
            return t
        }
    }
}

/// Why a `--tickers` value was refused.
public struct TickerChoiceError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

/// What `SyntheticMarket` generates.
public struct SyntheticMarketConfig: Sendable {
    /// Same seed → identical events (default 42).
    public var seed: UInt64
    /// Default `SyntheticTicker.defaults` (SPY, QQQ, AAPL).
    public var tickers: [SyntheticTicker]
    /// First session: the first trading day on or after this date (default 2024-03-04, a Monday).
    public var startDate: CivilDate
    /// Number of regular sessions (default 2). Weekends and NYSE holidays are skipped.
    public var sessions: Int
    /// A chain per ticker every this many minutes, at bar ends (default 5; 0 = no chains).
    public var chainEveryMinutes: Int
    /// A sentiment score per ticker every this many minutes, at bar ends (default 30; 0 = none).
    public var sentimentEveryMinutes: Int
    /// Chain layout and pricing (default `ChainConfig()`); each ticker's `pennyPilot` overrides the field here.
    public var chain: ChainConfig

    public init(seed: UInt64 = 42, tickers: [SyntheticTicker] = SyntheticTicker.defaults,
                startDate: CivilDate = CivilDate(year: 2024, month: 3, day: 4), sessions: Int = 2,
                chainEveryMinutes: Int = 5, sentimentEveryMinutes: Int = 30, chain: ChainConfig = ChainConfig()) {
        self.seed = seed; self.tickers = tickers; self.startDate = startDate; self.sessions = sessions
        self.chainEveryMinutes = chainEveryMinutes; self.sentimentEveryMinutes = sentimentEveryMinutes; self.chain = chain
    }

    /// Whether the bar ending `minutesAfterOpen` minutes after the session's open comes with an option chain.
    public func writesChain(minutesAfterOpen: Int) -> Bool {
        chainEveryMinutes > 0 && minutesAfterOpen % chainEveryMinutes == 0
    }

    /// The session's open on `date`.
    public static func open(on date: CivilDate) -> Timestamp {
        NewYorkTime.utc(date: date, hour: SyntheticCalendar.openMinute / 60, minute: SyntheticCalendar.openMinute % 60)
    }
}

/// The hidden state of a ticker's price process. A Markov chain switches between regimes minute by minute
/// (mean stay about 40 minutes), so a session holds both trends and chop.
public enum SyntheticRegime: String, Sendable, CaseIterable {
    /// Drift +0.25 σ per minute with damped noise: a steady climb.
    case trendingUp
    /// Drift −0.27 σ per minute with damped noise: a steady slide.
    case trendingDown
    /// Mean reversion toward the price where the regime began.
    case choppy

    /// +1, −1, 0: the sign of the regime's drift.
    public var direction: Double {
        switch self { case .trendingUp: 1; case .trendingDown: -1; case .choppy: 0 }
    }
}

/// A seeded synthetic market: regular-hours 1-minute bars (09:30–16:00 New York, 390 per session; 09:30–13:00, 210, on
/// an NYSE early close) for each ticker,
/// option chains every `chainEveryMinutes` and sentiment scores every `sentimentEveryMinutes`, in
/// `MarketEvent.canonicalOrder`.
///
/// The price of each ticker follows a regime-switching process (trend up, trend down, mean-reverting chop) built
/// from 6 sub-steps per minute (so high/low enclose open/close), with an intraday volatility curve (busier at the
/// open), an overnight gap at each session open after the first, U-shaped volume with noise and occasional
/// volume spikes on trend bursts. Chains come from `ChainSynthesizer` with a base volatility that tracks the
/// regime (higher when trending down); sentiment follows the regime's direction plus noise.
///
/// Deterministic: each ticker draws from its own `SeededRandom` stream (seed + symbol), so the bars of a ticker do
/// not depend on the other tickers or on the chain and sentiment settings. Generation is lazy, one session at a
/// time, through the `Sequence` conformance; `events()` collects everything.
public struct SyntheticMarket: Sequence, Sendable {
    public var config: SyntheticMarketConfig

    public init(config: SyntheticMarketConfig = SyntheticMarketConfig()) { self.config = config }

    /// The New York dates of the sessions generated.
    public var sessionDates: [CivilDate] {
        SyntheticCalendar.tradingDays(from: config.startDate, count: Swift.max(0, config.sessions))
    }

    /// Every event, sorted with `MarketEvent.canonicalOrder`.
    public func events() -> [MarketEvent] { Array(self) }

    public func makeIterator() -> Iterator { Iterator(config: config, dates: sessionDates) }

    /// Generates one session (all tickers) at a time and hands its events out in canonical order.
    public struct Iterator: IteratorProtocol, Sendable {
        let config: SyntheticMarketConfig
        let dates: [CivilDate]
        var nextSession = 0
        var buffer: [MarketEvent] = []
        var position = 0
        var states: [TickerProcess]

        init(config: SyntheticMarketConfig, dates: [CivilDate]) {
            self.config = config
            self.dates = dates
            self.states = config.tickers.map { TickerProcess(ticker: $0, seed: config.seed, chain: config.chain) }
        }

        public mutating func next() -> MarketEvent? {
            while position >= buffer.count {
                guard nextSession < dates.count else { return nil }
                var events = [MarketEvent]()
                for i in states.indices {
                    states[i].runSession(date: dates[nextSession], index: nextSession,
                                         config: config, into: &events)
                }
                events.sort(by: MarketEvent.canonicalOrder)
                buffer = events
                position = 0
                nextSession += 1
            }
            defer { position += 1 }
            return buffer[position]
        }
    }
}

/// The state of one ticker's simulated price process between minutes and sessions.
struct TickerProcess: Sendable {
    let ticker: SyntheticTicker
    let synthesizer: ChainSynthesizer
    var rng: SeededRandom
    var sentimentRng: SeededRandom
    var price: Double
    var regime: SyntheticRegime
    /// Where the current choppy regime reverts to.
    var anchor: Double
    /// The chains' base volatility, drifting toward the regime's level.
    var impliedLevel: Double

    static let subSteps = 6
    static let stayProbability = 0.975
    static let volatilityCalibration = 0.5

    init(ticker: SyntheticTicker, seed: UInt64, chain: ChainConfig) {
        self.ticker = ticker
        var chainConfig = chain
        chainConfig.pennyPilot = ticker.pennyPilot
        chainConfig.openInterestScale *= ticker.optionLiquidity
        chainConfig.dailyVolumeScale *= ticker.optionLiquidity
        self.synthesizer = ChainSynthesizer(config: chainConfig)
        self.rng = SeededRandom(seed: seed, ticker.symbol, "price")
        self.sentimentRng = SeededRandom(seed: seed, ticker.symbol, "sentiment")
        self.price = ticker.startPrice
        self.regime = .choppy
        self.anchor = ticker.startPrice
        self.impliedLevel = ticker.volatility
        self.regime = drawRegime()
    }

    mutating func drawRegime() -> SyntheticRegime {
        let u = rng.uniform()
        return u < 0.3 ? .trendingUp : u < 0.6 ? .trendingDown : .choppy
    }

    mutating func switchRegimeMaybe() {
        guard !rng.bernoulli(Self.stayProbability) else { return }
        let u = rng.uniform()
        let next: SyntheticRegime
        switch regime {
        case .choppy: next = u < 0.5 ? .trendingUp : .trendingDown
        case .trendingUp: next = u < 0.75 ? .choppy : .trendingDown
        case .trendingDown: next = u < 0.75 ? .choppy : .trendingUp
        }
        enter(next)
    }

    mutating func enter(_ r: SyntheticRegime) {
        regime = r
        anchor = price
    }

    /// Implied volatility the regime pulls the chains toward.
    var regimeImpliedTarget: Double {
        switch regime {
        case .trendingUp: ticker.volatility * 0.92
        case .trendingDown: ticker.volatility * 1.25
        case .choppy: ticker.volatility
        }
    }

    /// One minute's pull of the chains' base volatility toward the regime's level (live sessions and IV history).
    mutating func relaxImpliedLevel() {
        impliedLevel += 0.05 * (regimeImpliedTarget - impliedLevel)
    }

    mutating func runSession(date: CivilDate, index: Int, config: SyntheticMarketConfig, into events: inout [MarketEvent]) {
        // 390 minutes, or 210 on a 13:00 early close; the per-minute scale stays the full day's.
        let minutes = (SyntheticCalendar.closeMinute(of: date) ?? SyntheticCalendar.closeMinute) - SyntheticCalendar.openMinute
        // Trends add variance of their own: the per-minute scale is calibrated (× 0.5) so the realized daily
        // volatility comes out near the ticker's nominal volatility.
        let sigmaMinute = Self.volatilityCalibration * ticker.volatility / (252.0 * Double(SyntheticCalendar.sessionMinutes)).squareRoot()
        if index > 0 {
            // Overnight: a gap of about half a day's volatility, and a fresh regime.
            let gap = rng.normal() * 0.5 * ticker.volatility / 252.0.squareRoot()
            price *= exp(gap)
            enter(drawRegime())
        }
        let open = SyntheticMarketConfig.open(on: date)
        for i in 0..<minutes {
            switchRegimeMaybe()
            let x = Double(i) / Double(minutes - 1)
            // Intraday volatility: busiest just after the open, a little busier into the close.
            let timeOfDay = 1 + 0.6 * exp(-Double(i) / 30) + 0.2 * exp(-Double(minutes - 1 - i) / 30)
            let regimeVol: Double = switch regime { case .trendingUp: 0.6; case .trendingDown: 0.7; case .choppy: 0.9 }
            let sigma = sigmaMinute * timeOfDay * regimeVol
            // A trend burst: a strong push in the trend's direction on heavy volume.
            let burst = regime != .choppy && rng.bernoulli(0.04)
            let trendDrift: Double = switch regime {
            case .trendingUp: 0.25 * sigmaMinute
            case .trendingDown: -0.27 * sigmaMinute
            case .choppy: 0
            }
            let drift = trendDrift + (burst ? regime.direction * 2.5 * sigmaMinute : 0)

            let openPrice = price
            var high = price, low = price
            var weighted = 0.0, weights = 0.0
            let stepSigma = sigma / Double(Self.subSteps).squareRoot()
            for _ in 0..<Self.subSteps {
                var stepDrift = drift / Double(Self.subSteps)
                if regime == .choppy { stepDrift -= 0.12 / Double(Self.subSteps) * log(price / anchor) }
                price *= exp(stepDrift + stepSigma * rng.normal())
                high = max(high, price); low = min(low, price)
                let w = rng.uniform(0.5, 1.5)
                weighted += w * price; weights += w
            }
            let ret = log(price / openPrice)

            // U-shaped volume with noise, heavier on big moves and bursts.
            let shape = 0.5 + 2.0 * exp(-x / 0.08) + 1.5 * exp(-(1 - x) / 0.06)
            var volume = ticker.minuteVolume * shape * exp(0.25 * rng.normal() - 0.03)
            volume *= 1 + 0.3 * min(5, abs(ret) / sigmaMinute)
            if burst { volume *= rng.uniform(2.5, 5) }
            let shares = Int64(max(100, volume.rounded()))
            let trades = max(1, Int64((Double(shares) / rng.uniform(90, 160)).rounded()))

            let o = Self.cents(openPrice), c = Self.cents(price)
            let h = max(Self.cents(high), o, c), l = min(Self.cents(low), o, c)
            let vwap = min(h, max(l, (weighted / weights * 10_000).rounded() / 10_000))
            let bar = Bar(ticker: ticker.symbol, interval: .m1, start: open + Minutes(i), open: o, high: h, low: l,
                          close: c, volume: shares, vwap: vwap, trades: trades)
            events.append(.bar(bar))

            relaxImpliedLevel()
            let minuteNumber = i + 1
            if config.writesChain(minutesAfterOpen: minuteNumber) {
                let seed = StableHash.combine(config.seed, values: [StableHash.fnv1a(ticker.symbol), UInt64(bitPattern: bar.end.ms)])
                let chain = synthesizer.chain(underlying: ticker.symbol, price: c, at: bar.end, baseVolatility: impliedLevel, seed: seed)
                events.append(.chain(ticker.pennyProgram ? chain : Self.outsidePennyProgram(chain)))
            }
            if config.sentimentEveryMinutes > 0, minuteNumber % config.sentimentEveryMinutes == 0 {
                let raw = tanh(0.9 * regime.direction + 0.35 * sentimentRng.normal())
                let score = min(1, max(-1, (raw * 1000).rounded() / 1000))
                let articles = sentimentRng.int(in: 1...12)
                events.append(.sentiment(SentimentScore(ticker: ticker.symbol, score: score, source: "synthetic-news",
                                                        articles: articles), at: bar.end))
            }
        }
    }

    static func cents(_ x: Double) -> Double { max(0.01, (x * 100).rounded() / 100) }

    /// A chain re-quoted as a class outside the penny program: bid down and ask up to the $0.05 (below $3) /
    /// $0.10 grid, then a tick wider on each side (a bid that would go below one tick is 0).
    static func outsidePennyProgram(_ chain: OptionChain) -> OptionChain {
        func tick(_ cents: Int) -> Int { cents < 300 ? 5 : 10 }
        var out = chain
        out.contracts = chain.contracts.map { q in
            var q = q
            let bid = Int((q.bid * 100).rounded()), ask = Int((q.ask * 100).rounded())
            var b = bid / tick(bid) * tick(bid)
            b = b > 0 && b - tick(b - 1) >= 5 ? b - tick(b - 1) : 0
            var a = (ask + tick(ask) - 1) / tick(ask) * tick(ask)
            a = max(a + tick(a), b + tick(b))
            let mid = (a + b) / 2
            q.bid = Double(b) / 100
            q.ask = Double(a) / 100
            q.last = q.last.map { _ in Double(max(5, mid / tick(mid) * tick(mid))) / 100 }
            return q
        }
        return out
    }
}
