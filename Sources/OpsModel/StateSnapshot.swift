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

    public static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

/// A message kept in a core's state, written into its snapshot as a string holding the message's own wire JSON
/// (`DirectWire`): JSONEncoder took 21–24 ms for the dispatcher's latest chain of every underlying (15 chains, 440 KB)
/// at every snapshot, a pause its next round waited for (bar → decision at 60× on the hour); the wire writer takes
/// ~1.5 ms. Reads both spellings: a snapshot written before kept the message as an object.
public struct WireText<P: DirectlyRead & DirectlyWritten>: Codable, Sendable {
    public var value: P

    public init(_ value: P) { self.value = value }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let bytes = DirectWire.encode(value) { try c.encode(String(decoding: bytes, as: UTF8.self)) } else { try c.encode(value) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        guard let text = try? c.decode(String.self) else {
            value = try c.decode(P.self)
            return
        }
        let bytes = Array(text.utf8)
        var r = JSONBytesReader(bytes)
        if let v = P.readJSON(&r), r.atEnd() { value = v } else { value = try JSONDecoder().decode(P.self, from: Data(bytes)) }
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
