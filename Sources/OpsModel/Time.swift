/// Event time as integer milliseconds since the Unix epoch, UTC.
///
/// Every core computes with this type and never reads a clock (invariant 1). Integer milliseconds keep
/// comparisons, ids and arithmetic exact; the wire form is ISO-8601 UTC (`2024-02-20T14:31:00Z`).
public struct Timestamp: Comparable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var ms: Int64

    public init(ms: Int64) { self.ms = ms }
    public init(seconds: Int64) { self.ms = seconds * 1000 }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.ms < b.ms }
    public static func + (a: Timestamp, minutes: Minutes) -> Timestamp { Timestamp(ms: a.ms + Int64(minutes.count) * 60_000) }
    public static func - (a: Timestamp, minutes: Minutes) -> Timestamp { Timestamp(ms: a.ms - Int64(minutes.count) * 60_000) }
    public func adding(ms delta: Int64) -> Timestamp { Timestamp(ms: ms + delta) }

    public static let distantPast = Timestamp(ms: Int64.min / 4)
    public static let distantFuture = Timestamp(ms: Int64.max / 4)
    /// The watermark a live source publishes when its run ends (`--until`): everything it will ever send is before
    /// it, so every consumer releases what it holds. Below `distantFuture` so services forward it downstream.
    /// The last instant the wire format spells (9999-12-31T00:00:00Z).
    public static let endOfData = Timestamp(ms: 253_402_214_400_000)

    /// ISO-8601 in UTC; milliseconds only when not zero.
    public var iso8601: String {
        let days = floorDiv(ms, 86_400_000)
        let msOfDay = ms - days * 86_400_000
        let date = CivilDate(daysSinceEpoch: days)
        let h = msOfDay / 3_600_000, m = (msOfDay / 60_000) % 60, s = (msOfDay / 1000) % 60, milli = msOfDay % 1000
        var out = "\(date.iso)T\(pad2(h)):\(pad2(m)):\(pad2(s))"
        if milli != 0 { out += "." + String(String(milli + 1000).dropFirst()) }
        return out + "Z"
    }

    public var description: String { iso8601 }

    /// Parses `YYYY-MM-DDTHH:MM[:SS[.fff]]` followed by `Z` or `±HH:MM` / `±HHMM`. A space may replace `T`.
    /// A string without a zone is rejected: naive local times go through `NewYorkTime.utc(...)` explicitly.
    public init?(iso8601 text: String) {
        guard let parts = LocalDateTime.parsePrefix(text) else { return nil }
        let rest = parts.rest
        var offsetSeconds: Int64 = 0
        if rest == "Z" || rest == "z" || rest == "+00:00" {
            offsetSeconds = 0
        } else if let first = rest.first, first == "+" || first == "-" {
            // Exactly `HH:MM` or `HHMM`, ASCII digits only (no signs, no stray colons).
            let body = Array(rest.utf8.dropFirst())
            let digits: [UInt8]
            if body.count == 5, body[2] == UInt8(ascii: ":") { digits = Array(body[0..<2] + body[3..<5]) }
            else if body.count == 4 { digits = body }
            else { return nil }
            guard digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            let hh = Int64(digits[0] - 48) * 10 + Int64(digits[1] - 48), mm = Int64(digits[2] - 48) * 10 + Int64(digits[3] - 48)
            guard hh < 24, mm < 60 else { return nil }
            offsetSeconds = (hh * 3600 + mm * 60) * (first == "-" ? -1 : 1)
        } else {
            return nil
        }
        self.ms = parts.local.msSinceEpochAsIfUTC - offsetSeconds * 1000
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let t = Timestamp(iso8601: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO-8601 time with a zone: \(text)")
        }
        self = t
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(iso8601)
    }
}

/// A count of minutes, so `t + Minutes(5)` reads as what it is.
public struct Minutes: Sendable, Hashable {
    public var count: Int
    public init(_ count: Int) { self.count = count }
}

