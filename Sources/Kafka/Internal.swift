import CRdKafka
import Foundation
import Logging

// MARK: - Callback context

/// State reachable from librdkafka's C callbacks through the `rd_kafka_t`
/// opaque pointer. The owning client keeps it alive until after
/// `rd_kafka_destroy` returns, so callbacks never see a dangling pointer.
class ClientContext: @unchecked Sendable {
    let logger: Logger
    let lock = NSLock()
    private var firstFatal: KafkaError?

    init(logger: Logger) {
        self.logger = logger
    }

    /// The first fatal error raised by librdkafka, if any.
    var fatalError: KafkaError? {
        lock.lock()
        defer { lock.unlock() }
        return firstFatal
    }

    func recordFatal(_ error: KafkaError) {
        lock.lock()
        defer { lock.unlock() }
        if firstFatal == nil { firstFatal = error }
    }

    /// Throws the remembered fatal error, if any.
    func throwIfFatal() throws {
        if let fatal = fatalError { throw fatal }
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ opaque: UnsafeMutableRawPointer) -> ClientContext {
        Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

// MARK: - Log and error callbacks

/// Maps a syslog level (0 emerg ... 7 debug) to a swift-log level.
func loggerLevel(syslog level: Int32) -> Logger.Level {
    switch level {
    case ...2: return .critical
    case 3: return .error
    case 4: return .warning
    case 5: return .notice
    case 6: return .info
    default: return .debug
    }
}

func handleLog(rk: OpaquePointer?, level: Int32, facility: UnsafePointer<CChar>?, text: UnsafePointer<CChar>?) {
    guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
    let context = ClientContext.from(opaque)
    let logLevel = loggerLevel(syslog: level)
    guard context.logger.logLevel <= logLevel else { return }
    let fac = facility.map { String(cString: $0) } ?? ""
    let message = text.map { String(cString: $0) } ?? ""
    context.logger.log(
        level: logLevel,
        "\(message)",
        metadata: ["kafka.facility": "\(fac)", "kafka.client": "\(String(cString: rd_kafka_name(rk)))"]
    )
}

func handleError(rk: OpaquePointer?, err: Int32, reason: UnsafePointer<CChar>?, opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    let context = ClientContext.from(opaque)
    let text = reason.map { String(cString: $0) } ?? ""
    var error = KafkaError.from(code: err, context: text)
    if err == RD_KAFKA_RESP_ERR__FATAL.rawValue, let rk {
        var buffer = [CChar](repeating: 0, count: 512)
        let original = rd_kafka_fatal_error(rk, &buffer, buffer.count)
        let detail = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        error = KafkaError(code: original.rawValue, message: detail.isEmpty ? text : detail, isFatal: true, isRetriable: false)
        context.recordFatal(error)
        context.logger.critical("fatal librdkafka error", metadata: ["kafka.error": "\(error)"])
    } else {
        context.logger.warning("librdkafka error", metadata: ["kafka.error": "\(error)"])
    }
}

// MARK: - Configuration

/// Builds an `rd_kafka_conf_t` from properties and installs the log/error
/// callbacks. The caller owns the returned conf until `rd_kafka_new`
/// succeeds.
func makeConf(_ properties: [(String, String)], context: ClientContext) throws -> OpaquePointer {
    guard let conf = rd_kafka_conf_new() else {
        throw KafkaError(code: RD_KAFKA_RESP_ERR__FAIL.rawValue, message: "rd_kafka_conf_new failed")
    }
    for (name, value) in properties {
        var buffer = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, name, value, &buffer, buffer.count)
        if result != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            let detail = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            // The value is deliberately left out: it may be a secret.
            throw KafkaError(
                code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
                message: "invalid configuration property '\(name)': \(detail)"
            )
        }
    }
    rd_kafka_conf_set_opaque(conf, context.opaque)
    rd_kafka_conf_set_log_cb(conf) { rk, level, facility, text in
        handleLog(rk: rk, level: level, facility: facility, text: text)
    }
    rd_kafka_conf_set_error_cb(conf) { rk, err, reason, opaque in
        handleError(rk: rk, err: err, reason: reason, opaque: opaque)
    }
    return conf
}

/// `rd_kafka_new` that destroys `conf` on failure (on success librdkafka owns it).
func makeHandle(type: rd_kafka_type_t, conf: OpaquePointer) throws -> OpaquePointer {
    var buffer = [CChar](repeating: 0, count: 512)
    guard let rk = rd_kafka_new(type, conf, &buffer, buffer.count) else {
        rd_kafka_conf_destroy(conf)
        let detail = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        throw KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, message: "rd_kafka_new failed: \(detail)")
    }
    return rk
}

// MARK: - Handle lifetime guard

