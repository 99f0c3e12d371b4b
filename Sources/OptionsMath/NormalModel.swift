import Foundation

/// Bachelier's normal model in normalized units, for the implied-volatility solver's first guess (Hagan's
/// normal ↔ lognormal conversion then makes it a Black guess good to about 1e-6 for σ√T ≤ 0.3).
///
/// An out-of-the-money option at normalized moneyness m < 0 with normal total volatility v is worth v·G(|m|/v),
/// G(u) = φ(u) − u·N(−u). Inverting it means finding u with h(u) = G(u)/u = value/|m|; u is a smooth function of
/// z = ln(value/|m|), tabulated once with its slope and read by cubic Hermite interpolation (relative error
/// about 2e-9), so a guess costs one logarithm and no normal distribution calls.
enum NormalModel {
    static let zMin = -32.0, zMax = 12.0
    static let step = 1.0 / 32
    /// (u, du/dz) at z = zMin + i·step.
    static let table: [(u: Double, slope: Double)] = (0...Int(((zMax - zMin) / step).rounded())).map { i in
        let u = solve(zMin + Double(i) * step)
        return (u, -u * gOverPhi(u))
    }

    /// The normal total volatility (in √(F·K) units) of a normalized out-of-the-money value `value` at moneyness
    /// `m` < 0; nil where the table does not reach (u ≳ 7.5, or u ≲ 2e-6 where the option is at the money).
    @inline(__always)
    static func totalVolatility(value: Double, moneyness m: Double) -> Double? {
        let z = log(value / -m)
        guard z > zMin, z < zMax else { return nil }
        let t = (z - zMin) / step
        let i = Int(t)
        let f = t - Double(i), f2 = f * f, f3 = f2 * f
        let a = table[i], b = table[i + 1]
        let u = (2 * f3 - 3 * f2 + 1) * a.u + (f3 - 2 * f2 + f) * step * a.slope + (3 * f2 - 2 * f3) * b.u
            + (f3 - f2) * step * b.slope
        return -m / u
    }

    /// G(u)/φ(u) = 1 − u·M(u), M the Mills ratio N(−u)/φ(u); the continued fraction keeps it accurate where
    /// u·M(u) → 1 and N(−u) would have cancelled.
    static func gOverPhi(_ u: Double) -> Double {
        if u < 2 { return 1 - u * BlackScholes.normalCDF(-u) / BlackScholes.normalPDF(u) }
        // Laplace: M(u) = 1/(u + 1/(u + 2/(u + 3/(u + …)))), fast for u ≥ 2.
        var tail = u
        for k in stride(from: 200, through: 1, by: -1) { tail = u + Double(k) / tail }
        return 1 - u / tail
    }

    /// The u with ln h(u) = z, by Newton on ln u (d ln u / d ln h = −G(u)/φ(u)); table construction only.
    static func solve(_ z: Double) -> Double {
        var lnU = z > 0 ? log(0.3989422804014327) - z : 0.5 * log(max(1, -2 * z))
        for _ in 0..<100 {
            let u = exp(lnU)
            let ratio = gOverPhi(u)
            let next = lnU - (z - log(BlackScholes.normalPDF(u) * ratio / u)) * ratio
            if abs(next - lnU) <= 1e-15 { return exp(next) }
            lnU = next
        }
        return exp(lnU)
    }
}
