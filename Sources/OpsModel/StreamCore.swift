/// What a service's pure trading logic looks like to the runtime (invariant 3): state + input message → new
/// state + output messages. No I/O, no clock: time comes from the messages.
///
/// The runtime hands a core its inputs merged across topics and partitions in event-time order behind a
/// watermark, with duplicates (same id, same content) already dropped; ties at equal event time go in
/// `inputTopics` order, then key, then id. The same inputs therefore give the same outputs, byte for byte.
public protocol StreamCore: Sendable {
    /// The producing service, written into every output's `source`.
    var serviceName: String { get }
    /// Input topics, in tie-break order.
    var inputTopics: [String] { get }
    /// Output topics other than the dead-letter topic.
    var outputTopics: [String] { get }
    /// Applies one input. A `MessageError` sends the input to the dead-letter topic with that reason.
    mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit]
    /// Where to start re-reading an input partition to rebuild state (invariant 5), given the event time of the
    /// last input the service had processed from it.
    func restoreStart(after lastProcessed: Timestamp) -> Timestamp
    /// Forgets all state (before a restore).
    mutating func reset()
}

/// An output message of a core.
public struct Emit: Sendable {
    public var topic: String
    public var envelope: AnyEnvelope
    public init(_ topic: String, _ envelope: AnyEnvelope) { self.topic = topic; self.envelope = envelope }
}
