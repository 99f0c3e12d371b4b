import ArgumentParser
import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime
import Pipeline

/// `opsctl replay DIR`: publishes a recording's input topics into a broker for a fresh run.
struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a recording's input topics (bars, chains, sentiment; operator commands and parameter changes first) into a broker, with fresh watermarks.",
        discussion: "The recorded bytes are published as they were (same ids), so a pipeline run on them reproduces the recorded outputs. To run the whole stack on a recording: opsctl up --replay DIR.")

    @Argument(help: "A directory written by `opsctl record` or `opsctl up --record`.") var dir: String
    @OptionGroup var connection: KafkaConnection
    @Option(help: "max | realtime | Nx") var speed: String = "max"

    func run() async throws {
        guard let pacing = Pacing(speed) else { throw ValidationError("--speed takes max, realtime or a factor like 60x; got '\(speed)'") }
        guard FileManager.default.fileExists(atPath: dir) else { throw ValidationError("no such recording directory '\(dir)'") }
        LogSetup.bootstrap(level: "info")
        let logger = Logger(service: "replay")
        let client = try connection.client(id: "opsctl-replay")
        let dir = self.dir
        let stats = try await runOnDedicatedThread(name: "replay") {
            let topics = Topics.marketSource
            var spec = MarketSourceSpec()
            spec.replay = dir
            let loaded: LoadedMarketSource
            do { loaded = try spec.load() } catch let e as ConfigError { throw ValidationError(e.description) }
            let items = try loaded.events.map { try $0.item(producedAt: nil) }
            // Operator commands and parameter changes first: they apply at their recorded event times.
            if let line = try OperatorInputs(recording: dir).publish(client: client, logger: logger) { print(line) }
            let publisher = try SourcePublisher(client: client, sourceName: "replay", topics: topics, logger: logger)
            return try publisher.publish(items, pacing: pacing)
        }
        print("replayed " + stats.messages.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: " ") + " watermarks=\(stats.watermarks)")
    }
}
