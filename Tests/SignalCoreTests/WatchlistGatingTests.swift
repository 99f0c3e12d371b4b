import OpsModel
import SignalCore
import Testing

/// A watchlist as the watchlist-engine publishes it: `ranked` best first, the first `size` selected.
private func watchlist(_ ranked: [String], size: Int = 10, asOf: Timestamp = t0 - Minutes(30)) -> AnyEnvelope {
    let entries = ranked.enumerated().map { i, t in
        WatchlistEntry(ticker: t, rank: i + 1, selected: i < size, score: 0, sentimentMomentum: 0, liquidity: 0, technicalSetup: 0,
                       volatility: 0, avgDailyVolumeScore: 0, spreadQualityScore: 0, openInterestScore: 0, avgDailyVolume: nil,
                       volumeSessions: 0, spreadPct: nil, openInterest: nil, chainTime: nil, sentimentMean: nil, sentimentCount: 0,
                       sma20Slope: nil, atr14: nil, atmIv: nil, moveToImplied: nil)
    }
    let list = Watchlist(asOf: asOf, sessionDate: NewYorkTime.date(of: asOf), boundary: "interval", size: size,
                         tickers: entries.filter(\.selected).map(\.ticker), entries: entries)
    return Envelope(id: list.id, eventTime: asOf, causationId: nil, source: "watchlist-engine", payload: list).erased()
}

private func apply(_ core: inout SignalCore, _ list: AnyEnvelope) throws {
    #expect(try core.handle(list, from: Topics.watchlist).isEmpty, "a watchlist only gates; it emits nothing")
}

@Suite("Signal core: the watchlist gate (seed 004 §5)")
struct WatchlistGatingTests {
    @Test("before any watchlist every ticker signals, and the signal says so")
    func noWatchlistYet() throws {
        var core = SignalCore(params: defaults)
        let s = try run(&core, [bull("SPY"), bull("XYZ")])
        #expect(s.map(\.ticker) == ["SPY", "XYZ"])
        let gate = try #require(s.first?.rules.last)
        #expect(gate.rule == "watchlist" && gate.passed && gate.contribution == 0)
        #expect(gate.detail == "no watchlist published yet: every ticker is eligible")
        #expect(s.allSatisfy { $0.reason.hasSuffix("; watchlist: none published yet, every ticker eligible") })
    }

    @Test("with a watchlist only its selected tickers signal; the signal gives the rank and the list's time")
    func onlySelectedTickers() throws {
        var core = SignalCore(params: defaults)
        try apply(&core, watchlist(["QQQ", "AAPL", "SPY"], size: 2))
        let s = try run(&core, [bull("SPY"), bull("QQQ"), bull("AAPL"), bull("IWM")])
        #expect(s.map(\.ticker) == ["QQQ", "AAPL"], "SPY is ranked but not selected; IWM is not ranked")
        let gate = try #require(s.last?.rules.last)
        #expect(gate.passed && gate.detail == "AAPL is #2 of the top 2 in the watchlist as of 2024-03-04 09:30 New York")
        #expect(s.last?.reason.hasSuffix("; watchlist: #2 of top 2 as of 2024-03-04 09:30 New York") == true)
        let sum = try #require(s.first).rules.map(\.contribution).reduce(0, +)
        #expect(abs(try #require(s.first).confidence - sum) < 1e-9, "the gate adds nothing to the confidence")
    }

    @Test("a later list replaces the current one; an older one (or a copy from another partition) changes nothing")
    func latestListWins() throws {
        var core = SignalCore(params: defaults)
        let first = watchlist(["QQQ"]), second = watchlist(["SPY"], asOf: t0 - Minutes(1))
        try apply(&core, first)
        #expect(try run(&core, [bull("SPY", at: t0 - Minutes(5))]).isEmpty)
        try apply(&core, second)
        try apply(&core, first)
        try apply(&core, second)
        #expect(try run(&core, [bull("SPY"), bull("QQQ")]).map(\.ticker) == ["SPY"])
    }

    @Test("an empty selection blocks every ticker; reset forgets the list")
    func emptyListAndReset() throws {
        var core = SignalCore(params: defaults)
        try apply(&core, watchlist([]))
        #expect(try run(&core, [bull("SPY"), bear("QQQ")]).isEmpty)
        core.reset()
        #expect(try run(&core, [bull("SPY")]).count == 1, "after a reset (before a restore) no list is known")
    }

    @Test("the watchlist is the first input, so a list applies before the same minute's vectors; it causes no signal itself")
    func topics() {
        let core = SignalCore(params: defaults)
        #expect(core.inputTopics.first == Topics.watchlist)
        #expect(core.outputCauses[Topics.signals]?[Topics.watchlist] == nil)
        #expect(core.restoreStart(topic: Topics.watchlist, after: t0) == NewYorkTime.utc(date: CivilDate(year: 2024, month: 3, day: 4), hour: 0, minute: 0))
    }
}
