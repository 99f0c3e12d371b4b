import OpsModel

/// A topic partition as the runtime sees it.
public struct PartitionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(_ topic: String, _ partition: Int32) { self.topic = topic; self.partition = partition }
    public static func < (a: PartitionID, b: PartitionID) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
    public var description: String { "\(topic)/\(partition)" }
}

/// An input waiting for the watermark to pass its event time.
public struct PendingEvent: Sendable {
    public var envelope: AnyEnvelope
    public var source: PartitionID
    public var offset: Int64
    public var rank: Int
    public var key: String
    public var raw: [UInt8]
    public var rawKey: [UInt8]?
}

/// Merges several topics and partitions into one event-time order behind a watermark (invariant 2).
///
/// Each input partition carries in-band `Watermark` messages; each says which upstream partitions it speaks for.
/// A partition's watermark is the minimum over every upstream partition it has heard of (all `of` of them),
/// the input watermark is the minimum over the assigned partitions, and an event is released only when the input
/// watermark has reached its event time. Released events come out in a total order that does not depend on
/// partitioning or arrival: event time, topic rank, key, id. The merger also knows, per partition, the offset
/// before which everything has been released: the only offset that may be committed.
public struct EventMerger: Sendable {
    public let ranks: [String: Int]
    /// Per input topic, the services whose watermarks must all have been heard (topics several services write).
    public let expectedProducers: [String: Set<String>]
    /// Inputs without watermarks (operator commands): they never hold other inputs back and are never late; each is
    /// released in canonical order once the other inputs' watermarks pass its time, or at once when they already have.
    public let sideTopics: Set<String>
    private var assigned: Set<PartitionID> = []
    private var upstream: [PartitionID: [String: UpstreamState]] = [:]
    /// Buffered events; in canonical order whenever `unsorted` is false.
    private var pending: [PendingEvent] = []
    private var unsorted = false
    /// Per input topic, the earliest event time buffered (kept exact on every add and release, so a round's
    /// watermark and commit bookkeeping never walks the whole buffer: a backtest can buffer a whole run of bars).
    private var minPendingTime: [String: Timestamp] = [:]
    private var pendingPerTopic: [String: Int] = [:]
    /// Per partition, the offsets buffered in arrival (offset) order, to find the lowest still pending.
    private var pendingOffsets: [PartitionID: OffsetQueue] = [:]
    private var nextOffset: [PartitionID: Int64] = [:]
    private var lastReleased: [PartitionID: Timestamp] = [:]
    private var floors: [PartitionID: Timestamp] = [:]
    /// Each partition's watermark as last computed: it changes only with a watermark message or a floor, and is read
    /// many times a round (the input watermark, every output's promise, the pending limit, the stall check).
    private var watermarks: [PartitionID: Timestamp?] = [:]
    /// Per quiet input topic, what the service's state vouches for now (`vouch`), used above the topic's own watermark.
    private var vouched: [String: Timestamp] = [:]
    /// Per topic, the most ever vouched: nothing may arrive at or behind it (a promise of the state's, kept).
    private var vouchedEver: [String: Timestamp] = [:]

    struct UpstreamState: Sendable {
        var of: Int32
        var times: [Int32: Timestamp] = [:]
    }

    public init(topicRanks: [String], expectedProducers: [String: Set<String>] = [:], sideTopics: Set<String> = []) {
        var r = [String: Int]()
        for (i, t) in topicRanks.enumerated() { r[t] = i }
        ranks = r
        self.expectedProducers = expectedProducers
        self.sideTopics = sideTopics
    }

    /// Starts over with a new assignment (after a rebalance the state is rebuilt from the topics).
    public mutating func assign(_ partitions: [PartitionID]) {
        assigned = Set(partitions)
        upstream = [:]
        pending = []
        unsorted = false
        minPendingTime = [:]
        pendingPerTopic = [:]
        pendingOffsets = [:]
        nextOffset = [:]
        lastReleased = [:]
        floors = [:]
        watermarks = [:]
        vouched = [:]
        vouchedEver = [:]
    }

