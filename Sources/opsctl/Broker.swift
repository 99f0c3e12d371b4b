import ArgumentParser
import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime

/// `opsctl broker`: hosts librdkafka's mock cluster (Kafka protocol over TCP on loopback), creates the project's
/// topics with their partition counts, prints `BOOTSTRAP=host:port` first and `CONTROL=host:port` second, and
/// runs until SIGTERM/SIGINT.
struct Broker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Host the embedded Kafka-protocol broker (librdkafka's mock cluster).",
        discussion: """
        Prints BOOTSTRAP=host:port on its first line and CONTROL=host:port on its second. The control port takes \
        one line per connection: 'down ID', 'up ID', 'rtt ID MS' (broker ids are 1…N), 'topics', 'ping'; it answers \
        'ok …' or 'error: …'. Note: each partition of the mock keeps only about 5 MiB; older data is dropped.
        """)

    @Option(help: "Number of mock brokers.") var brokerCount: Int = 1
    @Option(help: "Partitions for every project topic (default: each topic's own count).") var partitions: Int32?
    @Option(name: .customLong("topic"), help: ArgumentHelp("Partitions for one topic (repeatable).", valueName: "name=N")) var topicPartitions: [String] = []
    @Option(help: "Control port (0 = any free port).") var controlPort: Int = 0
    @Option(help: "Log level.") var logLevel: String = "warning"

    func validate() throws {
        guard brokerCount >= 1 else { throw ValidationError("--broker-count must be at least 1") }
        if let partitions, partitions < 1 { throw ValidationError("--partitions must be at least 1") }
        _ = try parsedTopicPartitions()
    }

    func parsedTopicPartitions() throws -> [String: Int32] {
        var out = [String: Int32]()
        for kv in topicPartitions {
            let parts = kv.split(separator: "=")
            guard parts.count == 2, let n = Int32(parts[1]), n >= 1 else {
                throw ValidationError("--topic expects NAME=PARTITIONS, e.g. --topic \(Topics.bars)=8; got '\(kv)'")
            }
            out[String(parts[0])] = n
        }
        return out
    }

    static func partitionPlan(default d: Int32?, overrides: [String: Int32]) -> [(String, Int32)] {
        var plan = Topics.all.map { ($0.name, overrides[$0.name] ?? d ?? $0.partitions) }
        for (name, n) in overrides.sorted(by: { $0.key < $1.key }) where !plan.contains(where: { $0.0 == name }) { plan.append((name, n)) }
        return plan
    }

    func run() async throws {
        LogSetup.bootstrap(level: logLevel)
        let logger = Logger(service: "broker")
        ParentWatchdog.startIfRequested(logger: logger)
        let cluster = try MockCluster(brokers: brokerCount, logger: logger)
        let plan = Self.partitionPlan(default: partitions, overrides: try parsedTopicPartitions())
        try cluster.createTopics(plan.map { (name: $0.0, partitions: $0.1) })
        let count = brokerCount
        let control = try TinyTCPServer(port: controlPort, isComplete: { $0.contains(10) }) { req in
            let words = String(decoding: req, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" })
            func id(_ i: Int) -> Int32? { words.count > i ? Int32(words[i]).flatMap { (1...Int32(count)).contains($0) ? $0 : nil } : nil }
            let answer: String
            switch words.first.map(String.init) {
            case "ping": answer = "ok pong"
            case "topics": answer = "ok " + plan.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
            case "down": if let b = id(1) { cluster.setBrokerDown(b); answer = "ok broker \(b) down" } else { answer = "error: usage 'down ID' with ID in 1…\(count)" }
            case "up": if let b = id(1) { cluster.setBrokerUp(b); answer = "ok broker \(b) up" } else { answer = "error: usage 'up ID' with ID in 1…\(count)" }
            case "rtt":
                if let b = id(1), words.count > 2, let ms = Int32(words[2]), ms >= 0 { cluster.setRtt(broker: b, ms: ms); answer = "ok broker \(b) rtt \(ms)ms" }
                else { answer = "error: usage 'rtt ID MS'" }
            default: answer = "error: unknown command; try: ping | topics | down ID | up ID | rtt ID MS"
            }
            return Array((answer + "\n").utf8)
        }
        FileHandle.standardOutput.write(Data("BOOTSTRAP=\(cluster.bootstrapServers)\nCONTROL=127.0.0.1:\(control.port)\n".utf8))
        logger.notice("embedded broker up", metadata: ["kafka.bootstrap": .string(cluster.bootstrapServers),
                                                       "kafka.topics": .string(plan.map { "\($0.0)=\($0.1)" }.joined(separator: ","))])
        try await UntilShutdown.run(logger: logger)
        control.stop()
        cluster.close()
    }
}

