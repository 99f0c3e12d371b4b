import Foundation

/// Black's formula in Jäckel's normalized form, for an out-of-the-money option: with x = ln(F/K) ≤ 0 and total
/// volatility s = σ√T, b(x, s) = e^(x/2)·N(x/s + s/2) − e^(−x/2)·N(x/s − s/2), the undiscounted value divided by
/// √(F·K). An in-the-money option is its out-of-the-money twin plus intrinsic value (put-call parity), so working
/// on the twin keeps small time values free of the cancellation intrinsic value brings.
struct NormalizedBlack {
    /// ln(F/K), made ≤ 0.
    let x: Double
    let expHalfX: Double
    let expMinusHalfX: Double

    init(x: Double) { self.init(x: x, expHalfX: exp(-0.5 * abs(x))) }

    /// `expHalfX` = e^(−|x|/2), when the caller has it cheaper than an exponential (√ of the forward's moneyness).
    init(x: Double, expHalfX: Double) {
        self.x = -abs(x)
        self.expHalfX = expHalfX
        expMinusHalfX = 1 / expHalfX
    }

    /// The value's supremum (s → ∞).
    var upperBound: Double { expHalfX }

    /// One evaluation with what the greeks need.
    struct Point {
        var s: Double
        var b: Double
        /// N(d1), N(d2) at the twin's x.
        var nd1: Double
        var nd2: Double
        /// ∂b/∂s = e^(x/2)·φ(d1) = (2π)^(−1/2)·exp(−(x²/s² + s²/4)/2): the same at x and −x.
        var vega: Double
    }

    @inline(__always)
    func at(_ s: Double) -> Point {
        let xs = x / s, hs = 0.5 * s
        let nd1 = BlackScholes.normalCDF(xs + hs), nd2 = BlackScholes.normalCDF(xs - hs)
        return Point(s: s, b: max(0, expHalfX * nd1 - expMinusHalfX * nd2), nd1: nd1, nd2: nd2,
                     vega: 0.3989422804014327 * exp(-0.5 * (xs * xs + hs * hs)))
    }

    /// (∂²b/∂s²) / (∂b/∂s).
    @inline(__always)
    func curvature(_ s: Double) -> Double { x * x / (s * s * s) - 0.25 * s }
}

extension NormalizedBlack {
    struct Solution {
        /// The last evaluation: its `s` reproduces the target and its quantities give the greeks.
        var point: Point
        var evaluations: Int
    }

    /// Which objective Halley's method works on. Below the inflection point s_c = √(2|x|) the value behaves like
    /// exp(−x²/2s²), so its logarithm is nearly linear; far above it, the distance to the supremum is.
    enum Branch { case lower, middle, upper }

    /// A step this small (relative) is followed by one last evaluation: Halley's method converges cubically, so
    /// the next point is exact to rounding.
    static let finalStep = 1e-4

    /// The total volatility in [sMin, sMax] whose value is `beta`, by Halley's method safeguarded by a bracket.
    /// A target outside the range within `endTolerance` (normalized units) returns the range's end; otherwise nil.
    func solve(beta: Double, sMin: Double, sMax: Double, endTolerance: Double) -> Solution? {
        if !(beta > 0) {
            let p = at(sMin)
            return p.b - beta <= endTolerance ? Solution(point: p, evaluations: 1) : nil
        }
        if !(beta < upperBound) {
            let p = at(sMax)
            return beta - p.b <= endTolerance ? Solution(point: p, evaluations: 1) : nil
        }
        var (guess, branch, evaluations) = initialGuess(beta)
        var s = min(max(guess, sMin), sMax)
        var lo = sMin, hi = sMax
        var loBelow = false, hiAbove = false, last = false
        while evaluations < 100 {
            evaluations += 1
            let p = at(s)
            if last { return Solution(point: p, evaluations: evaluations) }
            if p.b > beta {
                if s <= sMin { return p.b - beta <= endTolerance ? Solution(point: p, evaluations: evaluations) : nil }
                hi = s; hiAbove = true
            } else {
                if s >= sMax { return beta - p.b <= endTolerance ? Solution(point: p, evaluations: evaluations) : nil }
                lo = s; loBelow = true
            }
            if abs(p.b - beta) <= 1e-15 * beta || hi - lo <= 1e-15 * hi { return Solution(point: p, evaluations: evaluations) }
            let step = halleyStep(p, beta: beta, branch: branch)
            if abs(step) <= 1e-14 * s { return Solution(point: p, evaluations: evaluations) }
            var next = s + step
            if next > lo && next < hi {
                last = abs(step) <= Self.finalStep * s
            } else if next <= lo, !loBelow {
                next = lo
            } else if next >= hi, !hiAbove {
                next = hi
            } else {
                // Geometric bisection while the bracket spans orders of magnitude.
                next = hi > 4 * lo ? (lo * hi).squareRoot() : 0.5 * (lo + hi)
                branch = next < (-2 * x).squareRoot() ? .lower : .middle
            }
            s = next
        }
        return Solution(point: at(s), evaluations: evaluations + 1)
    }

