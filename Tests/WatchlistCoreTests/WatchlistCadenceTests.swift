import OpsModel
import Testing
import WatchlistCore

@Suite("Watchlist cadence: the open and every 30 minutes, by the NYSE calendar")
struct WatchlistCadenceTests {
    static let blackFriday = CivilDate(year: 2024, month: 11, day: 29)   // 13:00 early close
    static let thanksgiving = CivilDate(year: 2024, month: 11, day: 28)  // closed

    @Test("a full session has 13 boundaries, 09:30 … 15:30; a 13:00 early close has 7, 09:30 … 12:30")
    func boundariesOfASession() {
        let full = WatchlistCadence.boundaries(of: monday, everyMinutes: 30)
        #expect(full.count == 13)
        #expect(full.first == ny(monday, 9, 30) && full.last == ny(monday, 15, 30))
        let early = WatchlistCadence.boundaries(of: Self.blackFriday, everyMinutes: 30)
        #expect(early == (0..<7).map { ny(Self.blackFriday, 9, 30) + Minutes(30 * $0) })
        #expect(WatchlistCadence.boundaries(of: Self.thanksgiving, everyMinutes: 30).isEmpty)
        #expect(WatchlistCadence.boundaries(of: CivilDate(year: 2024, month: 3, day: 9), everyMinutes: 30).isEmpty, "a Saturday")
        #expect(WatchlistCadence.boundaries(of: monday, everyMinutes: 45).last == ny(monday, 15, 30))
    }

    static let cases: [(Timestamp, Timestamp?, String)] = [
        (ny(monday, 9, 29, 59), nil, "before the open"),
        (ny(monday, 9, 30), ny(monday, 9, 30), "the open itself"),
        (ny(monday, 9, 31), ny(monday, 9, 30), "the first bar's end"),
        (ny(monday, 9, 59, 59), ny(monday, 9, 30), "just before 10:00"),
        (ny(monday, 10, 0), ny(monday, 10, 0), "10:00"),
        (ny(monday, 15, 59), ny(monday, 15, 30), "the last minute"),
        (ny(monday, 16, 0), ny(monday, 15, 30), "the close is still the session; 16:00 is no boundary"),
        (ny(monday, 16, 0, 1), nil, "after the close"),
        (ny(blackFriday, 12, 59), ny(blackFriday, 12, 30), "early close: the last boundary is 12:30"),
        (ny(blackFriday, 13, 0), ny(blackFriday, 12, 30), "early close: 13:00 is the close, no boundary"),
        (ny(blackFriday, 13, 1), nil, "early close: 13:01 is after the session"),
        (ny(thanksgiving, 10, 0), nil, "a holiday"),
    ]

    @Test("the latest boundary at or before an instant", arguments: cases)
    func latestBoundary(_ c: (Timestamp, Timestamp?, String)) {
        #expect(WatchlistCadence.boundary(at: c.0, everyMinutes: 30) == c.1, "\(c.2)")
    }

    static let nextCases: [(Timestamp, Timestamp, String)] = [
        (ny(monday, 8, 0), ny(monday, 9, 30), "before the open: the open"),
        (ny(monday, 9, 30), ny(monday, 10, 0), "the open: the next half hour"),
        (ny(monday, 10, 7), ny(monday, 10, 30), "mid-interval"),
        (ny(monday, 15, 30), ny(tuesday, 9, 30), "the last boundary: the next session's open"),
        (ny(monday, 20, 0), ny(tuesday, 9, 30), "the evening"),
        (ny(CivilDate(year: 2024, month: 3, day: 8), 15, 30), ny(CivilDate(year: 2024, month: 3, day: 11), 9, 30), "Friday: Monday's open"),
        (ny(blackFriday, 12, 30), ny(CivilDate(year: 2024, month: 12, day: 2), 9, 30), "early close: 12:30 is the last, then Monday"),
        (ny(CivilDate(year: 2024, month: 11, day: 27), 15, 45), ny(blackFriday, 9, 30), "the eve of a holiday: the day after it"),
    ]

