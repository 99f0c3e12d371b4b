import Foundation
import Kafka
import Logging
import Metrics
import OpsModel

/// The clocks a step of the machine may read, given by the driver: the wall clock stamps `produced_at`, the monotonic
/// one measures stalls and commit backoff. Tests pass fixed values.
struct MachineClock: Sendable {
    var wallMs: Int64
    var monotonicNs: UInt64

    init(wallMs: Int64, monotonicNs: UInt64) { self.wallMs = wallMs; self.monotonicNs = monotonicNs }

    static var now: MachineClock {
        MachineClock(wallMs: Int64(Date().timeIntervalSince1970 * 1000), monotonicNs: DispatchTime.now().uptimeNanoseconds)
    }

    var monotonicMs: Int64 { Int64(monotonicNs / 1_000_000) }
}

/// A partition-level request to the consumer, in the order the machine decided it.
enum PartitionControl: Equatable, Sendable {
    /// Read this partition from the offset (its first message came from elsewhere).
    case seek(TopicPartitionOffset)
    case pause([TopicPartition])
    case resume([TopicPartition])
}

/// What one poll round asks of Kafka: partition controls, then the records to produce (all acknowledged before the
/// commit), and the outputs to show the observer once they are.
struct RoundActions: Sendable {
    var control: [PartitionControl] = []
    var produce: [ProducerRecord] = []
    var observed: [Emit] = []
}

/// What the driver found where the commits point to a snapshot: the messages from there on, or why none could be read.
enum SnapshotRead: Sendable {
    case messages([KafkaMessage])
    case unreadable(String)
}

/// The consume → decode → handle → produce → commit loop's decisions, without sockets or clocks (issue 9): poll
/// results, assignments, acknowledgements and commit results go in; records to produce, offsets to commit, partitions
/// to pause, resume or seek, and dead letters come out. `StreamProcessor` drives it against librdkafka; tests drive it
/// with messages they build.
///
/// One round: decode each message (what does not decode, has an unknown version, fails validation, conflicts with an
/// applied id or arrives behind its partition's watermark becomes a dead letter with the reason and the original
/// bytes); drop exact duplicates; release what the watermark lets through, in canonical order, to the core; emit the
/// core's outputs and a watermark on every output partition. The driver sends them and waits until the broker has
/// acknowledged all of it; only then are the input offsets committable (invariant 4). On a (re)assignment the core
/// starts empty (or from its latest snapshot) and each partition is re-read from where the state begins, with outputs
/// suppressed up to the committed offset (invariant 5).
struct StreamMachine<Core: StreamCore> {
    private(set) var core: Core
    private let settings: ProcessorSettings
    private let logger: Logger
    private var merger: EventMerger
    private var seen = RecentIDs()
    private let decoders: [String: EnvelopeDecoder]
    private var inputPartitionCounts: [String: Int32] = [:]
    private var outputPartitionCounts: [String: Int32] = [:]
    private var restoreUntil: [PartitionID: Int64] = [:]
    private var committedOffsets: [PartitionID: Int64] = [:]
    private var committedMetadata: [PartitionID: String] = [:]
    /// Per partition, (event time, offset) of consumed messages from the current restore boundary on.
    private var restoreLog: [PartitionID: RestoreLog] = [:]
    /// Per partition, the event time of the last envelope read (what unreadable bytes are dead-lettered at).
    private var lastEventTime: [PartitionID: Timestamp] = [:]
    /// Per partition, the offset before which only watermark messages are applied (see `assigned`).
    private var watermarksOnlyUntil: [PartitionID: Int64] = [:]
    /// Per partition, the ids of the inputs read in that stretch or skipped as held by a restored snapshot: a copy of one
    /// delivered again on the same partition is a duplicate. Per partition, because a broadcast's copies on the other
    /// partitions say nothing of whether its first copy was applied (it may still have been waiting).
    private var priorIds: [PartitionID: Set<String>] = [:]
    static var watermarkRewind: Int64 { 512 }
    /// Messages before a snapshot's start re-read for their ids (a redelivered copy of an input in the state is dropped).
    static var snapshotRewind: Int64 { 64 }
    /// Per partition, the start offset asked for at the assignment until its first message shows where reading began.
    private var startChecks: [PartitionID: StartCheck] = [:]
    /// Counts assignments and revocations: messages polled under an older generation belong to an old assignment.
    private(set) var generation = 0
    private var lastWatermarkOut: [String: Timestamp] = [:]
    private let causes: [String: [String: Int64]]
    private let ranks: [String: Int]
    /// Commits wait out a backoff after a failure, and after a rebalance error the rebalance itself.
    private var commitRetry = DeferredRetry()
    /// Since when (monotonic ms) progress has waited to be committed while inputs kept coming (`commitIntervalMs`).
    private var uncommittedSinceMs: Int64?
    /// The partitions assigned to this member now (none between a revoke and the next assignment).
    private(set) var owned = Set<PartitionID>()
    private var snapshots: SnapshotBook
    /// Per partition, the offset from which the state holds the inputs handled since the assignment (what a snapshot
    /// taken before anything was read there says).
    private var restoreFloor: [PartitionID: Int64] = [:]
    /// Messages read again since the assignment (offsets before the committed ones), for the "state restored" line.
    private(set) var restoreRead = 0
    private var restoreSource = "topics"
    /// Partitions paused because the pending buffer is full; after a rebalance, the ones to resume (librdkafka may
    /// keep a partition's pause across a revoke and re-assign).
    private(set) var paused = Set<PartitionID>()
    private var resumeAfterAssign = Set<PartitionID>()
    private let sideTopics: Set<String>
    private var clock = MachineClock(wallMs: 0, monotonicNs: 0)
    private var watermarkMovedAt: UInt64 = 0
    private var lastInputWatermark: Timestamp?
    private var stallWarnedAt: UInt64 = 0
    /// The event time of the snapshot handed to the driver last (for the "snapshot written" line).
    private var snapshotTime: Timestamp?

