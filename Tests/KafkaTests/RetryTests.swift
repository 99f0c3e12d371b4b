import Foundation
@testable import Kafka
import Testing

/// Values handed out in order (then the last one again), and every value recorded: a deterministic stand-in for
/// the random source and the sleep of `KafkaRetry`.
final class Script<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [T]
    private(set) var recorded: [T] = []

    init(_ values: [T] = []) { self.values = values }

    func next() -> T {
        lock.lock()
        defer { lock.unlock() }
        return values.count > 1 ? values.removeFirst() : values[0]
    }

    func record(_ value: T) {
        lock.lock()
        recorded.append(value)
        lock.unlock()
    }

    var all: [T] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}

@Suite("Kafka errors: retry, rejoin or give up")
struct ErrorActionTests {
    @Test("a rebalance under the member means rejoin: the partitions may have moved", arguments: [
        (27, "REBALANCE_IN_PROGRESS"), (22, "ILLEGAL_GENERATION"), (25, "UNKNOWN_MEMBER_ID"), (-142, "_ASSIGNMENT_LOST"),
    ])
    func rejoin(code: Int32, name: String) {
        let e = KafkaError.from(code: code, context: "commit")
        #expect(e.codeName == name)
        #expect(e.action == .rejoin)
        #expect(e.isRetriable, "a service goes on after it")
    }

    @Test("broker, network and coordinator trouble is retried", arguments: [
        (-195, "_TRANSPORT"), (-185, "_TIMED_OUT"), (-180, "_WAIT_COORD"), (-192, "_MSG_TIMED_OUT"), (-184, "_QUEUE_FULL"),
        (16, "NOT_COORDINATOR"), (15, "COORDINATOR_NOT_AVAILABLE"), (14, "COORDINATOR_LOAD_IN_PROGRESS"),
        (7, "REQUEST_TIMED_OUT"), (13, "NETWORK_EXCEPTION"), (19, "NOT_ENOUGH_REPLICAS"), (5, "LEADER_NOT_AVAILABLE"),
        (6, "NOT_LEADER_FOR_PARTITION"),
    ])
    func retry(code: Int32, name: String) {
        let e = KafkaError.from(code: code)
        #expect(e.codeName == name)
        #expect(e.action == .retry)
    }

    @Test("what can never succeed as made, or a dead client, is fatal", arguments: [
        (29, "TOPIC_AUTHORIZATION_FAILED"), (30, "GROUP_AUTHORIZATION_FAILED"), (82, "FENCED_INSTANCE_ID"),
        (10, "MSG_SIZE_TOO_LARGE"), (-186, "_INVALID_ARG"), (-197, "_DESTROY"), (-179, "_UNKNOWN_GROUP"), (-150, "_FATAL"),
    ])
    func fatal(code: Int32, name: String) {
        let e = KafkaError.from(code: code)
        #expect(e.codeName == name)
        #expect(e.action == .fatal)
    }

    @Test("the fatal flag wins over a retriable code; librdkafka's retriable flag makes any code retriable")
    func flags() {
        #expect(KafkaError(code: 27, message: "x", isFatal: true).action == .fatal)
        #expect(KafkaError(code: -185, message: "x", isFatal: true, isRetriable: true).action == .fatal)
        #expect(KafkaError(code: 47, message: "x").action == .fatal)
        #expect(KafkaError(code: 47, message: "x", isRetriable: true).action == .retry)
        #expect(KafkaError.closed("KafkaConsumer").action == .fatal, "a closed handle is not retried")
    }
}

@Suite("Backoff")
struct BackoffTests {
    let backoff = Backoff(initialMs: 100, maxMs: 5_000, factor: 2, jitter: 0.5)

    @Test("the ceiling doubles from 100 ms and stops at 5 s", arguments: [
        (1, 100), (2, 200), (3, 400), (4, 800), (5, 1_600), (6, 3_200), (7, 5_000), (8, 5_000), (1_000, 5_000), (Int.max, 5_000),
    ] as [(Int, Int64)])
    func ceiling(attempt: Int, ms: Int64) {
        #expect(backoff.ceilingMs(attempt: attempt) == ms)
        #expect(backoff.delayMs(attempt: attempt, unit: 0) == ms, "no jitter drawn: the ceiling")
    }

