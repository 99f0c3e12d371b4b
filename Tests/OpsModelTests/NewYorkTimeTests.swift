import Foundation
import Testing
import OpsModel

@Suite("NewYorkTime")
struct NewYorkTimeTests {
    /// Foundation's tz database is the independent oracle.
    static let zone = TimeZone(identifier: "America/New_York")!

    static var nyCalendar: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = zone
        return c
    }

    /// Compares offset, wall-clock time, trading date and minute of day at `t` with Foundation.
    /// Returns false (after recording an issue) on a mismatch.
    static func check(_ t: Timestamp, _ cal: Calendar) -> Bool {
        let date = Date(timeIntervalSince1970: TimeInterval(t.ms) / 1000)
        let offset = NewYorkTime.offsetSeconds(at: t)
        let expected = zone.secondsFromGMT(for: date)
        let local = NewYorkTime.local(t)
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let ok = offset == expected
            && local.date == CivilDate(year: c.year!, month: c.month!, day: c.day!)
            && local.secondOfDay == c.hour! * 3600 + c.minute! * 60 + c.second!
            && NewYorkTime.date(of: t) == local.date
            && NewYorkTime.minuteOfDay(t) == c.hour! * 60 + c.minute!
        if !ok {
            Issue.record("\(t): offset \(offset) vs \(expected), local \(local.date) \(local.secondOfDay)s vs \(c)")
        }
        return ok
    }

    @Test("offset and wall-clock time agree with the tz database for every hour of the year",
          arguments: [2019, 2024, 2026, 2007])
    func everyHour(_ year: Int) {
        let cal = Self.nyCalendar
        let from = CivilDate(year: year, month: 1, day: 1).daysSinceEpoch * 24
        let to = CivilDate(year: year + 1, month: 1, day: 1).daysSinceEpoch * 24
        for hour in from..<to {
            // Also the half hour and the last second of each hour, to catch off-by-one edges.
            for delta: Int64 in [0, 1_800_000, 3_599_999] {
                if !Self.check(Timestamp(ms: hour * 3_600_000 + delta), cal) { return }
            }
        }
    }

    @Test("around every new year (05:00Z, where the year's table entry changes) and both transitions, 1987–2100")
    func yearEdges() {
        let cal = Self.nyCalendar
        for year in 1987...2100 {
            let newYear = CivilDate(year: year, month: 1, day: 1).daysSinceEpoch * 86_400_000 + 5 * 3_600_000
            var instants: [Int64] = [newYear - 1, newYear, newYear + 1]
            // 06:00Z and 07:00Z of every day of March, April, October and November: each transition ± an hour.
            for month in [3, 4, 10, 11] {
                let first = CivilDate(year: year, month: month, day: 1).daysSinceEpoch
                for day in first..<(first + 30) {
                    for hour: Int64 in [6, 7] {
                        let t = day * 86_400_000 + hour * 3_600_000
                        instants += [t - 1, t]
                    }
                }
            }
            for t in instants where !Self.check(Timestamp(ms: t), cal) { return }
        }
    }

    @Test("the 1987–2006 rule (first Sunday of April to last Sunday of October) for 1990–2006")
    func oldRule() {
        let cal = Self.nyCalendar
        for year in 1990...2006 {
            // Every hour of the spring and autumn transition weeks, and noon UTC on every day of the year.
            let springFrom = CivilDate(year: year, month: 3, day: 29).daysSinceEpoch * 24
            let autumnFrom = CivilDate(year: year, month: 10, day: 23).daysSinceEpoch * 24
            for base in [springFrom, autumnFrom] {
                for hour in base..<(base + 24 * 12) {
                    if !Self.check(Timestamp(ms: hour * 3_600_000), cal) { return }
                }
            }
            let jan1 = CivilDate(year: year, month: 1, day: 1).daysSinceEpoch
            for day in jan1..<CivilDate(year: year + 1, month: 1, day: 1).daysSinceEpoch {
                if !Self.check(Timestamp(ms: day * 86_400_000 + 12 * 3_600_000), cal) { return }
            }
        }
    }

    @Test("2024 spring-forward edge: 06:59:59Z is 01:59:59 EST, 07:00:00Z is 03:00:00 EDT")
    func springEdge() {
        let before = Fx.ts("2024-03-10T06:59:59Z"), at = Fx.ts("2024-03-10T07:00:00Z")
        #expect(NewYorkTime.offsetSeconds(at: before) == -18_000)
        #expect(NewYorkTime.offsetSeconds(at: before.adding(ms: 999)) == -18_000)
        #expect(NewYorkTime.offsetSeconds(at: at) == -14_400)
        #expect(NewYorkTime.local(before) == LocalDateTime(date: CivilDate(year: 2024, month: 3, day: 10), hour: 1, minute: 59, second: 59))
        #expect(NewYorkTime.local(at) == LocalDateTime(date: CivilDate(year: 2024, month: 3, day: 10), hour: 3, minute: 0))
        #expect(NewYorkTime.local(before.adding(ms: 999)).millisecond == 999)
    }

    @Test("2024 fall-back edge: 05:59:59Z is 01:59:59 EDT, 06:00:00Z is 01:00:00 EST")
    func autumnEdge() {
        let before = Fx.ts("2024-11-03T05:59:59Z"), at = Fx.ts("2024-11-03T06:00:00Z")
        #expect(NewYorkTime.offsetSeconds(at: before) == -14_400)
        #expect(NewYorkTime.offsetSeconds(at: before.adding(ms: 999)) == -14_400)
        #expect(NewYorkTime.offsetSeconds(at: at) == -18_000)
        #expect(NewYorkTime.local(before) == LocalDateTime(date: CivilDate(year: 2024, month: 11, day: 3), hour: 1, minute: 59, second: 59))
        #expect(NewYorkTime.local(at) == LocalDateTime(date: CivilDate(year: 2024, month: 11, day: 3), hour: 1, minute: 0))
    }

    @Test("09:30 and 16:00 New York on both sides of each 2024 transition",
          arguments: [
              ("2024-03-08", 9, 30, "2024-03-08T14:30:00Z"),
              ("2024-03-08", 16, 0, "2024-03-08T21:00:00Z"),
              ("2024-03-11", 9, 30, "2024-03-11T13:30:00Z"),
              ("2024-03-11", 16, 0, "2024-03-11T20:00:00Z"),
              ("2024-11-01", 9, 30, "2024-11-01T13:30:00Z"),
              ("2024-11-04", 9, 30, "2024-11-04T14:30:00Z"),
              ("2024-07-04", 0, 0, "2024-07-04T04:00:00Z"),
              ("2024-12-31", 23, 59, "2025-01-01T04:59:00Z"),
              ("2006-04-03", 9, 30, "2006-04-03T13:30:00Z"),
              ("2006-03-13", 9, 30, "2006-03-13T14:30:00Z"),
              ("2007-03-12", 9, 30, "2007-03-12T13:30:00Z"),
          ])
    func utcOfWallClock(_ date: String, _ hour: Int, _ minute: Int, _ expected: String) throws {
        let d = try #require(CivilDate(iso: date))
        let t = NewYorkTime.utc(date: d, hour: hour, minute: minute)
        #expect(t.iso8601 == expected)
        #expect(NewYorkTime.local(t) == LocalDateTime(date: d, hour: hour, minute: minute))
    }

    @Test("the repeated autumn hour reads as daylight time (the first of the two instants)")
    func ambiguousHour() {
        let day = CivilDate(year: 2024, month: 11, day: 3)
        let first = Fx.ts("2024-11-03T05:30:00Z"), second = Fx.ts("2024-11-03T06:30:00Z")
        // Both instants show 01:30 on New York clocks...
        #expect(NewYorkTime.local(first) == LocalDateTime(date: day, hour: 1, minute: 30))
        #expect(NewYorkTime.local(second) == LocalDateTime(date: day, hour: 1, minute: 30))
        // ...and the wall-clock time maps back to the first.
        #expect(NewYorkTime.utc(date: day, hour: 1, minute: 30) == first)
        #expect(NewYorkTime.utc(date: day, hour: 1, minute: 0) == Fx.ts("2024-11-03T05:00:00Z"))
        #expect(NewYorkTime.utc(date: day, hour: 1, minute: 59, second: 59) == Fx.ts("2024-11-03T05:59:59Z"))
        // 02:00 exists only once, in standard time.
        #expect(NewYorkTime.utc(date: day, hour: 2, minute: 0) == Fx.ts("2024-11-03T07:00:00Z"))
        #expect(NewYorkTime.utc(date: day, hour: 0, minute: 59) == Fx.ts("2024-11-03T04:59:00Z"))
    }

    @Test("a time in the skipped spring hour is read with the standard offset (02:30 → 07:30Z = 03:30 EDT)")
    func skippedHour() {
        let day = CivilDate(year: 2024, month: 3, day: 10)
        #expect(NewYorkTime.utc(date: day, hour: 2, minute: 30) == Fx.ts("2024-03-10T07:30:00Z"))
        #expect(NewYorkTime.local(Fx.ts("2024-03-10T07:30:00Z")) == LocalDateTime(date: day, hour: 3, minute: 30))
        #expect(NewYorkTime.utc(date: day, hour: 2, minute: 0) == Fx.ts("2024-03-10T07:00:00Z"))
        #expect(NewYorkTime.utc(date: day, hour: 1, minute: 59) == Fx.ts("2024-03-10T06:59:00Z"))
        #expect(NewYorkTime.utc(date: day, hour: 3, minute: 0) == Fx.ts("2024-03-10T07:00:00Z"))
        #expect(NewYorkTime.utc(date: day, hour: 3, minute: 1) == Fx.ts("2024-03-10T07:01:00Z"))
    }

    @Test("utc(local(t)) == t every 15 minutes of 2024 except the second pass through the repeated hour")
    func roundTrip() {
        let from = CivilDate(year: 2024, month: 1, day: 1).daysSinceEpoch * 96
        let to = CivilDate(year: 2025, month: 1, day: 1).daysSinceEpoch * 96
        let repeatedFrom = Fx.ts("2024-11-03T06:00:00Z"), repeatedTo = Fx.ts("2024-11-03T07:00:00Z")
        for q in from..<to {
            let t = Timestamp(ms: q * 900_000)
            let back = NewYorkTime.utc(NewYorkTime.local(t))
            if t >= repeatedFrom && t < repeatedTo {
                #expect(back == t - Minutes(60), "\(t)")
            } else if back != t {
                Issue.record("\(t) -> \(NewYorkTime.local(t)) -> \(back)")
                return
            }
        }
    }

    @Test("zone-less local time parsing")
    func localParsing() {
        #expect(LocalDateTime(parsing: "2024-03-08 09:30") == LocalDateTime(date: CivilDate(year: 2024, month: 3, day: 8), hour: 9, minute: 30))
        #expect(LocalDateTime(parsing: "2024-03-08T09:30:15.5")
            == LocalDateTime(date: CivilDate(year: 2024, month: 3, day: 8), hour: 9, minute: 30, second: 15, millisecond: 500))
        #expect(LocalDateTime(parsing: "2024-03-08 09:30Z") == nil)
        #expect(LocalDateTime(parsing: "2024-03-08 09:30-05:00") == nil)
        #expect(LocalDateTime(parsing: "2024-03-08") == nil)
        #expect(LocalDateTime(date: CivilDate(year: 1970, month: 1, day: 2), hour: 1, minute: 2, second: 3, millisecond: 4)
            .msSinceEpochAsIfUTC == 86_400_000 + 3_723_004)
    }
}