/// Lets any number of threads use a handle concurrently while `close`
/// waits for them to finish before destroying it. The thread running
/// `close` may still use the handle (librdkafka invokes rebalance callbacks
/// from `rd_kafka_consumer_close`, and those may commit).
final class HandleGuard: @unchecked Sendable {
    private enum State {
        case open
        case closing(pthread_t)
        case closed
    }

    private let condition = NSCondition()
    private var state = State.open
    private var active = 0
    private let name: String

    init(name: String) {
        self.name = name
    }

    /// Runs `body` if the handle is still open, else throws a "closed" error.
    func use<T>(_ body: () throws -> T) throws -> T {
        condition.lock()
        switch state {
        case .open:
            active += 1
            condition.unlock()
            defer {
                condition.lock()
                active -= 1
                if active == 0 { condition.broadcast() }
                condition.unlock()
            }
            return try body()
        case .closing(let thread) where pthread_equal(thread, pthread_self()) != 0:
            condition.unlock()
            return try body()
        default:
            condition.unlock()
            throw KafkaError.closed(name)
        }
    }

    /// Marks the handle closed, waits for in-flight uses, then runs `body`
    /// exactly once. Later calls return immediately.
    func close(_ body: () -> Void) {
        condition.lock()
        guard case .open = state else {
            condition.unlock()
            return
        }
        state = .closing(pthread_self())
        while active > 0 { condition.wait() }
        condition.unlock()
        body()
        condition.lock()
        state = .closed
        condition.unlock()
    }
}

// MARK: - Partition lists

/// Builds an `rd_kafka_topic_partition_list_t`; the caller destroys it.
func makePartitionList(_ items: [TopicPartitionOffset]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(max(items.count, 1)))!
    for item in items {
        let element = rd_kafka_topic_partition_list_add(list, item.topic, item.partition)!
        element.pointee.offset = item.offset
        if let metadata = item.metadata {
            // librdkafka frees `metadata` with free() when the list is destroyed.
            let bytes = Array(metadata.utf8)
            let memory = malloc(max(bytes.count, 1))!
            bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress { memcpy(memory, base, bytes.count) }
            }
            element.pointee.metadata = memory
            element.pointee.metadata_size = bytes.count
        }
    }
    return list
}

func makePartitionList(_ items: [TopicPartition], offset: Int64 = KafkaOffset.invalid) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    makePartitionList(items.map { TopicPartitionOffset($0, offset: offset) })
}

/// One element of a partition list, read back into Swift.
struct PartitionListElement {
    var value: TopicPartitionOffset
    var error: rd_kafka_resp_err_t
}

func readPartitionList(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [PartitionListElement] {
    var result: [PartitionListElement] = []
    result.reserveCapacity(Int(list.pointee.cnt))
    for index in 0..<Int(list.pointee.cnt) {
        let element = list.pointee.elems[index]
        var metadata: String?
        if let raw = element.metadata, element.metadata_size > 0 {
            let buffer = UnsafeRawBufferPointer(start: raw, count: element.metadata_size)
            metadata = String(decoding: buffer, as: UTF8.self)
        }
        result.append(PartitionListElement(
            value: TopicPartitionOffset(
                topic: String(cString: element.topic),
                partition: element.partition,
                offset: element.offset,
                metadata: metadata
            ),
            error: element.err
        ))
    }
    return result
}

// MARK: - Metadata

/// Number of partitions of `topic` according to cluster metadata.
func fetchPartitionCount(handle rk: OpaquePointer, topic: String, timeoutMs: Int32) throws -> Int {
    guard let rkt = rd_kafka_topic_new(rk, topic, nil) else {
        throw KafkaError.from(rd_kafka_last_error(), context: "rd_kafka_topic_new(\(topic))")
    }
    defer { rd_kafka_topic_destroy(rkt) }
    var metadata: UnsafePointer<rd_kafka_metadata>?
    let err = rd_kafka_metadata(rk, 0, rkt, &metadata, timeoutMs)
    guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
        throw KafkaError.from(err, context: "metadata request for topic '\(topic)'")
    }
    defer { rd_kafka_metadata_destroy(metadata) }
    for index in 0..<Int(metadata.pointee.topic_cnt) {
        let entry = metadata.pointee.topics[index]
        guard String(cString: entry.topic) == topic else { continue }
        if entry.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError.from(entry.err, context: "metadata for topic '\(topic)'")
        }
        return Int(entry.partition_cnt)
    }
    throw KafkaError.from(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, context: "topic '\(topic)' missing from metadata")
}

// MARK: - Time

/// Monotonic milliseconds, for deadlines.
func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Copies `len` bytes at `pointer` into an array.
func copyBytes(_ pointer: UnsafeMutableRawPointer?, _ length: Int) -> [UInt8] {
    guard let pointer, length > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: pointer, count: length))
}