    /// A watermark the partition had reached before a restart (from the commit metadata): promises only move
    /// forward, so it holds until the partition's own watermark messages pass it.
    public mutating func restoreWatermark(_ w: Timestamp, at p: PartitionID) {
        floors[p] = max(floors[p] ?? .distantPast, w)
        watermarks[p] = computedWatermark(of: p)
    }

    public var assignedPartitions: [PartitionID] { assigned.sorted() }
    public var pendingCount: Int { pending.count }

    /// The watermark of one partition: the minimum over the services writing it (each must have been heard for
    /// every upstream partition it covers, and for a topic several services write, each of them must have been
    /// heard) — nil until then. After a restart the watermark stored with the commit is a floor under every
    /// service's promise, so a service not heard again yet counts at the floor instead of blocking the partition.
    public func watermark(of p: PartitionID) -> Timestamp? {
        if sideTopics.contains(p.topic) { return .distantFuture }
        if let w = watermarks[p] { return w }
        return computedWatermark(of: p)
    }

    private func computedWatermark(of p: PartitionID) -> Timestamp? {
        let floor = floors[p]
        var byProducer = [String: Timestamp?]()
        for (slot, u) in upstream[p] ?? [:] {
            let producer = String(slot.split(separator: "|", maxSplits: 1)[0])
            let complete = u.times.count == Int(u.of)
            let low = complete ? u.times.values.min() : nil
            switch (byProducer[producer], low) {
            case (.none, let l): byProducer[producer] = .some(l)
            case (.some(.some(let a)), .some(let b)): byProducer[producer] = .some(min(a, b))
            default: byProducer[producer] = .some(nil)
            }
        }
        for e in expectedProducers[p.topic] ?? [] where byProducer[e] == nil { byProducer[e] = .some(nil) }
        guard !byProducer.isEmpty else { return floor }
        var result = Timestamp.distantFuture
        for (_, w) in byProducer {
            guard let v = w.map({ max($0, floor ?? $0) }) ?? floor else { return nil }
            result = min(result, v)
        }
        return result
    }

    /// What holds the input watermark back: the assigned partition with the least watermark and the writing service whose
    /// promise is least there (nil producer: one not heard from yet). Nil when nothing is assigned or all is +∞.
    public func slowestPromise() -> (partition: PartitionID, producer: String?, watermark: Timestamp?)? {
        // nil (no promise yet) sorts before every time.
        func rank(_ w: Timestamp?) -> Int64 { w.map(\.ms) ?? .min }
        guard let p = assigned.filter({ !sideTopics.contains($0.topic) }).sorted().min(by: { rank(watermark(of: $0)) < rank(watermark(of: $1)) }) else {
            return nil
        }
        var producer: String?
        var least = Int64.max
        for (slot, u) in (upstream[p] ?? [:]).sorted(by: { $0.key < $1.key }) {
            let low = u.times.count == Int(u.of) ? (u.times.values.min()?.ms ?? .min) : .min
            if low < least { least = low; producer = String(slot.split(separator: "|", maxSplits: 1)[0]) }
        }
        let heard = Set((upstream[p] ?? [:]).keys.map { String($0.split(separator: "|", maxSplits: 1)[0]) })
        if let silent = (expectedProducers[p.topic] ?? []).subtracting(heard).sorted().first { producer = silent }
        return (partition: p, producer: producer, watermark: watermark(of: p))
    }

