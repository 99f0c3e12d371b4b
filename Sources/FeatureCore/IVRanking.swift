import OpsModel

/// Where today's implied volatility sits in the ticker's past year (seed 004 §1 "IV percentile", seed 000 Phase 3
/// #12 "IV Rank"), from daily ATM IVs (`iv_daily`).
///
/// - Window: the daily ATM IVs dated within the 252 NYSE trading days before the bar's session (the session itself
///   is not in it; a day without a value is simply missing).
/// - **IV percentile** = 100 × (days in the window whose daily ATM IV is strictly below the current ATM IV) ÷ (days
///   in the window). A tie is not "below": a current IV equal to every day of the window has percentile 0.
/// - **IV Rank** = (current − min) ÷ (max − min) × 100 over the window, clamped to [0, 100]; null when max == min.
/// - Both are null with fewer than 20 days in the window (never 0 for "unknown").
public enum IVRanking {
    public static let windowSessions = 252
    public static let minimumDays = 20

    /// nil below `minimumDays` values.
    public static func percentile(_ current: Double, among window: [Double]) -> Double? {
        guard window.count >= minimumDays else { return nil }
        let below = window.reduce(0) { $0 + ($1 < current ? 1 : 0) }
        return 100 * Double(below) / Double(window.count)
    }

    /// nil below `minimumDays` values or when the window is flat.
    public static func rank(_ current: Double, among window: [Double]) -> Double? {
        guard window.count >= minimumDays, let low = window.min(), let high = window.max(), high > low else { return nil }
        return min(100, max(0, (current - low) / (high - low) * 100))
    }

    /// The first trading day of the window for a session: `windowSessions` NYSE trading days before it.
    public static func windowStart(before session: CivilDate) -> CivilDate {
        var day = session
        for _ in 0..<windowSessions { day = MarketCalendar.tradingDay(onOrBefore: day.adding(days: -1)) }
        return day
    }
}

/// A ticker's daily ATM IVs, and the window of the session being computed (rebuilt when a value arrives or the
/// session changes, not on every bar). Kept as two sorted flat arrays (a day as yyyymmdd): a year of 500 tickers
/// in hashed `CivilDate` dictionaries took 8 MB, a fifth of the feature-computer's heap.
struct IVHistory: Sendable {
    private var days: [Int32] = []
    private var ivs: [Double] = []
    private var cached: (session: CivilDate, window: [Double])? = nil

    private static func day(_ d: CivilDate) -> Int32 { Int32(d.year * 10_000 + d.month * 100 + d.day) }

    /// The first index whose day is not before `day`.
    private func lowerBound(_ day: Int32) -> Int {
        var lo = 0, hi = days.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if days[mid] < day { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    mutating func record(_ date: CivilDate, _ atmIv: Double) {
        let day = Self.day(date)
        let appends = days.last.map { $0 < day } ?? true   // daily values come in date order
        let i = appends ? days.count : lowerBound(day)
        if i < days.count, days[i] == day {
            ivs[i] = atmIv
        } else {
            days.insert(day, at: i); ivs.insert(atmIv, at: i)
        }
        cached = nil
    }

    mutating func window(for session: CivilDate) -> [Double] {
        if let cached, cached.session == session { return cached.window }
        let from = lowerBound(Self.day(IVRanking.windowStart(before: session))), until = lowerBound(Self.day(session))
        let window = from < until ? Array(ivs[from..<until]) : []
        cached = (session, window)
        return window
    }
}
