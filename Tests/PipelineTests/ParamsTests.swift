import Foundation
import OpsModel
import OpsRuntime
import Testing
import TestSupport

extension PipelineTests {
    /// Issue 9: trading parameters changed without a redeploy (`ops.params.v1`, `opsctl params set|show`).
    @Suite("Live parameter changes")
    struct LiveParams {
        static let change = "2024-03-05T17:00:00Z"

        static func daily(_ decision: [String: Any]) -> [String: Any]? {
            (decision["gates"] as? [[String: Any]])?.first { $0["gate"] as? String == "daily_loss" }
        }

        @Test("a bad key or value is refused naming it and publishes nothing; params show lists the change and what is in force")
        func setValidatesAndShowLists() throws {
            let broker = try Harness.BrokerProcess()
            defer { broker.stop() }
            let base = ["--account", "sim-1", "--brokers", broker.bootstrap, "--reason", "review"]
            let negative = try Harness.run("opsctl", ["params", "set", "risk.max_daily_loss=-5", "--at", Self.change] + base)
            #expect(negative.status != 0 && negative.stderr.contains("risk.max_daily_loss"), "\(negative.stderr)")
            let unknown = try Harness.run("opsctl", ["params", "set", "risk.max_daly_loss=5", "--at", Self.change] + base)
            #expect(unknown.status != 0 && unknown.stderr.contains("unknown key 'risk.max_daly_loss'"), "\(unknown.stderr)")
            let fixed = try Harness.run("opsctl", ["params", "set", "account.account_id=sim-2", "--at", Self.change] + base)
            #expect(fixed.status != 0 && fixed.stderr.contains("account.account_id"), "\(fixed.stderr)")
            let noTime = try Harness.run("opsctl", ["params", "set", "risk.max_daily_loss=5"] + base)
            #expect(noTime.status != 0 && noTime.stderr.contains("pass --at"), "\(noTime.stderr)")
            #expect(try TopicReader.envelopes(client: broker.client, topic: Topics.params, logger: Harness.logger).isEmpty, "nothing published")

            let ok = try Harness.run("opsctl", ["params", "set", "risk.max_daily_loss=3", "risk.max_open_positions=2", "--at", Self.change] + base)
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(ok.stdout.contains("params v1 for sim-1 from 2024-03-05T17:00:00Z"), "\(ok.stdout)")
            let every = try Harness.run("opsctl", ["params", "set", "signals.momentum_mode=bonus", "--at", Self.change,
                                                   "--brokers", broker.bootstrap, "--reason", "all accounts"])
            #expect(every.status == 0, "\(every.stderr)")
            let copies = try TopicReader.envelopes(client: broker.client, topic: Topics.params, logger: Harness.logger)
            #expect(copies.count == 2 * Int(Topics.spec(Topics.params)!.partitions), "every change on every partition")

            let show = try Harness.run("opsctl", ["params", "show", "--account", "sim-1", "--json", "--brokers", broker.bootstrap])
            #expect(show.status == 0, "\(show.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
            #expect(json["params_version"] as? Int == 2)
            let inForce = try #require(json["in_force"] as? [String: Any])
            #expect(inForce["risk.max_daily_loss"] as? Double == 3)
            #expect(inForce["risk.max_open_positions"] as? Int == 2)
            #expect(inForce["signals.momentum_mode"] as? String == "bonus")
            #expect((json["changes"] as? [[String: Any]])?.count == 2)
        }

        @Test("the max daily loss changed mid-run applies from the next decision, in every decision's gates and params_version")
        func maxDailyLossChangedMidRun() throws {
            let broker = try Self.brokerWithChange()
            defer { broker.stop() }
            let (r, dir) = try Harness.up(["--brokers", broker.bootstrap, "--sessions", "2"])
            #expect(r.status == 0, "\(r.stderr)")
            try Self.expectChangeApplied(dir)

            // Replaying the recording on a fresh broker republishes the change first: the same decisions, byte for byte.
            let (replayed, again) = try Harness.up(["--replay", dir.path])
            #expect(replayed.status == 0, "\(replayed.stderr)")
            #expect((replayed.stdout + replayed.stderr).contains("replayed 0 operator command(s) on \(Topics.control) and 1 parameter change(s)"), "\(replayed.stderr)")
            #expect(try Harness.recorded(again, Topics.decisions) == Harness.recorded(dir, Topics.decisions))
        }

        @Test("a dispatcher SIGKILLed before a change's time and restored from a snapshot still applies the change at its time")
        func changeWaitingAcrossASnapshotRestore() throws {
            let broker = try Self.brokerWithChange()
            defer { broker.stop() }
            // The third decision comes late in the first session, rounds after the dispatcher's first hourly snapshots.
            let (r, dir) = try Harness.up(["--brokers", broker.bootstrap, "--sessions", "2", "--kill-after", "dispatcher=3"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("fault injection: SIGKILLed dispatcher"), "\(r.stdout)")
            let log = try String(contentsOf: dir.appendingPathComponent("logs/dispatcher-0.log"), encoding: .utf8)
            let restored = try #require(log.range(of: "state taken from a snapshot"), "the restart restored from a snapshot")
            let applied = try #require(log.range(of: "trading parameters changed"), "the change applied")
            #expect(restored.lowerBound < applied.lowerBound, "the change was still waiting for its time when the snapshot was restored")
            try Self.expectChangeApplied(dir)
        }

        /// A broker holding the change of the max daily loss to $3 for sim-1 from `change`, published before the run.
        static func brokerWithChange() throws -> Harness.BrokerProcess {
            let broker = try Harness.BrokerProcess()
            let set = try Harness.run("opsctl", ["params", "set", "risk.max_daily_loss=3", "--account", "sim-1", "--at", Self.change,
                                                 "--reason", "tighter after review", "--brokers", broker.bootstrap])
            #expect(set.status == 0, "\(set.stderr)")
            return broker
        }

        /// Decisions before the change carry version 0 and the configured limit; from it on, version 1 and the new limit.
        static func expectChangeApplied(_ dir: URL) throws {
            let decisions = try Harness.recorded(dir, Topics.decisions).compactMap { line in
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            }
            let t = try #require(Timestamp(iso8601: Self.change))
            let before = decisions.filter { Timestamp(iso8601: $0["event_time"] as! String)! < t }.compactMap { $0["payload"] as? [String: Any] }
            let after = decisions.filter { Timestamp(iso8601: $0["event_time"] as! String)! >= t }.compactMap { $0["payload"] as? [String: Any] }
            #expect(!before.isEmpty && !after.isEmpty, "decisions on both sides of the change: \(decisions.count)")
            for d in before {
                #expect(d["params_version"] as? Int == 0)
                #expect(Self.daily(d)?["limit"] as? String == "-500.00")
            }
            for d in after {
                #expect(d["params_version"] as? Int == 1)
                #expect(Self.daily(d)?["limit"] as? String == "-3.00")
                if let v = (Self.daily(d)?["value"] as? String).flatMap(Double.init), v < -3 {
                    #expect(Self.daily(d)?["passed"] as? Bool == false, "a day P&L of \(v) is past the new limit")
                    #expect(d["outcome"] as? String == "skip")
                }
            }
            #expect(after.contains { Self.daily($0)?["passed"] as? Bool == false }, "the tighter limit blocks an entry the old one let through")
            let log = try String(contentsOf: dir.appendingPathComponent("logs/dispatcher-0.log"), encoding: .utf8)
            #expect(log.contains("trading parameters changed"), "the change is logged where it applies")
        }
    }
}