    /// Takes what the service's state vouches for (`QuietInputs`; nil: nothing) until the next call: each quiet topic
    /// counts as promised up to just before the first input its enders could still bring (pending or behind their
    /// watermarks), plus that input's delay, and no later than just before `until`. Releasing, promising outputs and
    /// refusing late events then use it; a restart's commit keeps only the topics' own watermarks.
    ///
    /// A quiet topic may end another's quiet (fills open positions a decision may add to; decisions make orders that
    /// fill). Each starts from what its other enders allow; then each quiet ender lowers it to that ender's promise
    /// (its watermark or what is vouched for it so far, and its buffered inputs) plus the delay, until nothing moves —
    /// the earliest any chain of causes from an input still to come could reach it (every such loop has a positive
    /// delay, so it settles within as many passes as there are quiet topics).
    public mutating func vouch(_ quiet: QuietInputs?) {
        vouched = [:]
        guard let quiet else { return }
        let topics = Set(quiet.enders.keys.filter { !(quiet.enders[$0]!.isEmpty) && !sideTopics.contains($0) })
        func capped(_ w: Timestamp, _ topic: String) -> Timestamp { quiet.until[topic].map { min(w, $0.adding(ms: -1)) } ?? w }
        var start = [String: Timestamp]()
        for topic in topics {
            let others = quiet.enders[topic]!.filter { !topics.contains($0.key) }
            if others.isEmpty { start[topic] = capped(.distantFuture, topic); continue }
            guard let w = outputWatermark(causes: others) else { continue }
            start[topic] = capped(w, topic)
        }
        vouched = start
        for _ in 0...topics.count {
            var next = vouched
            for (topic, w) in vouched {
                guard let b = outputWatermark(causes: quiet.enders[topic]!) else { next[topic] = nil; continue }
                next[topic] = min(w, capped(b, topic))
            }
            if next == vouched { break }
            vouched = next
        }
        for (topic, w) in vouched { vouchedEver[topic] = max(vouchedEver[topic] ?? .distantPast, w) }
    }

    /// A partition's watermark or, above it, what the state vouches for its topic now.
    func effectiveWatermark(of p: PartitionID) -> Timestamp? {
        let w = watermark(of: p)
        guard let v = vouched[p.topic] else { return w }
        return max(w ?? v, v)
    }

    /// The minimum over assigned partitions; nil while any of them has no watermark yet.
    public var inputWatermark: Timestamp? {
        guard !assigned.isEmpty else { return nil }
        var low = Timestamp.distantFuture
        for p in assigned {
            guard let w = watermark(of: p) else { return nil }
            low = min(low, w)
        }
        return low
    }

    /// Notes that a message at this offset was consumed without being buffered (a watermark, a duplicate,
    /// a dead letter).
    public mutating func consumed(_ p: PartitionID, offset: Int64) {
        nextOffset[p] = max(nextOffset[p] ?? 0, offset + 1)
    }

    /// Notes a duplicate consumed from `p` — a copy of an input already taken from another partition (a broadcast) or
    /// redelivered. Its content is part of the state, so it counts as processed at its event time: a commit then rewinds
    /// `p` to it on a restart. Were it only consumed, a member later given `p` without the partition whose copy was
    /// taken would resume past it and rebuild a state without it (a replica that never saw the watchlist).
    public mutating func consumedDuplicate(_ p: PartitionID, offset: Int64, time: Timestamp) {
        consumed(p, offset: offset)
        lastReleased[p] = max(lastReleased[p] ?? .distantPast, time)
    }

    /// Applies a watermark message read from partition `p`. Promises only move forward.
    public mutating func watermark(_ wm: Watermark, time: Timestamp, at p: PartitionID, offset: Int64) {
        consumed(p, offset: offset)
        var ups = upstream[p] ?? [:]
        // Replicas sharing out accounts name their share (`AccountShare`); when their count changes (or one instance
        // takes over) the old shares' promises no longer speak for anyone: that slot starts over from this promise.
        for slot in ups.keys where slot.hasPrefix(wm.producer + "|") && slot.hasSuffix(AccountShare.coverageSuffix) {
            let share = wm.covers.first { "\(wm.producer)|\($0.topic)" == slot }
            if share == nil || share?.of != ups[slot]?.of { ups[slot] = nil }
        }
        for c in wm.covers {
            // One slot per (producing service, its input topic): two services reading the same topic promise
            // different things about their own outputs.
            let slot = "\(wm.producer)|\(c.topic)"
            var u = ups[slot] ?? UpstreamState(of: c.of)
            u.of = max(u.of, c.of)
            for part in c.partitions { u.times[part] = max(u.times[part] ?? .distantPast, time) }
            ups[slot] = u
        }
        upstream[p] = ups
        watermarks[p] = computedWatermark(of: p)
    }

