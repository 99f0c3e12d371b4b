import Foundation
import Kafka
import Logging
import Metrics
import OpsModel

/// One message a source publishes: already-encoded bytes, so a replay republishes exactly what was recorded.
public struct SourceItem: Sendable {
    public var topic: String
    public var key: String
    public var value: [UInt8]
    public var eventTime: Timestamp
    public init(topic: String, key: String, value: [UInt8], eventTime: Timestamp) {
        self.topic = topic; self.key = key; self.value = value; self.eventTime = eventTime
    }

    /// Wraps an envelope as a source publishes it, stamping `produced_at` with the wall clock.
    public init(topic: String, envelope: AnyEnvelope, producedAt: Timestamp?) throws {
        var e = envelope
        e.producedAt = producedAt
        self.init(topic: topic, key: e.partitionKey, value: try e.encoded(), eventTime: e.eventTime)
    }
}

/// How fast a source replays event time.
public enum Pacing: Sendable, Equatable, CustomStringConvertible {
    case max
    case realtime
    case factor(Double)

    /// `max`, `realtime`, or `Nx` (e.g. `60x`).
    public init?(_ text: String) {
        switch text.lowercased() {
        case "max": self = .max
        case "realtime", "1x": self = .realtime
        default:
            guard text.lowercased().hasSuffix("x"), let f = Double(text.dropLast()), f > 0, f.isFinite else { return nil }
            self = .factor(f)
        }
    }

    public var description: String {
        switch self { case .max: "max"; case .realtime: "realtime"; case .factor(let f): "\(f)x" }
    }

    /// `--pace-from`: an ISO-8601 instant with a zone; the error says what to type.
    public static func paceFrom(_ text: String) throws(ConfigError) -> Timestamp {
        guard let t = Timestamp(iso8601: text) else {
            throw ConfigError("--pace-from takes an ISO-8601 instant with a zone, e.g. 2024-03-04T14:30:00-05:00; got '\(text)'")
        }
        return t
    }

    /// Event-time gaps at least this long are the market being closed (a night, a weekend, the year of daily IV
    /// history before a run): they are not waited for at all, so pacing replays trading time only.
    public static let closedGapSeconds = 3_600.0

    /// Wall-clock seconds to wait between publishing the minute at `previous` and the one at `t`: nothing before
    /// `paceFrom` (those go at full speed), and only for the event time from `paceFrom` on.
    public func wait(from previous: Timestamp, to t: Timestamp, paceFrom: Timestamp?) -> Double {
        if let paceFrom, t <= paceFrom { return 0 }
        return wait(forEventSeconds: Double(t.ms - Swift.max(previous.ms, paceFrom?.ms ?? previous.ms)) / 1000)
    }

    /// Wall-clock seconds to wait for `eventSeconds` of event time.
    func wait(forEventSeconds s: Double) -> Double {
        guard s < Self.closedGapSeconds else { return 0 }
        switch self {
        case .max: return 0
        case .realtime: return s
        case .factor(let f): return s / f
        }
    }
}

public struct PublishStats: Sendable {
    public var messages: [String: Int] = [:]
    public var watermarks = 0
    public var deadLetters = 0
    public var first: Timestamp?
    public var last: Timestamp?
}

/// Publishes a source's items in event-time order, one event-time group at a time, each group followed by a
/// watermark on every partition of every source topic (so consumers that join topics know the minute is
/// complete, and idle partitions still advance) — at full speed only on the partitions it wrote, each promised up to
/// its next item (`SourceLookahead`). Each group is acknowledged by the broker before the next. When
/// paced, the wait for the next group starts with a watermark just before it on the partitions that group writes
/// to, and at its time on the others (which then get nothing when it goes out).
public final class SourcePublisher {
    public let producer: KafkaProducer
    public let sourceName: String
    public let topics: [String]
    let logger: Logger
    private var partitions: [String: Int32] = [:]
    /// Whose watermarks a topic carries when it is not the source's own (a replay of recorded broker topics speaks
    /// for the broker-gateway, whose watermarks their consumers wait for).
    public var producerOf: [String: String] = [:]
    /// Holds each batch back while a consumer group lags too far (`--pace-groups`); nil: full speed.
    public var gate: LagGate?
    private var stopFlag: StopFlag?

    /// Where each keyed item lands, chosen here with the producer's own partitioner (nil: one that does not follow
    /// the key, and every partition is promised only up to just before the next minute).
    private let partitioner: KafkaPartitioner?

    public init(client: KafkaClientConfig, sourceName: String, topics: [String], logger: Logger) throws {
        let config = KafkaProducerConfig(client: client)
        self.producer = try KafkaProducer(config: config, logger: logger)
        self.partitioner = KafkaPartitioner(config)
        self.sourceName = sourceName
        self.topics = topics
        self.logger = logger
        for t in topics { partitions[t] = Int32(try producer.partitionCount(topic: t)) }
    }

    /// Sends and waits for the acknowledgements; a transient broker fault (timeout, leader change, …) is retried
    /// with backoff, never fatal. The producer is idempotent, so a resent batch is not duplicated.
    private func send(_ records: [ProducerRecord]) throws {
        try gate?.wait(stop: stopFlag)
        let reports = try producer.sendRetrying(records, logger: logger)
        gate?.wrote(reports)
    }

