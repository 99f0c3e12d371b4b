import Foundation
import Kafka
import Logging
import OpsModel
@testable import OpsRuntime
import Testing

/// The stream processor's decisions without a broker: messages built here go in, the records, commits and partition
/// controls that come out are checked (issue 9: StreamProcessor as a pure state machine).
@Suite("StreamMachine")
struct StreamMachineTests {
    static let t0 = Timestamp(iso8601: "2024-03-12T14:00:00Z")!
    static let output = "echo.out"
    static let clock = MachineClock(wallMs: 1_700_000_000_000, monotonicNs: 1_000_000_000)

    /// Echoes every bar to `echo.out` and counts what it has handled (its state, which it snapshots).
    struct CountingEcho: StreamCore {
        var handled: [String] = []
        var serviceName: String { "echo" }
        var inputTopics: [String] { [Topics.bars] }
        var outputTopics: [String] { [StreamMachineTests.output] }
        mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
            handled.append(message.id)
            var e = message
            e.id = "echo-\(message.id)"
            e.causationId = message.id
            e.source = serviceName
            return [Emit(StreamMachineTests.output, e)]
        }
        func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp { .distantPast }
        mutating func reset() { handled = [] }
        func snapshotState() throws -> String? { handled.joined(separator: ",") }
        mutating func restoreState(_ state: String) throws { handled = state.split(separator: ",").map(String.init) }
    }

    /// Messages as librdkafka would deliver them: per partition of the bars topic, consecutive offsets.
    struct Feed {
        var next: [Int32: Int64] = [:]

        mutating func message(_ value: [UInt8], key: String, partition: Int32) -> KafkaMessage {
            let offset = next[partition, default: 0]
            next[partition] = offset + 1
            return KafkaMessage(topic: Topics.bars, partition: partition, offset: offset, key: Array(key.utf8), value: value, timestampMs: nil)
        }

        mutating func bar(_ ticker: String, minute: Int, volume: Int64 = 1, partition: Int32) -> KafkaMessage {
            let env = MarketEvent.bar(Bar(ticker: ticker, start: t0 + Minutes(minute - 1), open: 1, high: 1, low: 1, close: 1, volume: volume))
                .envelope(source: "market-feed")
            return message(try! env.encoded(), key: ticker, partition: partition)
        }

        /// The market feed's promise that nothing at or before `minute` is still to come on the partition.
        mutating func watermark(minute: Int, partition: Int32) -> KafkaMessage {
            let r = SourceWatermarks(producer: "market-feed", partitions: [Topics.bars: 2]).records(at: t0 + Minutes(minute), topics: [Topics.bars])
            return message(r.first { $0.partition == partition }!.value, key: "market-feed", partition: partition)
        }
    }

    static func machine(maxPending: Int = 100_000, snapshotMinutes: Int64 = 0, log: LogLines = LogLines()) -> StreamMachine<CountingEcho> {
        var settings = ProcessorSettings(client: KafkaClientConfig(brokers: "unused:9092", clientId: "test"), groupId: "echo")
        settings.maxPending = maxPending
        settings.snapshotEveryMs = snapshotMinutes * 60_000
        var m = StreamMachine(core: CountingEcho(), settings: settings, logger: Logger(label: "machine") { _ in LogLines.Handler(lines: log) })
        m.partitionCounts(inputs: [Topics.bars: 2], outputs: [output: 1, Topics.deadLetter: 1, Topics.snapshots: 1])
        return m
    }

    static func barId(_ ticker: String, minute: Int) -> String {
        MarketEvent.bar(Bar(ticker: ticker, start: t0 + Minutes(minute - 1), open: 1, high: 1, low: 1, close: 1, volume: 1)).envelope(source: "x").id
    }

    /// The commits of bars/0 and bars/1 a new member finds.
    static func commits(_ p0: Int64, _ meta0: String, _ p1: Int64, _ meta1: String) -> [TopicPartitionOffset] {
        [TopicPartitionOffset(topic: Topics.bars, partition: 0, offset: p0, metadata: meta0),
         TopicPartitionOffset(topic: Topics.bars, partition: 1, offset: p1, metadata: meta1)]
    }

    static let parts = [TopicPartition(topic: Topics.bars, partition: 0), TopicPartition(topic: Topics.bars, partition: 1)]

    static func json(_ r: ProducerRecord) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.value)) as? [String: Any])
    }

    static func ids(_ records: [ProducerRecord], topic: String = output) throws -> [String] {
        try records.filter { $0.topic == topic }.map { try json($0)["id"] as? String ?? "" }
    }

    static func isWatermark(_ r: ProducerRecord) -> Bool { ((try? json(r))?["type"] as? String) == Watermark.messageType }

    @Test("inputs are released in event-time order once both partitions have promised their time; offsets are committed after")
    func releaseBehindWatermarks() throws {
        var m = Self.machine()
        var feed = Feed()
        let starts = m.assigned(Self.parts, committed: [])
        #expect(starts.map(\.offset) == [KafkaOffset.beginning, KafkaOffset.beginning])
        let first = m.round([feed.bar("SPY", minute: 2, partition: 0), feed.bar("QQQ", minute: 1, partition: 1)], clock: Self.clock)
        #expect(first.produce.isEmpty, "nothing promised yet: nothing released, no watermark to pass on")
        #expect(m.commitDue(clock: Self.clock).allSatisfy { $0.offset == 0 }, "nothing is done: the waiting inputs are read again after a restart")
        let second = m.round([feed.watermark(minute: 2, partition: 0), feed.watermark(minute: 2, partition: 1)], clock: Self.clock)
        #expect(try Self.ids(second.produce).filter { $0.hasPrefix("echo-") }.count == 2)
        #expect(m.core.handled == [Self.barId("QQQ", minute: 1), Self.barId("SPY", minute: 2)], "QQQ's minute 1 before SPY's minute 2, whatever the arrival")
        #expect(second.produce.contains { $0.topic == Self.output && Self.isWatermark($0) },
                "the output's own promise follows the inputs'")
        let commits = m.commitDue(clock: Self.clock)
        #expect(commits.map(\.offset) == [2, 2])
        #expect(commits.allSatisfy { $0.metadata?.contains("t=") == true })
        m.committed(commits)
        #expect(m.commitDue(clock: Self.clock).isEmpty, "nothing moved since")
    }


    @Test("while inputs keep coming, progress waits for a round that finds nothing new, or commit_interval_ms at most")
    func commitsPacedWhileBusy() throws {
        var m = Self.machine()
        var feed = Feed()
        _ = m.assigned(Self.parts, committed: [])
        _ = m.round([feed.bar("SPY", minute: 1, partition: 0), feed.watermark(minute: 1, partition: 0), feed.watermark(minute: 1, partition: 1)], clock: Self.clock)
        #expect(m.commitDue(clock: Self.clock, idle: false).isEmpty, "a busy round leaves its progress for later")
        let interval = ProcessorSettings.defaultCommitIntervalMs
        let soon = MachineClock(wallMs: Self.clock.wallMs, monotonicNs: Self.clock.monotonicNs + UInt64(interval - 1) * 1_000_000)
        #expect(m.commitDue(clock: soon, idle: false).isEmpty, "still within the interval")
        let idle = m.commitDue(clock: soon, idle: true)
        #expect(idle.map(\.offset) == [2, 1], "a round that found nothing commits at once")
        m.committed(idle)
        // Busy from here on: the progress first seen at `start` is committed once the interval has passed since.
        let start = MachineClock(wallMs: Self.clock.wallMs, monotonicNs: soon.monotonicNs + 1_000_000_000)
        _ = m.round([feed.bar("QQQ", minute: 2, partition: 1), feed.watermark(minute: 2, partition: 0), feed.watermark(minute: 2, partition: 1)], clock: start)
        #expect(m.commitDue(clock: start, idle: false).isEmpty, "a long idle stretch before does not make the first busy round commit")
        let later = MachineClock(wallMs: start.wallMs, monotonicNs: start.monotonicNs + UInt64(interval) * 1_000_000)
        #expect(m.commitDue(clock: later, idle: false).map(\.offset) == [3, 3], "busy for the whole interval: committed")
    }

    @Test("unreadable bytes become a dead letter naming the reason and keeping the bytes; the offset is committed past them")
    func malformedToDeadLetter() throws {
        var m = Self.machine()
        var feed = Feed()
        _ = m.assigned(Self.parts, committed: [])
        let out = m.round([feed.message(Array("{not json".utf8), key: "SPY", partition: 0), feed.watermark(minute: 1, partition: 0),
                           feed.watermark(minute: 1, partition: 1)], clock: Self.clock)
        let letters = out.produce.filter { $0.topic == Topics.deadLetter }
        try #require(letters.count == 1)
        let env = try Topics.decoder(for: Topics.deadLetter).decode(letters[0].value)
        let dl = try #require(env.payload as? DeadLetter)
        #expect(dl.offset == 0 && dl.partition == 0 && dl.originalText == "{not json" && !dl.reason.isEmpty)
        #expect(m.commitDue(clock: Self.clock).first { $0.partition == 0 }?.offset == 2)
    }

    @Test("an exact copy is dropped; the same id with other content is a conflict sent to the dead-letter topic")
    func duplicatesAndConflicts() throws {
        var m = Self.machine()
        var feed = Feed()
        _ = m.assigned(Self.parts, committed: [])
        let out = m.round([feed.bar("SPY", minute: 1, partition: 0), feed.bar("SPY", minute: 1, partition: 0),
                           feed.bar("SPY", minute: 1, volume: 2, partition: 0),
                           feed.watermark(minute: 1, partition: 0), feed.watermark(minute: 1, partition: 1)], clock: Self.clock)
        #expect(m.core.handled.count == 1)
        let letters = try out.produce.filter { $0.topic == Topics.deadLetter }.map { try Topics.decoder(for: Topics.deadLetter).decode($0.value).payload as! DeadLetter }
        #expect(letters.map(\.offset) == [2])
        #expect(letters.first?.errorKind == MessageError.Kind.conflict.rawValue)
    }

    @Test("after a reassignment the state is rebuilt from the restore offset with outputs suppressed up to the commit")
    func restoreSuppressesOutputs() throws {
        var m = Self.machine()
        var feed = Feed()
        let committed = Self.commits(2, "r=0", 0, "r=0")
        let starts = m.assigned(Self.parts, committed: committed)
        #expect(starts.map(\.offset) == [0, 0])
        let out = m.round([feed.bar("SPY", minute: 1, partition: 0), feed.watermark(minute: 1, partition: 0),
                           feed.bar("SPY", minute: 2, partition: 0), feed.watermark(minute: 2, partition: 0),
                           feed.watermark(minute: 2, partition: 1)], clock: Self.clock)
        #expect(m.core.handled.count == 2, "both inputs rebuild the state")
        #expect(try Self.ids(out.produce).filter { $0.hasPrefix("echo-") } == ["echo-\(Self.barId("SPY", minute: 2))"], "only the one past the commit is output")
        #expect(m.restoreRead == 2)
    }

    @Test("a partition resumed where it stopped re-reads only its watermarks before the commit, and keeps the stored floor")
    func resumeReadsWatermarksOnly() throws {
        var m = Self.machine()
        var feed = Feed()
        let floor = Self.t0 + Minutes(1)
        let committed = Self.commits(2, "r=2;w=\(floor.ms)", 0, "r=0;w=\(floor.ms)")
        #expect(m.assigned(Self.parts, committed: committed).map(\.offset) == [0, 0])
        let out = m.round([feed.bar("SPY", minute: 1, partition: 0), feed.watermark(minute: 1, partition: 0),
                           feed.bar("SPY", minute: 2, partition: 0), feed.watermark(minute: 2, partition: 0),
                           feed.watermark(minute: 2, partition: 1)], clock: Self.clock)
        #expect(m.core.handled == [Self.barId("SPY", minute: 2)], "the input before the commit was applied before the restart")
        #expect(try Self.ids(out.produce).filter { $0.hasPrefix("echo-") }.count == 1)
        let late = m.round([feed.bar("QQQ", minute: 1, partition: 1)], clock: Self.clock)
        #expect(late.produce.contains { $0.topic == Topics.deadLetter }, "behind the partition's watermark: late")
    }

    /// A broadcast (a parameter change is written to every partition) whose copy on one partition lies before that
    /// partition's commit was applied there only if its first copy was: ids read in a resumed partition's
    /// watermarks-only stretch mark redeliveries on that partition, never a copy on another, which may still be waiting.
    @Test("a broadcast's copy read before one partition's commit does not make its copy on another partition a duplicate")
    func broadcastCopiesArePerPartition() throws {
        var m = Self.machine()
        var feed = Feed()
        let floor = Self.t0 + Minutes(2)
        let committed = Self.commits(0, "r=0", 1, "r=1;w=\(floor.ms)")
        #expect(m.assigned(Self.parts, committed: committed).map(\.offset) == [0, 0])
        let onP1 = feed.bar("SPY", minute: 3, partition: 1)
        let onP0 = feed.bar("SPY", minute: 3, partition: 0)
        _ = m.round([onP1, onP0, feed.watermark(minute: 3, partition: 0), feed.watermark(minute: 3, partition: 1)], clock: Self.clock)
        #expect(m.core.handled == [Self.barId("SPY", minute: 3)], "the first copy, still waiting at the commit, is applied")
        let again = m.round([KafkaMessage(topic: Topics.bars, partition: 1, offset: 0, key: onP1.key, value: onP1.value, timestampMs: nil)],
                            clock: Self.clock)
        #expect(m.core.handled.count == 1 && again.produce.isEmpty, "a copy read again before the commit is not applied again")
    }

    @Test("a partition delivered from another offset than assigned is sought back and its messages dropped until it is")
    func startCheckSeeks() throws {
        var m = Self.machine()
        var feed = Feed()
        feed.next[0] = 5
        _ = m.assigned(Self.parts, committed: [TopicPartitionOffset(topic: Topics.bars, partition: 0, offset: 0, metadata: "r=0")])
        let out = m.round([feed.bar("SPY", minute: 1, partition: 0)], clock: Self.clock)
        #expect(out.control == [.seek(TopicPartitionOffset(topic: Topics.bars, partition: 0, offset: 0))])
        #expect(m.core.handled.isEmpty)
        feed.next[0] = 0
        let again = m.round([feed.bar("SPY", minute: 1, partition: 0)], clock: Self.clock)
        #expect(again.control.isEmpty)
        #expect(m.pendingCount == 1, "read from the offset asked for")
    }

    @Test("a full pending buffer pauses the partition ahead of the watermark and resumes it once the buffer drains")
    func pendingLimitPausesAndResumes() throws {
        var m = Self.machine(maxPending: 4)
        var feed = Feed()
        _ = m.assigned(Self.parts, committed: [])
        var batch = [feed.watermark(minute: 0, partition: 1)]
        batch += (1...5).map { feed.bar("SPY", minute: $0, partition: 0) }
        batch.append(feed.watermark(minute: 5, partition: 0))
        let full = m.round(batch, clock: Self.clock)
        #expect(full.control == [.pause([TopicPartition(topic: Topics.bars, partition: 0)])])
        #expect(m.paused == [PartitionID(Topics.bars, 0)])
        let drained = m.round([feed.watermark(minute: 5, partition: 1)], clock: Self.clock)
        #expect(m.core.handled.count == 5)
        #expect(drained.control == [.resume([TopicPartition(topic: Topics.bars, partition: 0)])])
        // Paused partitions are resumed after the next assignment (librdkafka may keep a pause across it).
        _ = m.round((6...10).map { feed.bar("SPY", minute: $0, partition: 0) } + [feed.watermark(minute: 10, partition: 0)], clock: Self.clock)
        _ = m.assigned(Self.parts, committed: [])
        #expect(m.round([], clock: Self.clock).control.first == .resume([TopicPartition(topic: Topics.bars, partition: 0)]))
    }

    @Test("a commit refused for a rebalance is held until the next assignment (or the longest backoff)")
    func commitHeldDuringRebalance() throws {
        var m = Self.machine()
        var feed = Feed()
        _ = m.assigned(Self.parts, committed: [])
        _ = m.round([feed.bar("SPY", minute: 1, partition: 0), feed.watermark(minute: 1, partition: 0), feed.watermark(minute: 1, partition: 1)],
                    clock: Self.clock)
        let due = m.commitDue(clock: Self.clock)
        #expect(!due.isEmpty)
        let rebalancing = KafkaError(code: 27, message: "rebalance in progress")
        #expect(rebalancing.action == .rejoin)
        m.commitFailed(rebalancing, clock: Self.clock, unit: 0.5)
        let later = MachineClock(wallMs: Self.clock.wallMs, monotonicNs: Self.clock.monotonicNs + 1_000_000)
        #expect(m.commitDue(clock: later).isEmpty, "held until the rebalance has run")
        m.revoked(Self.parts)
        _ = m.assigned(Self.parts, committed: [])
        _ = m.round([feed.watermark(minute: 1, partition: 0), feed.watermark(minute: 1, partition: 1)], clock: Self.clock)
        #expect(!m.commitDue(clock: Self.clock).isEmpty)
    }

    @Test("the same messages in any batching give the same records, commits and state")
    func batchingDoesNotMatter() throws {
        var feed = Feed()
        var all = [KafkaMessage]()
        for minute in 1...20 {
            all.append(feed.bar("SPY", minute: minute, partition: 0))
            all.append(feed.bar("QQQ", minute: minute, partition: 1))
            if minute % 3 == 0 { all.append(feed.bar("AAPL", minute: minute, partition: Int32(minute % 2))) }
            all.append(feed.watermark(minute: minute, partition: Int32(minute % 2)))
            if minute % 4 == 0 { all.append(feed.watermark(minute: minute, partition: Int32(1 - minute % 2))) }
        }
        all.append(feed.watermark(minute: 20, partition: 0))
        all.append(feed.watermark(minute: 20, partition: 1))
        func run(batch size: Int) -> (records: [ProducerRecord], commits: [TopicPartitionOffset], handled: [String]) {
            var m = Self.machine()
            _ = m.assigned(Self.parts, committed: [])
            var records = [ProducerRecord]()
            var start = 0
            while start < all.count {
                records += m.round(Array(all[start..<min(all.count, start + size)]), clock: Self.clock).produce
                start += size
            }
            return (records.filter { $0.topic == Self.output && !Self.isWatermark($0) },
                    m.commitDue(clock: Self.clock), m.core.handled)
        }
        let one = run(batch: all.count)
        #expect(one.handled.count == 46)
        for size in [1, 2, 7] {
            let other = run(batch: size)
            #expect(other.records == one.records, "batch size \(size)")
            #expect(other.commits.map(\.offset) == one.commits.map(\.offset))
            #expect(other.handled == one.handled)
        }
    }

    @Test("a due snapshot waits for a round that finds no input while the inputs stay in the minute it fell due in; a backfill takes it a minute later")
    func snapshotsWaitForAQuietRound() throws {
        var m = Self.machine(snapshotMinutes: 60)
        var feed = Feed()
        _ = m.assigned(Self.parts, committed: [])
        func minute(_ k: Int) -> [KafkaMessage] {
            [feed.bar("SPY", minute: k, partition: 0), feed.watermark(minute: k, partition: 0), feed.watermark(minute: k, partition: 1)]
        }
        _ = m.round((1...59).flatMap(minute), clock: Self.clock)
        #expect(m.snapshotDue(clock: Self.clock, idle: false) == nil, "not due before the hour")
        // Bars carry their end: minute 60's reaches 15:00, the hour.
        _ = m.round(minute(60), clock: Self.clock)
        #expect(m.snapshotDue(clock: Self.clock, idle: false) == nil, "due, but the minute's burst is going on")
        #expect(m.snapshotDue(clock: Self.clock, idle: false) == nil, "still busy in the same minute")
        var paced = m
        #expect(paced.snapshotDue(clock: Self.clock, idle: true) != nil, "taken in the quiet round after the burst")
        paced.snapshotWritten(DeliveryReport(topic: Topics.snapshots, partition: 0, offset: 5, timestampMs: nil), bytes: 1)
        _ = paced.round(minute(61), clock: Self.clock)
        let carrying = paced.commitDue(clock: Self.clock, idle: false)
        #expect(!carrying.isEmpty && carrying.allSatisfy { $0.metadata?.contains("s=5;sp=0") == true },
                "a busy round commits at once when it carries a new snapshot's place")
        var backfill = m
        _ = backfill.round(minute(61), clock: Self.clock)
        #expect(backfill.snapshotDue(clock: Self.clock, idle: false) != nil, "never quiet: taken a minute of event time later")
    }

    @Test("a snapshot is taken at its event-time boundary and a new member starts from it: state restored, partitions read from its place")
    func snapshotRoundTrip() throws {
        var m = Self.machine(snapshotMinutes: 60)
        var feed = Feed()
        _ = m.assigned(Self.parts, committed: [])
        var batch = [KafkaMessage]()
        for minute in stride(from: 1, through: 70, by: 1) {
            batch.append(feed.bar("SPY", minute: minute, partition: 0))
            batch.append(feed.watermark(minute: minute, partition: 0))
            batch.append(feed.watermark(minute: minute, partition: 1))
        }
        _ = m.round(batch, clock: Self.clock)
        let due = m.snapshotDue(clock: Self.clock)
        let record = try #require(due, "an hour of event time has passed")
        m.snapshotWritten(DeliveryReport(topic: Topics.snapshots, partition: 0, offset: 41, timestampMs: nil), bytes: record.value.count)
        let commits = m.commitDue(clock: Self.clock)
        #expect(commits.allSatisfy { $0.metadata?.contains("s=41;sp=0") == true }, "every commit carries the snapshot's place")
        m.committed(commits)

        let log = LogLines()
        var next = Self.machine(snapshotMinutes: 60, log: log)
        #expect(next.snapshotToRead(commits) == SnapshotPointer(partition: 0, offset: 41))
        let snapshotMessage = KafkaMessage(topic: Topics.snapshots, partition: 0, offset: 41, key: record.key, value: record.value, timestampMs: nil)
        let starts = next.assigned(Self.parts, committed: commits, snapshot: .messages([snapshotMessage]))
        #expect(next.core.handled == m.core.handled)
        #expect(starts.first { $0.partition == 0 }!.offset == max(0, 140 - StreamMachine<CountingEcho>.snapshotRewind))
        #expect(log.lines.contains { $0.message == "state taken from a snapshot" })

        var refused = Self.machine(snapshotMinutes: 60, log: log)
        _ = refused.assigned(Self.parts, committed: commits, snapshot: .unreadable("broker down"))
        #expect(refused.core.handled.isEmpty)
        #expect(log.lines.contains { $0.message == "snapshot not used; rebuilding the state from the topics" })
    }
}