    /// Buffers an event. An event at or behind what its own partition already promised is late: a producer broke
    /// its promise, so it is refused (and dead-lettered by the caller) rather than applied out of order.
    public mutating func add(_ event: PendingEvent) throws(MessageError) {
        if !sideTopics.contains(event.source.topic), let w = watermark(of: event.source), event.envelope.eventTime <= w {
            consumed(event.source, offset: event.offset)
            throw MessageError(.late, "event time \(event.envelope.eventTime) is at or before the watermark \(w) already promised on \(event.source)")
        }
        if let v = vouchedEver[event.source.topic], event.envelope.eventTime <= v {
            consumed(event.source, offset: event.offset)
            throw MessageError(.late, "event time \(event.envelope.eventTime) is at or before \(v), up to which this service's state had vouched that nothing could come on \(event.source.topic) (quiet inputs)")
        }
        if let last = pending.last, !Self.canonical(last, event) { unsorted = true }
        pending.append(event)
        let topic = event.source.topic
        minPendingTime[topic] = min(minPendingTime[topic] ?? .distantFuture, event.envelope.eventTime)
        pendingPerTopic[topic, default: 0] += 1
        pendingOffsets[event.source, default: OffsetQueue()].append(event.offset)
        nextOffset[event.source] = max(nextOffset[event.source] ?? 0, event.offset + 1)
    }

    /// Everything the watermarks let through, in canonical order. An event at time t on a topic of rank r is
    /// released when every assigned partition of a topic ranked ≤ r has promised t, and every partition of a
    /// topic ranked > r has promised t − 1 ms: nothing that sorts before it can still arrive.
    public mutating func release() -> [PendingEvent] {
        guard !pending.isEmpty else { return [] }
        let maxRank = (ranks.values.max() ?? 0) + 1
        var byRank = [Timestamp?](repeating: .distantFuture, count: maxRank + 1)
        for p in assigned {
            let r = ranks[p.topic] ?? 0
            guard let w = effectiveWatermark(of: p) else { byRank[r] = nil; continue }
            if let cur = byRank[r] { byRank[r] = min(cur, w) }
        }
        // prefix[r] = min over ranks ≤ r; suffix[r] = min over ranks > r (nil = some partition promised nothing).
        var prefix = [Timestamp?](repeating: nil, count: maxRank + 1), suffix = prefix
        var acc: Timestamp? = .distantFuture
        for r in 0...maxRank { acc = combine(acc, byRank[r]); prefix[r] = acc }
        acc = .distantFuture
        for r in stride(from: maxRank, through: 0, by: -1) { suffix[r] = acc; acc = combine(acc, byRank[r]) }
        if unsorted { pending.sort(by: Self.canonical); unsorted = false }
        var out = [PendingEvent]()
        var cut = 0
        for e in pending {
            let r = e.rank, t = e.envelope.eventTime
            guard let le = prefix[min(r, maxRank)], t <= le, let gt = suffix[min(r, maxRank)], t.ms <= gt.ms + 1 else { break }
            out.append(e)
            cut += 1
        }
        pending.removeFirst(cut)
        noteReleased(out)
        for e in out { lastReleased[e.source] = max(lastReleased[e.source] ?? .distantPast, e.envelope.eventTime) }
        return out
    }

    private func combine(_ a: Timestamp?, _ b: Timestamp?) -> Timestamp? {
        guard let a, let b else { return nil }
        return min(a, b)
    }

    /// Releases every pending event in canonical order, for a service configured to run without watermarks.
    public mutating func releaseAll() -> [PendingEvent] {
        let out = pending.sorted(by: Self.canonical)
        pending = []
        unsorted = false
        noteReleased(out)
        for e in out { lastReleased[e.source] = max(lastReleased[e.source] ?? .distantPast, e.envelope.eventTime) }
        return out
    }