    /// Publishes dead letters for input the source itself could not read (bad CSV rows), with the reason.
    public func publishDeadLetters(_ letters: [DeadLetter], at time: Timestamp) throws {
        guard !letters.isEmpty else { return }
        let now = Timestamp(ms: Int64(Date().timeIntervalSince1970 * 1000))
        let records = try letters.map { dl in
            try SourceItem(topic: Topics.deadLetter, envelope: Envelope(id: dl.id, eventTime: time, causationId: nil, source: sourceName, payload: dl).erased(), producedAt: now)
        }.map { ProducerRecord(topic: $0.topic, key: Array($0.key.utf8), value: $0.value) }
        try send(records)
    }

    /// Publishes `items` (sorted by event time; stable within a time) with pacing; `progress` is called after
    /// each group with (groups done, groups total, group time). Stops early when `stop` is set.
    /// Event times before `paceFrom` go at full speed (skip a morning, then watch in real time).
    public func publish(_ items: [SourceItem], pacing: Pacing, paceFrom: Timestamp? = nil, stop: StopFlag? = nil, maxBatch: Int = 2000,
                        progress: ((Int, Int, Timestamp) -> Void)? = nil) throws -> PublishStats {
        stopFlag = stop
        var stats = PublishStats()
        var groups = [[SourceItem]]()
        for item in items {
            if let last = groups.last?.last, last.eventTime == item.eventTime { groups[groups.count - 1].append(item) }
            else {
                precondition(groups.last?.last.map { $0.eventTime < item.eventTime } ?? true, "source items must be sorted by event time")
                groups.append([item])
            }
        }
        // At full speed nothing waits for the clock, so every partition is promised as far as the data allows.
        let groupRecords = groups.map { $0.map(record) }
        var ahead = pacing == .max && partitioner != nil ? SourceLookahead(zip(groups, groupRecords).map { ($0[0].eventTime, $1) }) : nil
        let sent = Counter(label: "ops_source_messages_total")
        var previous: Timestamp?
        var records = [ProducerRecord]()
        var batchGroups = 0
        func flush(_ done: Int) throws {
            guard !records.isEmpty else { return }
            try send(pacing == .max ? records : Self.smallTopicsFirst(records))
            sent.increment(by: records.count)
            records.removeAll(keepingCapacity: true)
            batchGroups = 0
            if let last = previous { progress?(done, groups.count, last) }
        }
        for (i, group) in groups.enumerated() {
            if stop?.isStopped == true { break }
            let t = group[0].eventTime
            let paced = pacing != .max && paceFrom.map { t > $0 } ?? true
            let data = groupRecords[i]
            // Partitions already promised through `t` (they get nothing at `t`).
            var promisedThrough = Set<TopicPartition>()
            if let previous {
                let wait = pacing.wait(from: previous, to: t, paceFrom: paceFrom)
                if wait > 0 {
                    let until = Date().addingTimeInterval(wait)
                    // Nothing comes before `t`: promised now, every service works up to it while the feed waits (the
                    // loop's positions, fills and account settle before the minute's bars come, which then pass
                    // feature → signal → decision without waiting on them). A partition that gets nothing at `t` is
                    // promised through `t` itself, so at `t` only the partitions with data are written and waited
                    // for. What was collected goes first.
                    try flush(i)
                    let landing = partitioner == nil ? nil : Set(data.compactMap { r in r.partition.map { TopicPartition(topic: r.topic, partition: $0) } })
                    let early = watermarkRecords { tp in
                        guard let landing, !landing.contains(tp) else { return Timestamp(ms: t.ms - 1) }
                        promisedThrough.insert(tp)
                        return t
                    }
                    stats.watermarks += early.count
                    try send(early)
                    let left = until.timeIntervalSinceNow
                    if left > 0 { Thread.sleep(forTimeInterval: left) }
                }
            }
            previous = t
            records += data
            for item in group { stats.messages[item.topic, default: 0] += 1 }
            // Each minute's data, then its watermark on every partition not yet promised through it: one producer
            // keeps that order per partition.
            let wms = ahead.map { a in watermarkRecords { a.promise($0, at: t) } } ?? watermarkRecords { promisedThrough.contains($0) ? nil : t }
            ahead?.advance(past: t)
            stats.watermarks += wms.count
            records += wms
            batchGroups += 1
            stats.first = stats.first ?? t
            stats.last = t
            // At full speed several minutes go in one acknowledged batch; when paced, each minute is sent on time.
            if paced || records.count >= maxBatch || batchGroups >= 30 { try flush(i + 1) }
        }
        try flush(groups.count)
        producer.close()
        return stats
    }