    @Test("the first boundary strictly after an instant", arguments: nextCases)
    func nextBoundary(_ c: (Timestamp, Timestamp, String)) {
        #expect(WatchlistCadence.boundary(after: c.0, everyMinutes: 30) == c.1, "\(c.2)")
        // It is the least boundary after the instant: none lies between.
        #expect(WatchlistCadence.boundary(at: c.1 - Minutes(1), everyMinutes: 30).map { $0 <= c.0 } ?? true, "\(c.2)")
    }

    @Test("the open is the session's open, on a full and on an early-close day")
    func isOpen() {
        #expect(WatchlistCadence.isOpen(ny(monday, 9, 30)))
        #expect(!WatchlistCadence.isOpen(ny(monday, 10, 0)))
        #expect(WatchlistCadence.isOpen(ny(Self.blackFriday, 9, 30)))
    }
}

@Suite("Watchlist-engine: when it publishes")
struct WatchlistPublishingTests {
    @Test("first run day: nothing at the open (no ticker seen yet), then 10:00 … 15:30; next day: the open and every 30 minutes")
    func cadenceOverTwoSessions() throws {
        var core = WatchlistCore()
        let out = try run(&core, session(monday, ["SPY", "QQQ"]) + session(tuesday, ["SPY", "QQQ"]))
        let mondayList = out.filter { $0.payload.sessionDate == monday }
        #expect(mondayList.map(\.payload.asOf) == (1..<13).map { ny(monday, 9, 30) + Minutes(30 * $0) })
        #expect(mondayList.map(\.eventTime) == mondayList.map(\.payload.asOf), "published with the first input at the boundary (the bar ending then)")
        let tuesdayList = out.filter { $0.payload.sessionDate == tuesday }
        #expect(tuesdayList.map(\.payload.asOf) == WatchlistCadence.boundaries(of: tuesday, everyMinutes: 30))
        #expect(tuesdayList.first?.eventTime == ny(tuesday, 9, 31), "the open's list goes out with the session's first input")
        #expect(tuesdayList.first?.payload.boundary == "open")
        #expect(tuesdayList.dropFirst().allSatisfy { $0.payload.boundary == "interval" })
        #expect(out.allSatisfy { $0.payload.tickers == ["QQQ", "SPY"] }, "equal scores rank by ticker")
        #expect(Set(out.map(\.id)).count == out.count)
    }

    @Test("a 13:00 early close: the open and every 30 minutes to 12:30, nothing at 13:00")
    func earlyClose() throws {
        var core = WatchlistCore()
        let wednesday = CivilDate(year: 2024, month: 11, day: 27), friday = CivilDate(year: 2024, month: 11, day: 29)
        let out = try run(&core, session(wednesday, ["SPY"]) + session(friday, ["SPY"]))
        let friList = out.filter { $0.payload.sessionDate == friday }
        #expect(friList.map(\.payload.asOf) == (0..<7).map { ny(friday, 9, 30) + Minutes(30 * $0) })
        #expect(friList.first.map { entry($0.payload, "SPY")?.volumeSessions } == 1, "Wednesday is the completed session (Thursday is a holiday)")
    }

    @Test("a gap over several boundaries publishes one list, for the latest boundary, with the input that ends the gap")
    func gap() throws {
        var core = WatchlistCore()
        let inputs = session(monday, ["SPY"], until: (10, 5)) + [features("SPY", end: ny(monday, 11, 10))]
        let out = try run(&core, inputs)
        #expect(out.map(\.payload.asOf) == [ny(monday, 10, 0), ny(monday, 11, 0)])
        #expect(out.last?.eventTime == ny(monday, 11, 10))
        #expect(out.last?.causationId == inputs.last?.envelope.id)
    }

    @Test("every_minutes and size come from the trading params")
    func params() throws {
        var p = TradingParams.WatchlistParams()
        p.everyMinutes = 60
        p.size = 1
        var core = WatchlistCore(params: p)
        let out = try run(&core, session(monday, ["SPY", "QQQ"]))
        #expect(out.map(\.payload.asOf) == (1..<7).map { ny(monday, 9, 30) + Minutes(60 * $0) })
        #expect(out.allSatisfy { $0.payload.tickers.count == 1 && $0.payload.entries.count == 2 && $0.payload.size == 1 })
    }

