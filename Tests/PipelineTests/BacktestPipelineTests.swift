import Foundation
import OpsModel
import Testing
import TestSupport

/// Issue 9: `opsctl backtest` runs every core in one process and records byte for byte what the Kafka pipeline
/// (`opsctl up`, every service its own process) records on the same inputs, apart from the wall-clock produced_at.
extension PipelineTests {
@Suite("Backtest in one process, the same bytes as the Kafka pipeline")
struct BacktestEquality {
    /// Every recorded file of `a` and `b`, with `produced_at` cut out; the file sets must match too.
    static func compare(_ a: URL, _ b: URL) throws -> [String] {
        let names = { (d: URL) in try Set(FileManager.default.contentsOfDirectory(atPath: d.path).filter { $0.hasSuffix(".jsonl") }) }
        let na = try names(a), nb = try names(b)
        var problems = [String]()
        if na != nb { problems.append("file sets differ: only in up \(na.subtracting(nb).sorted()), only in backtest \(nb.subtracting(na).sorted())") }
        for name in na.intersection(nb).sorted() {
            let x = try stripped(a.appendingPathComponent(name)), y = try stripped(b.appendingPathComponent(name))
            if x != y {
                let lx = x.split(separator: "\n"), ly = y.split(separator: "\n")
                let first = Array(zip(lx, ly)).firstIndex { $0.0 != $0.1 } ?? min(lx.count, ly.count)
                problems.append("\(name): \(lx.count) vs \(ly.count) lines, first difference at line \(first + 1)")
            }
        }
        return problems
    }

    static func stripped(_ url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: #","produced_at":"[^"]*""#, with: "", options: .regularExpression)
    }

    static func backtest(_ args: [String]) throws -> (Harness.Result, URL) {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ops-backtest-\(UUID().uuidString)")
        let r = try Harness.run("opsctl", ["backtest", "--record", dir.path, "--progress", "off"] + args, timeout: 900)
        return (r, dir)
    }

    /// The summary lines that describe the trading, the same for both runs (wall time, processes and logs differ).
    static func tradingLines(_ summary: String) -> [String] {
        let keep = ["  features", "  computed", "  watchlist", "  signals", "  decisions", "  skips", "  sizing", "  entries by", "  orders",
                    "  fills", "  positions", "  realized P&L", "  equity", "  dead letters"]
        return summary.split(separator: "\n").map(String.init).filter { l in keep.contains { l.hasPrefix($0) } }
    }

    @Test("synthetic market: every topic byte-identical to the reference opsctl up run; the same summary")
    func syntheticMatchesKafka() throws {
        let up = try PipelineTests.reference.get()
        let (r, bt) = try Self.backtest(PipelineTests.small)
        #expect(r.status == 0, "\(r.stderr)")
        let problems = try Self.compare(up, bt)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        let upSummary = try String(contentsOf: up.appendingPathComponent("summary.txt"), encoding: .utf8)
        #expect(Self.tradingLines(r.stdout) == Self.tradingLines(upSummary))
        #expect(Self.tradingLines(r.stdout).count >= 10, "\(r.stdout)")
        #expect(r.stdout.contains("bars/s"), "the backtest reports its speed")
    }

    @Test("real SPY bars, a small account and a scheduled halt: byte-identical to opsctl up on the same flags")
    func realDataMatchesKafka() throws {
        guard TestPaths.hasSharedData else {
            print("skipped: ../shared/data is absent (a user's clone); the synthetic comparison still runs")
            return
        }
        let bars = TestPaths.shared("bars/SPY_1min_2024-02-20_2024-04-18_ET.csv").path
        let args = ["--bars", bars, "--sessions", "3", "--account-size", "5000", "--halt", "sim-1@2024-02-22T19:00:00Z"] + PipelineTests.params
        let (ru, up) = try Harness.up(args)
        #expect(ru.status == 0, "\(ru.stderr)")
        let (rb, bt) = try Self.backtest(args)
        #expect(rb.status == 0, "\(rb.stderr)")
        let problems = try Self.compare(up, bt)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(Self.tradingLines(rb.stdout) == Self.tradingLines(ru.stdout))
        let control = try String(contentsOf: bt.appendingPathComponent("ops.control.v1.jsonl"), encoding: .utf8)
        #expect(control.contains("\"action\":\"halt\""), "the halt was published")
        let halted = try String(contentsOf: bt.appendingPathComponent("trading.decisions.v1.jsonl"), encoding: .utf8).split(separator: "\n").filter { line in
            let payload = (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["payload"] as? [String: Any]
            return (payload?["gates"] as? [[String: Any]])?.contains { $0["gate"] as? String == "halt" && $0["passed"] as? Bool == false } ?? false
        }
        #expect(!halted.isEmpty, "decisions after the halt are blocked by it")
    }

    @Test("bad flags fail before any work, saying what to type instead")
    func badFlags() throws {
        let r1 = try Harness.run("opsctl", ["backtest", "--feed-set", "speed=60x"])
        #expect(r1.status != 0 && r1.stderr.contains("chain-every"), "\(r1.stderr)")
        let r2 = try Harness.run("opsctl", ["backtest", "--service-set", "nobody:x=1"])
        #expect(r2.status != 0 && r2.stderr.contains("feature-computer"), "\(r2.stderr)")
        let r3 = try Harness.run("opsctl", ["backtest", "--service-set", "feature-computer:slope_lookbak=3", "--sessions", "1"])
        #expect(r3.status != 0 && r3.stderr.contains("slope_lookbak"), "\(r3.stderr)")
    }
}
}

extension PipelineTests {
@Suite("opsctl bench")
struct BenchQuick {
    @Test("bench --quick runs every section and prints every figure next to its goal")
    func printsEveryFigure() throws {
        let r = try Harness.run("opsctl", ["bench", "--quick"], timeout: 900)
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
        for figure in ["greeks+iv solves/s", "option chain decodes/s", "bar decodes/s", "feature vector decodes/s", "watermark decodes/s",
                       "bar encodes/s", "feature vector encodes/s", "backtest bars/s", "market minutes/s (in process)", "raw produce msgs/s", "raw consume msgs/s", "one-message produce→ack p50/p99 ms", "commit p50/p99 ms",
                       "produce→consume p50/p99 ms", "same after 2 s idle p50/p99 ms",
                       "pipeline msgs/s (all topics)", "pipeline / raw produce", "market minutes/s end to end",
                       "bar → decision p50/p99 ms at 60×", "on chain minutes / the others", "bar → features p50/p99 ms at 60×", "bar → decision p50/p99 ms at 1×",
                       "bar → features p50/p99 ms at 1×", "RSS MB feature-computer", "RSS MB position-manager"] {
            #expect(r.stdout.contains(figure), "\(figure) is printed:\n\(r.stdout)")
        }
        #expect(r.stdout.contains("goal ≥ 1,000,000") && r.stdout.contains("goal ≥ 500")
                && r.stdout.contains("goal < 20 ms p99") && r.stdout.contains("goal < 64 MB"), "figures stand next to their goals")
        let bad = try Harness.run("opsctl", ["bench", "warp"])
        #expect(bad.status != 0 && bad.stderr.contains("sections: greeks, decode, backtest, kafka, latency"), "\(bad.stderr)")
    }
}
}
