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
    /// While inputs keep coming, offsets are committed at most this often (ms); a round whose poll found nothing commits
    /// at once. A commit is a synchronous round trip (0.3–3 ms on the embedded broker) before the next poll: made every
    /// round, it sat between a minute's rounds, on the path from a bar to its decision. What is done but not yet
    /// committed is only read again after a crash, and outputs are idempotent by id (invariant 4 is unchanged:
    /// nothing is committed before its outputs are acknowledged).
    public var commitIntervalMs: Int64 = ProcessorSettings.defaultCommitIntervalMs
    public static let defaultCommitIntervalMs: Int64 = 200
    /// Seconds the input watermark may stand still with inputs waiting before a warning names who is waited on.
    public var stallWarningSeconds: Double = 30
    /// Event-time milliseconds between state snapshots of a core that takes them (`ops.snapshots.v1`); 0: none, a
    /// restart re-reads its inputs from `restoreStart`.
    public var snapshotEveryMs: Int64 = 3_600_000
    /// How the input partitions come to this process: by joining the consumer group (replicas share them out), or
    /// all of them at once without a group (one replica only: it starts without waiting for a group to form).
    public var assignment: PartitionAssignment = .group

    public init(client: KafkaClientConfig, groupId: String) { self.client = client; self.groupId = groupId }
}

/// How a service gets its input partitions.
public enum PartitionAssignment: String, Sendable, CaseIterable {
    /// Join the consumer group: replicas share the partitions out, and a rebalance moves them between replicas.
    case group
    /// Take every partition of every input without joining a group, starting from the group's committed offsets.
    /// Only for a service run as one replica: a group's first join waits for other members to turn up (3 s on the
    /// embedded broker), which this skips. Commits still go to the group, so a restart — in either mode — resumes
    /// where this one left off.
    case all

    /// The service config key that chooses it (`--set assignment=all`).
    public static let configKey = ConfigKey("assignment", .string, default: PartitionAssignment.group.rawValue,
                                            help: "group: join the consumer group (replicas share the partitions); all: read every input partition without a group (one replica only; starts without the group's join wait)",
                                            choices: allCases.map(\.rawValue))

    /// `--set` arguments that choose it.
    public var setting: [String] { ["--set", "\(Self.configKey.name)=\(rawValue)"] }
}

/// The consume → decode → handle → produce → commit loop every service shares: the driver of a `StreamMachine`
/// (which makes every decision) against librdkafka.
///
/// One round: poll a batch; hand it to the machine; carry out its partition controls; produce its records and wait
/// until the broker has acknowledged all of them; only then commit the offsets it names (invariant 4), and write a
/// snapshot when one is due. Retriable Kafka errors are retried here (`retrying`), so the machine never sees them.
///
/// Blocking: `run` polls librdkafka and waits for acknowledgements, so it runs on a dedicated thread
/// (see `ProcessorService`), never on the cooperative pool.
public final class StreamProcessor<Core: StreamCore>: @unchecked Sendable {
    private var machine: StreamMachine<Core>
    private let settings: ProcessorSettings
    private let logger: Logger
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private var stop = StopFlag()
    private var lag = ConsumerLag()
    private let inputTopics: [String]
    private let outputTopics: [String]
    private let batchTimer = Timer(label: "ops_batch_duration")
    private let produceTimer = Timer(label: "ops_produce_duration")
    private let commitTimer = Timer(label: "ops_commit_duration")