/// A calendar date without a zone (proleptic Gregorian).
public struct CivilDate: Comparable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) { self.year = year; self.month = month; self.day = day }

    /// Howard Hinnant's days-from-civil.
    public var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(daysSinceEpoch z0: Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), month: Int(m), day: Int(d))
    }

    /// 0 = Sunday … 6 = Saturday.
    public var weekday: Int { Int(floorMod(daysSinceEpoch + 4, 7)) }
    public var isWeekend: Bool { weekday == 0 || weekday == 6 }
    public func adding(days: Int) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + Int64(days)) }
    public func days(until other: CivilDate) -> Int { Int(other.daysSinceEpoch - daysSinceEpoch) }

    public var iso: String { "\(String(format4(year)))-\(pad2(Int64(month)))-\(pad2(Int64(day)))" }
    public var description: String { iso }

    /// Parses `YYYY-MM-DD`.
    public init?(iso text: some StringProtocol) {
        guard let d = CivilDate(isoBytes: Array(text.utf8)[...]) else { return nil }
        self = d
    }

    /// `YYYY-MM-DD` from its UTF-8 bytes (every accepted character is ASCII, so bytes are enough: chains carry a
    /// date per contract, and this is on every decode).
    init?(isoBytes b: ArraySlice<UInt8>) {
        guard b.count == 10 else { return nil }
        let i = b.startIndex
        guard b[i + 4] == UInt8(ascii: "-"), b[i + 7] == UInt8(ascii: "-"),
              let y = asciiNumber(b[i..<(i + 4)]), let m = asciiNumber(b[(i + 5)..<(i + 7)]), let d = asciiNumber(b[(i + 8)..<(i + 10)]),
              (1...12).contains(m), (1...CivilDate.daysIn(year: y, month: m)).contains(d) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The n-th (1-based) given weekday of a month.
    public static func nthWeekday(_ n: Int, weekday: Int, year: Int, month: Int) -> CivilDate {
        let first = CivilDate(year: year, month: month, day: 1)
        let delta = (weekday - first.weekday + 7) % 7
        return first.adding(days: delta + 7 * (n - 1))
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let d = CivilDate(iso: s) else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a YYYY-MM-DD date: \(s)") }
        self = d
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(iso)
    }
}

/// A wall-clock date and time with no zone attached.
public struct LocalDateTime: Hashable, Sendable {
    public var date: CivilDate
    public var secondOfDay: Int
    public var millisecond: Int

    public init(date: CivilDate, hour: Int, minute: Int, second: Int = 0, millisecond: Int = 0) {
        self.date = date
        self.secondOfDay = hour * 3600 + minute * 60 + second
        self.millisecond = millisecond
    }

    public var msSinceEpochAsIfUTC: Int64 {
        date.daysSinceEpoch * 86_400_000 + Int64(secondOfDay) * 1000 + Int64(millisecond)
    }

    /// Parses `YYYY-MM-DD[T| ]HH:MM[:SS[.fff…]]` and returns what follows it.
    static func parsePrefix(_ text: String) -> (local: LocalDateTime, rest: Substring)? {
        // On the UTF-8 bytes: every character the grammar accepts is ASCII (each envelope carries two or three times).
        let bytes = Array(text.utf8)
        func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 13 || c == 10 }
        var lo = 0, hi = bytes.count
        while lo < hi, isSpace(bytes[lo]) { lo += 1 }
        while hi > lo, isSpace(bytes[hi - 1]) { hi -= 1 }
        guard hi - lo >= 16, let date = CivilDate(isoBytes: bytes[lo..<(lo + 10)]) else { return nil }
        let sep = bytes[lo + 10]
        guard sep == UInt8(ascii: "T") || sep == UInt8(ascii: " ") || sep == UInt8(ascii: "t") else { return nil }
        var i = lo + 11
        func number(_ n: Int) -> Int? {
            guard hi - i >= n, let v = asciiNumber(bytes[i..<(i + n)]) else { return nil }
            i += n
            return v
        }
        guard let hh = number(2), i < hi, bytes[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        guard let mm = number(2), hh < 24, mm < 60 else { return nil }
        var ss = 0, milli = 0
        if i < hi, bytes[i] == UInt8(ascii: ":") {
            i += 1
            guard let v = number(2), v < 60 else { return nil }
            ss = v
            if i < hi, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: ",") {
                i += 1
                var digits = 0
                while i < hi, let d = asciiDigit(bytes[i]) {
                    if digits < 3 { milli = milli * 10 + d }
                    digits += 1
                    i += 1
                }
                guard digits > 0 else { return nil }
                for _ in digits..<max(digits, 3) { milli *= 10 }
            }
        }
        let utf8 = text.utf8
        let rest = text[utf8.index(utf8.startIndex, offsetBy: i)..<utf8.index(utf8.startIndex, offsetBy: hi)]
        return (LocalDateTime(date: date, hour: hh, minute: mm, second: ss, millisecond: milli), rest)
    }

    /// Parses a zone-less `YYYY-MM-DD HH:MM[:SS]`.
    public init?(parsing text: String) {
        guard let p = LocalDateTime.parsePrefix(text), p.rest.isEmpty else { return nil }
        self = p.local
    }
}

/// US Eastern time (America/New_York) from the US DST rules, so no time-zone database is needed.
///
/// 2007 onward: daylight time from the second Sunday of March, 02:00 local, to the first Sunday of November,
/// 02:00 local. 1987–2006: first Sunday of April to the last Sunday of October.
public enum NewYorkTime {
    /// UTC offset in seconds (−14400 in daylight time, −18000 in standard time) at a UTC instant.
    public static func offsetSeconds(at t: Timestamp) -> Int {
        let (start, end) = dstBounds(at: t)
        return (t.ms >= start && t.ms < end) ? -4 * 3600 : -5 * 3600
    }

