import Foundation
import Kafka
import Logging
import Metrics
import OpsModel

/// How a `StreamProcessor` talks to Kafka and batches its work.
public struct ProcessorSettings: Sendable {
    public var client: KafkaClientConfig
    public var groupId: String
    /// Most messages taken per poll round before handling, producing and committing them.
    public var batchSize: Int = 1000
    public var pollTimeoutMs: Int32 = 100
    /// With watermarks (the default) inputs are merged in event-time order behind the upstream watermarks;
    /// without, each input is handled as soon as it arrives (only for sources that publish none).
    public var useWatermarks: Bool = true
    public var consumerProperties: [String: String] = KafkaConsumerConfig.defaultProperties
    public var producerProperties: [String: String] = KafkaProducerConfig.defaultProperties
    /// Sees every output once it is acknowledged (not those suppressed during a restore): for logging decisions.
    public var observer: (@Sendable (Emit, Logger) -> Void)?
    /// How retriable Kafka errors are retried (backoff, randomness, sleep); only fatal ones end the service.
    public var retry = KafkaRetry()
    /// Inputs the merger may hold waiting for the watermark before the partitions ahead are paused (`PendingLimit`).
    public var maxPending: Int = 100_000
    /// Seconds the input watermark may stand still with inputs waiting before a warning names who is waited on.
    public var stallWarningSeconds: Double = 30
    /// Event-time milliseconds between state snapshots of a core that takes them (`ops.snapshots.v1`); 0: none, a
    /// restart re-reads its inputs from `restoreStart`.
    public var snapshotEveryMs: Int64 = 3_600_000

    public init(client: KafkaClientConfig, groupId: String) { self.client = client; self.groupId = groupId }
}

/// The consume → decode → handle → produce → commit loop every service shares.
///
/// One round: poll a batch; decode each message (what does not decode, has an unknown version, fails
/// validation, conflicts with an applied id or arrives behind its partition's watermark goes to the
/// dead-letter topic with the reason and the original bytes); drop exact duplicates; release what the
/// watermark lets through, in canonical order, to the core; produce the core's outputs and a watermark on
/// every output partition; wait until the broker has acknowledged all of it; only then commit the input
/// offsets (invariant 4). On a (re)assignment the core starts empty and each partition is re-read from where
/// the core says its state begins, with outputs suppressed up to the committed offset (invariant 5).
///
/// Blocking: `run` polls librdkafka and waits for acknowledgements, so it runs on a dedicated thread
/// (see `ProcessorService`), never on the cooperative pool.
public final class StreamProcessor<Core: StreamCore>: @unchecked Sendable {
    private var core: Core
    private let settings: ProcessorSettings
    private let logger: Logger
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
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
    /// Per partition, the offset before which only watermark messages are applied (see `onAssign`).
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
    private var generation = 0
    private var lastWatermarkOut: [String: Timestamp] = [:]
    private let causes: [String: [String: Int64]]
    private let ranks: [String: Int]
    private var observed = [Emit]()
    private var stop = StopFlag()
    /// Commits wait out a backoff after a failure, and after a rebalance error the rebalance itself.
    private var commitRetry = DeferredRetry()
    /// The partitions assigned to this member now (none between a revoke and the next assignment).
    private var owned = Set<PartitionID>()
    private var snapshots: SnapshotBook
    /// Per partition, the offset from which the state holds the inputs handled since the assignment (what a snapshot
    /// taken before anything was read there says).
    private var restoreFloor: [PartitionID: Int64] = [:]
    /// Messages read again since the assignment (offsets before the committed ones), for the "state restored" line.
    private var restoreRead = 0
    private var restoreSource = "topics"
    private let snapshotsWritten = Counter(label: "ops_snapshots_written_total")
    private let snapshotBytes = Gauge(label: "ops_snapshot_bytes")

