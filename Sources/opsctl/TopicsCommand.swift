import ArgumentParser
import OpsModel
import Pipeline

/// `opsctl topics`: every topic with its partitions, key, retention, and who writes and reads it, from the service graph.
struct TopicsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "List the project's topics: partitions, key, cleanup policy, writers and readers (from the service graph).",
        discussion: "--compose prints the shell that creates them on a Kafka cluster (deploy/docker-compose.yml's topics service).")

    @Flag(help: "Print the topic-creation shell for deploy/docker-compose.yml instead of the table.") var compose = false

    func run() throws {
        if compose {
            print(Topics.composeCreateScript(), terminator: "")
            return
        }
        let rows = Topics.all.map { spec -> [String] in
            let writers = ServiceGraph.producers(of: spec.name)
            let readers = ServiceGraph.services.filter { $0.inputs.contains(spec.name) }.map(\.name)
            return [spec.name, "\(spec.partitions)", spec.key, spec.compacted ? "compact" : "delete",
                    writers.isEmpty ? Self.sourceWriters(spec.name) : writers.joined(separator: ","), readers.isEmpty ? "-" : readers.joined(separator: ",")]
        }
        let header = ["topic", "partitions", "key", "cleanup", "written by", "read by"]
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
        for row in [header] + rows {
            print(row.enumerated().map { i, c in i == row.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }

    /// Topics no service writes: the market source, the operator's commands, every service's dead letters and snapshots.
    static func sourceWriters(_ topic: String) -> String {
        switch topic {
        case _ where Topics.marketSource.contains(topic): "market-feed, opsctl replay"
        case Topics.control: "opsctl halt/resume"
        case Topics.params: "opsctl params set"
        case Topics.deadLetter: "every service"
        case Topics.snapshots: ServiceGraph.services.filter { (try? $0.prototype.snapshotState()) != nil }.map(\.name).joined(separator: ",")
        default: "-"
        }
    }
}
