import Foundation
import OpsModel
import OpsRuntime

/// The pipeline's cores in one process, without a broker: the same inputs in the same canonical order as the
/// Kafka pipeline gives each service, so the same outputs, byte for byte (`opsctl backtest`).
///
/// Each service of the Kafka pipeline sees its inputs in one total order — event time, input rank, key, id — and
/// handles an input only once every upstream service has promised (by watermark) that nothing sorting before it
/// can still come. Its outputs are therefore a function of the inputs alone, not of timing. This runner keeps that
/// rule and drops the transport: a topic is the list of stages reading it, a watermark is computed where Kafka would
/// have sent it (a stage's promise on an output is what its `outputCauses` allow given its inputs' watermarks and its
/// own pending inputs), and the source advances one event time at a time. Between source times every stage handles
/// whatever its watermarks let through, round after round, until none can move.
public final class InProcessPipeline {
    public struct Options: Sendable {
        /// Keep every message's bytes for a recording (`--record`); off, nothing is encoded.
        public var record = false
        /// Topics whose envelopes are kept for the run summary.
        public var collect: Set<String> = []
        /// `produced_at` of recorded messages (wall-clock metadata).
        public var producedAt: Timestamp?
        public init() {}
    }

    /// A message as the recorder would write it, with what the canonical order sorts on.
    public struct RecordedMessage: Sendable {
        public var eventTime: Int64
        public var key: String
        public var type: String
        public var id: String
        public var bytes: [UInt8]
    }

    public struct Stats: Sendable {
        public var sourceMessages: [String: Int] = [:]
        public var handled: [String: Int] = [:]
        public var emitted: [String: Int] = [:]
        public var duplicatesDropped = 0
        public var deadLetters = 0
        public var sourceGroups = 0
        public var first: Timestamp?
        public var last: Timestamp?
        public init() {}
    }

    public struct Stalled: Error, CustomStringConvertible {
        public var description: String
    }

    struct Event {
        var envelope: AnyEnvelope
        var time: Int64
        var rank: Int
        var topic: Int
        var sequence: Int64
        var raw: [UInt8]?
    }

    final class Stage {
        let name: String
        var core: any StreamCore
        /// Input topic indices in rank order.
        let inputs: [Int]
        /// Per output topic index, the (input topic, least delay) pairs that can cause output there.
        let causes: [Int: [(Int, Int64)]]
        var pending: [Event] = []
        var head = 0
        var unsorted = false
        var pendingPerRank: [Int]
        var minPendingPerRank: [Int64]
        var promised: [Int: Int64] = [:]
        var handled = 0
        /// `causes` in the shape a lookahead narrows them to (no cause waits for `resumesAt`).
        let declaredCauses: [Int: [(input: Int, delay: Int64, resumes: Bool)]]
        /// Per lookahead name, per output topic, the narrowed delay of each input topic (absent: ruled out).
        var narrowed: [String: [Int: [(input: Int, delay: Int64, resumes: Bool)]]] = [:]
        let topicIndex: [String: Int]
        let topicNames: [Int: String]

        init(core: any StreamCore, topicIndex: [String: Int]) {
            name = core.serviceName
            self.core = core
            self.topicIndex = topicIndex
            topicNames = Dictionary(uniqueKeysWithValues: topicIndex.map { ($1, $0) })
            inputs = core.inputTopics.map { topicIndex[$0]! }
            var c = [Int: [(Int, Int64)]]()
            let declared = core.outputCauses
            for o in core.outputTopics {
                let pairs = declared[o].map { $0.isEmpty ? nil : $0 } ?? nil
                c[topicIndex[o]!] = (pairs ?? Dictionary(uniqueKeysWithValues: core.inputTopics.map { ($0, Int64(0)) }))
                    .map { (topicIndex[$0.key]!, $0.value) }.sorted { $0.0 < $1.0 }
            }
            causes = c
            declaredCauses = c.mapValues { $0.map { (input: $0.0, delay: $0.1, resumes: false) } }
            pendingPerRank = Array(repeating: 0, count: inputs.count)
            minPendingPerRank = Array(repeating: .max, count: inputs.count)
        }

        var pendingCount: Int { pending.count - head }

        /// The core's lookahead, a function of its state: asked again only after the core handled an input.
        private var lookaheadCache: Lookahead?? = .none
        var lookahead: Lookahead? {
            if let cached = lookaheadCache { return cached }
            let la = core.lookahead
            lookaheadCache = .some(la)
            return la
        }

