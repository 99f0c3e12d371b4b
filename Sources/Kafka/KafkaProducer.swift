import CRdKafka
import Foundation
import Logging

/// Tracks the records of in-flight `send` calls so delivery reports (which
/// may be served on any thread that polls the handle) find their batch.
final class ProducerContext: ClientContext, @unchecked Sendable {
    /// One `send` call's outstanding records. Guarded by `lock`.
    final class Batch {
        var results: [Result<DeliveryReport, KafkaError>?]
        var remaining: Int

        init(count: Int) {
            results = Array(repeating: nil, count: count)
            remaining = count
        }
    }

    private var nextToken: UInt = 1
    private var pending: [UInt: (batch: Batch, index: Int)] = [:]

    /// Registers record `index` of `batch`; the token is passed to librdkafka
    /// as the message opaque (an integer, never dereferenced).
    func register(_ batch: Batch, index: Int) -> UInt {
        lock.lock()
        defer { lock.unlock() }
        let token = nextToken
        nextToken &+= 1
        if nextToken == 0 { nextToken = 1 }
        pending[token] = (batch, index)
        return token
    }

    /// Forgets tokens (after a batch finished or was abandoned); late
    /// delivery reports for them are ignored.
    func unregister(_ tokens: [UInt]) {
        lock.lock()
        defer { lock.unlock() }
        for token in tokens { pending.removeValue(forKey: token) }
    }

    func remaining(_ batch: Batch) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return batch.remaining
    }

    func results(_ batch: Batch) -> [Result<DeliveryReport, KafkaError>?] {
        lock.lock()
        defer { lock.unlock() }
        return batch.results
    }

    func delivered(token: UInt, result: Result<DeliveryReport, KafkaError>) {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = pending.removeValue(forKey: token) else { return }
        if entry.batch.results[entry.index] == nil {
            entry.batch.results[entry.index] = result
            entry.batch.remaining -= 1
        }
    }
}

private func handleDeliveryReport(message: UnsafePointer<rd_kafka_message_t>?, opaque: UnsafeMutableRawPointer?) {
    guard let message, let opaque else { return }
    let context = Unmanaged<ProducerContext>.fromOpaque(opaque).takeUnretainedValue()
    guard let token = message.pointee._private.map({ UInt(bitPattern: $0) }) else { return }
    let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
    if message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
        var error = KafkaError.from(message.pointee.err, context: "delivery to \(topic)[\(message.pointee.partition)] failed")
        if message.pointee.err == RD_KAFKA_RESP_ERR__FATAL, let fatal = context.fatalError {
            error = fatal
        }
        context.delivered(token: token, result: .failure(error))
        return
    }
    var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
    let timestamp = rd_kafka_message_timestamp(message, &timestampType)
    context.delivered(token: token, result: .success(DeliveryReport(
        topic: topic,
        partition: message.pointee.partition,
        offset: message.pointee.offset,
        timestampMs: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
    )))
}

/// A Kafka producer with a blocking, batch-oriented `send`.
///
/// Thread-safe: any number of threads may call `send` concurrently.
/// All methods **block** the calling thread (for up to the delivery timeout
/// in `send`). Call them from a dedicated thread, never from Swift's
/// cooperative thread pool (i.e. not directly from an `async` context).
public final class KafkaProducer: @unchecked Sendable {
    private let handle: OpaquePointer
    private let context: ProducerContext
    private let guardian = HandleGuard(name: "KafkaProducer")
    /// Upper bound for waiting on delivery reports in `send`.
    private let deliveryWaitMs: Int64
    /// The logger librdkafka's log lines go to.
    public let logger: Logger

