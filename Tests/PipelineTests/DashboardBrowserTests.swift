import Foundation
import Kafka
import OpsModel
import OpsRuntime
import TestSupport
import Testing

/// `opsctl dashboard` in a real headless browser, following a running pipeline on a broker process: it renders the
/// open positions, updates without a reload when a new fill arrives, and its halt button stops the account's entries.
@Suite("opsctl dashboard in a headless browser", .serialized)
struct DashboardBrowserTests {
    static let token = "test-token-\(UUID().uuidString.prefix(8))"
    static let screenshot = TestPaths.packageRoot.appendingPathComponent(".build/test-artifacts/dashboard.png")

    @Test("positions of a running pipeline render, a new fill is pushed, the halt button stops entries; a screenshot is written")
    func dashboard() async throws {
        guard HeadlessBrowser.executable != nil else {
            print("skipped: no chromium (scripts/setup.sh installs Debian's chromium; or set OPS_CHROMIUM)")
            return
        }
        let broker = try Harness.BrokerProcess()
        defer { broker.stop() }
        let dashboard = try Harness.Background("opsctl", ["dashboard", "--brokers", broker.bootstrap, "--port", "0"],
                                               env: ProcessInfo.processInfo.environment.merging(["OPS_DASHBOARD_TOKEN": Self.token]) { $1 })
        defer { dashboard.stop() }
        let url = try #require(dashboard.waitForLine(containing: "dashboard listening on ")?.components(separatedBy: "listening on ").last)
        // Ten synthetic sessions, paced at 600× from 15:00 New York of the first (a minute every 100 ms): positions
        // stay open long enough to be seen, and sessions remain after the halt however long a loaded machine takes to
        // get there (the test stops the run once the session after the halt has been decided).
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ops-dashboard-\(UUID().uuidString)")
        let up = try Harness.Background("opsctl", ["up", "--brokers", broker.bootstrap, "--sessions", "10", "--speed", "600x",
                                                   "--pace-from", "2024-03-04T15:00:00-05:00", "--log-dir", dir.path, "--timeout", "1200"],
                                        stderr: URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ops-dashboard-up-\(UUID().uuidString).stderr"))
        defer { up.stop() }
        let browser = try HeadlessBrowser(url: url)
        defer { browser.stop() }

        #expect(try await browser.waitUntil("document.querySelectorAll('tr.position').length > 0"), "open positions rendered")
        let loadedAt = try await browser.evaluate("window.loadedAt") as? Double
        let fills = try #require(try await browser.evaluate("Number(document.getElementById('fills').textContent)") as? Double)
        #expect(try await browser.waitUntil("Number(document.getElementById('fills').textContent) > \(Int(fills))"), "a new fill pushed")
        #expect(try await browser.evaluate("window.loadedAt") as? Double == loadedAt, "without a reload")

        _ = try await browser.evaluate("document.getElementById('token').value = '\(Self.token)'; document.getElementById('halt-sim-1').click(); true")
        #expect(try await browser.waitUntil("document.getElementById('status').textContent.startsWith('halt sim-1 at')"), "the server took the halt")
        #expect(try await browser.waitUntil("document.getElementById('halted-sim-1') !== null"), "the page shows the halt from the control topic")
        try await browser.screenshot(to: Self.screenshot)
        print("dashboard screenshot: \(Self.screenshot.path)")

        // A condition polled on the topics, with a generous deadline: sim-1 decided in a session after the halt's.
        let deadline = Date().addingTimeInterval(1200)
        while try Self.decisionsAfterHalt(broker).decisions.isEmpty, Date() < deadline, up.isRunning {
            try await Task.sleep(for: .seconds(2))
        }
        try Self.entriesStopped(broker)
    }

    /// The halt and sim-1's decisions from the session after it on (the halt takes effect when the dispatcher reads it,
    /// within its session).
    static func decisionsAfterHalt(_ broker: Harness.BrokerProcess) throws -> (nextSession: Timestamp?, decisions: [(Timestamp, Decision)]) {
        let halts = try TopicReader.envelopes(client: broker.client, topic: Topics.control, logger: Harness.logger)
            .filter { ($0.payload as? OperatorControl)?.action == .halt }
        guard let halt = halts.first else { return (nil, []) }
        let nextSession = NewYorkTime.utc(date: NewYorkTime.date(of: halt.eventTime).adding(days: 1), hour: 0, minute: 0)
        let decisions = try TopicReader.envelopes(client: broker.client, topic: Topics.decisions, logger: Harness.logger)
            .compactMap { e in (e.payload as? Decision).map { (e.eventTime, $0) } }.filter { $0.0 >= nextSession && $0.1.accountId == "sim-1" }
        return (nextSession, decisions)
    }

    /// After the session of the halt, every decision of sim-1 is a skip at the halt gate and no entry order is placed.
    static func entriesStopped(_ broker: Harness.BrokerProcess) throws {
        let (next, decisions) = try decisionsAfterHalt(broker)
        let nextSession = try #require(next, "the halt is on the control topic")
        #expect(!decisions.isEmpty, "signals came after the halt")
        for (_, d) in decisions {
            #expect(d.outcome == .skip && d.skipReason == "halt", "\(d.ticker) at \(d.gates.first { !$0.passed }?.detail ?? "-")")
        }
        let entries = try TopicReader.envelopes(client: broker.client, topic: Topics.orders, logger: Harness.logger)
            .filter { $0.eventTime >= nextSession && ($0.payload as? OrderCommand)?.intent == .open }
        #expect(entries.isEmpty, "no entry after the halt")
    }
}
