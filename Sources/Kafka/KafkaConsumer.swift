import CRdKafka
import Foundation
import Logging

/// Called when partitions are assigned to this group member; returns the
/// offsets to start from. Return `KafkaOffset.invalid` for a partition to
/// resume from its committed offset (or `auto.offset.reset` if none).
/// If it throws, no partition is taken and the next `poll` throws that error.
public typealias AssignHandler = ([TopicPartition]) throws -> [TopicPartitionOffset]
/// Called before partitions are taken away from this group member.
public typealias RevokeHandler = ([TopicPartition]) -> Void

/// Holds the rebalance handlers for the C rebalance callback.
final class ConsumerContext: ClientContext, @unchecked Sendable {
    private var onAssign: AssignHandler?
    private var onRevoke: RevokeHandler?
    private var handlerError: (any Error)?

    /// Keeps the first error an assign handler threw until `poll` throws it.
    func recordHandlerError(_ error: any Error) {
        lock.lock()
        defer { lock.unlock() }
        if handlerError == nil { handlerError = error }
    }

    func takeHandlerError() -> (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        defer { handlerError = nil }
        return handlerError
    }

    func setHandlers(onAssign: AssignHandler?, onRevoke: RevokeHandler?) {
        lock.lock()
        defer { lock.unlock() }
        self.onAssign = onAssign
        self.onRevoke = onRevoke
    }

    func handlers() -> (AssignHandler?, RevokeHandler?) {
        lock.lock()
        defer { lock.unlock() }
        return (onAssign, onRevoke)
    }
}

private func handleRebalance(
    rk: OpaquePointer?,
    err: rd_kafka_resp_err_t,
    partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    opaque: UnsafeMutableRawPointer?
) {
    guard let rk, let opaque else { return }
    let context = Unmanaged<ConsumerContext>.fromOpaque(opaque).takeUnretainedValue()
    let cooperative = crdkafka_is_cooperative(rk) != 0
    let (onAssign, onRevoke) = context.handlers()
    let current = partitions.map { readPartitionList($0).map(\.value.topicPartition) } ?? []

    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        var offsets: [TopicPartitionOffset]
        do {
            offsets = try onAssign?(current) ?? current.map { TopicPartitionOffset($0, offset: KafkaOffset.invalid) }
        } catch {
            // Starting these partitions from a guess (e.g. the beginning) would redo or skip work: take none and
            // let the caller's next poll see the error.
            context.logger.error("assign handler failed; no partition taken", metadata: ["kafka.error": "\(error)"])
            context.recordHandlerError(error)
            offsets = []
        }
        context.logger.debug("partitions assigned", metadata: [
            "kafka.partitions": "\(offsets.map(\.description).joined(separator: ", "))",
            "kafka.protocol": "\(cooperative ? "cooperative" : "eager")",
        ])
        let list = makePartitionList(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if cooperative {
            if let error = rd_kafka_incremental_assign(rk, list) {
                context.logger.error("incremental assign failed", metadata: ["kafka.error": "\(KafkaError.from(error: error))"])
            }
        } else {
            let result = rd_kafka_assign(rk, list)
            if result != RD_KAFKA_RESP_ERR_NO_ERROR {
                context.logger.error("assign failed", metadata: ["kafka.error": "\(KafkaError.from(result))"])
            }
        }

    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        context.logger.debug("partitions revoked", metadata: [
            "kafka.partitions": "\(current.map(\.description).joined(separator: ", "))",
        ])
        onRevoke?(current)
        if cooperative {
            if let partitions, let error = rd_kafka_incremental_unassign(rk, partitions) {
                context.logger.error("incremental unassign failed", metadata: ["kafka.error": "\(KafkaError.from(error: error))"])
            }
        } else {
            rd_kafka_assign(rk, nil)
        }

    default:
        context.logger.error("rebalance error", metadata: ["kafka.error": "\(KafkaError.from(err))"])
        if cooperative {
            if let partitions, let error = rd_kafka_incremental_unassign(rk, partitions) {
                context.logger.error("incremental unassign failed", metadata: ["kafka.error": "\(KafkaError.from(error: error))"])
            }
        } else {
            rd_kafka_assign(rk, nil)
        }
    }
}