    private let inCounter: [String: Counter]
    private let outCounter = Counter(label: "ops_messages_out_total")
    private let duplicates = Counter(label: "ops_duplicates_dropped_total")
    private let restored = Counter(label: "ops_restore_messages_total")
    private let pendingGauge = Gauge(label: "ops_pending_events")
    private let watermarkGauge = Gauge(label: "ops_input_watermark_seconds")
    /// Wall-clock seconds the input watermark has not moved while inputs wait behind it.
    private let stallGauge = Gauge(label: "ops_watermark_stall_seconds")
    private let pausedGauge = Gauge(label: "ops_paused_partitions")
    private let snapshotsWritten = Counter(label: "ops_snapshots_written_total")
    private let snapshotBytes = Gauge(label: "ops_snapshot_bytes")

    init(core: Core, settings: ProcessorSettings, logger: Logger) {
        self.core = core
        self.settings = settings
        self.logger = logger
        var decoders = [String: EnvelopeDecoder]()
        var counters = [String: Counter]()
        for t in core.inputTopics {
            decoders[t] = Topics.decoder(for: t)
            counters[t] = Counter(label: "ops_messages_in_total", dimensions: [("topic", t)])
        }
        self.decoders = decoders
        self.inCounter = counters
        self.ranks = Dictionary(uniqueKeysWithValues: core.inputTopics.enumerated().map { ($1, $0) })
        var expected = [String: Set<String>]()
        for t in core.inputTopics { if let spec = Topics.spec(t), !spec.producers.isEmpty { expected[t] = Set(spec.producers) } }
        let side = Set(core.inputTopics.filter { Topics.spec($0)?.watermarked == false })
        self.merger = EventMerger(topicRanks: core.inputTopics, expectedProducers: expected, sideTopics: side)
        self.sideTopics = side
        self.snapshots = SnapshotBook(everyMs: settings.snapshotEveryMs)
        self.causes = core.outputCauses
    }

    /// The partition counts of the inputs and of the outputs (dead letters and snapshots included), from the cluster.
    mutating func partitionCounts(inputs: [String: Int32], outputs: [String: Int32]) {
        inputPartitionCounts = inputs
        outputPartitionCounts = outputs
    }

    var pendingCount: Int { merger.pendingCount }

    private func isRestoring(_ p: PartitionID, _ offset: Int64) -> Bool { offset < (restoreUntil[p] ?? -1) }
}

// MARK: - Assignment

extension StreamMachine {
    /// Where the latest snapshot the commits point to lies (nil: snapshots off, or no commit carries one): the driver
    /// reads from there to the end of that partition and hands the messages to `assigned`.
    func snapshotToRead(_ committed: [TopicPartitionOffset]) -> SnapshotPointer? {
        guard snapshots.enabled else { return nil }
        return committed.compactMap { CommitMetadata($0.metadata)?.snapshot }.max()
    }

