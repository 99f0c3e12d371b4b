/// The NYSE trading calendar in code (no time-zone database, no network): weekends, the regular holidays with
/// their observance rules, one-off closures, and the 13:00 early closes. Valid for 2015–2027, the years whose
/// published NYSE calendars the tests check it against; other years follow the same rules.
///
/// Early closes (13:00 New York): the day after Thanksgiving; July 3 when it falls Monday–Thursday; December 24
/// when it falls Monday–Thursday. One-off closures: 2018-12-05 (President G. H. W. Bush's day of mourning) and
/// 2025-01-09 (President Carter's). Every "before the close" rule reads the close from here.
public enum MarketCalendar {
    /// Regular session open and close, New York wall-clock minutes since midnight.
    public static let openMinute = 9 * 60 + 30
    public static let closeMinute = 16 * 60
    public static let earlyCloseMinute = 13 * 60

    /// Full-day closures announced outside the rules.
    public static let specialClosures: Set<CivilDate> = [
        CivilDate(year: 2018, month: 12, day: 5),
        CivilDate(year: 2025, month: 1, day: 9),
    ]

    public static func isTradingDay(_ d: CivilDate) -> Bool { closeMinute(of: d) != nil }

    public static func isHoliday(_ d: CivilDate) -> Bool { !d.isWeekend && closeMinute(of: d) == nil }

    /// Whether the session of `d` (a trading day) closes at 13:00.
    public static func isEarlyClose(_ d: CivilDate) -> Bool { closeMinute(of: d) == earlyCloseMinute }

    /// The rules evaluated for one day (what the table below holds for 1990–2060).
    static func ruleCloseMinute(_ d: CivilDate) -> Int? {
        guard !d.isWeekend, !specialClosures.contains(d), !holidays(year: d.year).contains(d) else { return nil }
        return ruleEarlyClose(d) ? earlyCloseMinute : closeMinute
    }

    static func ruleEarlyClose(_ d: CivilDate) -> Bool {
        let weekday = d.weekday   // 0 Sunday … 6 Saturday
        if d.month == 7, d.day == 3, (1...4).contains(weekday) { return true }
        if d.month == 12, d.day == 24, (1...4).contains(weekday) { return true }
        let thanksgiving = CivilDate.nthWeekday(4, weekday: 4, year: d.year, month: 11)
        return d == thanksgiving.adding(days: 1)
    }

    /// The session's close in New York minutes since midnight (960, or 780 on an early close); nil when closed.
    /// Every bar of a backtest asks, so 1990–2060 are looked up in a table computed once from the rules.
    public static func closeMinute(of d: CivilDate) -> Int? {
        let i = d.daysSinceEpoch - tableStart
        guard i >= 0, i < Int64(table.count) else { return ruleCloseMinute(d) }
        let v = table[Int(i)]
        return v == 0 ? nil : Int(v)
    }

    static let tableStart = CivilDate(year: 1990, month: 1, day: 1).daysSinceEpoch
    /// Per day from 1990-01-01 to 2060-12-31: the close minute, 0 when the market is closed.
    static let table: [UInt16] = {
        let end = CivilDate(year: 2060, month: 12, day: 31).daysSinceEpoch
        var holidays = [Int: Set<CivilDate>]()
        return (tableStart...end).map { day in
            let d = CivilDate(daysSinceEpoch: day)
            if d.isWeekend || specialClosures.contains(d) { return 0 }
            if holidays[d.year] == nil { holidays[d.year] = Self.holidays(year: d.year) }
            if holidays[d.year]!.contains(d) { return 0 }
            return UInt16(ruleEarlyClose(d) ? earlyCloseMinute : closeMinute)
        }
    }()

    /// The regular session of `d` as UTC instants, nil when the market is closed that day.
    public static func session(_ d: CivilDate) -> (open: Timestamp, close: Timestamp)? {
        guard let close = closeMinute(of: d) else { return nil }
        return (NewYorkTime.utc(date: d, hour: openMinute / 60, minute: openMinute % 60),
                NewYorkTime.utc(date: d, hour: close / 60, minute: close % 60))
    }

    /// The close of `d`'s session as a UTC instant; on a closed day the regular 16:00 (so a day order placed on a
    /// closed day still expires).
    public static func close(of d: CivilDate) -> Timestamp {
        let m = closeMinute(of: d) ?? closeMinute
        return NewYorkTime.utc(date: d, hour: m / 60, minute: m % 60)
    }

    /// The first trading day on or after `d`.
    public static func tradingDay(onOrAfter d: CivilDate) -> CivilDate {
        var x = d
        while !isTradingDay(x) { x = x.adding(days: 1) }
        return x
    }

    /// The first trading day strictly after `d`.
    public static func tradingDay(after d: CivilDate) -> CivilDate { tradingDay(onOrAfter: d.adding(days: 1)) }

    /// The last trading day on or before `d`.
    public static func tradingDay(onOrBefore d: CivilDate) -> CivilDate {
        var x = d
        while !isTradingDay(x) { x = x.adding(days: -1) }
        return x
    }

    /// The regular NYSE full-day holidays observed in a year (New Year's Day, Martin Luther King Jr. Day,
    /// Washington's Birthday, Good Friday, Memorial Day, Juneteenth from 2022, Independence Day, Labor Day,
    /// Thanksgiving, Christmas; Saturday → Friday, Sunday → Monday, and a Saturday New Year's Day is not observed).
    public static func holidays(year y: Int) -> Set<CivilDate> {
        var out = Set<CivilDate>()
        func observed(_ d: CivilDate) -> CivilDate {
            switch d.weekday {
            case 6: return d.adding(days: -1)
            case 0: return d.adding(days: 1)
            default: return d
            }
        }
        let newYear = CivilDate(year: y, month: 1, day: 1)
        if newYear.weekday != 6 { out.insert(observed(newYear)) }
        if y >= 1998 { out.insert(CivilDate.nthWeekday(3, weekday: 1, year: y, month: 1)) }
        out.insert(CivilDate.nthWeekday(3, weekday: 1, year: y, month: 2))
        out.insert(easterSunday(year: y).adding(days: -2))
        let may31 = CivilDate(year: y, month: 5, day: 31)
        out.insert(may31.adding(days: -((may31.weekday - 1 + 7) % 7)))
        if y >= 2022 { out.insert(observed(CivilDate(year: y, month: 6, day: 19))) }
        out.insert(observed(CivilDate(year: y, month: 7, day: 4)))
        out.insert(CivilDate.nthWeekday(1, weekday: 1, year: y, month: 9))
        out.insert(CivilDate.nthWeekday(4, weekday: 4, year: y, month: 11))
        out.insert(observed(CivilDate(year: y, month: 12, day: 25)))
        return out
    }

    /// Western (Gregorian) Easter Sunday: the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    public static func easterSunday(year y: Int) -> CivilDate {
        let a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4
        let f = (b + 8) / 25, g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4, k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return CivilDate(year: y, month: month, day: day)
    }
}
