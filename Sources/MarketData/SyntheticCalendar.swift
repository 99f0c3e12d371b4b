import OpsModel

/// A US equity trading calendar good enough for synthetic data: weekends and the regular NYSE holidays
/// (New Year's Day, Martin Luther King Jr. Day, Washington's Birthday, Good Friday, Memorial Day, Juneteenth from
/// 2022, Independence Day, Labor Day, Thanksgiving, Christmas, with the Saturday→Friday / Sunday→Monday observance
/// rules; a Saturday New Year's Day is not observed). One-off closures and early (13:00) closes are not modeled:
/// every session is the full 09:30–16:00 New York.
public enum SyntheticCalendar {
    /// Regular session open and close, New York wall-clock minutes since midnight.
    public static let openMinute = 9 * 60 + 30
    public static let closeMinute = 16 * 60
    /// Minutes in a regular session (390).
    public static let sessionMinutes = closeMinute - openMinute

    public static func isTradingDay(_ d: CivilDate) -> Bool { !d.isWeekend && !isHoliday(d) }

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

    /// `count` consecutive trading days starting on or after `start`.
    public static func tradingDays(from start: CivilDate, count: Int) -> [CivilDate] {
        var out = [CivilDate]()
        var d = tradingDay(onOrAfter: start)
        while out.count < count {
            out.append(d)
            d = tradingDay(after: d)
        }
        return out
    }

    public static func isHoliday(_ d: CivilDate) -> Bool { holidays(year: d.year).contains(d) }

    /// The regular NYSE full-day holidays observed in a year.
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