        /// Handles one input with the core (its lookahead may change).
        func handle(_ envelope: AnyEnvelope, from topic: String) throws -> [Emit] {
            handled += 1
            lookaheadCache = .none
            return try core.handle(envelope, from: topic)
        }

        /// Per output topic, the causes under a lookahead: its own (input, delay), then the declared ones it does not
        /// list, which apply only from `resumesAt` on (`resumes` true).
        func narrowedCauses(_ la: Lookahead) -> [Int: [(input: Int, delay: Int64, resumes: Bool)]] {
            if let n = narrowed[la.name] { return n }
            var n = [Int: [(input: Int, delay: Int64, resumes: Bool)]]()
            for (o, declared) in causes {
                let listed = la.causes[topicNames[o]!] ?? [:]
                var pairs = listed.map { (input: topicIndex[$0.key]!, delay: $0.value, resumes: false) }
                for (i, d) in declared where listed[topicNames[i]!] == nil { pairs.append((input: i, delay: d, resumes: true)) }
                n[o] = pairs.sorted { $0.input < $1.input }
            }
            narrowed[la.name] = n
            return n
        }

        func add(_ e: Event) {
            if !unsorted, head < pending.count, !Self.canonical(pending[pending.count - 1], e) { unsorted = true }
            pending.append(e)
            pendingPerRank[e.rank] += 1
            minPendingPerRank[e.rank] = min(minPendingPerRank[e.rank], e.time)
        }

        /// The least pending event time of an input topic (Int64.max: none).
        func minPending(topic: Int) -> Int64 {
            var low = Int64.max
            for (r, t) in inputs.enumerated() where t == topic { low = min(low, minPendingPerRank[r]) }
            return low
        }

        /// Takes the events the input watermarks let through, in canonical order (see `EventMerger.release`).
        func release(watermarks wm: [Int64]) -> ArraySlice<Event> {
            guard head < pending.count else { return [] }
            let n = inputs.count
            var prefix = [Int64](repeating: .max, count: n), suffix = prefix
            var acc = Int64.max
            for r in 0..<n { acc = min(acc, wm[inputs[r]]); prefix[r] = acc }
            acc = .max
            for r in stride(from: n - 1, through: 0, by: -1) { suffix[r] = acc; acc = min(acc, wm[inputs[r]]) }
            if unsorted {
                pending[head...].sort(by: Self.canonical)
                unsorted = false
            }
            let start = head
            while head < pending.count {
                let e = pending[head]
                guard e.time <= prefix[e.rank], suffix[e.rank] == .max || e.time <= suffix[e.rank] + 1 else { break }
                head += 1
            }
            guard head > start else { return [] }
            let out = pending[start..<head]
            var touched = Set<Int>()
            for e in out { pendingPerRank[e.rank] -= 1; touched.insert(e.rank) }
            for r in touched { minPendingPerRank[r] = .max }
            var missing = touched.filter { pendingPerRank[$0] > 0 }
            var i = head
            while !missing.isEmpty, i < pending.count {
                let r = pending[i].rank
                if missing.remove(r) != nil { minPendingPerRank[r] = pending[i].time }
                i += 1
            }
            return out
        }

        /// Drops what was released once the buffer's dead prefix is large.
        func compact() {
            if head > 4096, head * 2 > pending.count {
                pending.removeFirst(head)
                head = 0
            }
        }

        static func canonical(_ a: Event, _ b: Event) -> Bool {
            if a.time != b.time { return a.time < b.time }
            if a.rank != b.rank { return a.rank < b.rank }
            let ka = a.envelope.partitionKey, kb = b.envelope.partitionKey
            if ka != kb { return ka < kb }
            return a.envelope.id < b.envelope.id
        }
    }