    private let inCounter: [String: Counter]
    private let outCounter = Counter(label: "ops_messages_out_total")
    private let duplicates = Counter(label: "ops_duplicates_dropped_total")
    private let restored = Counter(label: "ops_restore_messages_total")
    private let pendingGauge = Gauge(label: "ops_pending_events")
    private let watermarkGauge = Gauge(label: "ops_input_watermark_seconds")
    /// Wall-clock seconds the input watermark has not moved while inputs wait behind it.
    private let stallGauge = Gauge(label: "ops_watermark_stall_seconds")
    private var watermarkMovedAt = DispatchTime.now().uptimeNanoseconds
    private var lastInputWatermark: Timestamp?
    private var stallWarnedAt: UInt64 = 0
    private var lag = ConsumerLag()
    /// Partitions paused because the pending buffer is full; after a rebalance, the ones to resume (librdkafka may
    /// keep a partition's pause across a revoke and re-assign).
    private var paused = Set<PartitionID>()
    private var resumeAfterAssign = Set<PartitionID>()
    private let sideTopics: Set<String>
    private let pausedGauge = Gauge(label: "ops_paused_partitions")
    private let batchTimer = Timer(label: "ops_batch_duration")
    private let produceTimer = Timer(label: "ops_produce_duration")
    private let commitTimer = Timer(label: "ops_commit_duration")