    @Test("jitter takes up to half the ceiling off, never more", arguments: [
        (1, 0.5, 75), (3, 0.5, 300), (3, 0.25, 350), (3, 0.999, 201), (7, 0.5, 3_750), (7, 0.9999, 2_501),
    ] as [(Int, Double, Int64)])
    func jitter(attempt: Int, unit: Double, ms: Int64) {
        #expect(backoff.delayMs(attempt: attempt, unit: unit) == ms)
    }

    @Test("a random number outside [0, 1) cannot push the delay outside (ceiling × (1 − jitter), ceiling]")
    func clamped() {
        #expect(backoff.delayMs(attempt: 2, unit: -3) == 200)
        #expect(backoff.delayMs(attempt: 2, unit: 7) == 100)
        #expect(Backoff(initialMs: 100, maxMs: 1_000, jitter: 1).delayMs(attempt: 1, unit: 1) == 0)
    }
}

@Suite("KafkaRetry")
struct KafkaRetryTests {
    /// A retry helper whose randomness is scripted and whose sleeps are only recorded.
    static func retry(units: [Double] = [0]) -> (KafkaRetry, Script<Int64>) {
        let random = Script(units), slept = Script<Int64>([0])
        return (KafkaRetry(backoff: Backoff(initialMs: 100, maxMs: 5_000), random: { random.next() }, sleep: { slept.record($0) }), slept)
    }

    /// A call that fails with `codes` in order, then returns how many calls it took.
    final class Flaky: @unchecked Sendable {
        var codes: [Int32]
        var calls = 0
        init(_ codes: [Int32]) { self.codes = codes }
        func call() throws -> Int {
            calls += 1
            if !codes.isEmpty { throw KafkaError.from(code: codes.removeFirst(), context: "flaky") }
            return calls
        }
    }

    @Test("retriable and rebalance errors are retried on the backoff schedule until the call succeeds")
    func retriesUntilSuccess() throws {
        let (retry, slept) = Self.retry(units: [0, 0.5, 0, 0.2])
        let flaky = Flaky([27, 16, -185, 22])
        var attempts = [RetryAttempt]()
        let calls = try retry.run("commit", onRetry: { attempts.append($0) }) { try flaky.call() }
        #expect(calls == 5)
        #expect(slept.all == [100, 150, 400, 720])
        #expect(attempts.map(\.attempt) == [1, 2, 3, 4])
        #expect(attempts.map(\.error.codeName) == ["REBALANCE_IN_PROGRESS", "NOT_COORDINATOR", "_TIMED_OUT", "ILLEGAL_GENERATION"])
        #expect(attempts.map(\.delayMs) == slept.all)
        #expect(attempts[1].description == "commit failed (attempt 2, NOT_COORDINATOR); retrying in 150 ms")
    }

    @Test("it never gives up on retriable errors: 60 failures in a row, then success; the delay stays at the cap")
    func neverGivesUpOnRetriable() throws {
        let (retry, slept) = Self.retry()
        let flaky = Flaky(Array(repeating: -195, count: 60))
        #expect(try retry.run("produce") { try flaky.call() } == 61)
        #expect(slept.all.count == 60)
        #expect(slept.all.suffix(54).allSatisfy { $0 == 5_000 })
    }

    @Test("a fatal error ends the loop at once, after any retries before it")
    func fatalEnds() {
        let (retry, slept) = Self.retry()
        let flaky = Flaky([-185, 29, -185])
        let error = #expect(throws: KafkaError.self) { try retry.run("produce") { try flaky.call() } }
        #expect(error?.code == 29)
        #expect(flaky.calls == 2)
        #expect(slept.all == [100])
    }

    @Test("an error that is not a Kafka error is not retried")
    func otherErrorsEnd() {
        struct Boom: Error {}
        let (retry, slept) = Self.retry()
        var calls = 0
        #expect(throws: Boom.self) { try retry.run("x") { calls += 1; throw Boom() } }
        #expect(calls == 1 && slept.all.isEmpty)
    }

    @Test("retryOn narrows what is retried: a commit does not repeat itself after a rebalance")
    func narrowed() {
        let (retry, slept) = Self.retry()
        let flaky = Flaky([-185, 27])
        let error = #expect(throws: KafkaError.self) {
            try retry.run("commit", retryOn: { $0 == .retry }) { try flaky.call() }
        }
        #expect(error?.action == .rejoin)
        #expect(slept.all == [100])
    }

    @Test("a stopping service stops retrying and sees the last error")
    func stops() {
        let (retry, slept) = Self.retry()
        let flaky = Flaky(Array(repeating: -180, count: 10))
        var checks = 0
        let error = #expect(throws: KafkaError.self) {
            try retry.run("committed", shouldStop: { checks += 1; return checks > 4 }) { try flaky.call() }
        }
        #expect(error?.codeName == "_WAIT_COORD")
        #expect(flaky.calls == 3)
        #expect(slept.all == [100, 200])
    }
}