    let options: Options
    let topics: [String]
    let topicIndex: [String: Int]
    let stages: [Stage]
    /// Per topic, (stage index, rank) of each reader.
    let readers: [[(Int, Int)]]
    /// Per topic, the stages writing it.
    let writers: [[Int]]
    /// Topics in an order where every topic comes after the inputs its writers' promises depend on.
    let watermarkOrder: [Int]
    let sideTopics: Set<Int>
    let sourceTopics: Set<Int>
    var sourceWatermark = Int64.min
    var watermarks: [Int64]
    /// Watermarks are a function of the source's watermark and every stage's state and pending inputs: they need
    /// computing again only after one of those changed.
    var watermarksStale = true
    var seen: [RecentIDs]
    var sequence: [Int64]
    public internal(set) var stats = Stats()
    /// The first output at or before its writer's promise on the topic (what a Kafka consumer refuses as late).
    var brokenPromise: String?
    public internal(set) var recorded: [String: [RecordedMessage]] = [:]
    public internal(set) var collected: [String: [AnyEnvelope]] = [:]
    let partitionCounts: [Int32]

    /// `cores` in the pipeline's canonical order; `sourceTopics` the topics the source writes (watermarked by it).
    public init(cores: [any StreamCore], sourceTopics: [String], options: Options = Options()) throws {
        self.options = options
        var names = Topics.all.map(\.name)
        for t in cores.flatMap({ $0.inputTopics + $0.outputTopics }) + sourceTopics where !names.contains(t) { names.append(t) }
        topics = names
        var index = [String: Int]()
        for (i, t) in names.enumerated() { index[t] = i }
        topicIndex = index
        stages = cores.map { Stage(core: $0, topicIndex: index) }
        var r = [[(Int, Int)]](repeating: [], count: names.count)
        var w = [[Int]](repeating: [], count: names.count)
        for (s, stage) in stages.enumerated() {
            for (rank, t) in stage.inputs.enumerated() { r[t].append((s, rank)) }
            for t in stage.causes.keys { w[t].append(s) }
        }
        readers = r
        writers = w
        sideTopics = Set(names.indices.filter { Topics.spec(names[$0])?.watermarked == false })
        self.sourceTopics = Set(sourceTopics.map { index[$0]! })
        watermarkOrder = try Self.order(topics: names, writers: w, stages: stages)
        watermarks = Array(repeating: .min, count: names.count)
        seen = Array(repeating: RecentIDs(), count: names.count)
        sequence = Array(repeating: 0, count: names.count)
        partitionCounts = names.map { Topics.spec($0)?.partitions ?? 1 }
    }

    /// A topological order of the watermark graph: a topic's watermark depends on the topics that cause output on
    /// it. A cycle there would be a same-time loop no watermark could break (the Kafka pipeline would stall too).
    static func order(topics: [String], writers: [[Int]], stages: [Stage]) throws -> [Int] {
        var state = [Int](repeating: 0, count: topics.count)
        var out = [Int]()
        func visit(_ t: Int, _ path: [Int]) throws {
            if state[t] == 2 { return }
            if state[t] == 1 {
                throw Stalled(description: "the watermark graph has a cycle: " + (path + [t]).map { topics[$0] }.joined(separator: " → "))
            }
            state[t] = 1
            for s in writers[t] { for (input, _) in stages[s].causes[t] ?? [] { try visit(input, path + [t]) } }
            state[t] = 2
            out.append(t)
        }
        for t in topics.indices { try visit(t, []) }
        return out
    }

    /// Publishes one source message (before its time's watermark).
    public func publish(_ e: SourceEvent) {
        let t = topicIndex[e.topic]!
        stats.sourceMessages[e.topic, default: 0] += 1
        if let raw = e.raw, options.record {
            recordMessage(topic: t, time: e.eventTime.ms, key: e.key, type: e.envelope?.type ?? "~unparsed", id: e.envelope?.id ?? "", bytes: raw)
        }
        guard var env = e.envelope, e.decodeError == nil else {
            let bytes = e.raw ?? []
            for (s, _) in readers[t] {
                deadLetter(stage: s, topic: t, key: e.key, raw: bytes, time: e.eventTime.ms, error: e.decodeError ?? MessageError(.malformed, "no envelope"))
            }
            return
        }
        if e.raw == nil {
            env.producedAt = options.producedAt
            if options.record { record(env, topic: t, copies: 1) }
        }
        deliver(env, topic: t, raw: e.raw)
    }

    /// Everything up to `time` has been published by the source: handle all that can be handled.
    public func advanceSource(to time: Timestamp) throws {
        sourceWatermark = max(sourceWatermark, time.ms)
        watermarksStale = true
        stats.sourceGroups += 1
        stats.first = stats.first ?? time
        stats.last = time
        try runUntilQuiet()
    }