    /// A new assignment, with the partitions' committed offsets and (when `snapshotToRead` named one) what was read of
    /// the snapshot topic. The core starts empty or from the snapshot; returns where each partition is read from.
    mutating func assigned(_ parts: [TopicPartition], committed: [TopicPartitionOffset], snapshot read: SnapshotRead? = nil) -> [TopicPartitionOffset] {
        generation += 1
        core.reset()
        seen.removeAll()
        lastWatermarkOut = [:]
        let ids = parts.map { PartitionID($0.topic, $0.partition) }
        merger.assign(ids)
        owned = Set(ids)
        restoreUntil = [:]
        startChecks = [:]
        resumeAfterAssign.formUnion(paused)
        paused = []
        committedOffsets = [:]
        committedMetadata = [:]
        restoreLog = [:]
        watermarksOnlyUntil = [:]
        restoreFloor = [:]
        restoreRead = 0
        priorIds = [:]
        var result = [TopicPartitionOffset]()
        var byPartition = [PartitionID: TopicPartitionOffset]()
        for c in committed { byPartition[PartitionID(c.topic, c.partition)] = c }
        let snapshot = snapshotToRead(committed).flatMap { restoreSnapshot(at: $0, read, assigned: Set(ids)) }
        restoreSource = snapshot.map { "snapshot \(Topics.snapshots)/\($0.pointer.partition)@\($0.pointer.offset) of \($0.time.iso8601)" } ?? "topics"
        for p in parts {
            let id = PartitionID(p.topic, p.partition)
            let c = byPartition[id].flatMap { $0.offset >= 0 ? $0 : nil }
            if let c {
                committedOffsets[id] = c.offset
                restoreUntil[id] = c.offset
                if let m = c.metadata { committedMetadata[id] = m }
            }
            let meta = CommitMetadata(c?.metadata)
            if let s = snapshot?.starts[id] {
                result.append(startFromSnapshot(s, id))
                continue
            }
            guard let c else {
                result.append(TopicPartitionOffset(p, offset: KafkaOffset.beginning))
                continue
            }
            var start = min(meta?.restoreOffset ?? c.offset, c.offset)
            restoreFloor[id] = start
            // A partition re-read from an earlier offset rebuilds its watermark from the re-read watermark messages,
            // in the original order. One resumed where it stopped starts from the watermark stored with the commit,
            // and re-reads the watermark messages (only those) of its last stretch, so every upstream service's own
            // promise is known again without waiting for a new one (upstream may be waiting on this service).
            if start == c.offset {
                if let w = meta?.watermark { merger.restoreWatermark(w, at: id) }
                start = max(0, c.offset - Self.watermarkRewind)
                watermarksOnlyUntil[id] = c.offset
            }
            result.append(TopicPartitionOffset(p, offset: start))
        }
        snapshots.assigned(held: snapshot?.held ?? [:], pointer: snapshot?.pointer, at: snapshot?.time)
        for o in result where o.offset >= 0 { startChecks[PartitionID(o.topic, o.partition)] = .expect(o.offset) }
        var restoring = [String]()
        for o in result {
            let id = PartitionID(o.topic, o.partition)
            if let c = restoreUntil[id], o.offset < c { restoring.append("\(id)@\(o.offset)..<\(c)") }
        }
        logger.info("assigned", metadata: [
            "kafka.partitions": .string(ids.sorted().map(\.description).joined(separator: ",")),
            "kafka.restore": .string(restoring.joined(separator: ",")), "restore.from": .string(restoreSource),
        ])
        return result
    }

    mutating func revoked(_ parts: [TopicPartition]) {
        generation += 1
        // A revoked partition's offsets are no longer this member's to commit. Committing them anyway with the old
        // generation fails, and librdkafka answers each such failure by restarting its rejoin: the group never settles.
        owned.subtract(parts.map { PartitionID($0.topic, $0.partition) })
        logger.info("revoked", metadata: ["kafka.partitions": .stringConvertible(parts.count)])
    }

    /// The latest snapshot of this group read from the snapshot topic, restored into the core (just reset); nil, with a
    /// line saying why, when there is none or it cannot be taken — the state is then rebuilt from the topics.
    private mutating func restoreSnapshot(at pointer: SnapshotPointer, _ read: SnapshotRead?, assigned: Set<PartitionID>) -> RestoredSnapshot? {
        do {
            return try takeSnapshot(at: pointer, read, assigned: assigned)
        } catch {
            logger.warning("snapshot not used; rebuilding the state from the topics", metadata: [
                "snapshot.offset": .stringConvertible(pointer.offset), "snapshot.reason": .string("\(error)"),
            ])
            core.reset()
            return nil
        }
    }

    private mutating func takeSnapshot(at pointer: SnapshotPointer, _ read: SnapshotRead?, assigned: Set<PartitionID>) throws -> RestoredSnapshot {
        let messages: [KafkaMessage]
        switch read {
        case .messages(let m): messages = m
        case .unreadable(let why): throw SnapshotMismatch("not readable: \(why)")
        case nil: throw SnapshotMismatch("not read")
        }
        guard let (s, at, time) = SnapshotBook.latest(messages, group: settings.groupId) else {
            throw SnapshotMismatch("no snapshot of group \(settings.groupId) from \(Topics.snapshots)/\(pointer.partition)@\(pointer.offset) on")
        }
        guard s.service == core.serviceName else { throw SnapshotMismatch("written by \(s.service), not \(core.serviceName)") }
        let starts = Dictionary(s.partitions.map { (PartitionID($0.topic, $0.partition), $0) }, uniquingKeysWith: { a, _ in a })
        guard Set(starts.keys) == assigned else {
            throw SnapshotMismatch("it covers \(starts.keys.sorted().map(\.description).joined(separator: ",")); assigned: \(assigned.sorted().map(\.description).joined(separator: ","))")
        }
        try core.restoreState(s.state)
        logger.info("state taken from a snapshot", metadata: [
            "snapshot.offset": .stringConvertible(at.offset), "snapshot.time": .string(time.iso8601),
            "snapshot.bytes": .stringConvertible(s.state.utf8.count),
        ])
        return RestoredSnapshot(starts: starts, held: starts.mapValues { Set($0.applied) }, pointer: at, time: time)
    }

