import Foundation

/// Option price ticks and exact money arithmetic.
/// The options minimum price increment (the exchanges' rule): penny-program classes trade in $0.01 below $3.00
/// and $0.05 from $3.00, except the classes quoted in pennies at any price (SPY, QQQ, IWM); every other class
/// trades in $0.05 below $3.00 and $0.10 from $3.00.
public struct TickRule: Sendable, Equatable {
    public var pennyProgram: Set<String>
    public var pennyAllPrices: Set<String>

    public init(pennyProgram: [String], pennyAllPrices: [String]) {
        self.pennyProgram = Set(pennyProgram); self.pennyAllPrices = Set(pennyAllPrices)
    }

    /// The tick in cents for an option on `underlying` quoted at `price` dollars.
    public func tickCents(price: Double, underlying: String) -> Cents {
        if pennyAllPrices.contains(underlying) { return 1 }
        let high = price >= 3 - 1e-9
        if pennyProgram.contains(underlying) { return high ? 5 : 1 }
        return high ? 10 : 5
    }

    /// `price` dollars on this underlying's tick grid, in cents.
    public func cents(_ price: Double, underlying: String, rounding: Ticks.Rounding) -> Cents {
        Ticks.cents(price, tick: tickCents(price: price, underlying: underlying), rounding: rounding)
    }

    /// Whether `cents` is a price the exchange could print for this underlying.
    public func isValid(_ cents: Cents, underlying: String) -> Bool {
        cents > 0 && cents % tickCents(price: Double(cents) / 100, underlying: underlying) == 0
    }
}

public enum Ticks {

    public enum Rounding: Sendable { case nearest, down, up }

    /// `price` dollars as cents on a multiple of `tick` cents (at least one tick).
    public static func cents(_ price: Double, tick: Cents, rounding: Rounding) -> Cents {
        precondition(tick > 0)
        let raw = (price * 100 * 1_000_000).rounded() / 1_000_000   // clear binary noise (2.55*100 = 254.99999…)
        let units = raw / Double(tick)
        let n: Double
        switch rounding {
        case .nearest: n = units.rounded(.toNearestOrAwayFromZero)
        case .down: n = units.rounded(.down)
        case .up: n = units.rounded(.up)
        }
        return max(tick, Cents(n) * tick)
    }
}

public enum Money {
    /// `$1,750.00`, `-$12.05`.
    public static func dollars(_ cents: Cents) -> String {
        let sign = cents < 0 ? "-" : ""
        let a = cents.magnitude
        let whole = String(a / 100)
        var grouped = ""
        for (i, ch) in whole.reversed().enumerated() {
            if i > 0, i % 3 == 0 { grouped.append(",") }
            grouped.append(ch)
        }
        let frac = a % 100
        return "\(sign)$\(String(grouped.reversed())).\(frac < 10 ? "0" : "")\(frac)"
    }

    /// Dollars text (`1000`, `2.55`) as cents; nil when it is not a non-negative number of whole cents.
    public static func cents(dollars text: String) -> Cents? {
        guard let d = Decimal(string: text), d >= 0 else { return nil }
        var v = d * 100, r = Decimal()
        NSDecimalRound(&r, &v, 0, .plain)
        return r == v ? Cents(truncating: r as NSDecimalNumber) : nil
    }

    /// `fraction × cents`, rounded down to a cent, computed exactly in decimal (0.29 × $100 is $29, not $28.99).
    public static func fraction(_ f: Double, of cents: Cents) -> Cents {
        let d = Decimal(string: String(f)) ?? Decimal(f)
        var product = d * Decimal(cents)
        var floored = Decimal()
        NSDecimalRound(&floored, &product, 0, .down)
        return Cents(truncating: floored as NSDecimalNumber)
    }
}

/// Overflow-checked cent arithmetic (nil on overflow), for amounts derived from untrusted message fields.
public enum Checked {
    public static func mul(_ values: Cents...) -> Cents? {
        var r: Cents = 1
        for v in values {
            let (p, o) = r.multipliedReportingOverflow(by: v)
            if o { return nil }
            r = p
        }
        return r
    }

    public static func add(_ a: Cents, _ b: Cents) -> Cents? {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? nil : s
    }
}
