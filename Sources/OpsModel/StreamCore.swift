/// What a service's pure trading logic looks like to the runtime (invariant 3): state + input message → new
/// state + output messages. No I/O, no clock: time comes from the messages.
///
/// The runtime hands a core its inputs merged across topics and partitions in event-time order behind a
/// watermark, with duplicates (same id, same content) already dropped; ties at equal event time go in
/// `inputTopics` order, then key, then id. The same inputs therefore give the same outputs, byte for byte.
public protocol StreamCore: Sendable {
    /// The producing service, written into every output's `source`.
    var serviceName: String { get }
    /// Input topics, in tie-break order: at equal event time an input of an earlier topic is handled first, and
    /// an input is released once every earlier-or-equal topic has promised its time and every later topic has
    /// promised just before it (so same-time feedback, e.g. fills, comes after the inputs that caused it).
    var inputTopics: [String] { get }
    /// Output topics other than the dead-letter topic.
    var outputTopics: [String] { get }
    /// Applies one input. A `MessageError` sends the input to the dead-letter topic with that reason.
    mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit]
    /// Where to start re-reading a partition of an input topic to rebuild state (invariant 5), given the event
    /// time of the last input the service had processed from it. `.distantPast` re-reads it from the beginning.
    func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp
    /// For each output topic, the input topics whose messages can cause output on it, each with the least event
    /// time between such an input and the output it causes (0: at the input's time or later; 1: strictly later,
    /// e.g. a fill against the first quote after its order). Inputs not listed never cause output on that topic.
    /// The runtime derives the watermarks it promises downstream from this, which is what lets services that
    /// feed each other (orders → fills → positions → orders) advance without waiting on themselves.
    var outputCauses: [String: [String: Int64]] { get }
    /// What the state rules out right now (nil: nothing, `outputCauses` hold as declared). Asked after every round
    /// of inputs, it lets a quiet service promise past its next input: a broker with no working order fills nothing
    /// until an order comes, so its fills watermark follows the orders topic instead of every quote.
    var lookahead: Lookahead? { get }
    /// The consumer side of `lookahead`: input topics the state says can bring nothing for now (nil: none). Asked
    /// before every release, it lets a service go on without waiting for a topic's watermark while nothing it has
    /// seen can still be answered there: a position-manager with no order out needs no fill or order event until an
    /// order is made, so it does not wait on the broker minute by minute while it only holds.
    var quietInputs: QuietInputs? { get }
    /// The share of the accounts this replica owns where replicas split them by configuration (Kafka's assignment
    /// cannot): it names the replica's consumer group and is added to its watermarks' coverage, so a consumer waits
    /// for every share's promise. `.whole` when it runs alone.
    var accountShare: AccountShare { get }
    /// Forgets all state (before a restore).
    mutating func reset()
    /// The state, for a snapshot (`ops.snapshots.v1`): a restart then takes it and reads only the inputs after it.
    /// Nil: this core is rebuilt by re-reading its inputs from `restoreStart`.
    func snapshotState() throws -> String?
    /// Takes a state `snapshotState()` wrote, into a core just `reset()`; throws when it is not one this core can take
    /// (the runtime then rebuilds the state by re-reading instead).
    mutating func restoreState(_ state: String) throws
}

/// A snapshot a core cannot take.
public struct SnapshotMismatch: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A promise narrower than `outputCauses`, for as long as the state that makes it lasts: only `causes` can cause
/// output (with their delays; an input that only changes state in general may be one here, e.g. the decision an
/// entry fill answers), until `resumesAt` when every declared cause applies again (e.g. the next expiry settlement
/// of a held option). It must hold for every input sequence from now on, so the state may only leave it through an
/// input of a topic listed in `causes` (whose delay then bounds what follows).
public struct Lookahead: Sendable, Equatable {
    /// Names the narrowed set, so a runner can cache what it derives from `causes`.
    public var name: String
    /// Per output topic, the input topics that can still cause output there, with their least delays.
    public var causes: [String: [String: Int64]]
    /// From this event time on, `outputCauses` apply again (nil: not before a listed cause).
    public var resumesAt: Timestamp?

