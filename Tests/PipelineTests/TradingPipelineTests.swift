import Foundation
import Kafka
import OpsModel
import OpsRuntime
import Pipeline
import Testing
import TestSupport

/// Issue 3 end to end: all six services as separate processes trade the synthetic market on the simulated broker.
extension PipelineTests {
@Suite("Trading pipeline end to end")
struct Trading {
    static let tradingTopics = [Topics.signals, Topics.decisions, Topics.orders, Topics.orderEvents, Topics.fills, Topics.accounts, Topics.positions]

    static func lines(_ dir: URL, _ topic: String) throws -> [[String: Any]] {
        try Harness.recorded(dir, topic).map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    static func payloads(_ dir: URL, _ topic: String) throws -> [[String: Any]] {
        try lines(dir, topic).map { $0["payload"] as! [String: Any] }
    }

    @Test("a run trades: every signal gets a decision, orders fill, positions close with P&L; the summary says so")
    func tradesEndToEnd() throws {
        let a = try PipelineTests.reference.get()
        let signals = try Harness.recorded(a, Topics.signals)
        let decisions = try Self.payloads(a, Topics.decisions)
        #expect(signals.count > 10, "the synthetic session produces signals")
        #expect(decisions.count == signals.count, "every signal has an auditable outcome")
        #expect(Set(decisions.map { $0["signal_id"] as! String }) == Set(try Self.lines(a, Topics.signals).map { $0["id"] as! String }))
        let orders = decisions.filter { $0["outcome"] as! String == "order" }
        #expect(!orders.isEmpty, "the $100K default account places orders")
        for d in decisions where d["outcome"] as! String == "skip" {
            #expect((d["gates"] as! [[String: Any]]).contains { !($0["passed"] as! Bool) }, "a skip names its failed gate")
        }
        for d in orders {
            let sizing = d["sizing"] as! [String: Any]
            #expect(sizing["tier"] as? String == "large")
            #expect((sizing["rationale"] as! String).hasPrefix("Tier: large, Strategy: "))
            if d["route"] as? String == "option" {
                #expect((1...10).contains(sizing["contracts"] as! Int))
            } else {
                #expect(sizing["unit"] as? String == "shares" && (1...500).contains(sizing["contracts"] as! Int))
            }
        }
        let fills = try Self.payloads(a, Topics.fills)
        #expect(!fills.isEmpty)
        let closed = try Self.payloads(a, Topics.positions).filter { $0["event"] as! String == "closed" }
        #expect(!closed.isEmpty, "positions are exited by rule")
        let summary = try String(contentsOf: a.appendingPathComponent("summary.txt"), encoding: .utf8)
        for part in ["signals", "decisions", "skips", "orders", "fills", "positions", "win rate", "realized P&L", "equity"] {
            #expect(summary.contains(part), "the summary reports \(part)")
        }
    }

    @Test("two runs give identical signals, decisions, orders, order events, fills, accounts and positions")
    func deterministic() throws {
        let a = try PipelineTests.reference.get()
        let (r, b) = try Harness.up(PipelineTests.small)
        #expect(r.status == 0, "\(r.stderr)")
        for topic in Self.tradingTopics {
            #expect(try Harness.recorded(b, topic) == Harness.recorded(a, topic), "\(topic) is identical")
        }
    }

    @Test("a pending buffer of 4 inputs in every service pauses the partitions ahead and changes no output")
    func boundedPendingBuffer() throws {
        let a = try PipelineTests.reference.get()
        let tight = ServiceGraph.services.flatMap { ["--service-set", "\($0.name):max_pending=4"] }
        let (r, b) = try Harness.up(PipelineTests.small + tight)
        #expect(r.status == 0, "\(r.stderr)")
        for topic in [Topics.features] + Self.tradingTopics {
            #expect(try Harness.recorded(b, topic) == Harness.recorded(a, topic), "\(topic) is identical")
        }
        let logs = try FileManager.default.contentsOfDirectory(atPath: b.appendingPathComponent("logs").path).filter { $0.hasSuffix(".log") }
        let pausing = try logs.filter { name in
            try String(contentsOf: b.appendingPathComponent("logs/\(name)"), encoding: .utf8).contains("pending buffer full: pausing")
        }
        #expect(!pausing.isEmpty, "some service paused partitions: \(logs)")
    }

    @Test("two replicas of the feature-computer and of the signal-engine change nothing downstream")
    func replicasChangeNothing() throws {
        let a = try PipelineTests.reference.get()
        let (r, b) = try Harness.up(PipelineTests.small + ["--replicas", "feature-computer=2", "--replicas", "signal-engine=2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("feature-computer#1 exit 0") && r.stdout.contains("signal-engine#1 exit 0"))
        for topic in [Topics.features] + Self.tradingTopics {
            #expect(Set(try Harness.recorded(b, topic)) == Set(try Harness.recorded(a, topic)), "\(topic) is the same")
        }
    }

    @Test("no fill in any recorded run uses a quote at or before its order's event time")
    func fillsAreAfterTheirOrders() throws {
        let tmp = URL(fileURLWithPath: NSTemporaryDirectory())
        var checked = 0
        for dir in try FileManager.default.contentsOfDirectory(at: tmp, includingPropertiesForKeys: nil) where dir.lastPathComponent.hasPrefix("ops-test-") {
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(Topics.fills).jsonl").path) else { continue }
            let orders = Dictionary(try Self.lines(dir, Topics.orders).map { (($0["payload"] as! [String: Any])["client_order_id"] as! String, $0["event_time"] as! String) },
                                    uniquingKeysWith: { a, _ in a })
            for f in try Self.lines(dir, Topics.fills) {
                let p = f["payload"] as! [String: Any]
                let quote = Timestamp(iso8601: p["quote_time"] as! String)!, orderTime = Timestamp(iso8601: p["order_time"] as! String)!
                #expect(quote > orderTime)
                #expect(Timestamp(iso8601: f["event_time"] as! String)! == quote)
                let recordedOrder = try #require(orders[p["client_order_id"] as! String], "the fill's order is on the orders topic")
                #expect(Timestamp(iso8601: recordedOrder)! == orderTime)
                checked += 1
            }
        }
        #expect(checked > 0, "fills were checked")
    }

    @Test("a $1,000 account trades in the tiny tier with at most 2 contracts; $100,000 in the large tier")
    func accountSizesPickTiers() throws {
        let large = try PipelineTests.reference.get()
        let (r, tiny) = try Harness.up(PipelineTests.small + ["--account-size", "1000"])
        #expect(r.status == 0, "\(r.stderr)")
        let tinyDecisions = try Self.payloads(tiny, Topics.decisions)
        let largeDecisions = try Self.payloads(large, Topics.decisions)
        #expect(tinyDecisions.count == largeDecisions.count, "the same signals reach both")
        let tinyOrders = tinyDecisions.compactMap { $0["sizing"] as? [String: Any] }.filter { ($0["contracts"] as! Int) > 0 }
        #expect(tinyDecisions.allSatisfy { d in
            let gates = d["gates"] as! [[String: Any]]
            return (gates.first { $0["gate"] as! String == "account" }?["detail"] as? String)?.contains("tier tiny") ?? false
        })
        for s in tinyOrders {
            #expect(s["tier"] as? String == "tiny")
            #expect((s["contracts"] as! Int) <= (s["unit"] as? String == "shares" ? 10 : 2))
            #expect(abs((s["risk_pct"] as! Double) - 0.25) < 1e-12 || abs((s["risk_pct"] as! Double) - 0.15) < 1e-12)
        }
        // The tiny tier's confidence and volume gates are stricter than the large tier's.
        let tinyOrderCount = tinyDecisions.filter { $0["outcome"] as! String == "order" }.count
        let largeOrderCount = largeDecisions.filter { $0["outcome"] as! String == "order" }.count
        #expect(tinyOrderCount < largeOrderCount)
        #expect(tinyDecisions.contains { ($0["skip_reason"] as? String) == "tier_min_confidence" || ($0["skip_reason"] as? String) == "tier_min_volume_ratio" })
    }

    func killAndCompare(_ service: String, after n: Int) throws {
        let a = try PipelineTests.reference.get()
        let (r, k) = try Harness.up(PipelineTests.small + ["--kill-after", "\(service)=\(n)"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("fault injection: SIGKILLed \(service)"), "the kill happened: \(r.stdout)")
        for topic in Self.tradingTopics {
            #expect(Set(try Harness.recorded(k, topic)) == Set(try Harness.recorded(a, topic)), "\(topic): the same distinct messages as a fault-free run")
        }
        #expect(try Harness.eachOrderOnce(k), "never placed twice")
    }

    @Test("SIGKILL of the dispatcher mid-run: no order lost, none placed twice")
    func killDispatcher() throws { try killAndCompare("dispatcher", after: 15) }

    @Test("SIGKILL of the broker-gateway mid-run: no order lost, none placed twice")
    func killBrokerGateway() throws { try killAndCompare("broker-gateway", after: 6) }
}
}
