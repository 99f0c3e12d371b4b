import Kafka
import Logging
import OpsModel

/// Where a service's latest acknowledged snapshot lies on `ops.snapshots.v1`: carried by every commit, so a restart
/// reads that one message (and any later one of its group) instead of scanning the topic.
struct SnapshotPointer: Comparable, Sendable {
    var partition: Int32
    var offset: Int64
    static func < (a: Self, b: Self) -> Bool { (a.offset, a.partition) < (b.offset, b.partition) }
}

/// The runtime's side of snapshots (issue 9), pure bookkeeping: when the next one is due in event time, which inputs
/// were handled out of offset order since the partitions' lowest waiting offsets (a snapshot lists them so a restore
/// does not apply them twice), which a restored snapshot already holds, and where the latest one is.
struct SnapshotBook {
    /// Event-time milliseconds between snapshots; 0: none.
    let everyMs: Int64
    /// False once the core has said it takes none (nil state).
    var supported = true
    private(set) var nextDueMs: Int64?
    /// The latest snapshot acknowledged, and the one the last successful commit carried.
    var pointer: SnapshotPointer?
    var committedPointer: SnapshotPointer?
    /// Per partition, offsets handled since the last snapshot that may lie past the partition's lowest waiting offset.
    private var handled: [PartitionID: [Int64]] = [:]
    /// Per partition, offsets a restored snapshot already holds.
    private var held: [PartitionID: Set<Int64>] = [:]
    /// Whether inputs were handled since the last snapshot.
    private(set) var changed = false
    private(set) var lastHandledTime: Timestamp?

    init(everyMs: Int64) { self.everyMs = everyMs }

    var enabled: Bool { everyMs > 0 && supported }

    /// A new assignment: nothing handled yet; `held` from the snapshot restored (empty without one).
    mutating func assigned(held: [PartitionID: Set<Int64>], pointer: SnapshotPointer?, at time: Timestamp?) {
        self.held = held.filter { !$0.value.isEmpty }
        handled = [:]
        changed = false
        self.pointer = pointer
        committedPointer = pointer
        lastHandledTime = time
        nextDueMs = time.map { Self.boundary(after: $0.ms, every: everyMs) }
    }

    /// Whether the restored snapshot holds this input already (it is then skipped, not applied again). It stays in the
    /// state: the next snapshot lists it again if it lies past that snapshot's start.
    mutating func holds(_ p: PartitionID, offset: Int64) -> Bool {
        guard !held.isEmpty, held[p]?.remove(offset) != nil else { return false }
        if held[p]?.isEmpty == true { held[p] = nil }
        handled[p, default: []].append(offset)
        return true
    }

    /// An input handled at `time` (it is in the state now). `time` nil: a duplicate dropped — its offset is noted,
    /// but its time says nothing of how far the core has come (a broadcast's copy may be read long before its first
    /// copy's time comes).
    mutating func handledInput(_ p: PartitionID, offset: Int64, time: Timestamp?) {
        guard enabled else { return }
        handled[p, default: []].append(offset)
        guard let time else { return }
        changed = true
        lastHandledTime = max(lastHandledTime ?? time, time)
        if nextDueMs == nil { nextDueMs = Self.boundary(after: time.ms, every: everyMs) }
    }

    /// A due snapshot waits for a round that finds no input (the inputs quiet for a poll's timeout) while the inputs
    /// handled stay within this many event-time ms of where it fell due: a paced or live minute's burst ends, and the
    /// snapshot goes into the quiet rest of the minute. Taking one stops the rounds for as long as encoding the state
    /// takes (the dispatcher's holds the latest chain of every underlying, so it grows with them), which the minute's
    /// bars would otherwise wait behind. In a backfill, which is never quiet, it comes at most that much event time later.
    static let quietWaitMs: Int64 = 60_000
    /// The event time of the inputs handled when a due snapshot was first passed over for a busy round.
    private var deferredAtMs: Int64?

    /// Whether a due snapshot may be taken in this round.
    mutating func mayTake(idle: Bool) -> Bool {
        guard !idle, let t = lastHandledTime?.ms else { return true }
        let at = deferredAtMs ?? t
        deferredAtMs = at
        return t - at >= Self.quietWaitMs
    }

    /// Due once the inputs handled reach the next multiple of the interval in event time.
    var due: Bool {
        guard enabled, changed, let t = lastHandledTime, let d = nextDueMs else { return false }
        return t.ms >= d
    }

    /// The partition starts of a snapshot taken now. `done`: per partition, the offset before which everything has
    /// been handled or dropped (the merger's committable offset); `floor`: per partition, the offset below which
    /// nothing is applied again anyway (a restore's start, or the end of a watermarks-only stretch); `watermarks`: per
    /// partition, its watermark below what still waits there.
    mutating func starts(owned: Set<PartitionID>, done: [PartitionID: Int64], floor: [PartitionID: Int64],
                         watermarks: [PartitionID: Timestamp] = [:]) -> [StateSnapshot.PartitionStart] {
        owned.sorted().map { p in
            let next = max(done[p] ?? floor[p] ?? KafkaOffset.beginning, floor[p] ?? KafkaOffset.beginning)
            let kept = (handled[p] ?? []).filter { $0 >= next }
            handled[p] = kept.isEmpty ? nil : kept
            // Held by the restored snapshot and not read yet: still in the state.
            let ahead = Set(kept).union((held[p] ?? []).filter { $0 >= next }).sorted()
            return StateSnapshot.PartitionStart(topic: p.topic, partition: p.partition, next: next, applied: ahead, watermark: watermarks[p])
        }
    }

    /// A snapshot was acknowledged at `pointer`.
    mutating func written(_ pointer: SnapshotPointer) {
        self.pointer = pointer
        changed = false
        deferredAtMs = nil
        if let t = lastHandledTime { nextDueMs = Self.boundary(after: t.ms, every: everyMs) }
    }

    /// Writing one failed: try again at the next boundary.
    mutating func failed() {
        deferredAtMs = nil
        if let t = lastHandledTime { nextDueMs = Self.boundary(after: t.ms, every: everyMs) }
    }

    /// The first multiple of `every` after `ms` (snapshots fall on the same event times in every run).
    static func boundary(after ms: Int64, every: Int64) -> Int64 {
        guard every > 0 else { return .max }
        let q = ms >= 0 ? ms / every : (ms - every + 1) / every
        return (q + 1) * every
    }

    /// The snapshot to restore from the messages read from its pointer on: the latest of `group`'s that decodes.
    static func latest(_ messages: [KafkaMessage], group: String) -> (StateSnapshot, SnapshotPointer, Timestamp)? {
        let decoder = Topics.decoder(for: Topics.snapshots)
        let key = Array(group.utf8)
        for m in messages.reversed() where m.key == key {
            guard let env = try? decoder.decode(m.value), let s = env.payload as? StateSnapshot, s.group == group else { continue }
            return (s, SnapshotPointer(partition: m.partition, offset: m.offset), env.eventTime)
        }
        return nil
    }
}