    /// Where a partition starts after a restored snapshot: at its `next`, with the snapshot's watermark as a floor,
    /// after re-reading a short stretch before it for the ids only (a copy of one of them delivered again later on the
    /// partition is a duplicate). Not the watermark stored with the commit: a commit after the snapshot may promise past
    /// an input that was released out of offset order after the snapshot, which is read again now and must not be late.
    /// The offsets before `next` are not known to the restore log: until it reaches back to where a rebuild from the
    /// topics would start, commits keep the restore offset they had.
    private mutating func startFromSnapshot(_ s: StateSnapshot.PartitionStart, _ id: PartitionID) -> TopicPartitionOffset {
        guard s.next >= 0 else { return TopicPartitionOffset(topic: id.topic, partition: id.partition, offset: KafkaOffset.beginning) }
        restoreFloor[id] = s.next
        restoreLog[id] = RestoreLog(partial: true)
        if let w = s.watermark { merger.restoreWatermark(w, at: id) }
        watermarksOnlyUntil[id] = s.next
        return TopicPartitionOffset(topic: id.topic, partition: id.partition, offset: max(0, s.next - Self.snapshotRewind))
    }
}

// MARK: - A poll round

extension StreamMachine {
    /// One polled batch (all of the current generation): checks where each partition started, ingests, releases what
    /// the watermarks allow to the core, appends the output watermarks, and limits the pending buffer.
    mutating func round(_ polled: [KafkaMessage], clock: MachineClock) -> RoundActions {
        self.clock = clock
        var actions = RoundActions()
        let batch = startChecks.isEmpty ? polled : checkingStarts(polled, into: &actions.control)
        for m in batch { ingest(m, into: &actions.produce) }
        if settings.useWatermarks { releaseVouched(into: &actions) } else { for e in merger.releaseAll() { apply(e, into: &actions) } }
        appendWatermarks(into: &actions.produce)
        limitPending(into: &actions.control)
        pendingGauge.record(merger.pendingCount)
        outCounter.increment(by: actions.produce.count)
        return actions
    }

    /// Releases what the watermarks and the state's quiet inputs allow, again after each batch while the state vouches
    /// for something (each batch moves what it vouches for: a position-manager with nothing ordered goes through every
    /// minute it holds that it has bars for, without a round trip to the broker per minute).
    private mutating func releaseVouched(into actions: inout RoundActions) {
        var quiet = restoreReleased() ? core.quietInputs : nil
        while true {
            merger.vouch(quiet)
            let released = merger.release()
            for e in released { apply(e, into: &actions) }
            let before = quiet
            quiet = restoreReleased() ? core.quietInputs : nil
            // Again while the state vouches for something, before or after the batch (a batch ending an order's
            // answer makes it quiet: what it lets through must not wait for the next poll).
            if released.isEmpty || (before == nil && quiet == nil) { break }
        }
        merger.vouch(quiet)
    }

    /// librdkafka 2.0.2, given back partitions it has just been asked to give up (a quick eager revoke and re-assign,
    /// as in a rebalance storm), can go on fetching from where it was and ignore the start offset assigned: a restore
    /// would then skip what it must re-read (seen: asked for 0, delivered from 14). So the first message of each
    /// partition is checked against the offset asked for; on a mismatch the partition is sought there (once: on a
    /// compacted topic the offset may be gone) and what was already collected of it is dropped.
    private mutating func checkingStarts(_ batch: [KafkaMessage], into control: inout [PartitionControl]) -> [KafkaMessage] {
        var kept = [KafkaMessage]()
        kept.reserveCapacity(batch.count)
        var dropping = Set<PartitionID>()
        for m in batch {
            let p = PartitionID(m.topic, m.partition)
            if dropping.contains(p) { continue }
            switch startChecks[p] {
            case nil:
                kept.append(m)
            case .expect(let want) where m.offset != want:
                logger.warning("partition delivered from another offset than assigned; seeking", metadata: [
                    "kafka.partition": .string(p.description), "kafka.offset": .stringConvertible(m.offset),
                    "kafka.assigned_offset": .stringConvertible(want),
                ])
                control.append(.seek(TopicPartitionOffset(topic: p.topic, partition: p.partition, offset: want)))
                startChecks[p] = .sought(want)
                dropping.insert(p)
            case .sought(let want) where m.offset != want:
                logger.info("partition starts after the offset sought (compacted or deleted)", metadata: [
                    "kafka.partition": .string(p.description), "kafka.offset": .stringConvertible(m.offset),
                    "kafka.assigned_offset": .stringConvertible(want),
                ])
                startChecks[p] = nil
                kept.append(m)
            default:
                startChecks[p] = nil
                kept.append(m)
            }
        }
        return kept
    }

