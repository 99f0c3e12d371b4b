import Foundation
import OpsModel
import Pipeline
import Testing

/// Issue 9 snapshots end to end: the stateful services, SIGKILLed mid-run, restart from their latest snapshot on
/// `ops.snapshots.v1` and re-read only what came after it, however long the run has been going.
extension PipelineTests {
@Suite("Snapshots end to end")
struct Snapshots {
    static let services = [ServiceGraph.dispatcher.name, ServiceGraph.brokerGateway.name, ServiceGraph.positionManager.name]

    /// Per service, the messages its restarted instance read again and what it restored from ("state restored" lines).
    static func restores(_ dir: URL) throws -> [String: (messages: Int, from: String)] {
        var out = [String: (messages: Int, from: String)]()
        for service in services {
            let log = try String(contentsOf: dir.appendingPathComponent("logs/\(service)-0.log"), encoding: .utf8)
            for line in log.split(separator: "\n") where line.contains("state restored") {
                let fields = Dictionary(line.split(separator: " ").compactMap { part -> (String, String)? in
                    guard let eq = part.firstIndex(of: "=") else { return nil }
                    return (String(part[..<eq]), String(part[part.index(after: eq)...]))
                }, uniquingKeysWith: { a, _ in a })
                out[service] = (Int(fields["restore.messages"] ?? "") ?? -1, fields["restore.from"] ?? "")
            }
        }
        return out
    }

    @Test("SIGKILLed after 10 sessions, the dispatcher, broker-gateway and position-manager re-read about as many messages as after 1")
    func restoreAfterTenSessionsReadsAboutAsMuchAsAfterOne() throws {
        func run(sessions: Int, kills: [String: Int]) throws -> (URL, [String: (messages: Int, from: String)]) {
            let (r, dir) = try Harness.up(["--sessions", "\(sessions)"] + PipelineTests.params + kills.sorted { $0.key < $1.key }.flatMap { ["--kill-after", "\($0.key)=\($0.value)"] })
            #expect(r.status == 0, "\(r.stderr)")
            for service in kills.keys { #expect(r.stdout.contains("fault injection: SIGKILLed \(service)"), "\(service) was killed: \(r.stdout)") }
            #expect(try Harness.eachOrderOnce(dir), "no order lost or placed twice across the restarts")
            return (dir, try Self.restores(dir))
        }
        // Each kill lands after the first hourly snapshot of the service: late in the one session, around the 4th–8th of ten.
        let (_, one) = try run(sessions: 1, kills: ["dispatcher": 8, "broker-gateway": 6, "position-manager": 40])
        let (_, ten) = try run(sessions: 10, kills: ["dispatcher": 250, "broker-gateway": 80, "position-manager": 350])
        for service in Self.services {
            let a = try #require(one[service], "\(service) restored after one session")
            let b = try #require(ten[service], "\(service) restored after ten sessions")
            #expect(a.from.hasPrefix("snapshot") && b.from.hasPrefix("snapshot"), "\(service): \(a.from) / \(b.from)")
            // What is read again is the stretch since the last hourly snapshot plus a short id window before it: about
            // the same at any point of a run. Re-reading from the topics instead grows with the run (many times this).
            #expect(b.messages <= a.messages * 2 + 1000, "\(service): \(b.messages) re-read after ten sessions vs \(a.messages) after one")
            #expect(a.messages > 0 && b.messages > 0)
        }
    }
}
}
