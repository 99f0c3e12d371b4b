import CRdKafka

/// librdkafka's own key partitioners, by the name of its `partitioner` property: where a keyed record will land,
/// known before it is sent (a source that promises a minute early on the partitions its next data skips needs it).
/// Random partitioners have no answer: their choice is made only when the record is sent.
public struct KafkaPartitioner: Sendable, Equatable {
    public let name: String

    /// librdkafka's default.
    public static let librdkafkaDefault = "consistent_random"

    /// Nil for a partitioner that does not follow the key (`random`) or an unknown name.
    public init?(name: String) {
        guard Self.functions[name] != nil else { return nil }
        self.name = name
    }

    /// The partitioner a producer with these properties uses (nil: one that does not follow the key).
    public init?(_ config: KafkaProducerConfig) {
        self.init(name: config.effectiveProperties.last { $0.0 == "partitioner" }?.1 ?? Self.librdkafkaDefault)
    }

    /// The partition of `key` among `count` (≥ 1). The `_random` variants choose at random only for an empty key;
    /// a source's keys are never empty, and an empty one is placed here as the consistent variant would.
    public func partition(key: [UInt8], count: Int32) -> Int32 {
        precondition(count >= 1, "a topic has at least one partition")
        let f = Self.functions[name]!
        return key.withUnsafeBytes { f(nil, $0.baseAddress, $0.count, count, nil, nil) }
    }

    typealias Function = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32

    /// The random variants differ from the consistent ones only for empty keys, so both names map to the latter.
    static let functions: [String: Function] = [
        "consistent": rd_kafka_msg_partitioner_consistent,
        "consistent_random": rd_kafka_msg_partitioner_consistent,
        "murmur2": rd_kafka_msg_partitioner_murmur2,
        "murmur2_random": rd_kafka_msg_partitioner_murmur2,
        "fnv1a": rd_kafka_msg_partitioner_fnv1a,
        "fnv1a_random": rd_kafka_msg_partitioner_fnv1a,
    ]
}
