import Foundation
import Kafka
import Logging

/// `opsctl up --storm SERVICE=N`: a rebalance storm on a scalable service's consumer group. N times: start an extra
/// replica (the group rebalances to take it in), then SIGKILL the oldest running replica (the group rebalances again
/// once the killed member's session times out; the extra replica stands in for it, so none is restarted).
///
/// Steps are paced by the group's own progress, not by a clock alone: after each step the storm lets the step take
/// effect (`settle`), then waits until the group has committed more input (or has caught up with everything
/// published), so every step lands on a group that is working and the run cannot be starved.
final class Storm {
    enum Action: Equatable { case start, kill }

    let service: String
    let groupId: String
    let inputs: [String]
    let cycles: Int
    let settle: TimeInterval
    private(set) var steps = 0
    private(set) var started: [String] = []
    private(set) var killed: [String] = []
    private var settledAt: Date
    private var baseline: Int64?
    private var nextCheck = Date.distantPast

    init(service: String, groupId: String, inputs: [String], cycles: Int, settle: TimeInterval = 1, now: Date = Date()) {
        self.service = service
        self.groupId = groupId
        self.inputs = inputs
        self.cycles = cycles
        self.settle = settle
        settledAt = now
    }

    var done: Bool { steps >= 2 * cycles }

    /// The step to take now, if one is due. `progress` gives the group's committed offsets summed over its inputs and
    /// whether it has caught up with everything published; it is asked once the last step has settled (the first
    /// answer is the baseline), then at most every `checkEvery`.
    func due(now: Date, progress: () throws -> (committed: Int64, caughtUp: Bool)) rethrows -> Action? {
        guard !done, now >= settledAt, now >= nextCheck else { return nil }
        nextCheck = now.addingTimeInterval(Self.checkEvery)
        let p = try progress()
        guard let base = baseline else {
            baseline = p.committed
            return nil
        }
        guard p.committed > base || p.caughtUp else { return nil }
        return steps % 2 == 0 ? .start : .kill
    }

    static let checkEvery: TimeInterval = 0.2

    /// Records a step taken at `now` on the replica named `replica`.
    func took(_ action: Action, replica: String, now: Date) {
        steps += 1
        if action == .start { started.append(replica) } else { killed.append(replica) }
        settledAt = now.addingTimeInterval(settle)
        baseline = nil
    }

    /// The instance suffix of the next extra replica (`s1`, `s2`, …).
    var nextInstance: String { "s\(started.count + 1)" }

    var report: String {
        "fault injection: storm on \(service): \(started.count) replicas started (\(started.joined(separator: ", "))), "
            + "\(killed.count) SIGKILLed (\(killed.joined(separator: ", ")))"
    }

    /// The group's committed input summed over its partitions, and whether it has caught up: committed everything
    /// published, and something was (or the feed has finished).
    static func groupProgress(client: KafkaClientConfig, groupId: String, topics: [String], feedDone: Bool,
                              logger: Logger) throws -> (committed: Int64, caughtUp: Bool) {
        let lag = try consumerGroupLag(client: client, groupId: groupId, topics: topics, logger: logger)
        let committed = lag.values.reduce(Int64(0)) { $0 + ($1.committed ?? 0) }
        let published = lag.values.reduce(Int64(0)) { $0 + $1.end }
        return (committed, lag.values.allSatisfy { ($0.committed ?? 0) >= $0.end } && (published > 0 || feedDone))
    }
}