    /// A paced minute goes out small topics first: its bars and chains' ATM IVs, with their watermarks, are enqueued
    /// (and so sent) before its 20 KB chains are compressed and sent, and reach the feature-computer, on every
    /// decision's path, without waiting behind them. Each topic's records (so each partition's) keep their order.
    static func smallTopicsFirst(_ records: [ProducerRecord]) -> [ProducerRecord] {
        var largest = [String: Int]()
        for r in records { largest[r.topic] = max(largest[r.topic] ?? 0, r.value.count) }
        return records.enumerated().sorted { a, b in
            let x = largest[a.element.topic]!, y = largest[b.element.topic]!
            return x != y ? x < y : a.offset < b.offset
        }.map(\.element)
    }

    /// An item as a record: on the partition the producer's partitioner would choose, set here so that what the
    /// early promise assumed is where it lands.
    private func record(_ item: SourceItem) -> ProducerRecord {
        let key = Array(item.key.utf8)
        let partition = partitioner.flatMap { p in partitions[item.topic].map { p.partition(key: key, count: $0) } }
        return ProducerRecord(topic: item.topic, key: key, value: item.value, partition: partition)
    }

    /// A watermark on every partition of the source's topics at the time `time` gives it (nil: none there).
    func watermarkRecords(_ time: (TopicPartition) -> Timestamp?) -> [ProducerRecord] {
        let byProducer = Dictionary(grouping: topics) { producerOf[$0] ?? sourceName }
        return byProducer.keys.sorted().flatMap { name in
            SourceWatermarks(producer: name, partitions: partitions).records(topics: byProducer[name]!, time: time)
        }
    }
}

/// A source that knows all its items promises each partition up to just before its next item (the last time when
/// none is left), so it writes a partition a watermark only when it writes it data (and once at the start) instead
/// of at every time any partition has data: a chain partition is promised minutes ahead, an empty one to the end.
/// What it promises is a fact of the data, so a restarted source promises the same.
struct SourceLookahead {
    /// Each partition's times with data, ascending, and how many of them are past.
    private var times: [TopicPartition: [Timestamp]] = [:]
    private var passed: [TopicPartition: Int] = [:]
    private let end: Timestamp?
    private var started = false

    init(_ groups: [(time: Timestamp, records: [ProducerRecord])]) {
        for (t, records) in groups {
            for r in records {
                guard let p = r.partition else { continue }
                let tp = TopicPartition(topic: r.topic, partition: p)
                if times[tp]?.last != t { times[tp, default: []].append(t) }
            }
        }
        end = groups.last?.time
    }

    /// The watermark `tp` gets with the group at `t` (nil: none, its promise already covers `t`).
    func promise(_ tp: TopicPartition, at t: Timestamp) -> Timestamp? {
        let list = times[tp] ?? []
        let i = passed[tp] ?? 0
        let hasData = i < list.count && list[i] == t
        guard hasData || !started else { return nil }
        let next = list.dropFirst(hasData ? i + 1 : i).first
        return next.map { Timestamp(ms: $0.ms - 1) } ?? end ?? t
    }

    /// After the group at `t` went out.
    mutating func advance(past t: Timestamp) {
        started = true
        for (tp, list) in times {
            let i = passed[tp] ?? 0
            if i < list.count, list[i] == t { passed[tp] = i + 1 }
        }
    }
}

/// The watermarks of a producer that has no input topics (a source, or a live adapter): one per partition of each
/// of its topics, covering `source:<name>`, so consumers joining topics know a time is complete.
public struct SourceWatermarks: Sendable {
    public let producer: String
    public let partitions: [String: Int32]

    public init(producer: String, partitions: [String: Int32]) { self.producer = producer; self.partitions = partitions }

    public func records(at t: Timestamp, topics: [String]) -> [ProducerRecord] {
        records(topics: topics) { _ in t }
    }

    /// One per partition at the time `time` gives it (nil: none on that partition).
    public func records(topics: [String], time: (TopicPartition) -> Timestamp?) -> [ProducerRecord] {
        let wm = Watermark(producer: producer, covers: [Watermark.Coverage(topic: "source:\(producer)", partitions: [0], of: 1)])
        var out = [ProducerRecord]()
        for topic in topics {
            for p in 0..<(partitions[topic] ?? 1) {
                guard let t = time(TopicPartition(topic: topic, partition: p)) else { continue }
                let env = Envelope(id: Watermark.id(producer: producer, topic: topic, partition: p, time: t), eventTime: t,
                                   causationId: nil, source: producer, payload: wm).erased()
                guard let value = try? env.encoded() else { continue }
                out.append(ProducerRecord(topic: topic, key: Array(producer.utf8), value: value, partition: p))
            }
        }
        return out
    }
}

extension KafkaProducer {
    /// Sends and waits for the acknowledgements; a transient broker fault (timeout, leader change, …) is retried
    /// with backoff, never fatal. The producer is idempotent, so a resent batch is not duplicated.
    @discardableResult
    public func sendRetrying(_ records: [ProducerRecord], logger: Logger) throws -> [DeliveryReport] {
        guard !records.isEmpty else { return [] }
        return try KafkaRetry().run("produce", onRetry: { a in
            logger.warning("produce failed, retrying", metadata: ["retry.attempt": .stringConvertible(a.attempt), "kafka.error": .string(a.error.description)])
        }) { try send(records) }
    }
}