    /// Pauses the partitions ahead of the input watermark while the pending buffer is full; resumes them below half.
    private mutating func limitPending(into control: inout [PartitionControl]) {
        if !resumeAfterAssign.isEmpty {
            let again = resumeAfterAssign.intersection(owned)
            resumeAfterAssign = []
            if !again.isEmpty { control.append(.resume(again.sorted().map(\.topicPartition))) }
        }
        guard settings.useWatermarks else { return }
        var marks = [PartitionID: Timestamp?]()
        if merger.pendingCount >= settings.maxPending / 2 { for p in owned { marks[p] = merger.watermark(of: p) } }
        let want = PendingLimit(limit: settings.maxPending).paused(pending: merger.pendingCount, inputWatermark: merger.inputWatermark,
                                                                   watermarks: marks, sideTopics: sideTopics, pausedNow: paused)
        guard want != paused else { return }
        let pause = want.subtracting(paused), resume = paused.subtracting(want)
        if !pause.isEmpty { control.append(.pause(pause.sorted().map(\.topicPartition))) }
        if !resume.isEmpty { control.append(.resume(resume.sorted().map(\.topicPartition))) }
        logger.log(level: paused.isEmpty ? .info : .debug, paused.isEmpty ? "pending buffer full: pausing the partitions ahead of the watermark" : "pending buffer: partitions paused", metadata: [
            "kafka.pending": .stringConvertible(merger.pendingCount), "kafka.paused": .string(want.sorted().map(\.description).joined(separator: ",")),
        ])
        paused = want
        pausedGauge.record(paused.count)
    }

    private mutating func ingest(_ m: KafkaMessage, into out: inout [ProducerRecord]) {
        let p = PartitionID(m.topic, m.partition)
        inCounter[m.topic]?.increment()
        let restoring = isRestoring(p, m.offset)
        if restoring {
            restored.increment()
            restoreRead += 1
        }
        let env: AnyEnvelope
        do {
            guard let decoder = decoders[m.topic] else { throw MessageError(.unknownType, "no decoder for topic \(m.topic)") }
            env = try decoder.decode(m.value)
        } catch {
            merger.consumed(p, offset: m.offset)
            let seenBefore = m.offset < (watermarksOnlyUntil[p] ?? -1)
            // Unreadable bytes have no event time of their own: they take the partition's latest, which a rerun repeats.
            if !restoring && !seenBefore { out.append(deadLetter(m.value, key: m.key, at: p, offset: m.offset, time: lastEventTime[p]?.ms ?? 0, error: error)) }
            return
        }
        if m.offset < (watermarksOnlyUntil[p] ?? -1) {
            // Already processed before the restart: only its watermark matters now.
            if let wm = env.payload as? Watermark { merger.watermark(wm, time: env.eventTime, at: p, offset: m.offset) } else {
                priorIds[p, default: []].insert(env.id)
                merger.consumed(p, offset: m.offset)
            }
            return
        }
        restoreLog[p, default: RestoreLog()].append(env.eventTime, m.offset)
        lastEventTime[p] = env.eventTime
        if let wm = env.payload as? Watermark {
            merger.watermark(wm, time: env.eventTime, at: p, offset: m.offset)
            return
        }
        let fingerprint = RecentIDs.fingerprintIgnoringProducedAt(m.value)
        if snapshots.holds(p, offset: m.offset) {
            // Handled before the snapshot (ahead of an earlier offset that waited): in the state, not applied again.
            priorIds[p, default: []].insert(env.id)
            merger.consumedDuplicate(p, offset: m.offset, time: env.eventTime)
            return
        }
        let redelivered = priorIds[p]?.contains(env.id) == true
        switch redelivered ? .duplicate : seen.check(env.id, fingerprint: fingerprint) {
        case .duplicate:
            snapshots.handledInput(p, offset: m.offset, time: nil)
            merger.consumedDuplicate(p, offset: m.offset, time: env.eventTime)
            duplicates.increment()
            return
        case .conflict:
            merger.consumed(p, offset: m.offset)
            if !restoring {
                out.append(deadLetter(m.value, key: m.key, at: p, offset: m.offset, time: env.eventTime.ms,
                                      error: MessageError(.conflict, "id \(env.id) was already applied with different content")))
            }
            return
        case .new:
            break
        }
        do {
            try merger.add(PendingEvent(envelope: env, source: p, offset: m.offset, rank: ranks[m.topic] ?? 0,
                                        key: env.partitionKey, raw: m.value, rawKey: m.key))
        } catch {
            // Refused (late): not applied, so a copy of it on another partition (a broadcast) is not a duplicate of it.
            seen.forget(env.id)
            if !restoring { out.append(deadLetter(m.value, key: m.key, at: p, offset: m.offset, time: env.eventTime.ms, error: error)) } else {
                // Refused while rebuilding state: the state now differs from the one that committed (it was dead-lettered then
                // too, or something changed): worth a line.
                logger.warning("input refused while restoring", metadata: [
                    "kafka.partition": .string(p.description), "kafka.offset": .stringConvertible(m.offset),
                    "message.id": .string(env.id), "message.time": .string(env.eventTime.iso8601), "error": .string("\(error)"),
                ])
            }
        }
    }

    private mutating func apply(_ e: PendingEvent, into actions: inout RoundActions) {
        let restoring = isRestoring(e.source, e.offset)
        snapshots.handledInput(e.source, offset: e.offset, time: e.envelope.eventTime)
        do {
            let emits = try core.handle(e.envelope, from: e.source.topic)
            guard !restoring else { return }
            if let change = e.envelope.payload as? ParamsChange { logParamsChange(change, at: e.envelope.eventTime) }
            var records = [ProducerRecord]()
            for emit in emits {
                // Encoded once: a broadcast's copies are the same bytes on every partition.
                var r = try record(emit.topic, emit.envelope, partition: nil)
                for part in Self.partitions(of: emit, count: outputPartitionCounts[emit.topic] ?? 1) {
                    r.partition = part
                    records.append(r)
                }
            }
            actions.produce += records
            actions.observed += emits
        } catch {
            if !restoring {
                actions.produce.append(deadLetter(e.raw, key: e.rawKey, at: e.source, offset: e.offset, time: e.envelope.eventTime.ms, error: error))
            }
        }
    }

