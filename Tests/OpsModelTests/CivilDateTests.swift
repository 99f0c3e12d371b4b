import Foundation
import Testing
import OpsModel

@Suite("CivilDate")
struct CivilDateTests {
    static var utcCalendar: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }

    @Test("days since epoch and weekday agree with Foundation's Gregorian calendar for every day of 1900–2100")
    func agreesWithFoundation() {
        let cal = Self.utcCalendar
        let first = CivilDate(year: 1900, month: 1, day: 1).daysSinceEpoch
        let last = CivilDate(year: 2100, month: 12, day: 31).daysSinceEpoch
        #expect(first == -25_567)
        #expect(last == 47_846)
        var mismatches = 0
        for z in first...last {
            let d = CivilDate(daysSinceEpoch: z)
            let c = cal.dateComponents([.year, .month, .day, .weekday], from: Date(timeIntervalSince1970: TimeInterval(z) * 86_400))
            let ok = d.year == c.year && d.month == c.month && d.day == c.day && d.weekday == c.weekday! - 1
                && d.daysSinceEpoch == z
            if !ok {
                mismatches += 1
                Issue.record("day \(z): ours \(d) weekday \(d.weekday), Foundation \(c)")
                if mismatches > 5 { return }
            }
        }
    }

    @Test("known anchors")
    func anchors() {
        #expect(CivilDate(year: 1970, month: 1, day: 1).daysSinceEpoch == 0)
        #expect(CivilDate(year: 1969, month: 12, day: 31).daysSinceEpoch == -1)
        #expect(CivilDate(year: 2000, month: 3, day: 1).daysSinceEpoch == 11_017)
        #expect(CivilDate(daysSinceEpoch: 19_773) == CivilDate(year: 2024, month: 2, day: 20))
        #expect(CivilDate(year: 1970, month: 1, day: 1).weekday == 4) // Thursday
        #expect(CivilDate(year: 2024, month: 2, day: 20).weekday == 2) // Tuesday
        #expect(CivilDate(year: 1900, month: 1, day: 1).weekday == 1) // Monday
        #expect(CivilDate(year: 2024, month: 3, day: 16).isWeekend)
        #expect(CivilDate(year: 2024, month: 3, day: 17).isWeekend)
        #expect(!CivilDate(year: 2024, month: 3, day: 18).isWeekend)
        // Far outside the oracle's range the algorithm still round-trips (400-year eras, negative years).
        for z: Int64 in [-1_000_000, -719_468, -719_469, 1_000_000, 2_932_896] {
            #expect(CivilDate(daysSinceEpoch: z).daysSinceEpoch == z)
        }
    }

    @Test("adding days, days(until:) and ordering")
    func arithmetic() {
        let d = CivilDate(year: 2024, month: 2, day: 28)
        #expect(d.adding(days: 1) == CivilDate(year: 2024, month: 2, day: 29))
        #expect(d.adding(days: 2) == CivilDate(year: 2024, month: 3, day: 1))
        #expect(CivilDate(year: 2023, month: 2, day: 28).adding(days: 1) == CivilDate(year: 2023, month: 3, day: 1))
        #expect(CivilDate(year: 2024, month: 1, day: 1).adding(days: -1) == CivilDate(year: 2023, month: 12, day: 31))
        #expect(CivilDate(year: 2024, month: 1, day: 1).days(until: CivilDate(year: 2025, month: 1, day: 1)) == 366)
        #expect(CivilDate(year: 2025, month: 1, day: 1).days(until: CivilDate(year: 2024, month: 1, day: 1)) == -366)
        #expect(CivilDate(year: 2023, month: 12, day: 31) < CivilDate(year: 2024, month: 1, day: 1))
        #expect(CivilDate(year: 2024, month: 1, day: 31) < CivilDate(year: 2024, month: 2, day: 1))
    }

    @Test("nthWeekday: DST Sundays, monthly expirations, a month that starts on the weekday")
    func nthWeekdayKnown() {
        #expect(CivilDate.nthWeekday(2, weekday: 0, year: 2024, month: 3) == CivilDate(year: 2024, month: 3, day: 10))
        #expect(CivilDate.nthWeekday(1, weekday: 0, year: 2024, month: 11) == CivilDate(year: 2024, month: 11, day: 3))
        #expect(CivilDate.nthWeekday(3, weekday: 5, year: 2024, month: 3) == CivilDate(year: 2024, month: 3, day: 15))
        #expect(CivilDate.nthWeekday(1, weekday: 0, year: 2024, month: 9) == CivilDate(year: 2024, month: 9, day: 1))
        #expect(CivilDate.nthWeekday(1, weekday: 6, year: 2024, month: 9) == CivilDate(year: 2024, month: 9, day: 7))
        #expect(CivilDate.nthWeekday(4, weekday: 4, year: 2024, month: 11) == CivilDate(year: 2024, month: 11, day: 28))
        #expect(CivilDate.nthWeekday(5, weekday: 4, year: 2024, month: 2) == CivilDate(year: 2024, month: 2, day: 29))
        #expect(CivilDate.nthWeekday(1, weekday: 0, year: 2006, month: 4) == CivilDate(year: 2006, month: 4, day: 2))
    }

    @Test("nthWeekday(1...4) lands on that weekday, in that month, in the n-th week, for 2000–2030")
    func nthWeekdayProperty() {
        for year in 2000...2030 {
            for month in 1...12 {
                for weekday in 0...6 {
                    for n in 1...4 {
                        let d = CivilDate.nthWeekday(n, weekday: weekday, year: year, month: month)
                        let ok = d.weekday == weekday && d.year == year && d.month == month
                            && (7 * (n - 1) + 1...7 * n).contains(d.day)
                        if !ok {
                            Issue.record("nthWeekday(\(n), \(weekday), \(year)-\(month)) = \(d)")
                            return
                        }
                    }
                }
            }
        }
    }

    @Test("daysIn follows the Gregorian leap rule")
    func daysIn() {
        #expect(CivilDate.daysIn(year: 2023, month: 2) == 28)
        #expect(CivilDate.daysIn(year: 2024, month: 2) == 29)
        #expect(CivilDate.daysIn(year: 1900, month: 2) == 28)
        #expect(CivilDate.daysIn(year: 2000, month: 2) == 29)
        #expect(CivilDate.daysIn(year: 2100, month: 2) == 28)
        #expect((1...12).map { CivilDate.daysIn(year: 2023, month: $0) } == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    }

    @Test("ISO text: four-digit years, zero padding, parse round trip")
    func isoText() {
        #expect(CivilDate(year: 2024, month: 3, day: 5).iso == "2024-03-05")
        #expect(CivilDate(year: 987, month: 12, day: 31).iso == "0987-12-31")
        #expect(CivilDate(year: 2024, month: 3, day: 5).description == "2024-03-05")
        for z in stride(from: Int64(-25_567), through: 47_846, by: 97) {
            let d = CivilDate(daysSinceEpoch: z)
            #expect(CivilDate(iso: d.iso) == d)
        }
        #expect(CivilDate(iso: "2024-02-29") == CivilDate(year: 2024, month: 2, day: 29))
        #expect(CivilDate(iso: "2000-02-29") == CivilDate(year: 2000, month: 2, day: 29))
        #expect(CivilDate(iso: "2024-12-31"[...]) == CivilDate(year: 2024, month: 12, day: 31))
    }

    @Test("parsing rejects impossible dates and malformed text",
          arguments: ["2023-02-29", "1900-02-29", "2100-02-29", "2023-02-30", "2023-04-31", "2023-13-01", "2023-00-10",
                      "2023-01-00", "2023-01-32", "2023-1-01", "23-01-01", "20230101", "2023/01/01", "2023-01-01T",
                      " 2023-01-01", "2023-01-01-", "", "--", "abcd-ef-gh", "2023-01-0a"])
    func rejects(_ text: String) {
        #expect(CivilDate(iso: text) == nil, "\(text)")
    }

    /// Found while writing these tests: the fields were read with `Int(_:)`, which accepts a leading sign.
    @Test("parsing rejects signs inside the fields", arguments: ["2024-+1-05", "2024-01-+5", "+024-01-05", "2024--1-05"])
    func rejectsSigns(_ text: String) {
        #expect(CivilDate(iso: text) == nil, "\(text)")
    }

    @Test("Codable as YYYY-MM-DD")
    func codable() throws {
        let d = CivilDate(year: 2024, month: 2, day: 29)
        let data = try JSONEncoder().encode([d])
        #expect(String(decoding: data, as: UTF8.self) == "[\"2024-02-29\"]")
        #expect(try JSONDecoder().decode([CivilDate].self, from: data) == [d])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([CivilDate].self, from: Data("[\"2023-02-29\"]".utf8)) }
    }
}
