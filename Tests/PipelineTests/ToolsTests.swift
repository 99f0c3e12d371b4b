import Foundation
import OpsModel
import Testing
import TestSupport

/// `opsctl size` and `opsctl check-contract` run the dispatcher's own code paths and print one JSON object.
extension PipelineTests {
@Suite("opsctl size and check-contract")
struct Tools {
    func json(_ args: [String]) throws -> [String: Any] {
        let r = try Harness.run("opsctl", args)
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "one JSON object: \(r.stdout)")
    }

    @Test("opsctl topics lists every topic with its writers and readers from the service graph; --compose prints the deploy script")
    func topicsTable() throws {
        let r = try Harness.run("opsctl", ["topics"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.count == Topics.all.count + 1, "a header and one row per topic")
        let snapshots = try #require(rows.first { $0.first == Topics.snapshots })
        #expect(snapshots.contains("compact") && snapshots.contains("dispatcher,broker-gateway,position-manager"), "\(snapshots)")
        let orders = try #require(rows.first { $0.first == Topics.orders })
        #expect(orders.suffix(2) == ["dispatcher,position-manager", "broker-gateway"], "\(orders)")
        let compose = try Harness.run("opsctl", ["topics", "--compose"])
        #expect(compose.stdout == Topics.composeCreateScript())
    }

    @Test func sizeFollowsTheTiers() throws {
        let tiny = try json(["size", "--buying-power", "1000", "--premium", "2.50", "--strategy", "day_trade"])
        #expect(tiny["tier"] as? String == "tiny")
        #expect(tiny["risk_pct"] as? Double == 0.25)
        #expect(tiny["risk_dollars"] as? Double == 250)
        #expect(tiny["contracts"] as? Int == 1)
        #expect(tiny["total_cost"] as? Double == 250)
        let large = try json(["size", "--buying-power", "182000", "--premium", "2.50", "--strategy", "day_trade"])
        #expect(large["rationale"] as? String == "Tier: large, Strategy: day_trade, Risk: 1.0% of $182000 = $1820, Premium: $2.50 × 100 = $250/contract, Contracts: 7 (cap: 10), Total: $1750")
        let swing = try json(["size", "--buying-power", "3000", "--premium", "1.00", "--strategy", "swing_trade"])
        #expect(swing["tier"] as? String == "small" && swing["contracts"] as? Int == 2)
    }

    @Test func checkContractUsesMidForTheSpread() throws {
        let liquid = ["--volume", "200", "--open-interest", "500"]
        let ok = try json(["check-contract", "--bid", "2.50", "--ask", "2.55", "--expiration", "2024-03-15", "--as-of", "2024-03-08T15:30:00Z"] + liquid)
        #expect(ok["valid"] as? Bool == true)
        #expect(ok["passed"] as? Bool == true && ok["fallback"] as? Bool == false)
        let thin = try json(["check-contract", "--bid", "2.50", "--ask", "2.55", "--expiration", "2024-03-15", "--as-of", "2024-03-08T15:30:00Z",
                             "--volume", "199", "--open-interest", "500"])
        #expect(thin["passed"] as? Bool == false && thin["fallback"] as? Bool == true)
        #expect(thin["reason"] as? String == "Volume too low: 199 < 200")
        let hot = try json(["check-contract", "--bid", "2.50", "--ask", "2.55", "--expiration", "2024-03-15", "--as-of", "2024-03-08T15:30:00Z",
                            "--iv-percentile", "80.1"] + liquid)
        #expect(hot["passed"] as? Bool == false && hot["fallback"] as? Bool == true)
        #expect((hot["reason"] as? String)?.hasPrefix("IV too high: 80.1th percentile") == true)
        let atLimit = try json(["check-contract", "--bid", "2.50", "--ask", "2.55", "--expiration", "2024-03-15", "--as-of", "2024-03-08T15:30:00Z",
                                "--iv-percentile", "80"] + liquid)
        #expect(atLimit["passed"] as? Bool == true)
        #expect(abs((ok["spread_pct"] as! Double) - 1.98) < 0.005)
        #expect(abs((ok["mid"] as! Double) - 2.525) < 1e-9)
        let cheap = try json(["check-contract", "--bid", "0.28", "--ask", "0.30", "--expiration", "2024-03-15", "--as-of", "2024-03-08T15:30:00Z"])
        #expect(cheap["valid"] as? Bool == false)
        #expect((cheap["reason"] as? String)?.contains("Premium too low") == true)
        let expired = try json(["check-contract", "--bid", "2.50", "--ask", "2.55", "--expiration", "2024-03-08", "--as-of", "2024-03-08T21:01:00Z"] + liquid)
        #expect(expired["valid"] as? Bool == false)
        #expect(expired["fallback"] as? Bool == false)
    }

    @Test func badArgumentsSayWhatToType() throws {
        let r = try Harness.run("opsctl", ["check-contract", "--bid", "1", "--ask", "1.1", "--expiration", "03/15/2024", "--as-of", "2024-03-08T15:30:00Z"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--expiration takes YYYY-MM-DD"))
        let s = try Harness.run("opsctl", ["size", "--buying-power", "1000", "--premium", "2.505"])
        #expect(s.status != 0)
        #expect(s.stderr.contains("whole cents"))
    }
}
}