    public init(core: Core, settings: ProcessorSettings, logger: Logger) throws {
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
        var cprops = settings.consumerProperties
        cprops["client.id"] = settings.client.clientId
        consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: settings.client, groupId: settings.groupId, properties: cprops), logger: logger)
        producer = try KafkaProducer(config: KafkaProducerConfig(client: settings.client, properties: settings.producerProperties), logger: logger)
    }

    /// Runs until `stop` is set, then commits what is done and leaves the group. Retriable Kafka errors (broker,
    /// coordinator, rebalance) are retried with backoff; only a fatal one is thrown (the supervisor restarts the
    /// service, which resumes from its committed offsets).
    public func run(stop: StopFlag) throws {
        self.stop = stop
        do {
            try consume()
        } catch let e as KafkaError where stop.isStopped && e.action != .fatal {
            // Asked to stop while retrying: what is not committed is read again on the next start.
            logger.info("stopped while retrying a Kafka call", metadata: ["kafka.error": .string("\(e)")])
        }
    }

    private func consume() throws {
        for t in core.inputTopics {
            inputPartitionCounts[t] = Int32(try retrying("metadata") { try consumer.partitionCount(topic: t) })
        }
        // Inputs keyed alike are joined per key: with replicas they must be co-partitioned (same count).
        let keyed = Dictionary(grouping: core.inputTopics.compactMap { t in Topics.spec(t).map { ($0.key, t) } }, by: { $0.0 })
        for (key, topics) in keyed where Set(topics.map { inputPartitionCounts[$0.1] ?? 0 }).count > 1 {
            logger.warning("inputs keyed by \(key) have different partition counts; run a single replica or give them equal counts",
                           metadata: ["kafka.topics": .string(topics.map { "\($0.1)=\(inputPartitionCounts[$0.1] ?? 0)" }.joined(separator: ","))])
        }
        for t in core.outputTopics + [Topics.deadLetter] {
            outputPartitionCounts[t] = Int32(try retrying("metadata") { try producer.partitionCount(topic: t) })
        }
        try consumer.subscribe(topics: core.inputTopics, onAssign: { [unowned self] parts in try self.onAssign(parts) },
                               onRevoke: { [unowned self] parts in self.onRevoke(parts) })
        logger.info("consuming", metadata: ["kafka.topics": .string(core.inputTopics.joined(separator: ",")), "kafka.group": .string(settings.groupId)])
        defer {
            consumer.close()
            producer.close()
        }
        while !stop.isStopped {
            try round()
        }
        // A restart after a deploy then reads the snapshot and nothing before it.
        do {
            try snapshotIfDue(final: true)
            try commit()
        } catch {
            logger.warning("final snapshot or commit failed; a restart reads from the last commit", metadata: ["error": .string("\(error)")])
        }
        logger.info("stopped", metadata: ["kafka.pending": .stringConvertible(merger.pendingCount)])
    }

    /// Retries `body` while its Kafka errors are retriable, logging and counting each retry.
    private func retrying<T>(_ operation: String, _ body: () throws -> T) throws -> T {
        try settings.retry.run(operation, shouldStop: { stop.isStopped }, onRetry: { a in
            Counter(label: "ops_kafka_retries_total", dimensions: [("operation", a.operation), ("error", a.error.codeName)]).increment()
            logger.warning("Kafka call failed; retrying", metadata: [
                "kafka.operation": .string(a.operation), "retry.attempt": .stringConvertible(a.attempt),
                "retry.delay_ms": .stringConvertible(a.delayMs), "kafka.error": .string("\(a.error)"),
            ])
        }, body)
    }

    private func onAssign(_ parts: [TopicPartition]) throws -> [TopicPartitionOffset] {
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
        // Without the committed offsets a partition would restart from a guess: redone or skipped work. Retry until
        // they come (or a fatal error ends the service).
        let committed = try retrying("committed") { try consumer.committed(parts) }
        var byPartition = [PartitionID: TopicPartitionOffset]()
        for c in committed { byPartition[PartitionID(c.topic, c.partition)] = c }
        let snapshot = snapshots.enabled ? restoreSnapshot(committed, assigned: Set(ids)) : nil
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

    private func onRevoke(_ parts: [TopicPartition]) {
        generation += 1
        // A revoked partition's offsets are no longer this member's to commit. Committing them anyway with the old
        // generation fails, and librdkafka answers each such failure by restarting its rejoin: the group never settles.
        owned.subtract(parts.map { PartitionID($0.topic, $0.partition) })
        logger.info("revoked", metadata: ["kafka.partitions": .stringConvertible(parts.count)])
    }

    /// One poll → handle → produce → commit round.
    private func round() throws {
        var batch = [KafkaMessage]()
        var gen = generation
        if let m = try consumer.poll(timeoutMs: settings.pollTimeoutMs) {
            if generation != gen { gen = generation }
            batch.append(m)
        }
        while !batch.isEmpty, batch.count < settings.batchSize {
            guard let m = try consumer.poll(timeoutMs: 0) else { break }
            if generation != gen {
                // A rebalance happened inside this poll: what was collected before belongs to the old
                // assignment and will be read again from the committed offsets.
                batch.removeAll()
                gen = generation
            }
            batch.append(m)
        }
        if !startChecks.isEmpty { batch = try checkingStarts(batch) }
        let start = DispatchTime.now().uptimeNanoseconds
        for m in batch { lag.consumed(m) }
        var out = [ProducerRecord]()
        for m in batch { ingest(m, into: &out) }
        let released = settings.useWatermarks ? merger.release() : merger.releaseAll()
        for e in released { apply(e, into: &out) }
        appendWatermarks(into: &out)
        lag.record(owned: owned, consumer: consumer)
        try limitPending()
        pendingGauge.record(merger.pendingCount)
        if !out.isEmpty {
            // The core has moved on, so these exact records must reach the broker: resend them all (consumers drop
            // the ones delivered twice by id).
            let t = DispatchTime.now().uptimeNanoseconds
            _ = try retrying("produce") { try producer.send(out) }
            produceTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - t))
            outCounter.increment(by: out.count)
        }
        if let observer = settings.observer { for e in observed { observer(e, logger) } }
        observed.removeAll()
        let c = DispatchTime.now().uptimeNanoseconds
        try commit()
        commitTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - c))
        if generation == gen { try snapshotIfDue() }
        if !batch.isEmpty { batchTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start)) }
    }

    /// librdkafka 2.0.2, given back partitions it has just been asked to give up (a quick eager revoke and re-assign,
    /// as in a rebalance storm), can go on fetching from where it was and ignore the start offset assigned: a restore
    /// would then skip what it must re-read (seen: asked for 0, delivered from 14). So the first message of each
    /// partition is checked against the offset asked for; on a mismatch the partition is sought there (once: on a
    /// compacted topic the offset may be gone) and what was already collected of it is dropped.
    private func checkingStarts(_ batch: [KafkaMessage]) throws -> [KafkaMessage] {
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
                try retrying("seek") { try consumer.seek([TopicPartitionOffset(topic: p.topic, partition: p.partition, offset: want)]) }
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
    private func limitPending() throws {
        if !resumeAfterAssign.isEmpty {
            let again = resumeAfterAssign.intersection(owned)
            resumeAfterAssign = []
            try retrying("resume") { try consumer.resume(again.map { TopicPartition(topic: $0.topic, partition: $0.partition) }) }
        }
        guard settings.useWatermarks else { return }
        let owned = self.owned
        var marks = [PartitionID: Timestamp?]()
        if merger.pendingCount >= settings.maxPending / 2 { for p in owned { marks[p] = merger.watermark(of: p) } }
        let want = PendingLimit(limit: settings.maxPending).paused(pending: merger.pendingCount, inputWatermark: merger.inputWatermark,
                                                                   watermarks: marks, sideTopics: sideTopics, pausedNow: paused)
        guard want != paused else { return }
        let pause = want.subtracting(paused), resume = paused.subtracting(want)
        try retrying("pause") { try consumer.pause(pause.map { TopicPartition(topic: $0.topic, partition: $0.partition) }) }
        try retrying("resume") { try consumer.resume(resume.map { TopicPartition(topic: $0.topic, partition: $0.partition) }) }
        logger.log(level: paused.isEmpty ? .info : .debug, paused.isEmpty ? "pending buffer full: pausing the partitions ahead of the watermark" : "pending buffer: partitions paused", metadata: [
            "kafka.pending": .stringConvertible(merger.pendingCount), "kafka.paused": .string(want.sorted().map(\.description).joined(separator: ",")),
        ])
        paused = want
        pausedGauge.record(paused.count)
    }

    private func isRestoring(_ p: PartitionID, _ offset: Int64) -> Bool { offset < (restoreUntil[p] ?? -1) }

    private func ingest(_ m: KafkaMessage, into out: inout [ProducerRecord]) {
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

    private func apply(_ e: PendingEvent, into out: inout [ProducerRecord]) {
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
            out += records
            observed += emits
        } catch {
            if !restoring {
                out.append(deadLetter(e.raw, key: e.rawKey, at: e.source, offset: e.offset, time: e.envelope.eventTime.ms, error: error))
            }
        }
    }

    /// After a round, every output topic gets a watermark on each partition when its promise has moved: what
    /// the core can still emit there, given its pending inputs, its inputs' watermarks (`outputCauses`) and what its
    /// state rules out (`lookahead`).
    private func appendWatermarks(into out: inout [ProducerRecord]) {
        guard settings.useWatermarks else { return }
        if let iw = merger.inputWatermark { watermarkGauge.record(Double(iw.ms) / 1000) }
        noteStall()
        var byTopic = [String: [Int32]]()
        for p in merger.assignedPartitions { byTopic[p.topic, default: []].append(p.partition) }
        let covers = byTopic.keys.sorted().map { Watermark.Coverage(topic: $0, partitions: byTopic[$0]!.sorted(), of: inputPartitionCounts[$0] ?? 1) }
        let wm = Watermark(producer: core.serviceName, covers: covers)
        let lookahead = restoreReleased() ? core.lookahead : nil
        for topic in core.outputTopics where Topics.spec(topic)?.watermarked ?? true {
            guard let w = merger.outputWatermark(causes: causes[topic] ?? [:], lookahead: lookahead, output: topic), w < .distantFuture,
                  w > (lastWatermarkOut[topic] ?? .distantPast) else { continue }
            for part in 0..<(outputPartitionCounts[topic] ?? 1) {
                let env = Envelope(id: Watermark.id(producer: core.serviceName, topic: topic, partition: part, time: w),
                                   eventTime: w, causationId: nil, source: core.serviceName, payload: wm).erased()
                if let r = try? record(topic, env, partition: part) { out.append(r) }
            }
            lastWatermarkOut[topic] = w
        }
    }

    /// A watermark that stops moving while inputs wait is a stalled upstream: measured (`ops_watermark_stall_seconds`)
    /// and, past `stallWarning` seconds, logged every so often naming the partition and the service whose promise holds
    /// it back (nil watermark: a service never heard from).
    private func noteStall() {
        let now = DispatchTime.now().uptimeNanoseconds
        let iw = merger.inputWatermark
        if iw != lastInputWatermark || merger.pendingCount == 0 {
            lastInputWatermark = iw
            watermarkMovedAt = now
            stallGauge.record(0)
            return
        }
        let stalled = Double(now - watermarkMovedAt) / 1e9
        stallGauge.record(stalled)
        guard stalled >= settings.stallWarningSeconds, Double(now - stallWarnedAt) / 1e9 >= settings.stallWarningSeconds,
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
    private func restoreReleased() -> Bool {
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
        e.producedAt = Timestamp(ms: Int64(Date().timeIntervalSince1970 * 1000))
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

    private func commit() throws {
        let now = Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000)
        guard commitRetry.allows(nowMs: now, generation: generation) else { return }
        var offsets = [TopicPartitionOffset]()
        // A new snapshot's place goes with every owned partition's commit, moved or not.
        let carry = snapshots.pointer != nil && snapshots.pointer != snapshots.committedPointer
        var due = merger.committable().filter { owned.contains($0.key) && $0.value.offset > (committedOffsets[$0.key] ?? -1) }
        if carry {
            for p in owned where due[p] == nil { if let o = committedOffsets[p] { due[p] = (o, nil) } }
        }
        guard !due.isEmpty else { return }
        let earliest = merger.earliestPendingTimes()
        for (p, c) in due {
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
        guard !offsets.isEmpty else { return }
        do {
            try consumer.commit(offsets)
        } catch let e as KafkaError where e.action != .fatal {
            commitFailed(e, now: now)
            return
        }
        if commitRetry.failures > 0 { logger.info("commit succeeded", metadata: ["retry.attempt": .stringConvertible(commitRetry.failures + 1)]) }
        commitRetry.succeeded()
        snapshots.committedPointer = snapshots.pointer
        for o in offsets {
            let p = PartitionID(o.topic, o.partition)
            committedOffsets[p] = o.offset
            if let m = o.metadata { committedMetadata[p] = m }
        }
    }
}

extension StreamProcessor {
    /// A failed commit never stops the loop: the offsets stay uncommitted and a later round commits the progress made
    /// by then. After a rebalance error they are not committed again until the rebalance has run: the partitions may
    /// have moved, and the new assignment re-reads from the last commit (outputs are idempotent by id).
    fileprivate func commitFailed(_ e: KafkaError, now: Int64) {
        let delay = commitRetry.failed(e.action, nowMs: now, generation: generation, backoff: settings.retry.backoff, unit: settings.retry.random())
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

/// A snapshot taken on an assignment: where each partition starts and which inputs it already holds.
struct RestoredSnapshot {
    var starts: [PartitionID: StateSnapshot.PartitionStart]
    var held: [PartitionID: Set<Int64>]
    var pointer: SnapshotPointer
    var time: Timestamp
}

extension StreamProcessor {
    /// The latest snapshot the commits point to, restored into the core (just reset); nil, with a line saying why, when
    /// there is none or it cannot be taken — the state is then rebuilt from the topics as without snapshots.
    fileprivate func restoreSnapshot(_ committed: [TopicPartitionOffset], assigned: Set<PartitionID>) -> RestoredSnapshot? {
        guard let pointer = committed.compactMap({ CommitMetadata($0.metadata)?.snapshot }).max() else { return nil }
        func refuse(_ why: String) -> RestoredSnapshot? {
            logger.warning("snapshot not used; rebuilding the state from the topics", metadata: [
                "snapshot.offset": .stringConvertible(pointer.offset), "snapshot.reason": .string(why),
            ])
            core.reset()
            return nil
        }
        let messages: [KafkaMessage]
        do {
            messages = try retrying("read snapshot") {
                try TopicReader.read(client: settings.client, topic: Topics.snapshots, partition: pointer.partition, from: pointer.offset, logger: logger)
            }
        } catch { return refuse("not readable: \(error)") }
        guard let (s, at, time) = SnapshotBook.latest(messages, group: settings.groupId) else {
            return refuse("no snapshot of group \(settings.groupId) from \(Topics.snapshots)/\(pointer.partition)@\(pointer.offset) on")
        }
        guard s.service == core.serviceName else { return refuse("written by \(s.service), not \(core.serviceName)") }
        let starts = Dictionary(s.partitions.map { (PartitionID($0.topic, $0.partition), $0) }, uniquingKeysWith: { a, _ in a })
        guard Set(starts.keys) == assigned else {
            return refuse("it covers \(starts.keys.sorted().map(\.description).joined(separator: ",")); assigned: \(assigned.sorted().map(\.description).joined(separator: ","))")
        }
        do { try core.restoreState(s.state) } catch { return refuse("\(error)") }
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
    fileprivate func startFromSnapshot(_ s: StateSnapshot.PartitionStart, _ id: PartitionID) -> TopicPartitionOffset {
        guard s.next >= 0 else { return TopicPartitionOffset(topic: id.topic, partition: id.partition, offset: KafkaOffset.beginning) }
        restoreFloor[id] = s.next
        restoreLog[id] = RestoreLog(partial: true)
        if let w = s.watermark { merger.restoreWatermark(w, at: id) }
        watermarksOnlyUntil[id] = s.next
        return TopicPartitionOffset(topic: id.topic, partition: id.partition, offset: max(0, s.next - Self.snapshotRewind))
    }

    /// Writes the core's state to `ops.snapshots.v1` when one is due (or, `final`, when anything changed since the
    /// last), once every input it holds has had its outputs acknowledged (the round's send came first) and no restore
    /// is under way. A snapshot that cannot be written is logged and tried again at the next boundary: it saves
    /// reading, nothing depends on it.
    fileprivate func snapshotIfDue(final: Bool = false) throws {
        guard snapshots.enabled, final ? snapshots.changed : snapshots.due, restoreReleased(), !owned.isEmpty,
              Set(merger.assignedPartitions) == owned else { return }
        let state: String?
        do { state = try core.snapshotState() } catch {
            logger.warning("snapshot not taken", metadata: ["error": .string("\(error)")])
            snapshots.failed()
            return
        }
        guard let state else {
            snapshots.supported = false
            return
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
        let payload = StateSnapshot(service: core.serviceName, group: settings.groupId, partitions: starts, state: state)
        let env = Envelope(id: StateSnapshot.id(group: settings.groupId, at: time, partitions: starts), eventTime: time,
                           causationId: nil, source: core.serviceName, payload: payload).erased()
        do {
            let r = try record(Topics.snapshots, env, partition: nil)
            guard let report = try producer.send([r]).first else { return }
            snapshots.written(SnapshotPointer(partition: report.partition, offset: report.offset))
            snapshotsWritten.increment()
            snapshotBytes.record(r.value.count)
            logger.debug("snapshot written", metadata: [
                "snapshot.offset": .stringConvertible(report.offset), "snapshot.time": .string(time.iso8601),
                "snapshot.bytes": .stringConvertible(r.value.count),
            ])
        } catch let e as KafkaError where e.action == .fatal {
            throw e
        } catch {
            logger.warning("snapshot not written; trying again at the next boundary", metadata: ["error": .string("\(error)")])
            snapshots.failed()
        }
    }
}

/// What a commit records besides the offset (`t=<ms>;r=<offset>;w=<ms>;s=<offset>;sp=<partition>`, parts optional):
/// the event time of the last input processed from the partition, the offset from which re-reading rebuilds the core's
/// state, the partition's watermark at the commit, and where the service's latest snapshot lies.
struct CommitMetadata: Equatable {
    var lastProcessed: Timestamp?
    var restoreOffset: Int64?
    var watermark: Timestamp?
    /// The latest snapshot of the service's state (`s=<offset>;sp=<partition>` of `ops.snapshots.v1`).
    var snapshot: SnapshotPointer?

    init(lastProcessed: Timestamp? = nil, restoreOffset: Int64? = nil, watermark: Timestamp? = nil, snapshot: SnapshotPointer? = nil) {
        self.lastProcessed = lastProcessed; self.restoreOffset = restoreOffset; self.watermark = watermark; self.snapshot = snapshot
    }

    init?(_ text: String?) {
        guard let text, !text.isEmpty else { return nil }
        for part in text.split(separator: ";") {
            guard let eq = part.firstIndex(of: "="), let v = Int64(part[part.index(after: eq)...]) else { return nil }
            switch part[..<eq] {
            case "t": lastProcessed = Timestamp(ms: v)
            case "r": restoreOffset = v
            case "w": watermark = Timestamp(ms: v)
            case "s": snapshot = SnapshotPointer(partition: snapshot?.partition ?? 0, offset: v)
            case "sp": snapshot = SnapshotPointer(partition: Int32(clamping: v), offset: snapshot?.offset ?? 0)
            default: return nil
            }
        }
    }

    var text: String {
        var parts = [String]()
        if let lastProcessed { parts.append("t=\(lastProcessed.ms)") }
        if let restoreOffset { parts.append("r=\(restoreOffset)") }
        if let watermark { parts.append("w=\(watermark.ms)") }
        if let snapshot { parts.append("s=\(snapshot.offset);sp=\(snapshot.partition)") }
        return parts.joined(separator: ";")
    }
}

/// (event time, offset) of the messages consumed from one partition, oldest first, so the offset where a
/// restore must start can be found without the broker's ListOffsets-by-time (librdkafka's mock lacks it).
struct RestoreLog {
    private var times: [Int64] = []
    private var offsets: [Int64] = []
    private var start = 0
    /// Begun mid-partition (after a snapshot's start): nothing is known of the messages before its first.
    private var partial = false
    private var firstTime: Int64?

    init(partial: Bool = false) { self.partial = partial }

    /// Whether the log can say where a re-read from `boundary` starts: it is complete, or began before it.
    func covers(_ boundary: Timestamp) -> Bool {
        guard partial else { return true }
        guard let firstTime else { return false }
        return boundary.ms > firstTime
    }

    mutating func append(_ t: Timestamp, _ offset: Int64) {
        if firstTime == nil { firstTime = t.ms }
        times.append(t.ms)
        offsets.append(offset)
    }

    /// The offset of the first message at or after `boundary`, forgetting older ones.
    mutating func firstOffset(atOrAfter boundary: Timestamp) -> Int64? {
        while start < times.count, times[start] < boundary.ms { start += 1 }
        if start > 4096, start * 2 > times.count {
            times.removeFirst(start)
            offsets.removeFirst(start)
            start = 0
        }
        return start < offsets.count ? offsets[start] : nil
    }
}

/// Where a partition's first message after an assignment is expected (see `StreamProcessor.checkingStarts`).
private enum StartCheck {
    case expect(Int64)
    case sought(Int64)
}

/// How far behind its input partitions a service reads (`ops_consumer_lag_messages`, `ops_consumer_lag_seconds` per
/// topic and partition): messages between what it has read and the partition's end as librdkafka last heard it, and
/// wall-clock seconds since the last message it read was written (Kafka record times are the producers' wall clock),
/// 0 when it has read everything. Recorded at most once a second.
struct ConsumerLag {
    private var next = [PartitionID: Int64]()
    private var writtenAt = [PartitionID: Int64]()
    private var gauges = [PartitionID: (messages: Gauge, seconds: Gauge)]()
    private var recordedAt: UInt64 = 0

    mutating func consumed(_ m: KafkaMessage) {
        let p = PartitionID(m.topic, m.partition)
        next[p] = max(next[p] ?? 0, m.offset + 1)
        if let t = m.timestampMs { writtenAt[p] = t }
    }

    mutating func record(owned: Set<PartitionID>, consumer: KafkaConsumer) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - recordedAt >= 1_000_000_000 else { return }
        recordedAt = now
        let wallMs = Int64(Date().timeIntervalSince1970 * 1000)
        for p in owned {
            guard let high = consumer.cachedHighOffset(topic: p.topic, partition: p.partition) else { continue }
            let behind = Self.behind(high: high, next: next[p])
            let g = gauges[p] ?? (Gauge(label: "ops_consumer_lag_messages", dimensions: [("topic", p.topic), ("partition", "\(p.partition)")]),
                                  Gauge(label: "ops_consumer_lag_seconds", dimensions: [("topic", p.topic), ("partition", "\(p.partition)")]))
            gauges[p] = g
            g.messages.record(behind)
            g.seconds.record(Self.seconds(behind: behind, lastWrittenMs: writtenAt[p], nowMs: wallMs))
        }
    }

    /// Messages not yet read: nothing read yet counts the whole partition (from 0: the earliest retained is not known
    /// without a request, so this is an upper bound then).
    static func behind(high: Int64, next: Int64?) -> Int64 { max(0, high - (next ?? 0)) }

    /// Seconds behind: 0 when caught up, else how long ago the last message read was written (the next one is at least
    /// that old); unknown (nothing read yet) counts as 0 until a first message is read.
    static func seconds(behind: Int64, lastWrittenMs: Int64?, nowMs: Int64) -> Double {
        guard behind > 0, let t = lastWrittenMs else { return 0 }
        return Double(max(0, nowMs - t)) / 1000
    }
}
