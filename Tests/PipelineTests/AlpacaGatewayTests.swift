import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import OpsModel
import OpsRuntime
import TestSupport
import Testing

/// A running `alpaca-fake` on a free port, on a simulated clock inside a session so its quotes fill.
final class FakeAlpacaProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    static let key = "PKTESTKEY0000000001"
    static let secret = "sEcReT-never-in-any-log-0123456789"

    /// The keys the fake accepts, as the adapters read them.
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["APCA_API_KEY_ID"] = key
        env["APCA_API_SECRET_KEY"] = secret
        return env
    }

    init(clock: String, extra: [String] = ["--tickers", "SPY"]) throws {
        process.executableURL = TestPaths.binDir.appendingPathComponent("alpaca-fake")
        process.arguments = ["--clock", clock] + extra
        process.environment = Self.environment   // keys never on a command line, not even the fake's
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first, line.hasPrefix("alpaca-fake listening on "),
              let p = Int(line.split(separator: ":").last ?? "") else { throw HarnessError("alpaca-fake did not start: \(text)") }
        port = p
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func control(_ method: String, _ path: String, _ body: String? = nil) throws -> Any? {
        var r = URLRequest(url: URL(string: url + path)!)
        r.httpMethod = method
        r.httpBody = body.map { Data($0.utf8) }
        let box = LockedData()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: r) { data, _, _ in box.set(data ?? Data()); done.signal() }.resume()
        done.wait()
        return try? JSONSerialization.jsonObject(with: Data(box.string.utf8))
    }

    /// Processes whose command line holds `text` (none may hold a key).
    static func commandLines(containing text: String) -> [String] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.compactMap { pid -> String? in
            guard Int(pid) != nil, let d = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let line = String(decoding: d.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(text) ? line : nil
        }
    }

    /// Every API request the fake has seen.
    func requests() throws -> [[String: Any]] { (try control("GET", "/control/requests") as? [[String: Any]]) ?? [] }

    deinit { if process.isRunning { process.terminate(); process.waitUntilExit() } }
}

// Inside the serialized end-to-end suite: a whole pipeline never runs beside another one (a reference run recorded
// under that load can lose messages to the embedded broker's retention, and then no longer matches).
extension PipelineTests {
@Suite("broker-gateway on Alpaca (against alpaca-fake)")
struct AlpacaGatewayTests {
    static let clock = "2024-03-05T10:00:00-05:00@\(Int64(Date().timeIntervalSince1970 * 1000))x1"
    static var keys: [String: String] { FakeAlpacaProcess.environment }

    static func gateway(_ args: [String], env: [String: String] = keys) throws -> Harness.Result {
        let p = Process()
        p.executableURL = TestPaths.binDir.appendingPathComponent("broker-gateway")
        p.arguments = args
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Harness.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    @Test("alpaca-live refuses to start without the phrase, the readiness account or keys — and sends no request")
    func liveRefusals() throws {
        let fake = try FakeAlpacaProcess(clock: Self.clock)
        let base = ["--brokers", "127.0.0.1:1", "--alpaca-trading-url", fake.url]
        let cases: [([String], [String: String], String)] = [
            (["--broker", "alpaca-live"], Self.keys, "--confirm-live I-UNDERSTAND-REAL-MONEY"),
            (["--broker", "alpaca-live", "--confirm-live", "yes"], Self.keys, "--confirm-live I-UNDERSTAND-REAL-MONEY"),
            (["--broker", "alpaca-live", "--confirm-live", "I-UNDERSTAND-REAL-MONEY"], Self.keys, "readiness_account"),
            (["--broker", "alpaca-paper"], ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("APCA_") }, "APCA_API_KEY_ID"),
        ]
        for (args, env, expected) in cases {
            let r = try Self.gateway(args + base, env: env)
            #expect(r.status == 2, "\(args): exit \(r.status)")
            #expect(r.stderr.contains(expected), "\(args): \(r.stderr)")
            #expect(!(r.stderr + r.stdout).contains(FakeAlpacaProcess.secret))
        }
        #expect(try fake.requests().isEmpty, "a refused start sends nothing to Alpaca")
    }

