import Foundation
import Kafka
import OpsModel
@testable import OpsRuntime
import Testing

/// The runtime's snapshot bookkeeping (issue 9), without a broker.
@Suite("Snapshot bookkeeping")
struct SnapshotBookTests {
    static let hour: Int64 = 3_600_000
    let bars = PartitionID(Topics.bars, 0)
    let orders = PartitionID(Topics.orders, 1)

    @Test("snapshots fall due on event-time boundaries of the interval, only after new inputs")
    func dueOnBoundaries() {
        var book = SnapshotBook(everyMs: Self.hour)
        book.assigned(held: [:], pointer: nil, at: nil)
        #expect(!book.due, "nothing handled yet")
        book.handledInput(bars, offset: 0, time: Timestamp(ms: 10 * Self.hour + 5))
        #expect(!book.due, "the first boundary after 10:00:00.005 is 11:00")
        book.handledInput(bars, offset: 1, time: Timestamp(ms: 11 * Self.hour))
        #expect(book.due)
        book.written(SnapshotPointer(partition: 0, offset: 7))
        #expect(!book.due && !book.changed)
        #expect(book.pointer == SnapshotPointer(partition: 0, offset: 7))
        book.handledInput(bars, offset: 2, time: Timestamp(ms: 11 * Self.hour + 1))
        #expect(!book.due && book.changed, "the next boundary is 12:00")
        book.handledInput(orders, offset: 9, time: nil)
        #expect(!book.due && book.lastHandledTime == Timestamp(ms: 11 * Self.hour + 1), "a dropped duplicate moves no time")
        #expect(SnapshotBook.boundary(after: -1, every: 10) == 0 && SnapshotBook.boundary(after: 0, every: 10) == 10)
        #expect(!SnapshotBook(everyMs: 0).enabled, "an interval of 0 takes none")
    }

    @Test("a snapshot starts each partition at its first input not in the state and lists those handled past it")
    func startsAndAppliedAhead() {
        var book = SnapshotBook(everyMs: Self.hour)
        book.assigned(held: [:], pointer: nil, at: nil)
        // orders/1: offsets 4 and 6 handled while 5 still waits (another writer's later promise).
        for o in [Int64(2), 3, 4, 6] { book.handledInput(orders, offset: o, time: Timestamp(ms: Self.hour)) }
        let fresh = PartitionID(Topics.chains, 2)
        let resumed = PartitionID(Topics.chains, 3)
        let starts = book.starts(owned: [bars, orders, fresh, resumed], done: [orders: 5, bars: 100, resumed: 40],
                                 floor: [resumed: 90], watermarks: [orders: Timestamp(ms: 42)])
        let byPartition = Dictionary(uniqueKeysWithValues: starts.map { (PartitionID($0.topic, $0.partition), $0) })
        #expect(byPartition[orders]?.next == 5)
        #expect(byPartition[orders]?.applied == [6], "4 is before the start; 6 is in the state and must not be applied again")
        #expect(byPartition[orders]?.watermark == Timestamp(ms: 42))
        #expect(byPartition[bars]?.next == 100 && byPartition[bars]?.applied == [])
        #expect(byPartition[fresh]?.next == KafkaOffset.beginning, "nothing read, nothing committed: from the beginning")
        #expect(byPartition[resumed]?.next == 90, "a watermarks-only stretch up to 90 is not re-applied")
        // What was before a start is forgotten; what is past it is kept for the next snapshot.
        let again = book.starts(owned: [orders], done: [orders: 7], floor: [:])
        #expect(again.first?.applied == [])
    }

    @Test("a restored snapshot's inputs are each skipped once")
    func heldInputsSkippedOnce() {
        var book = SnapshotBook(everyMs: Self.hour)
        book.assigned(held: [orders: [6, 9]], pointer: SnapshotPointer(partition: 0, offset: 3), at: Timestamp(ms: Self.hour))
        let answers = [book.holds(orders, offset: 5), book.holds(orders, offset: 6), book.holds(orders, offset: 6),
                       book.holds(bars, offset: 9)]
        #expect(answers == [false, true, false, false], "each held offset once, on its own partition only")
        // 5 still waits; 6 (skipped) and 9 (not read yet) are in the state: the next snapshot lists both.
        let starts = book.starts(owned: [orders], done: [orders: 5], floor: [:])
        #expect(starts.first?.applied == [6, 9])
        let nine = book.holds(orders, offset: 9)
        #expect(nine)
    }

    @Test("the latest decodable snapshot of the group is the one restored")
    func latestOfTheGroup() throws {
        func message(_ group: String, offset: Int64, time: Int64, bytes: [UInt8]? = nil) throws -> KafkaMessage {
            let s = StateSnapshot(service: "broker-gateway", group: group, partitions: [.init(topic: Topics.orders, partition: 0, next: 3, applied: [])], state: "{}")
            let env = Envelope(id: "snap-\(offset)", eventTime: Timestamp(ms: time), causationId: nil, source: "broker-gateway", payload: s).erased()
            return KafkaMessage(topic: Topics.snapshots, partition: 0, offset: offset, key: Array(group.utf8), value: try bytes ?? env.encoded(), timestampMs: nil)
        }
        let messages = [try message("broker-gateway", offset: 3, time: 1), try message("position-manager", offset: 4, time: 2),
                        try message("broker-gateway", offset: 5, time: 3), try message("broker-gateway", offset: 6, time: 4, bytes: Array("{".utf8))]
        let latest = try #require(SnapshotBook.latest(messages, group: "broker-gateway"))
        #expect(latest.1 == SnapshotPointer(partition: 0, offset: 5), "the torn one at 6 is passed over")
        #expect(latest.2 == Timestamp(ms: 3))
        #expect(SnapshotBook.latest(messages, group: "dispatcher") == nil)
    }

    @Test("a restore log begun at a snapshot's start cannot say where an earlier rebuild starts")
    func partialRestoreLog() {
        var log = RestoreLog(partial: true)
        #expect(!log.covers(Timestamp(ms: 10)), "nothing read yet")
        log.append(Timestamp(ms: 100), 40)
        log.append(Timestamp(ms: 200), 41)
        #expect(!log.covers(Timestamp(ms: 50)) && !log.covers(Timestamp(ms: 100)))
        #expect(log.covers(Timestamp(ms: 150)))
        let first = log.firstOffset(atOrAfter: Timestamp(ms: 150))
        #expect(first == 41)
        #expect(RestoreLog().covers(Timestamp(ms: 1)), "a log from the partition's restore start covers what is after it")
    }

    @Test("a commit carries the snapshot's place")
    func commitMetadataCarriesThePointer() {
        let m = CommitMetadata(lastProcessed: Timestamp(ms: 5), restoreOffset: 1, watermark: Timestamp(ms: 6), snapshot: SnapshotPointer(partition: 2, offset: 77))
        #expect(m.text == "t=5;r=1;w=6;s=77;sp=2")
        #expect(CommitMetadata(m.text) == m)
    }
}
