import OpsModel

/// Daily ATM implied volatilities (`iv_daily`), the history the feature-computer ranks the current ATM IV against.
public enum DailyImpliedVolatilities {
    /// One value per ticker and NYSE trading day that has a chain: the ATM IV (`OptionChain.atmImpliedVolatility`) of
    /// the day's last chain at or before its close that has one. Chains after the close or on closed days are not
    /// used. Sorted in `MarketEvent.canonicalOrder`.
    public static func fromChains(_ events: some Sequence<MarketEvent>) -> [MarketEvent] {
        var last = [String: (asOf: Timestamp, day: DailyImpliedVolatility)]()
        for case .chain(let chain) in events {
            let date = NewYorkTime.date(of: chain.asOf)
            guard MarketCalendar.isTradingDay(date), chain.asOf <= MarketCalendar.close(of: date),
                  let iv = chain.atmImpliedVolatility else { continue }
            let key = "\(chain.underlying)|\(date.iso)"
            if let seen = last[key], seen.asOf > chain.asOf { continue }
            last[key] = (chain.asOf, DailyImpliedVolatility(ticker: chain.underlying, date: date, atmIv: iv))
        }
        return last.values.map { MarketEvent.ivDaily($0.day) }.sorted(by: MarketEvent.canonicalOrder)
    }

    /// What a source publishes: the history's values dated before the first bar's session and not derivable from
    /// the source's own chains (which decide wherever they can), then `events`, plus each session's own value derived from the chains in
    /// `events` (`fromChains`) at its close, merged in `MarketEvent.canonicalOrder`. `events` must be in that order.
    public static func withDailyValues(_ events: [MarketEvent], history: [DailyImpliedVolatility]) -> [MarketEvent] {
        let firstBar = events.first { if case .bar = $0 { true } else { false } } ?? events.first
        let first = firstBar.map { NewYorkTime.date(of: $0.eventTime) }
        let own = fromChains(events)
        let covered = Set(own.map { "\($0.ticker)|\(NewYorkTime.date(of: $0.eventTime).iso)" })
        let prior = history.filter { d in (first.map { d.date < $0 } ?? true) && !covered.contains("\(d.ticker)|\(d.date.iso)") }
        return MarketEventMerge.merge([prior.map(MarketEvent.ivDaily).sorted(by: MarketEvent.canonicalOrder), own, events])
    }
}

extension SyntheticMarket {
    /// The daily ATM IVs of the `sessions` NYSE trading days before the first generated session, per ticker, so IV
    /// percentile and IV Rank are known from the first bar. Each day runs the ticker's own regime process minute by
    /// minute (the same switching and the same pull of the implied level toward the regime's target as the live
    /// sessions, from its own seeded stream: seed + symbol + "iv-history") and takes the ATM IV of the chain
    /// `ChainSynthesizer` would quote at the close on that implied level, so history and live values share one
    /// distribution. Sorted by (date, ticker); every value is before the first bar.
    public func impliedVolatilityHistory(sessions: Int = 252) -> [DailyImpliedVolatility] {
        guard let first = sessionDates.first, sessions > 0 else { return [] }
        var dates = [CivilDate]()
        var day = first
        while dates.count < sessions {
            day = MarketCalendar.tradingDay(onOrBefore: day.adding(days: -1))
            dates.append(day)
        }
        dates.reverse()
        var out = [DailyImpliedVolatility]()
        for ticker in config.tickers {
            var process = TickerProcess(ticker: ticker, seed: config.seed, chain: config.chain, stream: "iv-history")
            for (i, date) in dates.enumerated() {
                if let iv = process.closingImpliedVolatility(date: date, index: i, seed: config.seed) {
                    out.append(DailyImpliedVolatility(ticker: ticker.symbol, date: date, atmIv: iv))
                }
            }
        }
        return out.sorted { ($0.date, $0.ticker) < ($1.date, $1.ticker) }
    }
}

extension TickerProcess {
    /// A process on its own random stream, so a history does not shift the live sessions' draws.
    init(ticker: SyntheticTicker, seed: UInt64, chain: ChainConfig, stream: String) {
        self.init(ticker: ticker, seed: StableHash.combine(seed, parts: [stream]), chain: chain)
    }

    /// Advances the regime and implied level through `date`'s session (a fresh regime after the first) and returns
    /// the ATM IV of the close's chain.
    mutating func closingImpliedVolatility(date: CivilDate, index: Int, seed: UInt64) -> Double? {
        guard let session = MarketCalendar.session(date) else { return nil }
        if index > 0 { enter(drawRegime()) }
        let minutes = Int((session.close.ms - session.open.ms) / 60_000)
        for _ in 0..<minutes {
            switchRegimeMaybe()
            relaxImpliedLevel()
        }
        let chainSeed = StableHash.combine(seed, values: [StableHash.fnv1a(ticker.symbol), UInt64(bitPattern: session.close.ms)])
        return synthesizer.chain(underlying: ticker.symbol, price: price, at: session.close, baseVolatility: impliedLevel,
                                 seed: chainSeed).atmImpliedVolatility
    }
}
