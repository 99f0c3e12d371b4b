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

    /// Expiration, right and strike in one number: what tells apart the contracts of one root (a chain's).
    var contractKey: UInt64 {
        let thousandths = UInt64(max(0, (strike * 1000).rounded()))
        return UInt64(truncatingIfNeeded: expiration.daysSinceEpoch) << 34 | (right == .call ? 1 << 33 : 0) | (thousandths & (1 << 33 - 1))
    }

    public init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    /// Parses without allocating beyond the root (every chain parses hundreds of these).
    static func parse(_ s: UnsafeBufferPointer<UInt8>) -> OCCSymbol? {
        guard s.count >= 16, s.count <= 21 else { return nil }
        let t = s.count - 15
        let prefix = UnsafeBufferPointer(rebasing: s[0..<t])
        let spaces = prefix.reduce(0) { $0 + ($1 == 32 ? 1 : 0) }
        guard t - spaces >= 1, t - spaces <= 6 else { return nil }
        func digit(_ i: Int) -> Int? { let b = s[i]; return b >= 48 && b <= 57 ? Int(b) - 48 : nil }
        var strikeThousandths = 0
        for i in (t + 7)..<(t + 15) {
            guard let v = digit(i) else { return nil }
            strikeThousandths = strikeThousandths * 10 + v
        }
        guard let y1 = digit(t), let y2 = digit(t + 1), let m1 = digit(t + 2), let m2 = digit(t + 3), let d1 = digit(t + 4), let d2 = digit(t + 5) else { return nil }
        let year = 2000 + y1 * 10 + y2, month = m1 * 10 + m2, day = d1 * 10 + d2
        guard (1...12).contains(month), (1...CivilDate.daysIn(year: year, month: month)).contains(day) else { return nil }
        let right: OptionRight
        switch s[t + 6] {
        case UInt8(ascii: "C"): right = .call
        case UInt8(ascii: "P"): right = .put
        default: return nil
        }
        let root = spaces == 0 ? String(decoding: prefix, as: UTF8.self) : String(decoding: prefix.filter { $0 != 32 }, as: UTF8.self)
        return OCCSymbol(root: root,
                         expiration: CivilDate(year: year, month: month, day: day), right: right, strike: Double(strikeThousandths) / 1000)
    }

    /// The compact spelling of an OCC symbol (a padded one loses its spaces), or the text itself when it is not one
    /// (a stock ticker). A compact symbol that parses is already canonical: every field has a fixed width.
    public static func canonical(_ symbol: String) -> String {
        guard symbol.utf8.contains(32) else { return symbol }
        return OCCSymbol(symbol)?.description ?? symbol
    }

    /// The compact form (no padding).
    public var description: String {
        var out = [UInt8]()
        out.reserveCapacity(root.utf8.count + 15)
        out += root.utf8
        func two(_ v: Int) { out.append(UInt8(48 + v / 10 % 10)); out.append(UInt8(48 + v % 10)) }
        two(expiration.year % 100); two(expiration.month); two(expiration.day)
        out.append(right == .call ? UInt8(ascii: "C") : UInt8(ascii: "P"))
        let k = Array(String(Int((strike * 1000).rounded())).utf8)
        for _ in 0..<max(0, 8 - k.count) { out.append(48) }
        out += k
        return String(decoding: out, as: UTF8.self)
    }
}