@Suite("DeferredRetry")
struct DeferredRetryTests {
    let backoff = Backoff(initialMs: 100, maxMs: 5_000)

    @Test("after a retriable failure the operation waits out the backoff, which grows with each failure")
    func backsOff() {
        var r = DeferredRetry()
        #expect(r.allows(nowMs: 0, generation: 1))
        #expect(r.failed(.retry, nowMs: 1_000, generation: 1, backoff: backoff, unit: 0) == 100)
        #expect(!r.allows(nowMs: 1_099, generation: 1))
        #expect(!r.allows(nowMs: 1_099, generation: 2), "a rebalance does not cut a retriable error's backoff")
        #expect(r.allows(nowMs: 1_100, generation: 1))
        #expect(r.failed(.retry, nowMs: 1_100, generation: 1, backoff: backoff, unit: 0) == 200)
        #expect(r.failures == 2)
        #expect(!r.allows(nowMs: 1_299, generation: 1) && r.allows(nowMs: 1_300, generation: 1))
        r.succeeded()
        #expect(r.failures == 0)
        #expect(r.failed(.retry, nowMs: 2_000, generation: 1, backoff: backoff, unit: 0) == 100, "a success restarts the schedule")
    }

    @Test("after a rebalance error it waits for the new assignment, or at most the longest backoff")
    func holdsUntilRebalance() {
        var r = DeferredRetry()
        #expect(r.failed(.rejoin, nowMs: 1_000, generation: 3, backoff: backoff, unit: 0.5) == 5_000)
        #expect(!r.allows(nowMs: 5_999, generation: 3), "the same assignment: its offsets may be stale")
        #expect(r.allows(nowMs: 1_001, generation: 4), "the rebalance ran: commit the new assignment's progress at once")
        #expect(r.allows(nowMs: 6_000, generation: 3), "no rebalance came: try again")
    }
}

@Suite("Consumer errors under rebalance and coordinator trouble")
struct ConsumerErrorTests {
    @Test("a commit refused by a rebalance throws a rejoin error; a retry after it commits")
    func commitDuringRebalance() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("rebalancing")
            try fixture.cluster.createTopic(topic, partitions: 1)
            let consumer = try fixture.consumer(group: uniqueName("g"))
            defer { consumer.close() }
            let tp = TopicPartition(topic: topic, partition: 0)
            for code: Int32 in [27, 22, 25] {
                fixture.cluster.pushRequestErrors(.offsetCommit, [code])
                let error = #expect(throws: KafkaError.self) { try consumer.commit([TopicPartitionOffset(tp, offset: 1)]) }
                #expect(error?.code == code)
                #expect(error?.action == .rejoin)
            }
            try consumer.commit([TopicPartitionOffset(tp, offset: 2, metadata: "m")])
            #expect(try consumer.committed([tp]) == [TopicPartitionOffset(tp, offset: 2, metadata: "m")])
        }
    }

    @Test("an assign handler that throws takes no partition, and the next poll throws its error")
    func assignHandlerError() async throws {
        struct NoOffsets: Error {}
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("unassigned")
            try fixture.cluster.createTopic(topic, partitions: 2)
            let producer = try fixture.producer()
            defer { producer.close() }
            _ = try producer.send([ProducerRecord(topic: topic, value: bytes("x"), partition: 0)])
            let consumer = try fixture.consumer(group: uniqueName("g"))
            defer { consumer.close() }
            try consumer.subscribe(topics: [topic], onAssign: { _ in throw NoOffsets() })
            var thrown: (any Error)?
            // The group's first join takes about 3 s on the mock: poll until the assignment has happened.
            for _ in 0..<600 where thrown == nil {
                do { _ = try consumer.poll(timeoutMs: 100) } catch { thrown = error }
            }
            #expect(thrown is NoOffsets)
            #expect(try consumer.assignment().isEmpty)
            #expect(try consumer.poll(timeoutMs: 200) == nil, "the error is thrown once; nothing is consumed")
        }
    }
}