    /// After a round, every output topic gets a watermark on each partition when its promise has moved: what
    /// the core can still emit there, given its pending inputs, its inputs' watermarks (`outputCauses`) and what its
    /// state rules out (`lookahead`).
    private mutating func appendWatermarks(into out: inout [ProducerRecord]) {
        guard settings.useWatermarks else { return }
        if let iw = merger.inputWatermark { watermarkGauge.record(Double(iw.ms) / 1000) }
        noteStall()
        var byTopic = [String: [Int32]]()
        for p in merger.assignedPartitions { byTopic[p.topic, default: []].append(p.partition) }
        let share = core.accountShare.coverage(service: core.serviceName)
        let covers = byTopic.keys.sorted().map { Watermark.Coverage(topic: $0, partitions: byTopic[$0]!.sorted(), of: inputPartitionCounts[$0] ?? 1) }
            + (share.map { [$0] } ?? [])
        let wm = Watermark(producer: core.serviceName, covers: covers)
        // Replicas sharing out accounts promise the same topics at the same times: their ids differ by share.
        let idProducer = share == nil ? core.serviceName : "\(core.serviceName)#\(core.accountShare.index)"
        let lookahead = restoreReleased() ? core.lookahead : nil
        for topic in core.outputTopics where Topics.spec(topic)?.watermarked ?? true {
            guard let w = merger.outputWatermark(causes: causes[topic] ?? [:], lookahead: lookahead, output: topic), w < .distantFuture,
                  w > (lastWatermarkOut[topic] ?? .distantPast) else { continue }
            for part in 0..<(outputPartitionCounts[topic] ?? 1) {
                let env = Envelope(id: Watermark.id(producer: idProducer, topic: topic, partition: part, time: w),
                                   eventTime: w, causationId: nil, source: core.serviceName, payload: wm).erased()
                if let r = try? record(topic, env, partition: part) { out.append(r) }
            }
            lastWatermarkOut[topic] = w
        }
    }

    /// A watermark that stops moving while inputs wait is a stalled upstream: measured (`ops_watermark_stall_seconds`)
    /// and, past `stallWarning` seconds, logged every so often naming the partition and the service whose promise holds
    /// it back (nil watermark: a service never heard from).
    private mutating func noteStall() {
        let now = clock.monotonicNs
        let iw = merger.inputWatermark
        if iw != lastInputWatermark || merger.pendingCount == 0 || watermarkMovedAt == 0 {
            lastInputWatermark = iw
            watermarkMovedAt = now
            stallGauge.record(0)
            return
        }
        let stalled = Double(now &- watermarkMovedAt) / 1e9
        stallGauge.record(stalled)
        guard stalled >= settings.stallWarningSeconds, Double(now &- stallWarnedAt) / 1e9 >= settings.stallWarningSeconds,
              let slow = merger.slowestPromise() else { return }
        stallWarnedAt = now
        logger.warning("input watermark stalled with inputs waiting", metadata: [
            "stall.seconds": .stringConvertible(Int(stalled)), "stall.partition": .string(slow.partition.description),
            "stall.waiting_on": .string(slow.producer ?? "unknown"), "stall.watermark": .string(slow.watermark?.iso8601 ?? "none yet"),
            "kafka.pending": .stringConvertible(merger.pendingCount),
        ])
    }

    /// A trading-parameter change taken (or passed over as another account's) at its event time, for the audit trail.
    private func logParamsChange(_ c: ParamsChange, at t: Timestamp) {
        logger.info("trading parameters changed", metadata: [
            "params.version": .stringConvertible(c.paramsVersion), "params.account": .string(c.accountId ?? "every account"),
            "params.effective": .string(t.iso8601), "params.reason": .string(c.reason), "params.by": .string(c.requestedBy),
            "params.changes": .string(c.changes.keys.sorted().map { "\($0)=\(c.changes[$0]!)" }.joined(separator: " ")),
        ])
    }

    /// Whether every input re-read to rebuild the state (up to the committed offsets) has been handled. Until then the
    /// core's state is a past one and its inputs' watermarks are the commits' floors, which the re-read inputs are
    /// behind: a lookahead from that state could promise past outputs of the inputs still to be re-read.
    private mutating func restoreReleased() -> Bool {
        if restoreUntil.isEmpty { return true }
        let done = merger.committable()
        restoreUntil = restoreUntil.filter { p, c in c > 0 && (done[p]?.offset ?? -1) < c }
        if restoreUntil.isEmpty {
            logger.info("state restored", metadata: ["restore.messages": .stringConvertible(restoreRead), "restore.from": .string(restoreSource)])
        }
        return restoreUntil.isEmpty
    }

