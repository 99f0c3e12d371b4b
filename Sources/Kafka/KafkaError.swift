import CRdKafka

/// An error reported by librdkafka (or by this wrapper on top of it).
///
/// `code` is the raw value of librdkafka's `rd_kafka_resp_err_t`: negative
/// values are librdkafka-internal errors (`RD_KAFKA_RESP_ERR__*`), positive
/// values are Kafka protocol error codes returned by a broker.
public struct KafkaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Raw `rd_kafka_resp_err_t` value.
    public let code: Int32
    /// Human-readable explanation (librdkafka's error string plus context).
    public let message: String
    /// The client instance is unusable after a fatal error and must be recreated.
    public let isFatal: Bool
    /// The operation may succeed if retried.
    public let isRetriable: Bool

    /// Creates an error from its parts.
    public init(code: Int32, message: String, isFatal: Bool = false, isRetriable: Bool = false) {
        self.code = code
        self.message = message
        self.isFatal = isFatal
        self.isRetriable = isRetriable
    }

    /// librdkafka's symbolic name of `code`, e.g. `_TIMED_OUT` or `UNKNOWN_TOPIC_OR_PART`.
    public var codeName: String {
        String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code)))
    }

    public var description: String {
        "KafkaError(\(codeName) [\(code)]\(isFatal ? ", fatal" : "")\(isRetriable ? ", retriable" : "")): \(message)"
    }

    /// Builds an error from an `rd_kafka_resp_err_t`.
    ///
    /// - Parameters:
    ///   - err: the response error code.
    ///   - context: optional text prepended to librdkafka's own description.
    public static func from(_ err: rd_kafka_resp_err_t, context: String? = nil) -> KafkaError {
        let text = String(cString: rd_kafka_err2str(err))
        return KafkaError(
            code: err.rawValue,
            message: context.map { "\($0): \(text)" } ?? text,
            isFatal: err == RD_KAFKA_RESP_ERR__FATAL,
            isRetriable: retriableCodes.contains(err.rawValue)
        )
    }

    /// Builds an error from a raw `rd_kafka_resp_err_t` value.
    public static func from(code: Int32, context: String? = nil) -> KafkaError {
        from(rd_kafka_resp_err_t(rawValue: code), context: context)
    }

    /// Builds an error from an `rd_kafka_error_t *` (the richer error object
    /// returned by newer librdkafka APIs), taking the fatal / retriable flags
    /// from it.
    ///
    /// - Parameters:
    ///   - error: the `rd_kafka_error_t *`.
    ///   - context: optional text prepended to the error string.
    ///   - destroy: when `true` (the default) the error object is released with
    ///     `rd_kafka_error_destroy`, as the caller of such APIs must do.
    public static func from(error: OpaquePointer, context: String? = nil, destroy: Bool = true) -> KafkaError {
        defer { if destroy { rd_kafka_error_destroy(error) } }
        let text = rd_kafka_error_string(error).map { String(cString: $0) } ?? "unknown error"
        return KafkaError(
            code: rd_kafka_error_code(error).rawValue,
            message: context.map { "\($0): \(text)" } ?? text,
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            isRetriable: rd_kafka_error_is_retriable(error) != 0
        )
    }

    /// The error thrown when a closed client is used.
    static func closed(_ what: String) -> KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__DESTROY.rawValue, message: "\(what) has been closed")
    }

    /// Raw value of `RD_KAFKA_RESP_ERR__TIMED_OUT`.
    public static let timedOutCode: Int32 = RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue
    /// Raw value of `RD_KAFKA_RESP_ERR__INVALID_ARG` (used for configuration errors).
    public static let invalidArgumentCode: Int32 = RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue

    /// Codes treated as retriable when no `rd_kafka_error_t` says otherwise (the rebalance codes included: a
    /// service goes on after them; `action` tells them apart).
    static let retriableCodes: Set<Int32> = Set([
        RD_KAFKA_RESP_ERR__TRANSPORT,
        RD_KAFKA_RESP_ERR__TIMED_OUT,
        RD_KAFKA_RESP_ERR__QUEUE_FULL,
        RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
        RD_KAFKA_RESP_ERR__RESOLVE,
        RD_KAFKA_RESP_ERR__WAIT_COORD,
        RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE,
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
        RD_KAFKA_RESP_ERR__PARTITION_EOF,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR,
        RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND,
        RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT,
        RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED,
        RD_KAFKA_RESP_ERR__WAIT_CACHE,
        RD_KAFKA_RESP_ERR__RETRY,
        RD_KAFKA_RESP_ERR__IN_PROGRESS,
        RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS,
        RD_KAFKA_RESP_ERR__ISR_INSUFF,
        RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH,
        RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH,
        RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
        RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID,
        RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST,
        RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED,
    ].map(\.rawValue))
}