    public init(name: String, causes: [String: [String: Int64]], resumesAt: Timestamp? = nil) {
        self.name = name; self.causes = causes; self.resumesAt = resumesAt
    }
}

/// Input topics whose next message can only answer something the service has not seen yet, e.g. fills and order
/// events while no order is out: each can bring nothing before the first input of its `enders` (plus that input's least
/// delay) — the inputs that can make what it would answer — nor, with an `until` time for it, at or after that time
/// only its own watermark counts (e.g. an order already out, or the expiry close of an option held, where the broker
/// settles without an order). The runner then treats such a topic as promised up to there (`EventMerger.vouch`), and a
/// message that arrives behind such a promise is refused as late: the state vouched for something untrue. Like
/// `Lookahead`, it must hold for every input sequence from now on; the state may only leave it through an input of
/// `enders` (or by passing `until`).
public struct QuietInputs: Sendable, Equatable {
    /// Names the claim (logs and tests).
    public var name: String
    /// Per quiet input topic, the input topics whose messages can end the quiet, each with the least event time
    /// between such an input and a message on the quiet topic.
    public var enders: [String: [String: Int64]]
    /// Per quiet topic, the event time from which a message may come whatever the enders do (absent: none).
    public var until: [String: Timestamp]

    public init(name: String, enders: [String: [String: Int64]], until: [String: Timestamp] = [:]) {
        self.name = name; self.enders = enders; self.until = until
    }

    /// An `until` bounding each of `topics` at `time` (none when nil): where a message may come on any of them whatever
    /// the enders do (an order out, an expiry).
    public static func until(_ time: Timestamp?, on topics: some Sequence<String>) -> [String: Timestamp] {
        guard let time else { return [:] }
        return Dictionary(uniqueKeysWithValues: topics.map { ($0, time) })
    }

    /// Claims that hold together: each topic quiet in both, until the earlier bound, ended by either's enders.
    public func merged(with other: QuietInputs) -> QuietInputs {
        var enders = [String: [String: Int64]]()
        var until = [String: Timestamp]()
        for (topic, mine) in self.enders {
            guard let theirs = other.enders[topic] else { continue }
            enders[topic] = mine.merging(theirs, uniquingKeysWith: min)
            if let u = [self.until[topic], other.until[topic]].compactMap({ $0 }).min() { until[topic] = u }
        }
        return QuietInputs(name: name == other.name ? name : "\(name)+\(other.name)", enders: enders, until: until)
    }
}

extension StreamCore {
    public var lookahead: Lookahead? { nil }
    public var quietInputs: QuietInputs? { nil }
    public var accountShare: AccountShare { .whole }
    public func snapshotState() throws -> String? { nil }
    public mutating func restoreState(_ state: String) throws { throw SnapshotMismatch("\(serviceName) takes no snapshots") }

    /// By default every input may cause every output, at its own time.
    public var outputCauses: [String: [String: Int64]] {
        var out = [String: [String: Int64]]()
        for o in outputTopics { out[o] = Dictionary(uniqueKeysWithValues: inputTopics.map { ($0, 0) }) }
        return out
    }
}

/// An output message of a core.
public struct Emit: Sendable {
    public var topic: String
    public var envelope: AnyEnvelope
    /// Written to every partition of the topic (the same envelope, the same id) instead of the key's partition:
    /// for a message every consumer replica must see whichever partitions it owns (the watchlist). Consumers drop
    /// the copies as duplicates (same id, same content).
    public var broadcast: Bool
    public init(_ topic: String, _ envelope: AnyEnvelope, broadcast: Bool = false) {
        self.topic = topic; self.envelope = envelope; self.broadcast = broadcast
    }
}
