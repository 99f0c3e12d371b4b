import ArgumentParser
import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime
import ServiceLifecycle

/// `opsctl record`: the recorder consumer group, writing every topic to DIR/<topic>.jsonl.
struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record topics to DIR/<topic>.jsonl (an ordinary consumer group), until SIGTERM.",
        discussion: "On shutdown each file is rewritten in a canonical order (event time, key, type, id) so runs compare line for line.")

    @Option(help: "Directory to write into.") var dir: String
    @Option(help: "Kafka bootstrap servers (env OPS_BROKERS).") var brokers: String?
    @Option(help: "Consumer group id.") var groupId: String = "recorder"
    @Option(name: .customLong("topic"), help: "Topic to record (repeatable; default: every project topic).") var topics: [String] = []
    @Flag(help: "Also record watermark messages.") var withWatermarks = false
    @Option(help: "Log level.") var logLevel: String = "info"

    func run() async throws {
        LogSetup.bootstrap(level: logLevel)
        let logger = Logger(service: "recorder")
        ParentWatchdog.startIfRequested(logger: logger)
        let client = KafkaClientConfig(brokers: try resolveBrokers(brokers), clientId: "recorder")
        let recorder = try Recorder(client: client, groupId: groupId, dir: dir, topics: topics.isEmpty ? Topics.all.map(\.name) : topics,
                                    withWatermarks: withWatermarks, logger: logger)
        let service = BlockingService(name: "recorder") { stop in try recorder.run(stop: stop) }
        try await ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
        try Recorder.canonicalize(dir: dir)
        logger.info("recording written", metadata: ["record.dir": .string(dir)])
    }
}

func resolveBrokers(_ flag: String?) throws -> String {
    if let flag { return flag }
    if let env = ProcessInfo.processInfo.environment["OPS_BROKERS"], !env.isEmpty { return env }
    throw ValidationError("no broker given: pass --brokers HOST:PORT (or set OPS_BROKERS); `opsctl up` prints the embedded broker's address")
}
