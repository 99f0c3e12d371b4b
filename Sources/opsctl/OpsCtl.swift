import ArgumentParser
import Foundation

@main
struct OpsCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opsctl",
        abstract: "Operate the ops-pipeline: run the whole stack, host the embedded broker, record, replay and tail topics.",
        subcommands: [Up.self, BacktestCommand.self, BenchCommand.self, Broker.self, Record.self, Replay.self, Tail.self, TopicsCommand.self, Size.self, CheckContract.self, GreeksCommand.self, Halt.self, Resume.self, ParamsCommand.self, Readiness.self, ExplainCommand.self, ReportCommand.self, SweepCommand.self, DashboardCommand.self])
}

/// Where the sibling executables (market-feed, feature-computer, …) live: next to this one.
enum BinDir {
    static var path: String {
        if let p = ProcessInfo.processInfo.environment["OPS_BIN_DIR"] { return p }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }
}

func printErr(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
