import Foundation
import Testing
import TestSupport

/// `opsctl greeks` as an operator runs it: one JSON object from the position-manager's Black-Scholes code, checked
/// against Haug's textbook values (no broker needed).
@Suite("opsctl greeks")
struct GreeksCommandTests {
    func json(_ args: [String]) throws -> [String: Double] {
        let r = try Harness.run("opsctl", ["greeks"] + args)
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "one JSON object: \(r.stdout)")
        #expect(Set(object.keys) == ["price", "iv", "delta", "gamma", "theta", "vega", "rho", "years"])
        return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }

    struct Textbook: Sendable, CustomTestStringConvertible {
        var args: [String], key: String, value: Double
        var testDescription: String { "\(key) \(args.joined(separator: " "))" }
    }

    /// Haug (1998) pp. 2–16, converted to the command's units: theta per day, vega and rho per point.
    static let textbook: [Textbook] = [
        Textbook(args: ["--right", "call", "--spot", "60", "--strike", "65", "--years", "0.25", "--rate", "0.08", "--vol", "0.30"], key: "price", value: 2.1334),
        Textbook(args: ["--right", "call", "--spot", "105", "--strike", "100", "--years", "0.5", "--rate", "0.1", "--dividend", "0.1", "--vol", "0.36"], key: "delta", value: 0.5946),
        Textbook(args: ["--right", "put", "--spot", "105", "--strike", "100", "--years", "0.5", "--rate", "0.1", "--dividend", "0.1", "--vol", "0.36"], key: "delta", value: -0.3566),
        Textbook(args: ["--right", "put", "--spot", "55", "--strike", "60", "--years", "0.75", "--rate", "0.1", "--vol", "0.30"], key: "gamma", value: 0.0278),
        Textbook(args: ["--right", "call", "--spot", "55", "--strike", "60", "--years", "0.75", "--rate", "0.1", "--vol", "0.30"], key: "vega", value: 0.189358),
        Textbook(args: ["--right", "put", "--spot", "430", "--strike", "405", "--years", "0.0833333333333333", "--rate", "0.07", "--dividend", "0.05", "--vol", "0.20"], key: "theta", value: -31.1924 / 365),
        Textbook(args: ["--right", "call", "--spot", "72", "--strike", "75", "--years", "1", "--rate", "0.09", "--vol", "0.19"], key: "rho", value: 0.387325),
    ]

    @Test("--years and --vol reproduce Haug's values in the command's units", arguments: textbook)
    func haug(_ t: Textbook) throws {
        let out = try json(t.args)
        let got = try #require(out[t.key])
        #expect(abs(got - t.value) <= 1e-4 * max(1, abs(t.value)) + 5e-7, "\(t.key) \(got) vs \(t.value)")
        #expect(out["iv"] == Double(t.args[t.args.firstIndex(of: "--vol")! + 1]))
    }

    @Test("--price returns the implied volatility and the greeks at it")
    func fromPrice() throws {
        let atVol = try json(["--right", "call", "--spot", "60", "--strike", "65", "--years", "0.25", "--rate", "0.08", "--vol", "0.30"])
        let out = try json(["--right", "call", "--spot", "60", "--strike", "65", "--years", "0.25", "--rate", "0.08", "--price", "2.1334"])
        // Haug's price is rounded to 1e-4; a vega of 0.1135 per point makes that 1e-5 of volatility at most.
        #expect(abs(out["iv"]! - 0.30) <= 1e-5)
        #expect(abs(out["price"]! - 2.1334) <= 1e-9)
        #expect(abs(out["delta"]! - atVol["delta"]!) <= 1e-5)
        #expect(abs(out["vega"]! - atVol["vega"]!) <= 1e-5)
    }

    @Test("--expiry and --as-of count ACT/365 to 16:00 New York on the expiry, across the DST switch")
    func dayCount() throws {
        // Friday 2024-03-08 16:00 EST (21:00Z) to Friday 2024-03-15 16:00 EDT (20:00Z): 7 days less an hour.
        let out = try json(["--right", "put", "--spot", "512.30", "--strike", "505", "--expiry", "2024-03-15",
                            "--as-of", "2024-03-08T16:00:00-05:00", "--rate", "0.05", "--vol", "0.2"])
        #expect(abs(out["years"]! - 167.0 / (24 * 365)) <= 1e-15)
        #expect(out["delta"]! < 0 && out["delta"]! > -0.5 && out["theta"]! < 0)
        let byYears = try json(["--right", "put", "--spot", "512.30", "--strike", "505", "--years", "\(167.0 / (24 * 365))",
                                "--rate", "0.05", "--vol", "0.2"])
        #expect(abs(out["price"]! - byYears["price"]!) <= 1e-12)
    }

    @Test("a bad invocation fails and says what to type instead")
    func badInvocations() throws {
        let base = ["greeks", "--right", "call", "--spot", "60", "--strike", "65"]
        let both = try Harness.run("opsctl", base + ["--years", "0.25", "--vol", "0.3", "--price", "2"])
        #expect(both.status != 0)
        #expect(both.stderr.contains("exactly one of --vol (e.g. --vol 0.25) or --price"), "\(both.stderr)")
        let noTime = try Harness.run("opsctl", base + ["--vol", "0.3"])
        #expect(noTime.status != 0)
        #expect(noTime.stderr.contains("give --years T"), "\(noTime.stderr)")
        let outside = try Harness.run("opsctl", base + ["--years", "0.25", "--rate", "0", "--price", "61"])
        #expect(outside.status != 0)
        #expect(outside.stderr.contains("outside the no-arbitrage bounds"), "\(outside.stderr)")
        #expect(outside.stderr.contains("below 60.0000"), "the upper bound is the spot: \(outside.stderr)")
        let percent = try Harness.run("opsctl", base + ["--years", "0.25", "--vol", "30"])
        #expect(percent.status != 0)
        #expect(percent.stderr.contains("--vol 0.25"), "\(percent.stderr)")
    }
}