    /// After the source's last time: every input must have been handled, as every Kafka consumer group would have
    /// committed to the end of its inputs.
    public func finish() throws {
        try runUntilQuiet()
        let stuck = stages.filter { $0.pendingCount > 0 }
        guard stuck.isEmpty else {
            throw Stalled(description: "inputs left unhandled at the end: " + stuck.map { s in
                "\(s.name) \(s.pendingCount) (first at \(Timestamp(ms: s.pending[s.head].time).iso8601) on \(topics[s.pending[s.head].topic]))"
            }.joined(separator: "; "))
        }
    }

    func runUntilQuiet() throws {
        if let broken = brokenPromise { throw Stalled(description: broken) }
        var moved = true
        while moved {
            moved = false
            for (s, stage) in stages.enumerated() {
                if watermarksStale {
                    computeWatermarks()
                    watermarksStale = false
                }
                let released = stage.release(watermarks: watermarks)
                guard !released.isEmpty else { continue }
                moved = true
                watermarksStale = true
                for e in released { handle(e, at: s) }
                if let broken = brokenPromise { throw Stalled(description: broken) }
                stage.compact()
            }
        }
    }

    /// Every topic's watermark now: the source's for source topics, +∞ for side topics (operator commands), else the
    /// least promise of its writers (a writer promises nothing while an input it depends on has promised nothing).
    func computeWatermarks() {
        let lookaheads = stages.map(\.lookahead)
        for t in watermarkOrder {
            if sideTopics.contains(t) { watermarks[t] = .max; continue }
            if sourceTopics.contains(t) { watermarks[t] = sourceWatermark; continue }
            var low = Int64.max
            for s in writers[t] {
                let stage = stages[s]
                let la = lookaheads[s]
                var p = Int64.max
                // What the stage's state rules out (`Lookahead`): its own causes, the others only from `resumesAt` on.
                let list = la.map { stage.narrowedCauses($0)[t] ?? [] } ?? stage.declaredCauses[t]!
                for c in list {
                    guard !c.resumes || la?.resumesAt != nil else { continue }
                    let floor = c.resumes ? la!.resumesAt!.ms - 1 : Int64.min
                    let w = watermarks[c.input]
                    if w == .min { p = .min; break }
                    p = min(p, max(Self.add(w, c.delay), floor))
                    let m = stage.minPending(topic: c.input)
                    if m != .max { p = min(p, max(Self.add(m, c.delay - 1), floor)) }
                }
                let promised = max(p, stage.promised[t] ?? .min)
                stage.promised[t] = promised
                low = min(low, promised)
            }
            watermarks[t] = writers[t].isEmpty ? .min : low
        }
    }

    static func add(_ t: Int64, _ d: Int64) -> Int64 { t == .max ? .max : t + d }

    func handle(_ e: Event, at s: Int) {
        let stage = stages[s]
        do {
            let emits = try stage.handle(e.envelope, from: topics[e.topic])
            for emit in emits { output(emit, from: stage) }
        } catch {
            let raw = e.raw ?? ((try? e.envelope.encoded()) ?? [])
            deadLetter(stage: s, topic: e.topic, key: e.envelope.partitionKey, raw: raw, time: e.time, error: error, sequence: e.sequence)
        }
    }

    func output(_ emit: Emit, from stage: Stage) {
        guard let t = topicIndex[emit.topic] else { return }
        if !sideTopics.contains(t), let promised = stage.promised[t], emit.envelope.eventTime.ms <= promised, brokenPromise == nil {
            // Kafka consumers would refuse it as late: the stage promised more than its lookahead or causes allow.
            brokenPromise = "\(stage.name) wrote \(emit.topic) at \(emit.envelope.eventTime.iso8601) after promising nothing at or before "
                + "\(Timestamp(ms: promised).iso8601) (id \(emit.envelope.id))"
        }
        var env = emit.envelope
        env.producedAt = options.producedAt
        stats.emitted[emit.topic, default: 0] += 1
        if options.record { record(env, topic: t, copies: emit.broadcast ? Int(partitionCounts[t]) : 1) }
        deliver(env, topic: t, raw: nil)
    }