    @Test("the list for a boundary uses only inputs before it: a same-time input counts in the next one")
    func onlyInputsBeforeTheBoundary() throws {
        var core = WatchlistCore()
        let inputs = session(monday, ["SPY"], until: (10, 31)) + [sentiment("SPY", at: ny(monday, 10, 0), score: 0.9)]
        let out = try run(&core, inputs)
        #expect(out.count == 2)
        #expect(out[0].eventTime == ny(monday, 10, 0), "the sentiment at 10:00 triggers the 10:00 list")
        #expect(entry(out[0].payload, "SPY")?.sentimentCount == 0, "…but is not part of it")
        #expect(entry(out[1].payload, "SPY")?.sentimentMean == 0.9)
        #expect(entry(out[0].payload, "SPY")?.avgDailyVolume == Double(29 * 1000), "bars ending 09:31 … 09:59: today's volume so far")
    }
}

/// The watchlist-engine promises past the minutes between boundaries, so the signal-engine does not wait on it every
/// minute; every promise must hold whatever inputs come next.
@Suite("Watchlist-engine lookahead")
struct WatchlistLookaheadTests {
    /// Feeds the inputs one by one and checks every watchlist against the promise made before it.
    static func checkPromises(_ core: inout WatchlistCore, _ inputs: [Input]) throws -> (published: Int, promises: [Timestamp]) {
        var promised: Timestamp?
        var published = 0
        var promises = [Timestamp]()
        for i in inputs.sorted(by: Input.canonical) {
            for e in try core.handle(i.envelope, from: i.topic) {
                if let promised { #expect(e.envelope.eventTime >= promised, "a watchlist at \(e.envelope.eventTime) broke the promise of nothing before \(promised)") }
                published += 1
            }
            if let r = core.lookahead?.resumesAt, r != promised { promises.append(r) }
            promised = core.lookahead?.resumesAt
        }
        return (published, promises)
    }

    @Test("none before the first boundary; then up to the next boundary, the next session's open after the last; no watchlist comes before a promise")
    func promisesUpToTheNextBoundary() throws {
        var core = WatchlistCore()
        #expect(core.lookahead == nil, "before any boundary an input may publish")
        let inputs = session(monday, ["SPY", "QQQ"]) + session(tuesday, ["SPY", "QQQ"])
            + [sentiment("SPY", at: ny(tuesday, 7, 0), score: 0.3), chain("SPY", at: ny(tuesday, 10, 0), price: 500, quotes: [(500, 1, 1.1, 10)])]
        let (published, promises) = try Self.checkPromises(&core, inputs)
        #expect(published == 12 + 13)
        #expect(promises == Array(WatchlistCadence.boundaries(of: monday, everyMinutes: 30).dropFirst()) + WatchlistCadence.boundaries(of: tuesday, everyMinutes: 30)
            + [ny(CivilDate(year: 2024, month: 3, day: 6), 9, 30)])
        let la = try #require(core.lookahead)
        #expect(la.causes == [Topics.watchlist: [Topics.params: 0]], "only a pending parameter change narrows it")
    }

    @Test("a live change of every_minutes moves the promise to the new grid at once")
    func parameterChangeMovesTheGrid() throws {
        var core = WatchlistCore()
        _ = try Self.checkPromises(&core, session(monday, ["SPY"], until: (10, 7)))
        #expect(core.lookahead?.resumesAt == ny(monday, 10, 30))
        var params = TradingParams()
        params.watchlist.everyMinutes = 5
        core.reconfigure(params)
        #expect(core.lookahead?.resumesAt == ny(monday, 10, 5), "the first 5-minute boundary after the last handled (10:00)")
        let (published, _) = try Self.checkPromises(&core, session(monday, ["SPY"]).filter { $0.envelope.eventTime > ny(monday, 10, 7) })
        #expect(published == (16 * 60 - 10 * 60 - 10) / 5 + 1, "10:05 (with the first input after it, 10:08), 10:10 … 15:55")
    }
}
