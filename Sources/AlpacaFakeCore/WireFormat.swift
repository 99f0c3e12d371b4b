import Foundation
import OpsModel

/// How Alpaca spells times, money and ids on the wire.
public enum Wire {
    /// RFC 3339 UTC with microseconds, as Alpaca's order timestamps (`2024-03-05T15:31:00.123000Z`).
    public static func micros(_ t: Timestamp) -> String {
        let base = Timestamp(ms: t.ms - t.ms % 1000 - (t.ms % 1000 < 0 ? 1000 : 0))
        let milli = t.ms - base.ms
        let whole = String(base.iso8601.dropLast())
        return whole + "." + String(String(milli + 1000).dropFirst()) + "000Z"
    }

    /// RFC 3339 UTC without fractions when whole seconds (bar stamps `2024-03-05T14:31:00Z`).
    public static func utc(_ t: Timestamp) -> String { t.iso8601 }

    /// RFC 3339 in New York time with its offset, as `/v2/clock` answers (`2024-03-05T16:00:00-05:00`).
    public static func newYork(_ t: Timestamp, fraction: Bool = false) -> String {
        let local = NewYorkTime.local(t)
        let offset = NewYorkTime.offsetSeconds(at: t) / 60
        let s = local.secondOfDay
        var out = "\(local.date.iso)T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))"
        if fraction { out += "." + String(String(local.millisecond + 1000).dropFirst()) + "000" }
        return out + (offset < 0 ? "-" : "+") + two(abs(offset) / 60) + ":" + two(abs(offset) % 60)
    }

    static func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    /// Cents as dollars with two decimals (`-23140.20`).
    public static func money(_ cents: Cents) -> String {
        let sign = cents < 0 ? "-" : ""
        let a = cents.magnitude
        return "\(sign)\(a / 100).\(a % 100 < 10 ? "0" : "")\(a % 100)"
    }

    /// A price in cents the way Alpaca echoes it (`1.25`, `10`, `0.05`).
    public static func price(_ cents: Cents) -> String {
        let m = money(cents)
        if m.hasSuffix(".00") { return String(m.dropLast(3)) }
        if m.hasSuffix("0") { return String(m.dropLast()) }
        return m
    }

    /// A decimal as a plain string with at most `places` decimals and no trailing zeros.
    public static func decimal(_ d: Decimal, places: Int = 4) -> String {
        var v = d, r = Decimal()
        NSDecimalRound(&r, &v, places, .plain)
        return NSDecimalNumber(decimal: r).stringValue
    }

    /// A fraction (profit/loss percent by a factor of 1) with 4 decimals.
    public static func ratio(_ num: Cents, _ den: Cents) -> String {
        guard den != 0 else { return "0" }
        return decimal(Decimal(num) / Decimal(den))
    }

    /// Cents from a dollars string with at most two decimals; nil otherwise (sub-penny or not a number).
    public static func cents(_ text: String) -> Cents? {
        guard let d = Decimal(string: text), d > 0 else { return nil }
        return Money.cents(dollars: text)
    }

    /// A UUID derived from a name, so a run's ids are reproducible and look like Alpaca's.
    public static func uuid(_ name: String) -> String {
        let h = SHA256.hash(Array(name.utf8))
        var b = Array(h.prefix(16))
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        let hex = b.map { String($0, radix: 16).leftPadded(2) }.joined()
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }

    /// An Alpaca error body `{"code":…,"message":…}`.
    public static func error(_ code: Int64, _ message: String, extra: [(String, JSON)] = []) -> JSON {
        .obj([("code", .int(code)), ("message", .string(message))] + extra)
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: "0", count: Swift.max(0, n - count)) + self }
}