    /// Hands a message to every stage reading its topic, as their consumers would: invalid payloads are dead-lettered
    /// by each reader, an id already delivered on the topic is a duplicate (a broadcast's copies, a re-sent message).
    func deliver(_ env: AnyEnvelope, topic t: Int, raw: [UInt8]?) {
        if options.collect.contains(topics[t]) { collected[topics[t], default: []].append(env) }
        sequence[t] += 1
        guard !readers[t].isEmpty else { return }
        // The consumers' duplicate check by id (content is not compared: a conflict counts as a duplicate here).
        guard seen[t].check(env.id, fingerprint: 0) == .new else { stats.duplicatesDropped += 1; return }
        do {
            try env.payload.validate(eventTime: env.eventTime)
        } catch {
            let bytes = raw ?? ((try? env.encoded()) ?? [])
            for (s, _) in readers[t] { deadLetter(stage: s, topic: t, key: env.partitionKey, raw: bytes, time: env.eventTime.ms, error: error) }
            return
        }
        watermarksStale = true
        for (s, rank) in readers[t] {
            stages[s].add(Event(envelope: env, time: env.eventTime.ms, rank: rank, topic: t, sequence: sequence[t] - 1, raw: raw))
        }
    }

    /// A refused input, as the consuming service would publish it. Without Kafka, the partition is the key's under
    /// librdkafka's default partitioner and the offset numbers the topic's messages in publishing order.
    func deadLetter(stage s: Int, topic t: Int, key: String, raw: [UInt8], time: Int64, error: Error, sequence: Int64? = nil) {
        let me = (error as? MessageError) ?? MessageError(.invalid, "\(error)")
        stats.deadLetters += 1
        let partition = Int32(CRC32.checksum(Array(key.utf8)) % UInt32(max(1, partitionCounts[t])))
        let dl = DeadLetter(topic: topics[t], partition: partition, offset: sequence ?? self.sequence[t], key: Array(key.utf8), original: raw,
                            error: me, service: stages[s].name)
        var env = Envelope(id: dl.id, eventTime: Timestamp(ms: time), causationId: nil, source: stages[s].name, payload: dl).erased()
        env.producedAt = options.producedAt
        let dlq = topicIndex[Topics.deadLetter]!
        if options.record { record(env, topic: dlq, copies: 1) }
        if options.collect.contains(Topics.deadLetter) { collected[Topics.deadLetter, default: []].append(env) }
    }

    func record(_ env: AnyEnvelope, topic t: Int, copies: Int) {
        guard let bytes = try? env.encoded() else { return }
        for _ in 0..<copies {
            recordMessage(topic: t, time: env.eventTime.ms, key: env.partitionKey, type: env.type, id: env.id, bytes: bytes)
        }
    }

    func recordMessage(topic t: Int, time: Int64, key: String, type: String, id: String, bytes: [UInt8]) {
        recorded[topics[t], default: []].append(RecordedMessage(eventTime: time, key: key, type: type, id: id, bytes: bytes))
    }

    /// Each stage's core as it is now (for tests and reports).
    public var coresForInspection: [(String, any StreamCore)] { stages.map { ($0.name, $0.core) } }

    /// Handled inputs per stage.
    public var handledPerStage: [(String, Int)] { stages.map { ($0.name, $0.handled) } }
}

extension InProcessPipeline {
    /// Writes the recording as the recorder does after a run: `DIR/<topic>.jsonl`, each in the canonical order (event
    /// time, key, type, id, then the line); like the recorder, a topic that carried nothing gets no file.
    public func writeRecording(to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (topic, messages) in recorded where !messages.isEmpty {
            let lines = messages.sorted { a, b in
                if a.eventTime != b.eventTime { return a.eventTime < b.eventTime }
                if a.key != b.key { return a.key < b.key }
                if a.type != b.type { return a.type < b.type }
                if a.id != b.id { return a.id < b.id }
                return a.bytes.lexicographicallyPrecedes(b.bytes)
            }
            var out = [UInt8]()
            out.reserveCapacity(lines.reduce(0) { $0 + $1.bytes.count + 1 })
            for l in lines { out += l.bytes; out.append(10) }
            // Written from the buffer itself: a topic of chains is hundreds of MB, not worth a second copy.
            let path = "\(dir)/\(topic).jsonl"
            guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
                throw ConfigError("cannot write \(path)")
            }
            defer { try? file.close() }
            try file.write(contentsOf: out)
        }
    }
}

/// CRC-32 (IEEE), the hash librdkafka's default partitioner puts keys through.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
