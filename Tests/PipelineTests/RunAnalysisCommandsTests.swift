import Foundation
import Kafka
import OpsModel
import OpsRuntime
import Testing

/// `opsctl explain`, `report` and `sweep` as an operator runs them: separate processes over a recording (and, for
/// explain, over live topics on a broker process).
@Suite("opsctl explain, report and sweep", .serialized)
struct RunAnalysisCommandsTests {
    /// A 2-session synthetic backtest recording, made once.
    static let recording: URL = {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ops-analysis-\(UUID().uuidString)")
        let r = try! Harness.run("opsctl", ["backtest", "--sessions", "2", "--record", dir.path, "--progress", "off"])
        precondition(r.status == 0, r.stderr)
        return dir
    }()

    static func closedPosition(_ dir: URL) throws -> String {
        let lines = try Harness.recorded(dir, Topics.positions)
        let closed = try #require(lines.first { $0.contains("\"event\":\"closed\"") })
        let obj = try JSONSerialization.jsonObject(with: Data(closed.utf8)) as! [String: Any]
        return (obj["payload"] as! [String: Any])["position_id"] as! String
    }

    @Test("explain a trade from a recording: text and JSON; an unknown id names where it looked; a bad call says what to type")
    func explainFromRecording() throws {
        let dir = Self.recording
        let position = try Self.closedPosition(dir)
        let text = try Harness.run("opsctl", ["explain", position, "--dir", dir.path])
        #expect(text.status == 0, "\(text.stderr)")
        for stage in ["bar", "features", "signal", "decision", "order", "fill", "position", "result"] {
            #expect(text.stdout.contains("  \(stage) "), "\(stage) in\n\(text.stdout)")
        }
        let json = try Harness.run("opsctl", ["explain", position, "--dir", dir.path, "--json"])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((obj["steps"] as? [Any])?.isEmpty == false)

        let unknown = try Harness.run("opsctl", ["explain", "nope", "--dir", dir.path])
        #expect(unknown.status == 2 && unknown.stderr.contains("no message or position with id 'nope'") && unknown.stderr.contains("recording \(dir.path)"), "\(unknown.stderr)")
        let neither = try Harness.run("opsctl", ["explain", "--dir", dir.path])
        #expect(neither.status != 0 && neither.stderr.contains("--ticker T --at TIME"), "\(neither.stderr)")
        let nowhere = try Harness.run("opsctl", ["explain", position], env: ProcessInfo.processInfo.environment.filter { $0.key != "OPS_BROKERS" })
        #expect(nowhere.status != 0 && nowhere.stderr.contains("--dir RECORDING"), "\(nowhere.stderr)")
    }

    @Test("explain reads live topics with --brokers: the same chain as from the recording")
    func explainFromBroker() throws {
        let dir = Self.recording
        let position = try Self.closedPosition(dir)
        let broker = try Harness.BrokerProcess()
        defer { broker.stop() }
        let producer = try KafkaProducer(config: KafkaProducerConfig(client: broker.client), logger: Harness.logger)
        for topic in [Topics.features, Topics.watchlist, Topics.signals, Topics.decisions, Topics.orders, Topics.orderEvents, Topics.fills, Topics.positions, Topics.accounts] {
            let lines = try String(contentsOf: dir.appendingPathComponent("\(topic).jsonl"), encoding: .utf8).split(separator: "\n")
            _ = try producer.send(lines.map { ProducerRecord(topic: topic, key: Array("k".utf8), value: Array($0.utf8)) })
        }
        producer.close()
        let live = try Harness.run("opsctl", ["explain", position, "--brokers", broker.bootstrap])
        let recorded = try Harness.run("opsctl", ["explain", position, "--dir", dir.path])
        #expect(live.status == 0, "\(live.stderr)")
        #expect(live.stdout == recorded.stdout)
    }

    @Test("report writes one self-contained HTML page with SVG charts and every trade's explanation")
    func report() throws {
        let dir = Self.recording
        let out = dir.appendingPathComponent("r.html")
        let r = try Harness.run("opsctl", ["report", dir.path, "--out", out.path])
        #expect(r.status == 0 && r.stdout.contains("report written to \(out.path)"), "\(r.stderr)")
        let html = try String(contentsOf: out, encoding: .utf8)
        #expect(html.contains("<svg") && !html.contains("<script"))
        #expect(html.contains("explain-\(try Self.closedPosition(dir))"))
        let missing = try Harness.run("opsctl", ["report", "/nonexistent"])
        #expect(missing.status != 0 && missing.stderr.contains("opsctl backtest --record"), "\(missing.stderr)")
    }

    @Test("sweep runs a backtest per combination and compares them; a bad key is refused before anything runs")
    func sweep() throws {
        let out = Self.recording.appendingPathComponent("sweep.html")
        let r = try Harness.run("opsctl", ["sweep", "--sessions", "2", "--grid", "account_size=2000,100000", "--grid", "exits.style=premium,underlying",
                                           "--out", out.path, "--jobs", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        for combo in ["account_size=2000 exits.style=premium", "account_size=2000 exits.style=underlying",
                      "account_size=100000 exits.style=premium", "account_size=100000 exits.style=underlying"] {
            #expect(r.stdout.contains(combo), "\(combo)")
        }
        #expect(r.stdout.contains("best by the highest Sharpe") && r.stdout.contains("  account_size=2000: ") && r.stdout.contains("  account_size=100000: "))
        let html = try String(contentsOf: out, encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("Equity curves"))

        let bad = try Harness.run("opsctl", ["sweep", "--sessions", "1", "--grid", "exits.styl=premium"])
        #expect(bad.status != 0 && bad.stderr.contains("exits.styl") && !bad.stderr.contains("sweep: 1/"), "\(bad.stderr)")
    }
}
