import CRdKafka
import Foundation

/// What a caller should do about a failed Kafka call. Only `.fatal` may end a service.
public enum KafkaErrorAction: String, Sendable, Equatable, CaseIterable {
    /// Transient (broker, network or coordinator trouble): the same call may succeed after a pause.
    case retry
    /// The consumer group changed under this member (a rebalance began, or this member's generation or id is no
    /// longer valid): its partitions may have moved, so a commit must not be repeated as it was. Poll on: the
    /// rebalance callbacks hand over the new assignment, which re-reads from the last committed offsets.
    case rejoin
    /// The client cannot recover (librdkafka's fatal errors) or the call can never succeed as made
    /// (authorization, configuration, a closed handle): end the service and let its supervisor restart it.
    case fatal
}

extension KafkaError {
    /// Codes that mean "the group rebalanced under this member".
    static let rejoinCodes: Set<Int32> = Set([
        RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
        RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID,
        RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST,
        RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED,
    ].map(\.rawValue))

    /// Whether to retry, rejoin or give up. A fatal flag wins; then the rebalance codes; then librdkafka's
    /// retriable flag or the codes Kafka documents as retriable; everything else is fatal, because retrying a call
    /// that cannot succeed (an unknown group, a denied topic, a closed handle) would only hide the fault.
    public var action: KafkaErrorAction {
        if isFatal { return .fatal }
        if Self.rejoinCodes.contains(code) { return .rejoin }
        if isRetriable || Self.retriableCodes.contains(code) { return .retry }
        return .fatal
    }
}

/// Capped exponential backoff with jitter. Before retry `n` (1-based) the ceiling is
/// `min(maxMs, initialMs · factor^(n−1))`; the delay is that ceiling less a random share of up to `jitter` of it,
/// so replicas that failed together (every member of a rebalancing group) do not retry in lockstep.
public struct Backoff: Sendable, Equatable {
    public var initialMs: Int64
    public var maxMs: Int64
    public var factor: Double
    /// Share of the ceiling that randomness may take off, in [0, 1].
    public var jitter: Double

    public init(initialMs: Int64, maxMs: Int64, factor: Double = 2, jitter: Double = 0.5) {
        precondition(initialMs >= 0 && maxMs >= initialMs && factor >= 1 && (0...1).contains(jitter), "invalid backoff")
        self.initialMs = initialMs
        self.maxMs = maxMs
        self.factor = factor
        self.jitter = jitter
    }

    /// 100 ms doubling up to 5 s: a rebalance on the embedded broker takes about 5 s, and a stopping service
    /// sleeps at most this long before it notices.
    public static let standard = Backoff(initialMs: 100, maxMs: 5_000)

    /// The delay before retry `attempt` without jitter.
    public func ceilingMs(attempt: Int) -> Int64 {
        let raw = Double(initialMs) * pow(factor, Double(max(attempt, 1) - 1))
        return Int64(min(Double(maxMs), raw))
    }

    /// The delay before retry `attempt`, given `unit`, a random number in [0, 1).
    public func delayMs(attempt: Int, unit: Double) -> Int64 {
        let ceiling = ceilingMs(attempt: attempt)
        let cut = Int64((Double(ceiling) * jitter * min(max(unit, 0), 1)).rounded(.down))
        return ceiling - min(cut, ceiling)
    }
}

/// One retry about to happen, for logs and metrics.
public struct RetryAttempt: Sendable, CustomStringConvertible {
    public var operation: String
    /// 1 for the first retry (after the first failure).
    public var attempt: Int
    public var error: KafkaError
    public var delayMs: Int64

    public var description: String {
        "\(operation) failed (attempt \(attempt), \(error.codeName)); retrying in \(delayMs) ms"
    }
}

/// Retries a blocking Kafka call until it succeeds or fails for good.
///
/// The randomness and the sleep are injected so the schedule can be tested without a broker or a clock.
public struct KafkaRetry: Sendable {
    public var backoff: Backoff
    public var random: @Sendable () -> Double
    public var sleep: @Sendable (_ ms: Int64) -> Void

    public init(backoff: Backoff = .standard,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                sleep: @escaping @Sendable (_ ms: Int64) -> Void = { ms in if ms > 0 { usleep(useconds_t(ms * 1000)) } }) {
        self.backoff = backoff
        self.random = random
        self.sleep = sleep
    }

    /// Calls `body` until it returns. A `KafkaError` whose action `retryOn` accepts (by default every action but
    /// `.fatal`) is reported to `onRetry` and retried after the backoff; any other error is thrown at once. When
    /// `shouldStop` turns true (the service is stopping) the last error is thrown instead of retrying again.
    public func run<T>(_ operation: String,
                       retryOn: (KafkaErrorAction) -> Bool = { $0 != .fatal },
                       shouldStop: () -> Bool = { false },
                       onRetry: (RetryAttempt) -> Void = { _ in },
                       _ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch let error as KafkaError where retryOn(error.action) {
                if shouldStop() { throw error }
                attempt += 1
                let delay = backoff.delayMs(attempt: attempt, unit: random())
                onRetry(RetryAttempt(operation: operation, attempt: attempt, error: error, delayMs: delay))
                sleep(delay)
                if shouldStop() { throw error }
            }
        }
    }
}

/// Retries that must not block the caller's loop (a consumer has to keep polling, or its group evicts it). After a
/// `.retry` failure the operation is held back for the backoff delay. After a `.rejoin` failure it is held until the
/// assignment generation changes (the rebalance callbacks ran and reset what is to be committed), so offsets of
/// partitions that may have moved are not committed again; should no rebalance follow, the hold ends after the
/// longest backoff delay.
public struct DeferredRetry: Sendable, Equatable {
    public private(set) var failures = 0
    private var notBeforeMs: Int64 = .min
    private var heldGeneration: Int?

    public init() {}

    /// Whether the operation may run now.
    public func allows(nowMs: Int64, generation: Int) -> Bool {
        if let held = heldGeneration, held != generation { return true }
        return nowMs >= notBeforeMs
    }

    /// Records a failure; returns the longest it holds the operation back (the attempt count is `failures`).
    @discardableResult
    public mutating func failed(_ action: KafkaErrorAction, nowMs: Int64, generation: Int, backoff: Backoff, unit: Double) -> Int64 {
        failures += 1
        let delay = action == .rejoin ? backoff.maxMs : backoff.delayMs(attempt: failures, unit: unit)
        notBeforeMs = nowMs + delay
        heldGeneration = action == .rejoin ? generation : nil
        return delay
    }

    /// Records a success: the next failure starts the schedule again.
    public mutating func succeeded() {
        self = DeferredRetry()
    }
}
