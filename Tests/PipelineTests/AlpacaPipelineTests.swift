import Foundation
import OpsModel
import TestSupport
import Testing

/// `opsctl up --broker alpaca-paper` against a fake Alpaca the test controls: the whole pipeline trading on live
/// (simulated-clock) data through POST time-outs after acceptance, 429 bursts, partial fills, a websocket drop between
/// an order and its fill, and a SIGKILL of the broker-gateway mid-run.
// Inside the serialized end-to-end suite: a whole pipeline never runs beside another one (a reference run recorded
// under that load can lose messages to the embedded broker's retention, and then no longer matches).
extension PipelineTests {
@Suite("The pipeline on Alpaca paper (alpaca-fake)")
struct AlpacaPipelineTests {
    @Test("every client id is placed once, Alpaca's positions equal the topics', nothing from the gateway is dead-lettered")
    func paperSessionThroughFaults() throws {
        let anchor = Int64(Date().timeIntervalSince1970 * 1000)
        let clock = "2024-03-05T10:00:00-05:00@\(anchor)x30"
        let tickers = "SPY,QQQ,AAPL,IWM,TSLA"
        let fake = try FakeAlpacaProcess(clock: clock, extra: ["--fill-model", "mid", "--tickers", tickers])
        _ = try fake.control("POST", "/control/fault", #"{"kind":"timeout_after_accept","count":1}"#)
        _ = try fake.control("POST", "/control/fault", #"{"kind":"rate_burst","count":5}"#)
        _ = try fake.control("POST", "/control/fault", #"{"kind":"partial_fills","max_qty":1}"#)
        _ = try fake.control("POST", "/control/fault", #"{"kind":"hold_fills","on":true}"#)
        // The first order is held unfilled; the stream drops; only then may it fill — the fill must come from the
        // gateway's catch-up after it reconnects.
        let dropped = LockedData()
        let exposed = LockedData()
        let finished = LockedData()
        let watcher = Thread {
            let deadline = Date().addingTimeInterval(1500)
            while Date() < deadline, !finished.done {
                let lines = FakeAlpacaProcess.commandLines(containing: FakeAlpacaProcess.secret)
                if !lines.isEmpty { exposed.set(Data(lines.joined(separator: "\n").utf8)) }
                if dropped.string.isEmpty {
                    let state = (try? fake.control("GET", "/control/state")) as? [String: Any]
                    if let orders = state?["orders"] as? [[String: Any]], !orders.isEmpty {
                        _ = try? fake.control("POST", "/control/fault", #"{"kind":"drop_stream"}"#)
                        _ = try? fake.control("POST", "/control/fault", #"{"kind":"hold_fills","on":false}"#)
                        dropped.set(Data("dropped".utf8))
                    }
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        watcher.start()
        let (r, dir) = try Harness.up([
            "--broker", "alpaca-paper", "--alpaca-trading-url", fake.url, "--alpaca-data-url", fake.url,
            "--alpaca-stream-url", "ws://127.0.0.1:\(fake.port)/stream", "--alpaca-data-stream-url", "ws://127.0.0.1:\(fake.port)/v2",
            "--clock", clock, "--minutes", "150", "--tickers", tickers, "--feed-set", "lateness=30",
        ] + Self.params + ["--service-set", "broker-gateway:request_timeout_seconds=2", "--kill-after", "broker-gateway=3"],
            env: FakeAlpacaProcess.environment)
        finished.set(Data())
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        #expect(r.stderr.contains("fault injection: SIGKILLed broker-gateway"), "the gateway was killed mid-run")
        #expect(dropped.string == "dropped", "the stream was dropped between the first order and its fill")
        #expect(exposed.string.isEmpty, "no process list shows the secret: \(exposed.string)")
        // Nor any topic, log or output of the run.
        for name in (try FileManager.default.subpathsOfDirectory(atPath: dir.path)) {
            guard let d = FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) else { continue }
            #expect(!String(decoding: d, as: UTF8.self).contains(FakeAlpacaProcess.secret), "\(name) holds the secret")
        }
        #expect(!(r.stdout + r.stderr).contains(FakeAlpacaProcess.secret))

        let commands = try Harness.recorded(dir, Topics.orders).compactMap { Self.payload($0) }
        let fills = try Harness.recorded(dir, Topics.fills).compactMap { Self.payload($0) }
        #expect(!commands.isEmpty, "the run placed orders (else it tests nothing)")
        let state = try fake.control("GET", "/control/state") as? [String: Any]
        let placed = ((state?["orders"] as? [[String: Any]]) ?? []).compactMap { $0["client_order_id"] as? String }
        #expect(Set(placed).count == placed.count, "no client id placed twice: \(placed)")
        #expect(Set(placed).isSubset(of: Set(commands.compactMap { $0["client_order_id"] as? String })))

        // Alpaca's positions equal the topics' (net of every fill the gateway published).
        var net = [String: Int]()
        for f in fills {
            guard let symbol = f["symbol"] as? String, let q = f["quantity"] as? Int else { continue }
            net[symbol, default: 0] += (f["side"] as? String) == "buy" ? q : -q
        }
        var held = [String: Int]()
        for p in (state?["positions"] as? [[String: Any]]) ?? [] {
            if let s = p["symbol"] as? String, let q = (p["qty"] as? String).flatMap(Int.init) { held[s] = q }
        }
        #expect(held == net.filter { $0.value != 0 }, "Alpaca \(held) vs topics \(net)")
        let fillIds = fills.compactMap { $0["fill_id"] as? String }
        #expect(Set(fillIds).count == fillIds.count, "no fill published twice")

        // A live fill never arrives behind a watermark: nothing the gateway wrote is dead-lettered downstream.
        let letters = (try? Harness.recorded(dir, Topics.deadLetter)) ?? []
        let gatewayTopics = [Topics.orderEvents, Topics.fills, Topics.accounts]
        #expect(letters.filter { l in gatewayTopics.contains { l.contains("\"topic\":\"\($0)\"") } }.isEmpty, "\(letters.prefix(3))")

        // A replay of the recorded topics (market data and what Alpaca answered) reproduces every downstream decision.
        let (replay, again) = try Harness.up(["--replay", dir.path, "--broker", "recorded"] + Self.params)
        #expect(replay.status == 0, "\(replay.stderr.suffix(2000))")
        for topic in [Topics.features, Topics.signals, Topics.decisions, Topics.orders, Topics.positions] {
            #expect(Set(try Harness.recorded(again, topic)) == Set(try Harness.recorded(dir, topic)), "\(topic): the replay decides alike")
        }

        // Every request the adapters sent follows the official specs (trading, and market data).
        if TestPaths.hasSharedData {
            let trading = try OpenAPIRequestCheck(specFile: TestPaths.shared("alpaca/openapi/trading-api.json"))
            let market = try OpenAPIRequestCheck(specFile: TestPaths.shared("alpaca/openapi/market-data-api.json"))
            let requests = try fake.requests()
            #expect(requests.contains { ($0["path"] as? String)?.hasPrefix("/v1beta1/options/snapshots/") == true }, "chains came from snapshots")
            for q in requests {
                let method = q["method"] as? String ?? "", path = q["path"] as? String ?? ""
                let spec = path.hasPrefix("/v1beta1") || path.hasPrefix("/v2/stocks") ? market : trading
                let query = (q["query"] as? [String: String]) ?? [:]
                let body: Data? = (q["body"] as? String).flatMap { $0.isEmpty ? nil : Data($0.utf8) }
                    ?? (q["body"] as? [String: Any]).flatMap { try? JSONSerialization.data(withJSONObject: $0) }
                #expect(spec.problems(method: method, path: path, query: query, body: body) == [], "\(method) \(path) \(query)")
            }
        }
    }

    static let params = ["--param", "signals.momentum_mode=bonus", "--param", "account_tiers.tiers.large.min_volume_ratio=0"]

    static func payload(_ line: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["payload"] as? [String: Any]
    }
}
}