    public init(core: Core, settings: ProcessorSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        inputTopics = core.inputTopics
        outputTopics = core.outputTopics
        machine = StreamMachine(core: core, settings: settings, logger: logger)
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
        var inputs = [String: Int32](), outputs = [String: Int32]()
        for t in inputTopics {
            inputs[t] = Int32(try retrying("metadata") { try consumer.partitionCount(topic: t) })
        }
        // Inputs keyed alike are joined per key: with replicas they must be co-partitioned (same count).
        let keyed = Dictionary(grouping: inputTopics.compactMap { t in Topics.spec(t).map { ($0.key, t) } }, by: { $0.0 })
        for (key, topics) in keyed where Set(topics.map { inputs[$0.1] ?? 0 }).count > 1 {
            logger.warning("inputs keyed by \(key) have different partition counts; run a single replica or give them equal counts",
                           metadata: ["kafka.topics": .string(topics.map { "\($0.1)=\(inputs[$0.1] ?? 0)" }.joined(separator: ","))])
        }
        for t in outputTopics + [Topics.deadLetter] {
            outputs[t] = Int32(try retrying("metadata") { try producer.partitionCount(topic: t) })
        }
        machine.partitionCounts(inputs: inputs, outputs: outputs)
        switch settings.assignment {
        case .group:
            try consumer.subscribe(topics: inputTopics, onAssign: { [unowned self] parts in try self.onAssign(parts) },
                                   onRevoke: { [unowned self] parts in self.machine.revoked(parts) })
        case .all:
            let parts = TopicPartition.all(inputTopics.map { ($0, inputs[$0] ?? 0) })
            try consumer.assign(try onAssign(parts))
        }
        logger.info("consuming", metadata: ["kafka.topics": .string(inputTopics.joined(separator: ",")), "kafka.group": .string(settings.groupId),
                                            "kafka.assignment": .string(settings.assignment.rawValue)])
        defer {
            consumer.close()
            producer.close()
        }
        while !stop.isStopped {
            try round()
        }
        // A restart after a deploy then reads the snapshot and nothing before it.
        do {
            try writeSnapshot(final: true)
            try commit()
        } catch {
            logger.warning("final snapshot or commit failed; a restart reads from the last commit", metadata: ["error": .string("\(error)")])
        }
        logger.info("stopped", metadata: ["kafka.pending": .stringConvertible(machine.pendingCount)])
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

    /// Fetches what the machine needs to take the assignment: the committed offsets (without them a partition would
    /// restart from a guess, so they are retried until they come) and the snapshot they point to.
    private func onAssign(_ parts: [TopicPartition]) throws -> [TopicPartitionOffset] {
        let committed = try retrying("committed") { try consumer.committed(parts) }
        var read: SnapshotRead?
        if let pointer = machine.snapshotToRead(committed) {
            do {
                read = .messages(try retrying("read snapshot") {
                    try TopicReader.read(client: settings.client, topic: Topics.snapshots, partition: pointer.partition, from: pointer.offset, logger: logger)
                })
            } catch {
                read = .unreadable("\(error)")
            }
        }
        return machine.assigned(parts, committed: committed, snapshot: read)
    }

    /// One poll → handle → produce → commit round.
    private func round() throws {
        var batch = [KafkaMessage]()
        var gen = machine.generation
        if let m = try consumer.poll(timeoutMs: settings.pollTimeoutMs) {
            if machine.generation != gen { gen = machine.generation }
            batch.append(m)
        }
        while !batch.isEmpty, batch.count < settings.batchSize {
            guard let m = try consumer.poll(timeoutMs: 0) else { break }
            if machine.generation != gen {
                // A rebalance happened inside this poll: what was collected before belongs to the old
                // assignment and will be read again from the committed offsets.
                batch.removeAll()
                gen = machine.generation
            }
            batch.append(m)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        for m in batch { lag.consumed(m) }
        let actions = machine.round(batch, clock: .now)
        lag.record(owned: machine.owned, consumer: consumer)
        for c in actions.control { try control(c) }
        if !actions.produce.isEmpty {
            // The core has moved on, so these exact records must reach the broker: resend them all (consumers drop
            // the ones delivered twice by id).
            let t = DispatchTime.now().uptimeNanoseconds
            _ = try retrying("produce") { try producer.send(actions.produce) }
            produceTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - t))
        }
        if let observer = settings.observer { for e in actions.observed { observer(e, logger) } }
        let c = DispatchTime.now().uptimeNanoseconds
        try commit(idle: batch.isEmpty)
        commitTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - c))
        if machine.generation == gen { try writeSnapshot(idle: batch.isEmpty) }
        if !batch.isEmpty { batchTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start)) }
    }

    private func control(_ c: PartitionControl) throws {
        switch c {
        case .seek(let o): try retrying("seek") { try consumer.seek([o]) }
        case .pause(let parts): try retrying("pause") { try consumer.pause(parts) }
        case .resume(let parts): try retrying("resume") { try consumer.resume(parts) }
        }
    }

    private func commit(idle: Bool = true) throws {
        let clock = MachineClock.now
        let offsets = machine.commitDue(clock: clock, idle: idle)
        guard !offsets.isEmpty else { return }
        do {
            try consumer.commit(offsets)
        } catch let e as KafkaError where e.action == .rejoin && settings.assignment == .all {
            // No assignment will come to end it: the group has members (another replica), which owns these commits.
            throw ConfigError("\(PartitionAssignment.configKey.name)=all, but group \(settings.groupId) has members of its own (\(e)): two processes would read the same "
                + "partitions; run one process, or every replica with \(PartitionAssignment.configKey.name)=group")
        } catch let e as KafkaError where e.action != .fatal {
            machine.commitFailed(e, clock: clock, unit: settings.retry.random())
            return
        }
        machine.committed(offsets)
    }

    private func writeSnapshot(final: Bool = false, idle: Bool = true) throws {
        guard let r = machine.snapshotDue(final: final, clock: .now, idle: idle) else { return }
        do {
            guard let report = try producer.send([r]).first else { return }
            machine.snapshotWritten(report, bytes: r.value.count)
        } catch let e as KafkaError where e.action == .fatal {
            throw e
        } catch {
            machine.snapshotFailed("snapshot not written; trying again at the next boundary", error)
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
