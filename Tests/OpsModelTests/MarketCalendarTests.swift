import Testing
@testable import OpsModel

/// The NYSE calendar in code against the exchange's published holidays and early closes, 2015–2027.
@Suite("MarketCalendar: NYSE holidays and early closes 2015–2027")
struct MarketCalendarTests {
    /// The NYSE's published full-day closures (observed dates), one-off closures included.
    static let published: [Int: [String]] = [
        2015: ["01-01", "01-19", "02-16", "04-03", "05-25", "07-03", "09-07", "11-26", "12-25"],
        2016: ["01-01", "01-18", "02-15", "03-25", "05-30", "07-04", "09-05", "11-24", "12-26"],
        2017: ["01-02", "01-16", "02-20", "04-14", "05-29", "07-04", "09-04", "11-23", "12-25"],
        2018: ["01-01", "01-15", "02-19", "03-30", "05-28", "07-04", "09-03", "11-22", "12-05", "12-25"],
        2019: ["01-01", "01-21", "02-18", "04-19", "05-27", "07-04", "09-02", "11-28", "12-25"],
        2020: ["01-01", "01-20", "02-17", "04-10", "05-25", "07-03", "09-07", "11-26", "12-25"],
        2021: ["01-01", "01-18", "02-15", "04-02", "05-31", "07-05", "09-06", "11-25", "12-24"],
        2022: ["01-17", "02-21", "04-15", "05-30", "06-20", "07-04", "09-05", "11-24", "12-26"],
        2023: ["01-02", "01-16", "02-20", "04-07", "05-29", "06-19", "07-04", "09-04", "11-23", "12-25"],
        2024: ["01-01", "01-15", "02-19", "03-29", "05-27", "06-19", "07-04", "09-02", "11-28", "12-25"],
        2025: ["01-01", "01-09", "01-20", "02-17", "04-18", "05-26", "06-19", "07-04", "09-01", "11-27", "12-25"],
        2026: ["01-01", "01-19", "02-16", "04-03", "05-25", "06-19", "07-03", "09-07", "11-26", "12-25"],
        2027: ["01-01", "01-18", "02-15", "03-26", "05-31", "06-18", "07-05", "09-06", "11-25", "12-24"],
    ]
    /// The published 1:00 p.m. early closes.
    static let earlyCloses: [Int: [String]] = [
        2015: ["11-27", "12-24"], 2016: ["11-25"], 2017: ["07-03", "11-24"], 2018: ["07-03", "11-23", "12-24"],
        2019: ["07-03", "11-29", "12-24"], 2020: ["11-27", "12-24"], 2021: ["11-26"], 2022: ["11-25"], 2023: ["07-03", "11-24"],
        2024: ["07-03", "11-29", "12-24"], 2025: ["07-03", "11-28", "12-24"], 2026: ["11-27", "12-24"], 2027: ["11-26"],
    ]

    static func days(of year: Int) -> [CivilDate] {
        var out = [CivilDate]()
        var d = CivilDate(year: year, month: 1, day: 1)
        while d.year == year { out.append(d); d = d.adding(days: 1) }
        return out
    }

    @Test(arguments: 2015...2027)
    func weekdayClosuresMatchThePublishedCalendar(year: Int) {
        let closed = Self.days(of: year).filter { !$0.isWeekend && !MarketCalendar.isTradingDay($0) }.map { String($0.iso.dropFirst(5)) }
        #expect(closed == Self.published[year])
    }

    @Test(arguments: 2015...2027)
    func earlyClosesMatchThePublishedCalendar(year: Int) {
        let early = Self.days(of: year).filter(MarketCalendar.isEarlyClose).map { String($0.iso.dropFirst(5)) }
        #expect(early == Self.earlyCloses[year])
        for d in Self.days(of: year) where MarketCalendar.isEarlyClose(d) {
            #expect(MarketCalendar.closeMinute(of: d) == 13 * 60)
            #expect(MarketCalendar.close(of: d) == NewYorkTime.utc(date: d, hour: 13, minute: 0))
        }
    }

    @Test func sessionsAndClosedDays() throws {
        let friday = CivilDate(year: 2024, month: 11, day: 29)
        let s = try #require(MarketCalendar.session(friday))
        #expect(s.open.iso8601 == "2024-11-29T14:30:00Z" && s.close.iso8601 == "2024-11-29T18:00:00Z")
        #expect(MarketCalendar.session(CivilDate(year: 2024, month: 11, day: 28)) == nil, "Thanksgiving")
        #expect(MarketCalendar.session(CivilDate(year: 2024, month: 3, day: 10)) == nil, "a Sunday (the DST switch)")
        #expect(MarketCalendar.closeMinute(of: CivilDate(year: 2024, month: 3, day: 11)) == 16 * 60)
        #expect(MarketCalendar.tradingDay(after: CivilDate(year: 2024, month: 12, day: 24)) == CivilDate(year: 2024, month: 12, day: 26))
    }
}
