import Foundation
import Kafka
import Logging
import OpsModel

/// One line of a recorded `<topic>.jsonl`: the envelope exactly as it was on the topic, or — for bytes that
/// were not a valid envelope for that topic (garbage, unknown versions) — a wrapper object
/// `{"unparsed":{"partition":…,"offset":…,"timestamp_ms":…,"key":…,"base64":…}}` so nothing is lost and every
/// line is still one JSON object. Record timestamps are wall-clock time, so `timestamp_ms` is the event time of the
/// last envelope read before it on its partition: where a replay puts it back.
public struct RecordedLine: Sendable {
    public var text: String
    public var envelope: AnyEnvelope?
    public var unparsed: Unparsed?

    public struct Unparsed: Codable, Sendable {
        public var partition: Int32
        public var offset: Int64
        public var timestamp_ms: Int64?
        public var key: String?
        public var base64: String
    }
    struct Wrapper: Codable { var unparsed: Unparsed }

    /// Classifies a message read from `topic`.
    public init(message m: KafkaMessage, decoder: EnvelopeDecoder, partitionTime: Timestamp? = nil) {
        if let env = try? decoder.decode(m.value), !m.value.contains(10), !m.value.contains(13) {
            text = String(decoding: m.value, as: UTF8.self)
            envelope = env
        } else {
            let u = Unparsed(partition: m.partition, offset: m.offset, timestamp_ms: partitionTime?.ms ?? 0,
                             key: m.key.map { String(decoding: $0, as: UTF8.self) }, base64: Base64.encode(m.value))
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            text = String(decoding: (try? enc.encode(Wrapper(unparsed: u))) ?? Data(), as: UTF8.self)
            unparsed = u
        }
    }

    public init(text: String, topic: String) {
        self.text = text
        if let w = try? JSONDecoder().decode(Wrapper.self, from: Data(text.utf8)) {
            unparsed = w.unparsed
        } else {
            envelope = try? Topics.decoder(for: topic).decode(Array(text.utf8))
        }
    }

    public static func readAll(_ path: String) throws -> [RecordedLine] {
        let topic = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map { RecordedLine(text: String($0), topic: topic) }
    }

    /// What a replay publishes for this line.
    public func sourceItem(topic: String) -> SourceItem? {
        if let e = envelope {
            return SourceItem(topic: topic, key: e.partitionKey, value: Array(text.utf8), eventTime: e.eventTime)
        }
        if let u = unparsed, let bytes = Base64.decode(u.base64) {
            return SourceItem(topic: topic, key: u.key ?? "", value: bytes, eventTime: Timestamp(ms: u.timestamp_ms ?? 0))
        }
        return nil
    }

    /// The order a finished recording is written in: event time, key, type, id — independent of partitioning
    /// and of the interleaving the recorder happened to see, so two runs can be compared line for line.
    static func canonical(_ a: RecordedLine, _ b: RecordedLine) -> Bool {
        let ka = a.sortKey, kb = b.sortKey
        if ka.0 != kb.0 { return ka.0 < kb.0 }
        if ka.1 != kb.1 { return ka.1 < kb.1 }
        if ka.2 != kb.2 { return ka.2 < kb.2 }
        if ka.3 != kb.3 { return ka.3 < kb.3 }
        return a.text < b.text
    }

    var sortKey: (Int64, String, String, String) {
        if let e = envelope { return (e.eventTime.ms, e.partitionKey, e.type, e.id) }
        return (unparsed?.timestamp_ms ?? 0, unparsed?.key ?? "", "~unparsed", "")
    }
}

/// The recorder: an ordinary consumer group (the first analytics consumer) that writes every topic to
/// `DIR/<topic>.jsonl`, one message per line as it was on the topic, committing only what it has written.
/// Watermarks are transport, not data, and are left out unless asked for.
public final class Recorder: @unchecked Sendable {
    let consumer: KafkaConsumer
    let dir: String
    let topics: [String]
    let withWatermarks: Bool
    let logger: Logger
    private var handles: [String: FileHandle] = [:]
    private var partitionTimes: [TopicPartition: Timestamp] = [:]
    private let decoders: [String: EnvelopeDecoder]

    let assignment: PartitionAssignment

    public init(client: KafkaClientConfig, groupId: String, dir: String, topics: [String], withWatermarks: Bool,
                assignment: PartitionAssignment = .group, logger: Logger) throws {
        self.assignment = assignment
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: groupId), logger: logger)
        self.dir = dir
        self.topics = topics
        self.withWatermarks = withWatermarks
        self.logger = logger
        var d = [String: EnvelopeDecoder]()
        for t in topics { d[t] = Topics.decoder(for: t) }
        decoders = d
    }

    public func run(stop: StopFlag) throws {
        switch assignment {
        case .group:
            try consumer.subscribe(topics: topics)
        case .all:
            // From the group's commits, or the beginning of a partition it has none for (auto.offset.reset).
            let parts = TopicPartition.all(try topics.map { ($0, Int32(try consumer.partitionCount(topic: $0))) })
            try consumer.assign(parts.map { TopicPartitionOffset($0, offset: KafkaOffset.invalid) })
        }
        defer {
            consumer.close()
            for (_, h) in handles { try? h.close() }
        }
        while !stop.isStopped {
            let batch = try consumer.pollBatch(max: 2000, timeoutMs: 100)
            guard !batch.isEmpty else { continue }
            var lines = [String: [UInt8]]()
            var next = [TopicPartition: Int64]()
            for m in batch {
                let tp = TopicPartition(topic: m.topic, partition: m.partition)
                next[tp] = m.offset + 1
                let line = RecordedLine(message: m, decoder: decoders[m.topic] ?? Topics.decoder(for: m.topic), partitionTime: partitionTimes[tp])
                if let e = line.envelope { partitionTimes[tp] = e.eventTime }
                if !withWatermarks, line.envelope?.payload is Watermark { continue }
                lines[m.topic, default: []] += Array(line.text.utf8) + [10]
            }
            for (topic, bytes) in lines { try handle(topic).write(contentsOf: bytes) }
            // The files hold the lines already: a commit refused by a rebalance or a transient fault is only
            // progress not yet recorded; the next round's commit covers it (a re-read line is written again and
            // the canonical rewrite on stop keeps one copy of each).
            do {
                try consumer.commit(next.map { TopicPartitionOffset($0.key, offset: $0.value) })
            } catch let e as KafkaError where e.action != .fatal {
                logger.warning("commit failed, continuing", metadata: ["kafka.error": .string(e.description)])
            }
        }
    }

    private func handle(_ topic: String) throws -> FileHandle {
        if let h = handles[topic] { return h }
        let path = "\(dir)/\(topic).jsonl"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        handles[topic] = h
        return h
    }

    /// Rewrites every `*.jsonl` in `dir` in canonical order (see `RecordedLine.canonical`).
    public static func canonicalize(dir: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".jsonl") {
            let path = "\(dir)/\(name)"
            let lines = try RecordedLine.readAll(path).sorted(by: RecordedLine.canonical)
            let text = lines.map(\.text).joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
            try text.write(toFile: path + ".tmp", atomically: false, encoding: .utf8)
            guard rename(path + ".tmp", path) == 0 else { throw ConfigError("cannot replace \(path): errno \(errno)") }
        }
    }
}
