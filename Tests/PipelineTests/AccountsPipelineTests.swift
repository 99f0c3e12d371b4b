import Foundation
import OpsModel
import Testing
import TestSupport

/// Issue 10: several simulated accounts side by side over Kafka, the dispatcher's replicas sharing out the accounts
/// (invariant 7: one owner per account), with the same output as one process.
extension PipelineTests {
@Suite("Several accounts side by side over Kafka")
struct AccountsPipeline {
    static let accounts = ["--accounts", "tiny=1000,small=5000,medium=25000,large=100000"]

    /// Client order ids per account, from a recording's orders topic.
    static func orderIds(_ dir: URL) throws -> [String: Set<String>] {
        let text = try String(contentsOf: dir.appendingPathComponent("\(Topics.orders).jsonl"), encoding: .utf8)
        var out = [String: Set<String>]()
        for line in text.split(separator: "\n") {
            guard let o = try EnvelopeDecoder(accepting: [OrderCommand.self]).decode(Array(line.utf8)).payload as? OrderCommand else { continue }
            out[o.accountId, default: []].insert(o.clientOrderId)
        }
        return out
    }

    @Test("two dispatcher replicas share out four accounts: the same bytes as the one-process backtest, each replica orders only for its own accounts, a column per account")
    func replicasShareOutAccounts() throws {
        let args = Self.accounts + ["--sessions", "3"] + PipelineTests.params
        let (ru, up) = try Harness.up(args + ["--replicas", "dispatcher=2"])
        #expect(ru.status == 0, "\(ru.stderr)")
        let (rb, bt) = try BacktestEquality.backtest(args)
        #expect(rb.status == 0, "\(rb.stderr)")
        let problems = try BacktestEquality.compare(up, bt)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")

        // Replica i owns every second account from the i-th: tiny and medium, then small and large.
        let orders = try Self.orderIds(up)
        #expect(Set(orders.keys) == ["tiny", "small", "medium", "large"], "every account ordered: \(orders.mapValues(\.count))")
        for (replica, owned) in [(0, ["tiny", "medium"]), (1, ["small", "large"])] {
            let log = try String(contentsOf: up.appendingPathComponent("logs/dispatcher-\(replica).log"), encoding: .utf8)
            #expect(log.contains("kafka.group=dispatcher.accounts-\(replica)-of-2"), "replica \(replica) reads in its own consumer group")
            for (account, ids) in orders {
                let logged = ids.filter { log.contains("order.client_id=\($0)") }
                let mine = owned.contains(account)
                // Exit orders come from the position-manager; a replica logs exactly the entries of its own accounts.
                #expect(mine ? !logged.isEmpty : logged.isEmpty, "replica \(replica), account \(account): logged \(logged.count) of \(ids.count)")
            }
        }

        let lines = ru.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.first { $0.hasPrefix("                    tiny") }, "\(ru.stdout)")
        #expect(header.split(separator: " ") == ["tiny", "small", "medium", "large"])
        let starts = try #require(lines.first { $0.hasPrefix("    starting cash") })
        #expect(starts.contains("$1,000.00") && starts.contains("$100,000.00"), "\(starts)")
        #expect(BacktestEquality.tradingLines(rb.stdout) == BacktestEquality.tradingLines(ru.stdout))
    }

    @Test("bad --accounts and --replicas say what to type instead")
    func badFlags() throws {
        let bad = try Harness.run("opsctl", ["up", "--accounts", "tiny=abc"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--accounts") && bad.stderr.contains("tiny=5000"), "\(bad.stderr)")
        let many = try Harness.run("opsctl", ["up", "--accounts", "a=1000,b=2000", "--replicas", "dispatcher=3"])
        #expect(many.status != 0)
        #expect(many.stderr.contains("at most 2"), "\(many.stderr)")
        let alone = try Harness.run("opsctl", ["up", "--replicas", "dispatcher=2"])
        #expect(alone.status != 0)
        #expect(alone.stderr.contains("with --accounts its replicas share out the accounts"), "\(alone.stderr)")
    }
}
}
