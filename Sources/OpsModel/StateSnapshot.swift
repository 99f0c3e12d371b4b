import Foundation

/// A stateful service's state at a point of its inputs, on the compacted `ops.snapshots.v1` (issue 9: restarts that do
/// not re-read history). A restart takes the latest snapshot its commits point to and reads only what came after it:
/// each input partition from `next`, skipping the inputs listed in `applied`. Written after the outputs of every input
/// it holds were acknowledged, so restoring it never skips an output.
public struct StateSnapshot: Payload {
    public static let messageType = "state_snapshot"
    public static let version = 1

    /// Where one input partition stands in the state.
    public struct PartitionStart: Codable, Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        /// The first offset whose input is not in the state (−2: the partition's beginning).
        public var next: Int64
        /// Offsets from `next` on whose inputs are in the state already (released before an earlier offset of the
        /// partition that still waited for the watermark): skipped when the partition is read again.
        public var applied: [Int64]
        /// The partition's watermark when taken, below every input still waiting there: a floor for the restore, so
        /// it need not wait for upstream to promise again (upstream may be waiting on this service).
        public var watermark: Timestamp?

        public init(topic: String, partition: Int32, next: Int64, applied: [Int64], watermark: Timestamp? = nil) {
            self.topic = topic; self.partition = partition; self.next = next; self.applied = applied; self.watermark = watermark
        }
    }

    public var service: String
    /// The consumer group whose state this is (the Kafka key: compaction keeps the latest per group).
    public var group: String
    public var partitions: [PartitionStart]
    /// The core's own encoding of its state (`StreamCore.snapshotState`).
    public var state: String

    enum CodingKeys: String, CodingKey { case service, group, partitions, state }

    public init(service: String, group: String, partitions: [PartitionStart], state: String) {
        self.service = service; self.group = group; self.partitions = partitions; self.state = state
    }

    public var partitionKey: String { group }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        guard !service.isEmpty, !group.isEmpty else { throw .invalid("a snapshot names its service and group") }
        guard !partitions.isEmpty else { throw .invalid("a snapshot covers at least one input partition") }
    }

    public static func id(group: String, at t: Timestamp, partitions: [PartitionStart]) -> String {
        DeterministicID.make("snapshot", parts: [group, t.iso8601] + partitions.map { "\($0.topic)/\($0.partition)@\($0.next)" })
    }
}

/// How cores write their state into a snapshot: JSON with sorted keys (stable bytes for equal states).
public enum SnapshotCoding {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    /// `value` as `encode` writes it, with `messages` added under `key` as an object of each message's wire JSON
    /// (`JSONText.encodePayload`; `value` must leave `key` out, e.g. as nil). The same document JSONEncoder would write
    /// (so `decode` reads it into a `value` whose `key` holds the messages), with the messages first and written by
    /// `DirectWire`: the dispatcher's snapshot holds the latest chain of every underlying, which through JSONEncoder
    /// was most of the time its snapshot took, a pause of the service's rounds.
    public static func encode<T: Encodable, P: Payload>(_ value: T, adding key: String, _ messages: [String: P]) throws -> String {
        let rest = try encode(value)
        var out = [UInt8]()
        out.append(UInt8(ascii: "{"))
        JSONText.append(key, to: &out)
        out.append(contentsOf: Array(":{".utf8))
        for (i, k) in messages.keys.sorted().enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.append(k, to: &out)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: try JSONText.encodePayload(messages[k]!))
        }
        out.append(UInt8(ascii: "}"))
        let body = rest.utf8.dropFirst()
        if body.first != UInt8(ascii: "}") { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: body)
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

/// An operator command with the event time it was read at (what the dispatcher and the position-manager keep), in a
/// form a snapshot can hold.
public struct TimedControl: Codable, Sendable, Equatable {
    public var time: Timestamp
    public var control: OperatorControl
    public init(_ time: Timestamp, _ control: OperatorControl) { self.time = time; self.control = control }
    public var pair: (Timestamp, OperatorControl) { (time, control) }
}