    /// A first total volatility for `beta`, the objective to use, and the evaluations it cost.
    func initialGuess(_ beta: Double) -> (Double, Branch, Int) {
        let ax = -x
        if ax == 0 {
            // At the money b = 2N(s/2) − 1 exactly.
            return (-2 * BlackScholes.inverseNormalCDF(0.5 * (1 - beta)), .middle, 0)
        }
        let sc = (2 * ax).squareRoot()
        if let normal = NormalModel.totalVolatility(value: beta, moneyness: expHalfX - expMinusHalfX) {
            // Hagan: s_N = s·(2 sinh(x/2)/x) / (1 + s²/24 + s⁴/5760), solved for s by fixed point.
            let c = normal * ax / (expMinusHalfX - expHalfX)
            var s = c
            for _ in 0..<3 { let s2 = s * s; s = c * (1 + s2 / 24 + s2 * s2 / 5760) }
            if s < 1 { return (s, s < sc ? .lower : .middle, 0) }
        }
        // Far from the normal model's reach: the tangent at the inflection point and Jäckel's asymptotic maps.
        let pc = at(sc)
        let tangent = sc + (beta - pc.b) / pc.vega
        if beta < pc.b {
            // b ≈ 2π|x|/(3√3)·Φ(−|x|/(√3·s))³ as s → 0; where both apply, both overestimate, so the lesser wins.
            let f = beta * 3 * 3.0.squareRoot() / (2 * Double.pi * ax)
            let z = BlackScholes.inverseNormalCDF(cbrt(f))
            let asymptotic = ax / (3.0.squareRoot() * -z)
            return (asymptotic > 0 && asymptotic < tangent ? asymptotic : tangent, .lower, 1)
        }
        // b_max − b ≈ (e^(x/2) + e^(−x/2))·Φ(−s/2) as s → ∞.
        let asymptotic = -2 * BlackScholes.inverseNormalCDF((upperBound - beta) / (expHalfX + expMinusHalfX))
        let tangentReachesMax = sc + (upperBound - pc.b) / pc.vega
        return (max(tangent, asymptotic), tangent > tangentReachesMax ? .upper : .middle, 1)
    }

    @inline(__always)
    func halleyStep(_ p: Point, beta: Double, branch: Branch) -> Double {
        let c = curvature(p.s)
        switch branch {
        case .middle:
            return Self.halley(p.b - beta, p.vega, p.vega * c)
        case .lower:
            guard p.b > 0 else { return .infinity }
            let r = p.vega / p.b
            return Self.halley(log(p.b / beta), r, r * c - r * r)
        case .upper:
            let rest = upperBound - p.b, r = p.vega / rest
            return Self.halley(log((upperBound - beta) / rest), r, r * c + r * r)
        }
    }

    /// Halley's step for f with derivatives f1, f2; Newton's where the correction is large (far from the root).
    @inline(__always)
    static func halley(_ f: Double, _ f1: Double, _ f2: Double) -> Double {
        let newton = -f / f1
        let d = 1 + 0.5 * newton * f2 / f1
        return d > 0.75 && d < 1.5 ? newton / d : newton
    }
}
