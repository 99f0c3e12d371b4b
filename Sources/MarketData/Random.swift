import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator used to expand one 64-bit seed into a well-mixed state.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 finalizer: a bijective 64-bit mixer.
    @inlinable
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A deterministic pseudo-random source: xoshiro256** (Blackman & Vigna) seeded through SplitMix64.
///
/// The same seed gives the same sequence on every run and platform: the uniform and normal draws below are
/// implemented here, never through the standard library's `random(in:using:)` (whose algorithm may change
/// between Swift versions) and never from `SystemRandomNumberGenerator`.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// The second value of the last Marsaglia polar pair, not yet handed out.
    private var spareNormal: Double?

    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 } // the all-zero state is a fixed point (cannot happen via SplitMix64)
    }

    /// A generator for a named sub-stream: the seed mixed with the parts (strings hashed with FNV-1a), so each
    /// ticker or contract gets its own independent, reproducible sequence.
    public init(seed: UInt64, _ parts: String...) {
        self.init(seed: StableHash.combine(seed, parts: parts))
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = SeededRandom.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = SeededRandom.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [a, b).
    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }

    /// Uniform integer in `range` (Lemire's multiply-shift; the negligible bias is deterministic).
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) &+ 1
        if width == 0 { return Int(truncatingIfNeeded: next()) }
        return range.lowerBound + Int(next().multipliedFullWidth(by: width).high)
    }

    /// True with probability `p`.
    public mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }

    /// Standard normal by the Marsaglia polar method (pairs; the second value is kept for the next call).
    public mutating func normal() -> Double {
        if let z = spareNormal { spareNormal = nil; return z }
        while true {
            let u = 2 * uniform() - 1, v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let f = (-2 * log(s) / s).squareRoot()
                spareNormal = v * f
                return u * f
            }
        }
    }

    /// Normal with the given mean and standard deviation.
    public mutating func normal(mean: Double, sd: Double) -> Double { mean + sd * normal() }
}

/// Process-independent hashing for seeds (Swift's `Hasher` is randomly seeded per process, so it must not be used
/// for anything that has to be reproducible).
public enum StableHash {
    /// 64-bit FNV-1a over the UTF-8 bytes.
    public static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// A seed mixed with further 64-bit values.
    public static func combine(_ seed: UInt64, _ values: UInt64...) -> UInt64 { combine(seed, values: values) }

    public static func combine(_ seed: UInt64, values: [UInt64]) -> UInt64 {
        var h = SplitMix64.mix(seed ^ 0x5851_F42D_4C95_7F2D)
        for v in values { h = SplitMix64.mix(h &+ 0x9E37_79B9_7F4A_7C15 &+ SplitMix64.mix(v)) }
        return h
    }

    /// A seed mixed with strings.
    public static func combine(_ seed: UInt64, parts: [String]) -> UInt64 { combine(seed, values: parts.map(fnv1a)) }
}
