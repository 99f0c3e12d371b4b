import Foundation
import Kafka
import OpsModel
import OpsRuntime
import Testing
import TestSupport

/// Issue 6, "fix this first": a commit refused because the group was rebalancing ended a signal-engine replica.
/// Here replicas join and are SIGKILLed over and over while the run goes on; no service may end, and nothing downstream
/// may differ from a clean run.
extension PipelineTests {
@Suite("Rebalance storm end to end")
struct RebalanceStorm {
    static let stormed = ["feature-computer", "signal-engine"]
    static let cycles = 3

    @Test("replicas of the feature-computer and the signal-engine started and SIGKILLed during a run change no distinct output")
    func stormChangesNothing() throws {
        let clean = try PipelineTests.reference.get()
        let (r, storm) = try Harness.up(PipelineTests.small + Self.stormed.flatMap { ["--storm", "\($0)=\(Self.cycles)"] })
        #expect(r.status == 0, "no service may end on a retriable Kafka error: \(r.stderr)")
        for service in Self.stormed {
            #expect(r.stdout.contains("fault injection: storm on \(service): \(Self.cycles) replicas started"), "\(r.stdout)")
            #expect(r.stdout.contains("\(Self.cycles) SIGKILLed (\(service), \(service)#s1, \(service)#s2)"), "the original replica is killed too")
            #expect(r.stdout.contains("\(service)#s\(Self.cycles) exit 0"), "the last replica stops cleanly")
        }
        for topic in [Topics.features, Topics.signals, Topics.decisions, Topics.orders, Topics.orderEvents, Topics.fills,
                      Topics.accounts, Topics.positions] {
            #expect(Set(try Harness.recorded(storm, topic)) == Set(try Harness.recorded(clean, topic)),
                    "\(topic): the same distinct messages as a clean run")
        }
        #expect(try Harness.recorded(storm, Topics.features).count >= Harness.recorded(clean, Topics.features).count,
                "redelivered duplicates may appear, never fewer")
    }
}
}
