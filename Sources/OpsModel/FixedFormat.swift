import Foundation

/// `String(format: "%.Nf")` (and `"%+.Nf"`) without Foundation's formatter: the same text, digit for digit — the
/// exact binary value rounded half-to-even, "-0.00" for small negatives — at a fraction of the cost (a signal's
/// rule-by-rule breakdown formats a dozen numbers a bar). Values too large for the fast path fall back to it.
public enum FixedFormat {
    static let powers: [Double] = (0...15).map { pow(10, Double($0)) }

    public static func string(_ v: Double, decimals n: Int, plusSign: Bool = false) -> String {
        guard n >= 0, n <= 15, v.isFinite else { return fallback(v, n, plusSign) }
        let p = powers[n]
        let hi = v.magnitude * p
        guard hi < 4.0e15 else { return fallback(v, n, plusSign) }
        // hi + lo is |v|·10ⁿ exactly; round that to an integer, ties to even.
        let lo = (-hi).addingProduct(v.magnitude, p)   // fused: the product's rounding error, exactly
        var r = hi.rounded(.toNearestOrEven)
        let f = hi - r
        if f == 0.5, lo > 0 { r += 1 } else if f == -0.5, lo < 0 { r -= 1 }
        var digits = Array(String(UInt64(r)).utf8)
        if digits.count <= n { digits = [UInt8](repeating: 48, count: n + 1 - digits.count) + digits }
        var out = [UInt8]()
        out.reserveCapacity(digits.count + 2)
        if v.sign == .minus { out.append(UInt8(ascii: "-")) } else if plusSign { out.append(UInt8(ascii: "+")) }
        out += digits[..<(digits.count - n)]
        if n > 0 {
            out.append(UInt8(ascii: "."))
            out += digits[(digits.count - n)...]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func fallback(_ v: Double, _ n: Int, _ plusSign: Bool) -> String {
        String(format: plusSign ? "%+.\(n)f" : "%.\(n)f", v)
    }
}