    /// The watermark a service may promise on an output topic: nothing it will still emit there has an event time
    /// at or before it. `causes` maps the input topics that can cause output there to the least delay between an
    /// input and its output (ms); `lookahead`, what the service's state rules out now (see `Lookahead`), narrows
    /// them for the output topic `output`. Nil while an input it depends on has promised nothing.
    public func outputWatermark(causes: [String: Int64], lookahead: Lookahead? = nil, output: String = "") -> Timestamp? {
        guard !assigned.isEmpty else { return nil }
        var low = Int64.max
        let minPending = minPendingTime
        let declared = causes.isEmpty ? Dictionary(uniqueKeysWithValues: Set(assigned.map(\.topic)).map { ($0, Int64(0)) }) : causes
        // (input topic, least delay, floor): under a lookahead its own causes, and the declared ones it does not list
        // only from `resumesAt` on (the floor); without one, the declared causes.
        var bounds = [(String, Int64, Int64)]()
        if let lookahead {
            let listed = lookahead.causes[output] ?? [:]
            for (topic, delay) in listed { bounds.append((topic, delay, .min)) }
            if let r = lookahead.resumesAt {
                for (topic, delay) in declared where listed[topic] == nil { bounds.append((topic, delay, r.ms &- 1)) }
            }
        } else {
            for (topic, delay) in declared { bounds.append((topic, delay, .min)) }
        }
        for (topic, delay, floor) in bounds {
            // Inputs still to come are after the topic's watermark (promise: watermark + delay); pending ones at their
            // own times (time + delay − 1).
            for p in assigned where p.topic == topic {
                guard let w = effectiveWatermark(of: p) else { return nil }
                if w < .distantFuture { low = min(low, max(w.ms &+ delay, floor)) }
            }
            if let m = minPending[topic] { low = min(low, max(m.ms &+ delay &- 1, floor)) }
        }
        return low == .max ? .distantFuture : Timestamp(ms: low)
    }

    /// Keeps the per-topic earliest time and the per-partition offsets right after `released` left the buffer
    /// (a canonical prefix, so each topic's new earliest is its first event left in the buffer).
    private mutating func noteReleased(_ released: [PendingEvent]) {
        guard !released.isEmpty else { return }
        var topics = Set<String>()
        for e in released {
            topics.insert(e.source.topic)
            pendingPerTopic[e.source.topic, default: 0] -= 1
            pendingOffsets[e.source]?.release(e.offset)
        }
        for t in topics { minPendingTime[t] = nil }
        var missing = topics.filter { (pendingPerTopic[$0] ?? 0) > 0 }
        guard !missing.isEmpty else { return }
        for e in pending where missing.contains(e.source.topic) {
            minPendingTime[e.source.topic] = e.envelope.eventTime
            missing.remove(e.source.topic)
            if missing.isEmpty { break }
        }
    }

    static func canonical(_ a: PendingEvent, _ b: PendingEvent) -> Bool {
        if a.envelope.eventTime != b.envelope.eventTime { return a.envelope.eventTime < b.envelope.eventTime }
        if a.rank != b.rank { return a.rank < b.rank }
        if a.key != b.key { return a.key < b.key }
        return a.envelope.id < b.envelope.id
    }

    /// Per partition with buffered events, the earliest event time buffered (what a restart reads again).
    public func earliestPendingTimes() -> [PartitionID: Timestamp] {
        var out = [PartitionID: Timestamp]()
        let partitions = pendingOffsets.filter { $0.value.lowest != nil }.count
        for e in pending {
            if let t = out[e.source] { if unsorted, e.envelope.eventTime < t { out[e.source] = e.envelope.eventTime } } else { out[e.source] = e.envelope.eventTime }
            if !unsorted, out.count == partitions { break }
        }
        return out
    }

    /// Per partition: the offset to commit (everything before it has been released or dropped) and the event
    /// time of the last input released from it, which is what a restart rewinds from.
    public func committable() -> [PartitionID: (offset: Int64, lastReleased: Timestamp?)] {
        var lowestPending = [PartitionID: Int64]()
        for (p, q) in pendingOffsets { if let low = q.lowest { lowestPending[p] = low } }
        var out = [PartitionID: (Int64, Timestamp?)]()
        for (p, next) in nextOffset where assigned.contains(p) {
            out[p] = (lowestPending[p] ?? next, lastReleased[p])
        }
        return out
    }
}

/// A partition's buffered offsets in arrival order; released ones are skipped lazily, so finding the lowest still
/// buffered is amortized constant time.
struct OffsetQueue: Sendable {
    private var offsets: [Int64] = []
    private var head = 0
    private var released = Set<Int64>()

    mutating func append(_ offset: Int64) { offsets.append(offset) }

    mutating func release(_ offset: Int64) {
        released.insert(offset)
        while head < offsets.count, released.remove(offsets[head]) != nil { head += 1 }
        if head > 1024, head * 2 > offsets.count { offsets.removeFirst(head); head = 0 }
    }

