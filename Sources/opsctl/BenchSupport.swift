import Foundation

/// One benchmark: a name for the command line's filter, what it measures, and the lines it prints (`quick`: small
/// sizes, for the test that checks every figure prints).
struct BenchSection: Sendable {
    var name: String
    var summary: String
    var run: @Sendable (_ quick: Bool) throws -> [String]
}

/// How long some repeated work took.
struct Measurement {
    var operations: Int
    var seconds: Double
    var perSecond: Double { Double(operations) / seconds }
    var nanosecondsPerOperation: Double { seconds * 1e9 / Double(operations) }
}

enum Bench {
    /// Repeats `round` (which returns how many operations it did) until at least `seconds` have passed, after one
    /// untimed round to warm caches and lazily built tables. One thread: the figure is per core.
    static func measure(seconds: Double = 2, _ round: () throws -> Int) rethrows -> Measurement {
        _ = try round()
        let clock = ContinuousClock()
        let start = clock.now
        var operations = 0, elapsed = 0.0
        repeat {
            operations += try round()
            let d = clock.now - start
            elapsed = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        } while elapsed < seconds
        return Measurement(operations: operations, seconds: elapsed)
    }

    /// `label   value   goal ≥ goal   OK|BELOW`, aligned (`below: true` for a goal that is a ceiling, e.g. latency).
    static func line(_ label: String, _ value: String, goal: Double? = nil, met: Bool? = nil, ceiling: Bool = false, unit: String = "") -> String {
        var text = label.padding(toLength: 34, withPad: " ", startingAt: 0) + String(repeating: " ", count: max(0, 14 - value.count)) + value
        if let goal { text += "   goal \(ceiling ? "<" : "≥") \(ceiling ? fixed(goal, 0) : grouped(goal))\(unit)" }
        if let met { text += met ? "   OK" : (ceiling ? "   ABOVE" : "   BELOW") }
        return text
    }

    /// 1234567.8 → "1,234,568".
    static func grouped(_ x: Double) -> String {
        let digits = String(Int(x.rounded()))
        var out = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0, i % 3 == 0, c != "-" { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    static func fixed(_ x: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", x) }
}

/// Keeps benchmark results observable so the optimizer cannot drop the work that produced them.
enum Sink {
    nonisolated(unsafe) static var value = 0.0
}
