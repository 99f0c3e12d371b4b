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
    @OptionGroup var connection: KafkaConnection
    @Option(help: "Consumer group id.") var groupId: String = "recorder"
    @Option(name: .customLong("topic"), help: "Topic to record (repeatable; default: every project topic but ops.snapshots.v1).") var topics: [String] = []
    @Flag(help: "Also record watermark messages.") var withWatermarks = false
    @Option(help: "group: join the consumer group; all: read every partition without joining (one recorder only, no wait for the group to form).")
    var assignment: String = PartitionAssignment.group.rawValue
    @Option(help: "Log level.") var logLevel: String = "info"
    @Option(help: "Log lines as text (default) or json (one object a line).") var logFormat: String = "text"

    func run() async throws {
        guard let assignment = PartitionAssignment(rawValue: assignment) else {
            throw ValidationError("--assignment takes \(PartitionAssignment.allCases.map(\.rawValue).joined(separator: " or ")); got '\(self.assignment)'")
        }
        guard LogSetup.formats.contains(logFormat) else { throw ValidationError("--log-format takes text or json; got '\(logFormat)'") }
        LogSetup.bootstrap(level: logLevel, format: logFormat)
        let logger = Logger(service: "recorder")
        ParentWatchdog.startIfRequested(logger: logger)
        let client = try connection.client(id: "recorder")
        let recorder = try Recorder(client: client, groupId: groupId, dir: dir, topics: topics.isEmpty ? Topics.recorded : topics,
                                    withWatermarks: withWatermarks, assignment: assignment, logger: logger)
        let service = BlockingService(name: "recorder") { stop in try recorder.run(stop: stop) }
        try await ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
        try Recorder.canonicalize(dir: dir)
        logger.info("recording written", metadata: ["record.dir": .string(dir)])
    }
}
