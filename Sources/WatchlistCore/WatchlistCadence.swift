import OpsModel

/// When watchlists are due: at the session open and every `everyMinutes` after it, before the close, on NYSE
/// trading days (`MarketCalendar`, so a 13:00 early close ends the grid at 12:30 with a 30-minute cadence).
public enum WatchlistCadence {
    /// The latest boundary at or before `t` on `t`'s New York date — open + k × `everyMinutes`, k ≥ 0, strictly
    /// before the close — when `t` is a regular-session instant (open ≤ t ≤ close); nil otherwise.
    public static func boundary(at t: Timestamp, everyMinutes: Int) -> Timestamp? {
        precondition(everyMinutes >= 1, "watchlist.every_minutes must be ≥ 1")
        guard let session = MarketCalendar.session(NewYorkTime.date(of: t)), t >= session.open, t <= session.close else { return nil }
        let step = Int64(everyMinutes) * 60_000
        let last = (session.close.ms - 1 - session.open.ms) / step
        let k = min((t.ms - session.open.ms) / step, last)
        return Timestamp(ms: session.open.ms + k * step)
    }

    /// The first boundary strictly after `t`: on `t`'s date while one is left before its close, else the next trading
    /// day's open. Once every boundary up to `t` is handled, no watchlist can be due before it.
    public static func boundary(after t: Timestamp, everyMinutes: Int) -> Timestamp {
        precondition(everyMinutes >= 1, "watchlist.every_minutes must be ≥ 1")
        let date = NewYorkTime.date(of: t)
        if let session = MarketCalendar.session(date) {
            let step = Int64(everyMinutes) * 60_000
            let k = t < session.open ? 0 : (t.ms - session.open.ms) / step + 1
            let next = session.open.ms + k * step
            if next < session.close.ms { return Timestamp(ms: next) }
        }
        return MarketCalendar.session(MarketCalendar.tradingDay(after: date))!.open
    }

    /// Every boundary of a date's session, in order (empty when the market is closed).
    public static func boundaries(of date: CivilDate, everyMinutes: Int) -> [Timestamp] {
        guard let session = MarketCalendar.session(date) else { return [] }
        let step = Int64(everyMinutes) * 60_000
        var out = [Timestamp]()
        var t = session.open.ms
        while t < session.close.ms {
            out.append(Timestamp(ms: t))
            t += step
        }
        return out
    }

    /// Whether `boundary` is its session's open.
    public static func isOpen(_ boundary: Timestamp) -> Bool {
        MarketCalendar.session(NewYorkTime.date(of: boundary))?.open == boundary
    }
}
