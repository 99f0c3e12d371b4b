import Foundation
import Testing
@testable import MarketData

@Suite("Seeded random")
struct SyntheticRandomTests {
    @Test("SplitMix64 matches its reference output")
    func splitMixReference() {
        var sm = SplitMix64(seed: 0)
        #expect(sm.next() == 0xE220_A839_7B1D_CDAF)
        #expect(sm.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test("same seed, same numbers; different seeds, different numbers")
    func reproducible() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let xa = (0..<1000).map { _ in a.next() }, xb = (0..<1000).map { _ in b.next() }, xc = (0..<1000).map { _ in c.next() }
        #expect(xa == xb)
        #expect(xa != xc)
        var s1 = SeededRandom(seed: 42, "SPY"), s2 = SeededRandom(seed: 42, "QQQ")
        #expect(s1.next() != s2.next())
        #expect(StableHash.fnv1a("") == 0xCBF2_9CE4_8422_2325)
        #expect(StableHash.fnv1a("a") == 0xAF63_DC4C_8601_EC8C)
    }

    @Test("uniform in [0, 1) and standard normal moments")
    func distributions() {
        var r = SeededRandom(seed: 7)
        let n = 100_000
        let u = (0..<n).map { _ in r.uniform() }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(u.reduce(0, +) / Double(n) - 0.5) < 0.01)
        let z = (0..<n).map { _ in r.normal() }
        let mean = z.reduce(0, +) / Double(n)
        let variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
        #expect(abs(mean) < 0.02)
        #expect(abs(variance - 1) < 0.03)
        #expect(Double(z.filter { abs($0) > 1.96 }.count) / Double(n) > 0.04)
        let ints = (0..<10_000).map { _ in r.int(in: 1...6) }
        #expect(Set(ints) == Set(1...6))
    }
}
