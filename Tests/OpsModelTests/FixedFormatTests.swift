import Foundation
import OpsModel
import Testing

@Suite("FixedFormat: printf's %.Nf, digit for digit")
struct FixedFormatTests {
    @Test("ties, binary near-ties, negatives rounding to zero, signs and big values match String(format:)")
    func edgeCases() {
        let values: [Double] = [0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.375, 2.675, 1.005, 1.115, -0.001, -0.004999, 0.045, 1e-9, -1e-9,
                                123456.785, 999.9995, 0.05, 0.15, 0.25, 0.35, 1e14 + 0.5, 4.2e15, 1e20, -1e20, .nan, .infinity, -.infinity]
        for v in values {
            for n in 0...6 {
                #expect(FixedFormat.string(v, decimals: n) == String(format: "%.\(n)f", v), "\(v) %.\(n)f")
                #expect(FixedFormat.string(v, decimals: n, plusSign: true) == String(format: "%+.\(n)f", v), "\(v) %+.\(n)f")
            }
        }
    }

    @Test("200,000 random values of every magnitude match String(format:)")
    func random() {
        var g = SystemRandomNumberGenerator()
        var mismatches = [String]()
        for i in 0..<200_000 {
            let scale = pow(10, Double(Int.random(in: -8...12, using: &g)))
            var v = Double.random(in: -1...1, using: &g) * scale
            if i % 4 == 0 { v = (v * 1000).rounded() / 1000 + (i % 8 == 0 ? 0.0005 : 0.005) }   // near-ties of 3 and 2 decimals
            let n = i % 7
            let a = FixedFormat.string(v, decimals: n, plusSign: i % 3 == 0), b = String(format: i % 3 == 0 ? "%+.\(n)f" : "%.\(n)f", v)
            if a != b, mismatches.count < 5 { mismatches.append("\(v) n=\(n): \(a) vs \(b)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }
}
