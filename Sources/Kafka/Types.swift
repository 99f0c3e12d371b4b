/// A topic name plus a partition number.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    /// Topic name.
    public var topic: String
    /// Partition number (0-based).
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// Every partition of each topic, given its partition count, topic by topic.
    public static func all(_ counts: [(topic: String, partitions: Int32)]) -> [TopicPartition] {
        counts.flatMap { t in (0..<t.partitions).map { TopicPartition(topic: t.topic, partition: $0) } }
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// Special offset values understood by librdkafka.
public enum KafkaOffset {
    /// Start from the oldest retained message (`RD_KAFKA_OFFSET_BEGINNING`).
    public static let beginning: Int64 = -2
    /// Start after the newest message (`RD_KAFKA_OFFSET_END`).
    public static let end: Int64 = -1
    /// Use the stored/committed offset (`RD_KAFKA_OFFSET_STORED`).
    public static let stored: Int64 = -1000
    /// No offset / "use the committed offset, else `auto.offset.reset`"
    /// when assigning (`RD_KAFKA_OFFSET_INVALID`). Also what `committed`
    /// reports for a partition that has no committed offset.
    public static let invalid: Int64 = -1001
}

/// A partition with an offset and optional commit metadata.
///
/// For commits the offset is the **next** offset to read (Kafka convention:
/// after processing the message at offset `n`, commit `n + 1`).
public struct TopicPartitionOffset: Hashable, Sendable, CustomStringConvertible {
    /// Topic name.
    public var topic: String
    /// Partition number.
    public var partition: Int32
    /// Offset, or one of the special `KafkaOffset` values.
    public var offset: Int64
    /// Opaque string stored with a commit (returned by `committed`).
    public var metadata: String?

    public init(topic: String, partition: Int32, offset: Int64, metadata: String? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.metadata = metadata
    }

    public init(_ topicPartition: TopicPartition, offset: Int64, metadata: String? = nil) {
        self.init(topic: topicPartition.topic, partition: topicPartition.partition, offset: offset, metadata: metadata)
    }

    /// The partition this offset applies to.
    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// `true` when the offset is a real (non-negative) offset rather than a special value.
    public var hasOffset: Bool { offset >= 0 }

    public var description: String {
        "\(topic)[\(partition)]@\(offset)\(metadata.map { " (\($0))" } ?? "")"
    }
}

/// A message read by `KafkaConsumer`.
public struct KafkaMessage: Sendable, Equatable {
    /// Topic the message was read from.
    public var topic: String
    /// Partition the message was read from.
    public var partition: Int32
    /// Offset of the message within its partition.
    public var offset: Int64
    /// Key bytes, or `nil` if the message has no key.
    public var key: [UInt8]?
    /// Value bytes (empty for a null value).
    public var value: [UInt8]
    /// Message timestamp in milliseconds since the Unix epoch, if available.
    public var timestampMs: Int64?

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8], timestampMs: Int64?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.timestampMs = timestampMs
    }

    /// The partition this message belongs to.
    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
}

/// A message to be written by `KafkaProducer.send`.
public struct ProducerRecord: Sendable, Equatable {
    /// Destination topic.
    public var topic: String
    /// Key bytes; records with equal keys go to the same partition
    /// (unless `partition` is set explicitly).
    public var key: [UInt8]?
    /// Value bytes.
    public var value: [UInt8]
    /// Explicit destination partition; `nil` lets the partitioner choose from the key.
    public var partition: Int32?
    /// Message timestamp in milliseconds since the Unix epoch; `nil` means "now".
    public var timestampMs: Int64?

    public init(topic: String, key: [UInt8]? = nil, value: [UInt8], partition: Int32? = nil, timestampMs: Int64? = nil) {
        self.topic = topic
        self.key = key
        self.value = value
        self.partition = partition
        self.timestampMs = timestampMs
    }
}

/// Where a produced record was written.
public struct DeliveryReport: Sendable, Equatable {
    /// Topic written to.
    public var topic: String
    /// Partition written to.
    public var partition: Int32
    /// Offset assigned by the broker.
    public var offset: Int64
    /// Timestamp reported in the produce response, if any: the broker's
    /// log-append time for `LogAppendTime` topics, else the record's own
    /// timestamp. (librdkafka 2.0.2's mock broker always claims log-append
    /// time 1234, so don't rely on this field in mock-based tests.)
    public var timestampMs: Int64?

    public init(topic: String, partition: Int32, offset: Int64, timestampMs: Int64?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMs = timestampMs
    }
}
