import OpsModel

/// The synthetic market's calendar is the NYSE calendar (`MarketCalendar`).
public typealias SyntheticCalendar = MarketCalendar

extension MarketCalendar {
    /// Minutes in a full regular session (390).
    public static let sessionMinutes = closeMinute - openMinute

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
}