    /// Creates a producer.
    ///
    /// - Parameters:
    ///   - config: connection and producer settings.
    ///   - logger: receives librdkafka's log lines (metadata `kafka.facility`)
    ///     and error callbacks.
    /// - Throws: `KafkaError` naming the offending property if a property is
    ///   unknown or has an invalid value.
    public init(config: KafkaProducerConfig, logger: Logger) throws {
        self.logger = logger
        let context = ProducerContext(logger: logger)
        self.context = context
        let properties = config.effectiveProperties
        let conf = try makeConf(properties, context: context)
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
            handleDeliveryReport(message: message, opaque: opaque)
        }
        handle = try makeHandle(type: RD_KAFKA_PRODUCER, conf: conf)
        // librdkafka guarantees a delivery report within message.timeout.ms
        // (alias delivery.timeout.ms, default 300 s); allow some slack on top.
        let timeout = properties.last { $0.0 == "message.timeout.ms" || $0.0 == "delivery.timeout.ms" }
            .flatMap { Int64($0.1) } ?? 300_000
        deliveryWaitMs = timeout + 30_000
    }

    deinit {
        close()
    }

    /// Writes `records` and waits until every one is acknowledged.
    ///
    /// Records are enqueued in order (waiting for queue space by polling when
    /// librdkafka's queue is full), then the call blocks until a delivery
    /// report has arrived for every record.
    ///
    /// - Returns: one report per record, in input order.
    /// - Throws: the first failed delivery (in input order), an enqueue error,
    ///   a timeout, or a remembered fatal error.
    public func send(_ records: [ProducerRecord]) throws -> [DeliveryReport] {
        try guardian.use {
            try context.throwIfFatal()
            if records.isEmpty { return [] }
            let deadline = monotonicMs() + deliveryWaitMs
            let batch = ProducerContext.Batch(count: records.count)
            var tokens: [UInt] = []
            tokens.reserveCapacity(records.count)
            defer { context.unregister(tokens) }

            for (index, record) in records.enumerated() {
                let token = context.register(batch, index: index)
                tokens.append(token)
                try enqueue(record, token: token, deadline: deadline)
            }

            rd_kafka_poll(handle, 0)
            while context.remaining(batch) > 0 {
                try context.throwIfFatal()
                if monotonicMs() > deadline {
                    throw KafkaError(
                        code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue,
                        message: "timed out waiting for \(context.remaining(batch)) of \(records.count) delivery reports",
                        isRetriable: true
                    )
                }
                rd_kafka_poll(handle, 50)
            }

            var reports: [DeliveryReport] = []
            reports.reserveCapacity(records.count)
            for result in context.results(batch) {
                switch result {
                case .success(let report)?: reports.append(report)
                case .failure(let error)?: throw error
                case nil:
                    throw KafkaError(code: RD_KAFKA_RESP_ERR__FAIL.rawValue, message: "missing delivery report")
                }
            }
            return reports
        }
    }

    private func enqueue(_ record: ProducerRecord, token: UInt, deadline: Int64) throws {
        let partition = record.partition ?? crdkafka_partition_ua()
        let timestamp = record.timestampMs ?? 0
        while true {
            let err: rd_kafka_resp_err_t = record.value.withUnsafeBytes { value in
                func produce(_ key: UnsafeRawBufferPointer?) -> rd_kafka_resp_err_t {
                    crdkafka_produce(
                        handle, record.topic, partition,
                        key?.baseAddress, key?.count ?? 0,
                        value.baseAddress, value.count,
                        timestamp, UnsafeMutableRawPointer(bitPattern: token)
                    )
                }
                if let key = record.key {
                    return key.withUnsafeBytes { produce($0) }
                }
                return produce(nil)
            }
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                try context.throwIfFatal()
                if monotonicMs() > deadline {
                    throw KafkaError.from(err, context: "producer queue stayed full")
                }
                // Serve delivery reports to make room.
                rd_kafka_poll(handle, 100)
                continue
            }
            if err == RD_KAFKA_RESP_ERR__FATAL, let fatal = context.fatalError { throw fatal }
            throw KafkaError.from(err, context: "enqueue to \(record.topic) failed")
        }
    }

    /// Raises a fabricated fatal error (`rd_kafka_test_fatal_error`) so tests
    /// can check fatal-error handling. The error is delivered through the
    /// error callback on the next poll.
    func injectFatalErrorForTesting(code: Int32, reason: String) throws {
        try guardian.use {
            let err = rd_kafka_test_fatal_error(handle, rd_kafka_resp_err_t(rawValue: code), reason)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.from(err, context: "test_fatal_error") }
            rd_kafka_poll(handle, 0)
        }
    }

    /// Number of partitions of `topic`, from cluster metadata.
    public func partitionCount(topic: String, timeoutMs: Int32 = 10_000) throws -> Int {
        try guardian.use {
            try context.throwIfFatal()
            return try fetchPartitionCount(handle: handle, topic: topic, timeoutMs: timeoutMs)
        }
    }

    /// Waits until all enqueued messages are delivered (or failed).
    ///
    /// - Throws: a `_TIMED_OUT` error if messages are still outstanding after `timeoutMs`.
    public func flush(timeoutMs: Int32) throws {
        try guardian.use {
            let err = rd_kafka_flush(handle, timeoutMs)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.from(err, context: "flush (\(rd_kafka_outq_len(handle)) messages outstanding)")
            }
        }
    }

    /// Flushes outstanding messages (up to `flushTimeoutMs`) and destroys the
    /// handle. Idempotent; also called on deinit. Waits for concurrent calls to
    /// finish first.
    public func close(flushTimeoutMs: Int32 = 10_000) {
        guardian.close {
            let err = rd_kafka_flush(handle, flushTimeoutMs)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning("closing producer with undelivered messages", metadata: [
                    "kafka.outq": "\(rd_kafka_outq_len(handle))",
                ])
            }
            rd_kafka_destroy(handle)
        }
    }
}