    @Test("orders reach Alpaca once through a timed-out POST, a SIGKILL, a dropped stream and a 429 burst; positions agree")
    func paperOrdersExactlyOnce() throws {
        let broker = try Harness.BrokerProcess()
        defer { broker.stop() }
        let fake = try FakeAlpacaProcess(clock: Self.clock)
        let symbol = "SPY240308C00510000"
        _ = try fake.control("POST", "/control/quote", #"{"symbol":"\#(symbol)","bid":"1.10","ask":"1.20"}"#)
        _ = try fake.control("POST", "/control/fault", #"{"kind":"timeout_after_accept","count":1}"#)
        let metricsPort = try Harness.freePort()
        let log = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("gw-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        func startGateway() throws -> Process {
            let p = Process()
            p.executableURL = TestPaths.binDir.appendingPathComponent("broker-gateway")
            p.arguments = ["--broker", "alpaca-paper", "--brokers", broker.bootstrap, "--alpaca-trading-url", fake.url, "--clock", Self.clock,
                           "--set", "request_timeout_seconds=3", "--log-level", "debug", "--metrics-port", String(metricsPort)]
            p.environment = Self.keys
            let h = try FileHandle(forWritingTo: log)
            h.seekToEndOfFile()
            p.standardOutput = h
            p.standardError = h
            try p.run()
            return p
        }
        var gw = try startGateway()
        defer { if gw.isRunning { gw.terminate() } }

        let clock = try LiveClock(spec: Self.clock, wallNowMs: 0)
        func send(_ id: String) throws {
            let now = clock.now(wallMs: Int64(Date().timeIntervalSince1970 * 1000))
            let c = OrderCommand(accountId: "sim-1", clientOrderId: id, symbol: symbol, underlying: "SPY", assetClass: .option, side: .buy,
                                 quantity: 1, limitPriceCents: 120, intent: .open, positionId: "pos-\(id)", strategy: .dayTrade, reason: "test")
            let env = Envelope(id: "cmd-\(id)", eventTime: now, causationId: nil, source: "dispatcher", payload: c)
            let producer = try KafkaProducer(config: KafkaProducerConfig(client: broker.client), logger: Harness.logger)
            _ = try producer.send([ProducerRecord(topic: Topics.orders, key: Array("sim-1".utf8), value: try env.encoded(), timestampMs: now.ms)])
            producer.close()
        }
        func fills() throws -> [Fill] {
            try TopicReader.envelopes(client: broker.client, topic: Topics.fills, logger: Harness.logger).compactMap { $0.payload as? Fill }
        }
        func waitFor(_ what: String, _ condition: () throws -> Bool) throws {
            let deadline = Date().addingTimeInterval(240)
            while try !condition() {
                guard Date() < deadline else { throw HarnessError("timed out waiting for \(what); log: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")") }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }

        // First order: the POST is accepted and never answered; the gateway must look it up, not resend.
        try send("e2e-1")
        try waitFor("the first fill") { try fills().contains { $0.clientOrderId == "e2e-1" } }
        // A SIGKILL between orders: the restart rebuilds from the topics and re-sends nothing.
        kill(gw.processIdentifier, SIGKILL)
        gw.waitUntilExit()
        try send("e2e-2")
        gw = try startGateway()
        try waitFor("the second fill") { try fills().contains { $0.clientOrderId == "e2e-2" } }
        func events(_ id: String) throws -> [OrderEvent] {
            try TopicReader.envelopes(client: broker.client, topic: Topics.orderEvents, logger: Harness.logger)
                .compactMap { $0.payload as? OrderEvent }.filter { $0.clientOrderId == id }
        }
        // Third: the stream drops between the order and its fill; the fill comes from the catch-up after reconnecting.
        _ = try fake.control("POST", "/control/fault", #"{"kind":"hold_fills","on":true}"#)
        try send("e2e-3")
        try waitFor("the third order accepted") { try events("e2e-3").contains { $0.status == .accepted } }
        _ = try fake.control("POST", "/control/fault", #"{"kind":"drop_stream"}"#)
        _ = try fake.control("POST", "/control/fault", #"{"kind":"hold_fills","on":false}"#)
        try waitFor("the third fill") { try fills().contains { $0.clientOrderId == "e2e-3" } }
        // Fourth: a burst of 429s meets the POST; it is looked up (also through 429s) before it is sent again.
        _ = try fake.control("POST", "/control/fault", #"{"kind":"rate_burst","count":3}"#)
        try send("e2e-4")
        try waitFor("the fourth fill") { try fills().contains { $0.clientOrderId == "e2e-4" } }
        try waitFor("an account snapshot") {
            try TopicReader.envelopes(client: broker.client, topic: Topics.accounts, logger: Harness.logger).contains { $0.payload is AccountSnapshot }
        }
        // The operator's view: Prometheus counters of the requests and orders, and never a key.
        let scrape = try Harness.tcp(host: "127.0.0.1", port: metricsPort, send: "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(scrape.contains("alpaca_requests_total") && scrape.contains("alpaca_orders_submitted_total"), "\(scrape.prefix(600))")
        #expect(!scrape.contains(FakeAlpacaProcess.secret) && !scrape.contains(FakeAlpacaProcess.key))
        gw.terminate()
        gw.waitUntilExit()

        let requests = try fake.requests()
        let posts = requests.filter { ($0["method"] as? String) == "POST" && ($0["path"] as? String) == "/v2/orders" }
        let ids = posts.compactMap { ($0["body"] as? [String: Any])?["client_order_id"] as? String
            ?? (($0["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })?["client_order_id"] as? String }
        let answered = zip(posts, ids).filter { ($0.0["status"] as? Int) != 429 }.map(\.1)
        #expect(answered.sorted() == ["e2e-1", "e2e-2", "e2e-3", "e2e-4"], "each client id POSTed once but for 429s: \(ids)")
        #expect(ids.filter { $0 != "e2e-4" }.sorted() == ["e2e-1", "e2e-2", "e2e-3"])
        let state = try fake.control("GET", "/control/state") as? [String: Any]
        let placed = ((state?["orders"] as? [[String: Any]]) ?? []).compactMap { $0["client_order_id"] as? String }
        #expect(placed.sorted() == ["e2e-1", "e2e-2", "e2e-3", "e2e-4"], "Alpaca holds exactly one order per client id")
        let held = ((state?["positions"] as? [[String: Any]]) ?? []).first { ($0["symbol"] as? String) == symbol }
        #expect((held?["qty"] as? String) == "4", "Alpaca's position equals the topics' fills")
        #expect(requests.contains { ($0["path"] as? String) == "/v2/orders:by_client_order_id" }, "the timed-out POST was looked up")
        #expect(try fills().filter { $0.clientOrderId.hasPrefix("e2e-") }.map(\.quantity) == [1, 1, 1, 1], "one fill per order, none twice")
        #expect(try fills().allSatisfy { $0.priceCents == 120 })
        let logText = try String(contentsOf: log, encoding: .utf8)
        #expect(!logText.contains(FakeAlpacaProcess.secret), "the secret never reaches the log")

        if TestPaths.hasSharedData {
            let spec = try OpenAPIRequestCheck(specFile: TestPaths.shared("alpaca/openapi/trading-api.json"))
            for r in requests {
                let method = r["method"] as? String ?? "", path = r["path"] as? String ?? ""
                let query = (r["query"] as? [String: String]) ?? [:]
                let body: Data? = (r["body"] as? String).map { Data($0.utf8) } ?? (r["body"] as? [String: Any]).flatMap { try? JSONSerialization.data(withJSONObject: $0) }
                #expect(spec.problems(method: method, path: path, query: query, body: body?.isEmpty == true ? nil : body) == [], "\(method) \(path)")
            }
        }

        // The contract expires out of the money while the gateway is down (Alpaca books an OPEXP): the restart's
        // reconciliation closes the position on the topics as expired worthless.
        _ = try fake.control("POST", "/control/expire", #"{"symbol":"\#(symbol)","underlying_price":"400"}"#)
        gw = try startGateway()
        try waitFor("the expiry settlement") { try fills().contains { $0.settlement == .expiredWorthless && $0.symbol == symbol } }
        gw.terminate()
        gw.waitUntilExit()
        let settled = try #require(try fills().first { $0.settlement == .expiredWorthless })
        #expect(settled.quantity == 4 && settled.priceCents == 0 && settled.side == .sell && settled.intent == .close)
        let afterExpiry = try fake.control("GET", "/control/state") as? [String: Any]
        let left: [[String: Any]] = (afterExpiry?["positions"] as? [[String: Any]]) ?? []
        #expect(left.isEmpty, "Alpaca holds nothing after the expiry, nor do the topics")
    }
}
}
