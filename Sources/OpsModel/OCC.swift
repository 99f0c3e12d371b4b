/// An OCC option symbol: root (≤ 6 chars), YYMMDD expiration, C/P, strike × 1000 in 8 digits,
/// e.g. `SPY240320C00510000`. The padded 21-character form (`SPY   240320C00510000`) is also read.
public struct OCCSymbol: Hashable, Sendable, CustomStringConvertible {
    public var root: String
    public var expiration: CivilDate
    public var right: OptionRight
    /// Strike in dollars; OCC encodes thousandths.
    public var strike: Double

    public init(root: String, expiration: CivilDate, right: OptionRight, strike: Double) {
        self.root = root; self.expiration = expiration; self.right = right; self.strike = strike
    }

    public init?(_ text: String) {
        let s = Array(text.utf8)
        guard s.count >= 16, s.count <= 21 else { return nil }
        let tail = s.suffix(15)
        let rootBytes = s.prefix(s.count - 15).filter { $0 != 32 }
        guard !rootBytes.isEmpty, rootBytes.count <= 6 else { return nil }
        let digits = tail.prefix(6), cp = tail[tail.startIndex + 6], strikeDigits = tail.suffix(8)
        guard digits.allSatisfy({ $0 >= 48 && $0 <= 57 }), strikeDigits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let d = Array(digits).map { Int($0) - 48 }
        let year = 2000 + d[0] * 10 + d[1], month = d[2] * 10 + d[3], day = d[4] * 10 + d[5]
        guard (1...12).contains(month), (1...CivilDate.daysIn(year: year, month: month)).contains(day) else { return nil }
        switch cp {
        case UInt8(ascii: "C"): right = .call
        case UInt8(ascii: "P"): right = .put
        default: return nil
        }
        root = String(decoding: rootBytes, as: UTF8.self)
        expiration = CivilDate(year: year, month: month, day: day)
        strike = Double(strikeDigits.reduce(0) { $0 * 10 + Int($1) - 48 }) / 1000
    }

    /// The compact form (no padding).
    public var description: String {
        let y = expiration.year % 100
        let ymd = pad2(Int64(y)) + pad2(Int64(expiration.month)) + pad2(Int64(expiration.day))
        let thousandths = Int((strike * 1000).rounded())
        let k = String(thousandths)
        return root + ymd + (right == .call ? "C" : "P") + String(repeating: "0", count: max(0, 8 - k.count)) + k
    }
}