/// A Kafka consumer: group subscription with caller-chosen start offsets,
/// or manual assignment; synchronous commits with metadata; offset queries.
///
/// Every method **blocks** the calling thread (network round trips, waiting
/// for messages). Run the consumer on a dedicated thread, never on Swift's
/// cooperative thread pool. The rebalance handlers passed to `subscribe` run
/// synchronously on the thread that calls `poll`, `pollBatch` or `close`.
///
/// The type is `Sendable` so it can be handed to that thread; the methods
/// are safe to call from several threads, and `close` waits for in-flight
/// calls before destroying the handle.
public final class KafkaConsumer: @unchecked Sendable {
    fileprivate let handle: OpaquePointer
    private let context: ConsumerContext
    private let guardian = HandleGuard(name: "KafkaConsumer")
    /// The consumer group id this consumer was created with.
    public let groupId: String
    /// The logger librdkafka's log lines go to.
    public let logger: Logger

    private let stateLock = NSLock()
    private var subscribedFlag = false
    fileprivate var isSubscribed: Bool {
        get { stateLock.lock(); defer { stateLock.unlock() }; return subscribedFlag }
        set { stateLock.lock(); subscribedFlag = newValue; stateLock.unlock() }
    }

    /// Creates a consumer (does not subscribe or assign anything yet).
    ///
    /// - Parameters:
    ///   - config: connection, group and consumer settings.
    ///   - logger: receives librdkafka's log lines (metadata `kafka.facility`),
    ///     error callbacks and consumer errors that are not thrown.
    /// - Throws: `KafkaError` naming the offending property if a property is
    ///   unknown or has an invalid value.
    public init(config: KafkaConsumerConfig, logger: Logger) throws {
        self.logger = logger
        self.groupId = config.groupId
        let context = ConsumerContext(logger: logger)
        self.context = context
        let conf = try makeConf(config.effectiveProperties, context: context)
        rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
            handleRebalance(rk: rk, err: err, partitions: partitions, opaque: opaque)
        }
        let rk = try makeHandle(type: RD_KAFKA_CONSUMER, conf: conf)
        // Serve errors/logs/rebalances from rd_kafka_consumer_poll.
        let err = rd_kafka_poll_set_consumer(rk)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            rd_kafka_destroy(rk)
            throw KafkaError.from(err, context: "rd_kafka_poll_set_consumer")
        }
        handle = rk
    }

    deinit {
        close()
    }

    /// Joins the consumer group and subscribes to `topics`.
    ///
    /// - Parameters:
    ///   - topics: topic names (a leading `^` makes a regex subscription).
    ///   - onAssign: chooses start offsets for newly assigned partitions, e.g.
    ///     to rewind for a state restore. The default resumes from committed
    ///     offsets (`KafkaOffset.invalid`). The returned list is what gets
    ///     assigned (`rd_kafka_assign`, or `rd_kafka_incremental_assign` when
    ///     `partition.assignment.strategy` is `cooperative-sticky`).
    ///   - onRevoke: called before partitions are unassigned, e.g. to commit.
    public func subscribe(
        topics: [String],
        onAssign: AssignHandler? = nil,
        onRevoke: RevokeHandler? = nil
    ) throws {
        try guardian.use {
            try context.throwIfFatal()
            context.setHandlers(onAssign: onAssign, onRevoke: onRevoke)
            let list = makePartitionList(topics.map { TopicPartition(topic: $0, partition: crdkafka_partition_ua()) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_subscribe(handle, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.from(err, context: "subscribe to \(topics)")
            }
            isSubscribed = true
        }
    }

    /// Manually assigns partitions (no group membership), starting at the
    /// given offsets (`KafkaOffset.beginning`, `.end`, `.invalid` for "committed
    /// offset of `groupId`", or an absolute offset). Replaces any previous assignment.
    public func assign(_ offsets: [TopicPartitionOffset]) throws {
        try guardian.use {
            try context.throwIfFatal()
            let list = makePartitionList(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_assign(handle, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.from(err, context: "assign")
            }
        }
    }

    /// Moves the fetch position of assigned partitions to the given offsets. With a timeout, returns once the fetcher
    /// has moved: no message fetched from the old position reaches a later `poll`.
    ///
    /// - Throws: the request error, or the first per-partition error.
    public func seek(_ offsets: [TopicPartitionOffset], timeoutMs: Int32 = 10_000) throws {
        try guardian.use {
            try context.throwIfFatal()
            guard !offsets.isEmpty else { return }
            let list = makePartitionList(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if let error = rd_kafka_seek_partitions(handle, list, timeoutMs) {
                throw KafkaError.from(error: error)
            }
            if let failed = readPartitionList(list).first(where: { $0.error != RD_KAFKA_RESP_ERR_NO_ERROR }) {
                throw KafkaError.from(failed.error, context: "seek of \(failed.value.topicPartition)")
            }
        }
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws -> [TopicPartition] {
        try guardian.use {
            var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
            let err = rd_kafka_assignment(handle, &list)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
                throw KafkaError.from(err, context: "assignment")
            }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            return readPartitionList(list).map(\.value.topicPartition)
        }
    }

    /// Waits up to `timeoutMs` for the next message.
    ///
    /// Partition EOF and transient errors are logged, not thrown (polling
    /// continues until the timeout); fatal errors are thrown, and so is an
    /// error the assign handler threw during this poll.
    /// - Returns: the message, or `nil` if none arrived in time.
    public func poll(timeoutMs: Int32) throws -> KafkaMessage? {
        try guardian.use {
            try pollOne(timeoutMs: timeoutMs)
        }
    }

    /// Waits up to `timeoutMs` for a first message, then collects whatever
    /// else is immediately available, up to `max` messages in total.
    public func pollBatch(max: Int, timeoutMs: Int32) throws -> [KafkaMessage] {
        try guardian.use {
            var messages: [KafkaMessage] = []
            guard max > 0, let first = try pollOne(timeoutMs: timeoutMs) else { return messages }
            messages.append(first)
            while messages.count < max, let next = try pollOne(timeoutMs: 0) {
                messages.append(next)
            }
            return messages
        }
    }

    private func pollOne(timeoutMs: Int32) throws -> KafkaMessage? {
        try context.throwIfFatal()
        let deadline = monotonicMs() + Int64(max(timeoutMs, 0))
        while true {
            let remaining = Int32(clamping: max(deadline - monotonicMs(), 0))
            let polled = rd_kafka_consumer_poll(handle, remaining)
            if let failure = context.takeHandlerError() {
                if let polled { rd_kafka_message_destroy(polled) }
                throw failure
            }
            guard let message = polled else {
                try context.throwIfFatal()
                return nil
            }
            defer { rd_kafka_message_destroy(message) }
            let err = message.pointee.err
            if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                return convert(message)
            }
            let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
            if err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                logger.debug("partition EOF", metadata: [
                    "kafka.partition": "\(topic)[\(message.pointee.partition)]",
                    "kafka.offset": "\(message.pointee.offset)",
                ])
            } else {
                var error = KafkaError.from(err, context: rd_kafka_message_errstr(message).map { String(cString: $0) })
                if err == RD_KAFKA_RESP_ERR__FATAL {
                    error = context.fatalError ?? KafkaError(code: error.code, message: error.message, isFatal: true)
                    context.recordFatal(error)
                    throw error
                }
                logger.warning("consumer error", metadata: [
                    "kafka.error": "\(error)",
                    "kafka.partition": "\(topic)[\(message.pointee.partition)]",
                ])
            }
            if remaining == 0 { return nil }
        }
    }

    private func convert(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaMessage {
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        return KafkaMessage(
            topic: message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "",
            partition: message.pointee.partition,
            offset: message.pointee.offset,
            key: message.pointee.key.map { copyBytes($0, message.pointee.key_len) },
            value: copyBytes(message.pointee.payload, message.pointee.len),
            timestampMs: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
        )
    }

    /// Synchronously commits `offsets` (each the **next** offset to read) for
    /// this consumer's group, with optional per-partition metadata.
    ///
    /// - Throws: the request error, or the first per-partition error.
    public func commit(_ offsets: [TopicPartitionOffset]) throws {
        try guardian.use {
            try context.throwIfFatal()
            guard !offsets.isEmpty else { return }
            let list = makePartitionList(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_commit(handle, list, 0)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.from(err, context: "commit")
            }
            if let failed = readPartitionList(list).first(where: { $0.error != RD_KAFKA_RESP_ERR_NO_ERROR }) {
                throw KafkaError.from(failed.error, context: "commit of \(failed.value.topicPartition)")
            }
        }
    }

    /// Committed offsets (and stored metadata) of this consumer's group.
    ///
    /// - Returns: one entry per requested partition, in input order; the
    ///   offset is `KafkaOffset.invalid` (-1001) where nothing was committed.
    public func committed(_ partitions: [TopicPartition], timeoutMs: Int32 = 10_000) throws -> [TopicPartitionOffset] {
        try guardian.use {
            try context.throwIfFatal()
            guard !partitions.isEmpty else { return [] }
            let list = makePartitionList(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_committed(handle, list, timeoutMs)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.from(err, context: "committed")
            }
            let elements = readPartitionList(list)
            if let failed = elements.first(where: { $0.error != RD_KAFKA_RESP_ERR_NO_ERROR }) {
                throw KafkaError.from(failed.error, context: "committed offset of \(failed.value.topicPartition)")
            }
            return elements.map(\.value)
        }
    }

    /// For each partition, the earliest offset whose message timestamp is at
    /// or after the given timestamp (ms since epoch). A partition with no
    /// such message maps to `KafkaOffset.end` (-1).
    public func offsetsForTimes(_ timestamps: [TopicPartition: Int64], timeoutMs: Int32 = 10_000) throws -> [TopicPartition: Int64] {
        try guardian.use {
            try context.throwIfFatal()
            guard !timestamps.isEmpty else { return [:] }
            let list = makePartitionList(timestamps.map { TopicPartitionOffset($0.key, offset: $0.value) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_offsets_for_times(handle, list, timeoutMs)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.from(err, context: "offsetsForTimes")
            }
            var result: [TopicPartition: Int64] = [:]
            for element in readPartitionList(list) {
                if element.error != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError.from(element.error, context: "offsetsForTimes for \(element.value.topicPartition)")
                }
                result[element.value.topicPartition] = element.value.offset
            }
            return result
        }
    }

    /// Low (first retained) and high (next to be written) offsets of a
    /// partition, queried from the partition leader.
    public func watermarkOffsets(topic: String, partition: Int32, timeoutMs: Int32 = 10_000) throws -> (low: Int64, high: Int64) {
        try guardian.use {
            try context.throwIfFatal()
            return try queryWatermarks(handle: handle, topic: topic, partition: partition, timeoutMs: timeoutMs)
        }
    }

    /// Stops fetching these assigned partitions until `resume` (messages already fetched are still delivered).
    public func pause(_ partitions: [TopicPartition]) throws {
        try pauseOrResume(partitions, pause: true)
    }

    /// Fetches paused partitions again, from where they stopped.
    public func resume(_ partitions: [TopicPartition]) throws {
        try pauseOrResume(partitions, pause: false)
    }

    private func pauseOrResume(_ partitions: [TopicPartition], pause: Bool) throws {
        try guardian.use {
            try context.throwIfFatal()
            guard !partitions.isEmpty else { return }
            let list = makePartitionList(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = pause ? rd_kafka_pause_partitions(handle, list) : rd_kafka_resume_partitions(handle, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.from(err, context: pause ? "pause" : "resume") }
        }
    }

    /// The high offset (next to be written) librdkafka last heard for an assigned partition, from its fetch
    /// responses: no request is made, so it may trail the broker by a fetch. nil before the first fetch.
    public func cachedHighOffset(topic: String, partition: Int32) -> Int64? {
        (try? guardian.use { () -> Int64? in
            var low: Int64 = 0, high: Int64 = 0
            let err = rd_kafka_get_watermark_offsets(handle, topic, partition, &low, &high)
            return err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0 ? high : nil
        }) ?? nil
    }

    /// Number of partitions of `topic`, from cluster metadata.
    public func partitionCount(topic: String, timeoutMs: Int32 = 10_000) throws -> Int {
        try guardian.use {
            try context.throwIfFatal()
            return try fetchPartitionCount(handle: handle, topic: topic, timeoutMs: timeoutMs)
        }
    }

    /// Leaves the group (running the revoke handler for the current
    /// assignment on this thread) and destroys the handle. Idempotent; also
    /// called on deinit. Waits for concurrent calls to finish first.
    ///
    /// librdkafka 2.0.2 can hang forever in `rd_kafka_assign` when a rebalance
    /// callback is served from inside `rd_kafka_consumer_close` while a
    /// rebalance is still pending (librdkafka issues #4884 / #4527). To avoid
    /// that, a subscribed consumer first unsubscribes and keeps polling
    /// (discarding messages) for up to `drainTimeoutMs` until its assignment
    /// is empty and no rebalance event is pending, so the revoke handler runs
    /// from a normal poll; only then is `rd_kafka_consumer_close` called.
    public func close(drainTimeoutMs: Int32 = 10_000) {
        guardian.close {
            if isSubscribed {
                drainBeforeClose(timeoutMs: drainTimeoutMs)
            }
            let err = rd_kafka_consumer_close(handle)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning("consumer close failed", metadata: ["kafka.error": "\(KafkaError.from(err))"])
            }
            rd_kafka_destroy(handle)
        }
    }
}

extension KafkaConsumer {
    /// Unsubscribes and polls until the assignment is empty and a poll came
    /// back empty (so no rebalance event is left for `rd_kafka_consumer_close`).
    fileprivate func drainBeforeClose(timeoutMs: Int32) {
        let err = rd_kafka_unsubscribe(handle)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("unsubscribe before close failed", metadata: ["kafka.error": "\(KafkaError.from(err))"])
            return
        }
        isSubscribed = false
        let deadline = monotonicMs() + Int64(timeoutMs)
        while monotonicMs() < deadline {
            if let message = rd_kafka_consumer_poll(handle, 50) {
                rd_kafka_message_destroy(message)
                continue
            }
            if currentAssignmentIsEmpty() { return }
        }
        logger.warning("consumer still had an assignment when the close drain timed out")
    }

    private func currentAssignmentIsEmpty() -> Bool {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return true }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return list.pointee.cnt == 0
    }
}

func queryWatermarks(handle: OpaquePointer, topic: String, partition: Int32, timeoutMs: Int32) throws -> (low: Int64, high: Int64) {
    var low: Int64 = 0
    var high: Int64 = 0
    let err = rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, timeoutMs)
    if err != RD_KAFKA_RESP_ERR_NO_ERROR {
        throw KafkaError.from(err, context: "watermark offsets of \(topic)[\(partition)]")
    }
    return (low, high)
}