    /// Where an output goes: the key's partition (nil: the producer's partitioner), or every partition of a topic
    /// of `count` partitions for a broadcast.
    static func partitions(of emit: Emit, count: Int32) -> [Int32?] {
        emit.broadcast ? (0..<max(1, count)).map { Optional($0) } : [nil]
    }

    private func record(_ topic: String, _ envelope: AnyEnvelope, partition: Int32?) throws -> ProducerRecord {
        var e = envelope
        e.producedAt = Timestamp(ms: clock.wallMs)
        // The record's timestamp is the wall clock (librdkafka's CreateTime): a real cluster's time-based retention
        // counts from when a message was written, not from its 2024 event time (which stays in the envelope).
        return ProducerRecord(topic: topic, key: Array(e.partitionKey.utf8), value: try e.encoded(), partition: partition)
    }

    private func deadLetter(_ raw: [UInt8], key: [UInt8]?, at p: PartitionID, offset: Int64, time: Int64?, error: Error) -> ProducerRecord {
        let me = (error as? MessageError) ?? MessageError(.invalid, "\(error)")
        Counter(label: "ops_dead_letters_total", dimensions: [("topic", p.topic), ("kind", me.kind.rawValue)]).increment()
        logger.warning("dead letter", metadata: ["kafka.topic": .string(p.topic), "kafka.partition": .stringConvertible(p.partition),
                                                 "kafka.offset": .stringConvertible(offset), "dlq.kind": .string(me.kind.rawValue),
                                                 "dlq.reason": .string(me.reason)])
        let dl = DeadLetter(topic: p.topic, partition: p.partition, offset: offset, key: key, original: raw, error: me, service: core.serviceName)
        let env = Envelope(id: dl.id, eventTime: Timestamp(ms: time ?? 0), causationId: nil, source: core.serviceName, payload: dl).erased()
        // A dead letter always encodes: its fields are strings and integers.
        return try! record(Topics.deadLetter, env, partition: nil)
    }
}

// MARK: - Commits

extension StreamMachine {
    /// The offsets to commit now that the round's records are acknowledged: every owned partition whose committable
    /// offset moved (and all owned ones when a new snapshot's place must be carried), with their metadata. Empty while
    /// a failed commit's backoff runs, or after a rebalance error until the next assignment. While inputs keep coming
    /// (`idle` false), progress waits up to `commitIntervalMs` for a round that finds nothing new: a burst of rounds
    /// (a market minute) commits once, after it.
    mutating func commitDue(clock: MachineClock, idle: Bool = true) -> [TopicPartitionOffset] {
        guard commitRetry.allows(nowMs: clock.monotonicMs, generation: generation) else { return [] }
        var offsets = [TopicPartitionOffset]()
        // A new snapshot's place goes with every owned partition's commit, moved or not.
        let carry = snapshots.pointer != nil && snapshots.pointer != snapshots.committedPointer
        var due = merger.committable().filter { owned.contains($0.key) && $0.value.offset > (committedOffsets[$0.key] ?? -1) }
        if carry {
            for p in owned where due[p] == nil { if let o = committedOffsets[p] { due[p] = (o, nil) } }
        }
        guard !due.isEmpty else { return [] }
        let since = uncommittedSinceMs ?? clock.monotonicMs
        uncommittedSinceMs = since
        // A snapshot is of use to a restart only once a commit points to it: that commit does not wait.
        if !idle, !carry, clock.monotonicMs - since < settings.commitIntervalMs { return [] }
        let earliest = merger.earliestPendingTimes()
        for (p, c) in due.sorted(by: { $0.key < $1.key }) {
            var meta = CommitMetadata(committedMetadata[p]) ?? CommitMetadata()
            if let last = c.lastReleased {
                let boundary = core.restoreStart(topic: p.topic, after: last)
                meta.lastProcessed = last
                if boundary <= .distantPast {
                    meta.restoreOffset = 0
                } else if restoreLog[p]?.covers(boundary) ?? true {
                    meta.restoreOffset = min(restoreLog[p]?.firstOffset(atOrAfter: boundary) ?? c.offset, c.offset)
                } else {
                    // Started from a snapshot: where the state began is not known here; keep what was known (or all).
                    meta.restoreOffset = meta.restoreOffset ?? 0
                }
            }
            // The partition's watermark goes with the offset: a restart that resumes after the last watermark
            // message must not wait for a new one (upstream may be waiting on this service). It covers only what lies
            // before the offset: inputs still pending from the offset on are read again after a restart, and a floor
            // at or past their times would refuse them as late.
            if c.offset > (committedOffsets[p] ?? -1), let w = merger.watermark(of: p) {
                meta.watermark = earliest[p].map { min(w, $0.adding(ms: -1)) } ?? w
            }
            meta.snapshot = snapshots.pointer
            offsets.append(TopicPartitionOffset(topic: p.topic, partition: p.partition, offset: c.offset, metadata: meta.text))
        }
        uncommittedSinceMs = nil
        return offsets
    }

