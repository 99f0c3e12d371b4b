/// Time to an option's expiry, as the Greeks and the time-based exit rules count it.
public enum OptionClock {
    /// Seconds in the 365-day year of the ACT/365 day count.
    public static let secondsPerYear = 365.0 * 86_400

    /// Options stop trading at 16:00 New York on their expiration day (the regular close; the expiry itself is the
    /// OCC's, but the last price is the close's), also on an early-close day.
    public static func expiry(_ expiration: CivilDate) -> Timestamp {
        NewYorkTime.utc(date: expiration, hour: 16, minute: 0)
    }

    /// Years from `time` to 16:00 New York on `expiration`, ACT/365 on the exact seconds between (negative once
    /// past).
    public static func years(from time: Timestamp, to expiration: CivilDate) -> Double {
        Double(expiry(expiration).ms - time.ms) / 1000 / secondsPerYear
    }

    /// Calendar days left: the New York dates from `time`'s to the expiration (0 on the expiration day).
    public static func daysLeft(at time: Timestamp, to expiration: CivilDate) -> Int {
        NewYorkTime.date(of: time).days(until: expiration)
    }
}
