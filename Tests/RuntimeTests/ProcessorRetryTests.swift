import Foundation
import Kafka
import Logging
import OpsModel
@testable import OpsRuntime
import Testing

/// The processor's Kafka error handling against librdkafka's mock cluster, with broker errors injected: a retriable
/// error never ends the service, and no retried call changes what it outputs.
@Suite("StreamProcessor under Kafka errors", .serialized)
struct ProcessorRetryTests {
    /// Echoes every bar to `echo.out` under a derived id; restores from the beginning of its input.
    struct EchoCore: StreamCore {
        static let output = "echo.out"
        var serviceName: String { "echo" }
        var inputTopics: [String] { [Topics.bars] }
        var outputTopics: [String] { [Self.output] }
        mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
            var e = message
            e.id = "echo-\(message.id)"
            e.causationId = message.id
            e.source = serviceName
            return [Emit(Self.output, e)]
        }
        func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp { .distantPast }
        mutating func reset() {}
    }

    /// A mock cluster with the echo service's topics, a producer of bars and a reader of the output.
    final class Stage: @unchecked Sendable {
        let cluster: MockCluster
        let group = "echo-\(UUID().uuidString.prefix(8))"
        let logger: Logger
        let quiet: Logger
        let log = LogLines()
        private let producer: KafkaProducer
        private let reader: KafkaConsumer
        private var outputs: [String] = []
        private var barsSent = 0

        init() throws {
            var quiet = Logger(label: "retry-test")
            quiet.logLevel = .critical
            self.quiet = quiet
            cluster = try MockCluster(logger: quiet)
            try cluster.createTopic(Topics.bars, partitions: 2)
            try cluster.createTopic(EchoCore.output, partitions: 1)
            try cluster.createTopic(Topics.deadLetter, partitions: 1)
            let brokers = cluster.bootstrapServers
            producer = try KafkaProducer(config: KafkaProducerConfig(client: KafkaClientConfig(brokers: brokers, clientId: "feed")), logger: quiet)
            reader = try KafkaConsumer(config: KafkaConsumerConfig(client: KafkaClientConfig(brokers: brokers, clientId: "reader"), groupId: "reader"),
                                       logger: quiet)
            try reader.assign([TopicPartitionOffset(topic: EchoCore.output, partition: 0, offset: KafkaOffset.beginning)])
            let log = self.log
            logger = Logger(label: "echo") { _ in LogLines.Handler(lines: log) }
        }

        func client(_ id: String) -> KafkaClientConfig { KafkaClientConfig(brokers: cluster.bootstrapServers, clientId: id) }

        func sendBars(_ n: Int) throws {
            let t0 = Timestamp(iso8601: "2024-03-12T14:00:00Z")!
            let records = try (barsSent..<barsSent + n).map { i in
                let ticker = ["SPY", "QQQ", "AAPL"][i % 3]
                let env = MarketEvent.bar(Bar(ticker: ticker, start: t0 + Minutes(i), open: 1, high: 1, low: 1, close: 1, volume: 1)).envelope(source: "test")
                return ProducerRecord(topic: Topics.bars, key: Array(ticker.utf8), value: try env.encoded(), timestampMs: env.eventTime.ms)
            }
            _ = try producer.send(records)
            barsSent += n
        }

        /// Every output id read so far, duplicates included, after reading until at least `count` have arrived.
        func outputIds(atLeast count: Int) throws -> [String] {
            for _ in 0..<3000 where outputs.count < count {   // up to 5 minutes on a busy machine
                for m in try reader.pollBatch(max: 1000, timeoutMs: 100) {
                    let obj = try JSONSerialization.jsonObject(with: Data(m.value)) as! [String: Any]
                    outputs.append(obj["id"] as! String)
                }
            }
            return outputs
        }

        /// Waits until the echo group has committed everything sent (the offsets of `bars` are the ids read).
        func waitCommitted() throws -> Bool {
            for _ in 0..<6000 {   // up to 5 minutes on a busy machine
                let lag = try consumerGroupLag(client: client("lag"), groupId: group, topics: [Topics.bars], logger: quiet)
                if lag.values.allSatisfy({ ($0.committed ?? 0) == $0.end }), lag.values.reduce(0, { $0 + $1.end }) == Int64(barsSent) {
                    return true
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return false
        }

        /// Starts an echo service; returns a handle to stop it and collect how `run` ended.
        func start() throws -> Running {
            var settings = ProcessorSettings(client: client("echo"), groupId: group)
            settings.useWatermarks = false
            // Each rejoin of the group takes session.timeout.ms − 1000 on the mock.
            settings.consumerProperties["session.timeout.ms"] = "4000"
            settings.consumerProperties["heartbeat.interval.ms"] = "300"
            settings.retry = KafkaRetry(backoff: Backoff(initialMs: 10, maxMs: 200))
            let processor = try StreamProcessor(core: EchoCore(), settings: settings, logger: logger)
            return Running(processor)
        }

        func close() {
            reader.close()
            producer.close()
            cluster.close()
        }
    }

    final class Running: @unchecked Sendable {
        let stop = StopFlag()
        private let done = DispatchSemaphore(value: 0)
        private var outcome: Result<Void, Error> = .success(())

        init(_ processor: StreamProcessor<EchoCore>) {
            let stop = self.stop
            Thread { [self] in
                do { try processor.run(stop: stop) } catch { outcome = .failure(error) }
                done.signal()
            }.start()
        }

        /// Stops the service and returns how `run` ended.
        func finish() -> Result<Void, Error> {
            stop.stop()
            done.wait()
            return outcome
        }
    }

    @Test("commits refused by rebalances (and the rejoins they cause) do not end the service; its progress is committed once accepted")
    func commitRefusedByRebalance() async throws {
        try await onDedicatedThread {
            let stage = try Stage()
            defer { stage.close() }
            try stage.sendBars(30)
            // REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION (librdkafka then rejoins the group), UNKNOWN_MEMBER_ID (also).
            stage.cluster.pushRequestErrors(.offsetCommit, [27, 27, 22, 25, 27])
            let service = try stage.start()
            let ids = try stage.outputIds(atLeast: 30)
            #expect(try stage.waitCommitted(), "every input offset is committed in the end")
            if case .failure(let e) = service.finish() { Issue.record("the service ended with \(e)") }
            #expect(Set(ids).count == 30, "every bar echoed")
            let refusals = stage.log.lines.filter { $0.message.hasPrefix("commit refused") }
            #expect(refusals.map { $0.metadata["retry.attempt"]?.description } == (1...5).map { "\($0)" }, "each refusal logged with its attempt")
            #expect(refusals.allSatisfy { $0.level == .warning })
            #expect(stage.log.lines.filter { $0.message == "assigned" }.count >= 3, "the two rejoins librdkafka made were followed through")
        }
    }

    @Test("committed offsets that fail to load are retried, not replaced by the beginning: nothing is output twice")
    func committedOffsetsRetried() async throws {
        try await onDedicatedThread {
            let stage = try Stage()
            defer { stage.close() }
            try stage.sendBars(20)
            let first = try stage.start()
            #expect(try stage.outputIds(atLeast: 20).count == 20)
            #expect(try stage.waitCommitted())
            if case .failure(let e) = first.finish() { Issue.record("the first run ended with \(e)") }

            stage.cluster.pushRequestErrors(.offsetFetch, Self.offsetFetchErrors)
            let second = try stage.start()
            try stage.sendBars(5)
            let ids = try stage.outputIds(atLeast: 25)
            #expect(try stage.waitCommitted())
            if case .failure(let e) = second.finish() { Issue.record("the second run ended with \(e)") }
            #expect(ids.count == 25 && Set(ids).count == 25, "a restart from the beginning would have output the first 20 again")
            let retries = stage.log.lines.filter { $0.message == "Kafka call failed; retrying" && $0.metadata["kafka.operation"] == "committed" }
            #expect(retries.map { $0.metadata["retry.attempt"]?.description } == (1...Self.offsetFetchErrors.count).map { "\($0)" })
        }
    }

    /// OffsetFetch errors librdkafka hands back to `committed()` rather than retrying itself.
    static var offsetFetchErrors: [Int32] { [15, 15] }
}

/// Log lines kept for assertions.
final class LogLines: @unchecked Sendable {
    struct Line: Sendable { var level: Logger.Level; var message: String; var metadata: Logger.Metadata }
    private let lock = NSLock()
    private var stored: [Line] = []

    var lines: [Line] { lock.lock(); defer { lock.unlock() }; return stored }
    func append(_ line: Line) { lock.lock(); stored.append(line); lock.unlock() }

    struct Handler: LogHandler {
        let lines: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            lines.append(Line(level: event.level, message: "\(event.message)", metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
        }
    }
}

/// Runs each job on a fresh thread, so blocking Kafka calls never occupy Swift's cooperative pool.
final class FreshThreadExecutor: TaskExecutor, @unchecked Sendable {
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        Thread { job.runSynchronously(on: executor) }.start()
    }
}

/// Runs blocking Kafka calls off the cooperative pool, in the calling task (so expectations belong to the test).
func onDedicatedThread<T: Sendable>(_ body: @Sendable () throws -> T) async throws -> T {
    try await withTaskExecutorPreference(FreshThreadExecutor()) { try body() }
}