    /// The broker took the commit.
    mutating func committed(_ offsets: [TopicPartitionOffset]) {
        if commitRetry.failures > 0 { logger.info("commit succeeded", metadata: ["retry.attempt": .stringConvertible(commitRetry.failures + 1)]) }
        commitRetry.succeeded()
        snapshots.committedPointer = snapshots.pointer
        for o in offsets {
            let p = PartitionID(o.topic, o.partition)
            committedOffsets[p] = o.offset
            if let m = o.metadata { committedMetadata[p] = m }
        }
    }

    /// A failed commit never stops the loop: the offsets stay uncommitted and a later round commits the progress made
    /// by then. After a rebalance error they are not committed again until the rebalance has run: the partitions may
    /// have moved, and the new assignment re-reads from the last commit (outputs are idempotent by id). `unit` is the
    /// backoff's random draw in 0..<1.
    mutating func commitFailed(_ e: KafkaError, clock: MachineClock, unit: Double) {
        let delay = commitRetry.failed(e.action, nowMs: clock.monotonicMs, generation: generation, backoff: settings.retry.backoff, unit: unit)
        Counter(label: "ops_kafka_retries_total", dimensions: [("operation", "commit"), ("error", e.codeName)]).increment()
        let message: Logger.Message = e.action == .rejoin
            ? "commit refused: the group is rebalancing; holding commits until the new assignment"
            : "commit failed; retrying"
        logger.warning(message, metadata: [
            "kafka.operation": "commit", "retry.attempt": .stringConvertible(commitRetry.failures),
            "retry.delay_ms": .stringConvertible(delay), "kafka.error": .string("\(e)"),
        ])
    }
}

// MARK: - Snapshots

extension StreamMachine {
    /// The core's state as a record for `ops.snapshots.v1` when one is due (or, `final`, when anything changed since
    /// the last), once every input it holds has had its outputs acknowledged (the round's send came first) and no
    /// restore is under way; nil otherwise. The driver sends it and reports with `snapshotWritten` or `snapshotFailed`.
    /// `idle`: the round found no input; a due snapshot waits for such a round while the inputs stay near where it
    /// fell due (`SnapshotBook.quietWaitMs`).
    mutating func snapshotDue(final: Bool = false, clock: MachineClock, idle: Bool = true) -> ProducerRecord? {
        self.clock = clock
        guard snapshots.enabled, final ? snapshots.changed : snapshots.due && snapshots.mayTake(idle: idle), restoreReleased(),
              !owned.isEmpty, Set(merger.assignedPartitions) == owned else { return nil }
        let state: String?
        do { state = try core.snapshotState() } catch {
            snapshotFailed("snapshot not taken", error)
            return nil
        }
        guard let state else {
            snapshots.supported = false
            return nil
        }
        var floor = restoreFloor
        for (p, o) in watermarksOnlyUntil { floor[p] = max(floor[p] ?? o, o) }
        let earliest = merger.earliestPendingTimes()
        var marks = [PartitionID: Timestamp]()
        for p in owned where !sideTopics.contains(p.topic) {
            if let w = merger.watermark(of: p) { marks[p] = earliest[p].map { min(w, $0.adding(ms: -1)) } ?? w }
        }
        let starts = snapshots.starts(owned: owned, done: merger.committable().mapValues(\.offset), floor: floor, watermarks: marks)
        let time = snapshots.lastHandledTime ?? .distantPast
        snapshotTime = time
        let payload = StateSnapshot(service: core.serviceName, group: settings.groupId, partitions: starts, state: state)
        let env = Envelope(id: StateSnapshot.id(group: settings.groupId, at: time, partitions: starts), eventTime: time,
                           causationId: nil, source: core.serviceName, payload: payload).erased()
        do { return try record(Topics.snapshots, env, partition: nil) } catch {
            snapshotFailed("snapshot not written; trying again at the next boundary", error)
            return nil
        }
    }

    /// The snapshot record was acknowledged at this place.
    mutating func snapshotWritten(_ report: DeliveryReport, bytes: Int) {
        snapshots.written(SnapshotPointer(partition: report.partition, offset: report.offset))
        snapshotsWritten.increment()
        snapshotBytes.record(bytes)
        logger.debug("snapshot written", metadata: [
            "snapshot.offset": .stringConvertible(report.offset), "snapshot.time": .string(snapshotTime?.iso8601 ?? "-"),
            "snapshot.bytes": .stringConvertible(bytes),
        ])
    }

    /// A snapshot that cannot be taken or written is logged and tried again at the next boundary: it saves reading,
    /// nothing depends on it.
    mutating func snapshotFailed(_ message: Logger.Message, _ error: Error) {
        logger.warning(message, metadata: ["error": .string("\(error)")])
        snapshots.failed()
    }
}

extension PartitionID {
    var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
}

/// A snapshot taken on an assignment: where each partition starts and which inputs it already holds.
struct RestoredSnapshot {
    var starts: [PartitionID: StateSnapshot.PartitionStart]
    var held: [PartitionID: Set<Int64>]
    var pointer: SnapshotPointer
    var time: Timestamp
}

/// Where a partition's first message after an assignment is expected (see `StreamMachine.checkingStarts`).
enum StartCheck {
    case expect(Int64)
    case sought(Int64)
}