    /// The lowest offset still buffered (offsets arrive in increasing order per partition).
    var lowest: Int64? { head < offsets.count ? offsets[head] : nil }
}

/// The ids of recently applied inputs with a fingerprint of their content: an exact redelivery is dropped; the
/// same id with different content is a conflict. Bounded: the oldest ids are forgotten first.
///
/// An id is kept as a 128-bit digest, not as its string: 200,000 string ids (a session of 500 tickers) held about
/// 20 MB in string storage and dictionary nodes, most of a service's heap; digests hold 48 bytes an id in flat
/// arrays. Two ids sharing a digest (about 2⁻⁹⁰ for a full window) would read as a duplicate or a conflict.
public struct RecentIDs: Sendable {
    struct Key: Hashable, Sendable {
        let high: UInt64, low: UInt64
        /// Two independently salted SipHash runs; the process-wide seed makes them unguessable, so no input
        /// can be crafted to collide. Only this process compares them.
        init(_ id: String) {
            var a = Hasher(), b = Hasher()
            a.combine(0x243f_6a88_85a3_08d3 as UInt64); a.combine(id)
            b.combine(0x1319_8a2e_0370_7344 as UInt64); b.combine(id)
            high = UInt64(bitPattern: Int64(a.finalize())); low = UInt64(bitPattern: Int64(b.finalize()))
        }
    }

    private var fingerprints: [Key: UInt64] = [:]
    private var order: [Key] = []
    private var head = 0
    public let capacity: Int

    public init(capacity: Int = 200_000) { self.capacity = capacity }

    public enum Verdict: Equatable, Sendable { case new, duplicate, conflict }

    public mutating func check(_ id: String, fingerprint: UInt64) -> Verdict {
        let key = Key(id)
        if let f = fingerprints[key] { return f == fingerprint ? .duplicate : .conflict }
        fingerprints[key] = fingerprint
        if order.count < capacity {
            order.append(key)
        } else {
            fingerprints[order[head]] = nil
            order[head] = key
            head = (head + 1) % capacity
        }
        return .new
    }

    public mutating func removeAll() { fingerprints = [:]; order = []; head = 0 }

    /// Forgets an id that was checked but not applied (its input was refused), so another copy of it may still be.
    public mutating func forget(_ id: String) { fingerprints[Key(id)] = nil }

    /// FNV-1a over the bytes.
    public static func fingerprint(_ bytes: [UInt8]) -> UInt64 { fingerprint(bytes[...]) }

    /// Eight bytes a step (a byte a step, each a dependent multiply, took a 20 KB chain about 25 µs in every service
    /// that reads it): each word mixed in by a multiply and a fold of its high half down, the length mixed in last.
    static func fingerprint(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.withUnsafeBytes { raw in
            let n = raw.count
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            var k = 0
            while k + 8 <= n {
                h = mix(h ^ raw.loadUnaligned(fromByteOffset: k, as: UInt64.self))
                k += 8
            }
            var tail: UInt64 = 0
            while k < n { tail = tail << 8 | UInt64(raw[k]); k += 1 }
            return mix(mix(h ^ tail) ^ UInt64(n))
        }
    }

    private static func mix(_ x: UInt64) -> UInt64 {
        let m = x &* 0x9e37_79b9_7f4a_7c15
        return m ^ (m >> 29)
    }

    /// The fingerprint of an envelope's bytes without its trailing wall-clock `"produced_at"` (always the last field):
    /// the same message written twice, at two times, is one. Reading the bytes, not re-encoding the decoded envelope,
    /// keeps this cheap for a 20 KB option chain.
    public static func fingerprintIgnoringProducedAt(_ bytes: [UInt8]) -> UInt64 {
        let marker = Array(#","produced_at":""#.utf8)
        let lowest = max(0, bytes.count - 64)
        var i = bytes.count - marker.count
        while i >= lowest {
            if bytes[i] == marker[0], bytes[i..<(i + marker.count)].elementsEqual(marker) {
                return fingerprint(bytes[..<i]) ^ 0x7d   // the closing brace stands for what was cut
            }
            i -= 1
        }
        return fingerprint(bytes)
    }
}
