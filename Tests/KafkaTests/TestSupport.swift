import Foundation
import Kafka
import Logging

/// Runs each job on a fresh dedicated thread, so blocking Kafka calls never
/// occupy Swift's cooperative pool.
final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        let thread = Thread { job.runSynchronously(on: executor) }
        thread.start()
    }
}

/// Runs blocking Kafka calls on a dedicated thread (never on the
/// cooperative pool), as production callers must. It stays in the calling
/// task, so `#expect` failures are attributed to the running test.
func onThread<T: Sendable>(_ body: @Sendable () throws -> T) async throws -> T {
    try await withTaskExecutorPreference(DedicatedThreadExecutor()) {
        try body()
    }
}

/// Collects log entries for assertions.
final class LogCapture: @unchecked Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let lock = NSLock()
    private var stored: [Entry] = []

    func append(_ entry: Entry) {
        lock.lock()
        defer { lock.unlock() }
        stored.append(entry)
    }

    var entries: [Entry] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

struct CaptureLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        merged.merge(event.metadata ?? [:]) { $1 }
        capture.append(.init(level: event.level, message: "\(event.message)", metadata: merged))
    }
}

/// A logger that only prints warnings and above (librdkafka is chatty at info).
func testLogger(_ label: String = "kafka-test") -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = ProcessInfo.processInfo.environment["KAFKA_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .error
    return logger
}

/// A unique name for topics and groups.
func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// A mock cluster plus client configs pointing at it.
struct Fixture {
    let cluster: MockCluster
    let logger: Logger

    init(brokers: Int = 1, logger: Logger = testLogger()) throws {
        self.logger = logger
        cluster = try MockCluster(brokers: brokers, logger: logger)
    }

    func client(_ id: String = "test") -> KafkaClientConfig {
        KafkaClientConfig(brokers: cluster.bootstrapServers, clientId: id)
    }

    func producer() throws -> KafkaProducer {
        try KafkaProducer(config: KafkaProducerConfig(client: client("producer")), logger: logger)
    }

    func consumer(group: String, overrides: [String: String] = [:]) throws -> KafkaConsumer {
        var config = KafkaConsumerConfig(client: client("consumer"), groupId: group)
        config.properties.merge(overrides) { $1 }
        return try KafkaConsumer(config: config, logger: logger)
    }
}

/// Polls until `count` messages arrived or `timeoutMs` elapsed.
func drain(_ consumer: KafkaConsumer, count: Int, timeoutMs: Int64 = 15_000) throws -> [KafkaMessage] {
    var messages: [KafkaMessage] = []
    let start = Date()
    while messages.count < count, Date().timeIntervalSince(start) * 1000 < Double(timeoutMs) {
        messages += try consumer.pollBatch(max: count - messages.count, timeoutMs: 200)
    }
    return messages
}