    /// Daylight time's bounds (UTC ms) in the year of `t` read at UTC−5, from a table for 1900–2199 (every bar and
    /// order asks; the rules are worked out once a year, not once a call).
    static func dstBounds(at t: Timestamp) -> (start: Int64, end: Int64) {
        let table = dstTable
        let yearMs: Int64 = 31_556_952_000   // a Gregorian year on average: the guess is off by at most one
        var i = Int(floorDiv(t.ms - table[0].yearStart, yearMs))
        if i >= 0, i < table.count {
            if t.ms < table[i].yearStart { i -= 1 } else if i + 1 < table.count, t.ms >= table[i + 1].yearStart { i += 1 }
        }
        // The last year only bounds the one before it.
        guard i >= 0, i + 1 < table.count else {
            let (start, end) = dstBoundsUTC(year: CivilDate(daysSinceEpoch: floorDiv(t.ms - 5 * 3_600_000, 86_400_000)).year)
            return (start.ms, end.ms)
        }
        return (table[i].start, table[i].end)
    }

    /// Per year from 1900: its first instant at UTC−5 and its daylight bounds, UTC ms.
    private static let dstTable: [(yearStart: Int64, start: Int64, end: Int64)] = (1900..<2200).map { year in
        let (start, end) = dstBoundsUTC(year: year)
        return (CivilDate(year: year, month: 1, day: 1).daysSinceEpoch * 86_400_000 + 5 * 3_600_000, start.ms, end.ms)
    }

    /// The wall-clock time in New York at a UTC instant.
    public static func local(_ t: Timestamp) -> LocalDateTime {
        let localMs = t.ms + Int64(offsetSeconds(at: t)) * 1000
        let days = floorDiv(localMs, 86_400_000)
        let rem = localMs - days * 86_400_000
        return LocalDateTime(date: CivilDate(daysSinceEpoch: days), hour: Int(rem / 3_600_000),
                             minute: Int(rem / 60_000 % 60), second: Int(rem / 1000 % 60), millisecond: Int(rem % 1000))
    }

    /// The UTC instant of a New York wall-clock time. In the repeated autumn hour the first (daylight) reading
    /// is taken; a time in the skipped spring hour is read with the standard offset.
    public static func utc(_ local: LocalDateTime) -> Timestamp {
        let asUTC = local.msSinceEpochAsIfUTC
        let daylight = Timestamp(ms: asUTC + 4 * 3_600_000)
        if offsetSeconds(at: daylight) == -4 * 3600 { return daylight }
        return Timestamp(ms: asUTC + 5 * 3_600_000)
    }

    public static func utc(date: CivilDate, hour: Int, minute: Int, second: Int = 0) -> Timestamp {
        utc(LocalDateTime(date: date, hour: hour, minute: minute, second: second))
    }

    /// The trading date (New York calendar date) of an instant.
    public static func date(of t: Timestamp) -> CivilDate { local(t).date }

    /// Minutes since New York midnight.
    public static func minuteOfDay(_ t: Timestamp) -> Int { local(t).secondOfDay / 60 }

    static func dstBoundsUTC(year: Int) -> (Timestamp, Timestamp) {
        let startDate: CivilDate, endDate: CivilDate
        if year >= 2007 {
            startDate = CivilDate.nthWeekday(2, weekday: 0, year: year, month: 3)
            endDate = CivilDate.nthWeekday(1, weekday: 0, year: year, month: 11)
        } else {
            startDate = CivilDate.nthWeekday(1, weekday: 0, year: year, month: 4)
            let lastOct = CivilDate(year: year, month: 10, day: 31)
            endDate = lastOct.adding(days: -lastOct.weekday)
        }
        // 02:00 EST = 07:00 UTC; 02:00 EDT = 06:00 UTC.
        let start = Timestamp(ms: startDate.daysSinceEpoch * 86_400_000 + 7 * 3_600_000)
        let end = Timestamp(ms: endDate.daysSinceEpoch * 86_400_000 + 6 * 3_600_000)
        return (start, end)
    }
}

@inlinable func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { let q = a / b; return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q }
@inlinable func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }
func pad2(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
func format4(_ y: Int) -> String { let s = String(y); return String(repeating: "0", count: max(0, 4 - s.count)) + s }

func asciiDigit(_ c: UInt8) -> Int? { c >= 48 && c <= 57 ? Int(c - 48) : nil }

/// A run of ASCII digits as a number (nil if any byte is not one).
func asciiNumber(_ b: ArraySlice<UInt8>) -> Int? {
    guard !b.isEmpty else { return nil }
    var v = 0
    for c in b {
        guard let d = asciiDigit(c) else { return nil }
        v = v * 10 + d
    }
    return v
}

