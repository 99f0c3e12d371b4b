import ArgumentParser
import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime

/// `opsctl tail TOPIC`: follows a topic and prints each message as one JSON line.
struct Tail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Follow a topic as JSON lines (reads every partition; joins no group).")

    @Argument(help: "Topic, e.g. \(Topics.features).") var topic: String
    @OptionGroup var connection: KafkaConnection
    @Flag(help: "Start from the oldest retained message instead of the end.") var fromBeginning = false
    @Flag(help: "Also print watermark messages.") var watermarks = false
    @Flag(help: "Wrap each line with where and when Kafka holds it: {\"partition\",\"offset\",\"record_time_ms\" (the producer's wall clock),\"message\"}.")
    var recordInfo = false
    @Option(help: "Stop after this many messages.") var count: Int?
    @Option(help: "Stop after this many seconds without a message.") var idleExit: Double?

    func run() async throws {
        LogSetup.bootstrap(level: "warning")
        let logger = Logger(service: "tail")
        let client = try connection.client(id: "opsctl-tail")
        let topic = self.topic, fromBeginning = self.fromBeginning, watermarks = self.watermarks, count = self.count, idleExit = self.idleExit
        let recordInfo = self.recordInfo
        try await runOnDedicatedThread(name: "tail") {
            let consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "opsctl-tail-\(getpid())"), logger: logger)
            defer { consumer.close() }
            let n = try consumer.partitionCount(topic: topic)
            guard n > 0 else { throw ValidationError("topic '\(topic)' does not exist; known: \(Topics.all.map(\.name).joined(separator: ", "))") }
            try consumer.assign((0..<Int32(n)).map { TopicPartitionOffset(topic: topic, partition: $0, offset: fromBeginning ? KafkaOffset.beginning : KafkaOffset.end) })
            let decoder = Topics.decoder(for: topic)
            var printed = 0
            var idleSince = Date()
            while count.map({ printed < $0 }) ?? true {
                guard let m = try consumer.poll(timeoutMs: 200) else {
                    if let idleExit, Date().timeIntervalSince(idleSince) > idleExit { break }
                    continue
                }
                idleSince = Date()
                let line = RecordedLine(message: m, decoder: decoder)
                if !watermarks, line.envelope?.payload is Watermark { continue }
                let text = recordInfo ? Self.withRecordInfo(line.text, m) : line.text
                FileHandle.standardOutput.write(Data((text + "\n").utf8))
                printed += 1
            }
        }
    }

    /// One JSON object: the record's place and Kafka timestamp around the message line (already one JSON value).
    static func withRecordInfo(_ text: String, _ m: KafkaMessage) -> String {
        "{\"partition\":\(m.partition),\"offset\":\(m.offset),\"record_time_ms\":\(m.timestampMs.map(String.init) ?? "null"),\"message\":\(text)}"
    }
}
