import AlpacaCore
import ArgumentParser
import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime

/// `opsctl readiness`: seed 004's "Ready for Live Options If" on what a paper account did, read from a recording
/// (`opsctl up --record DIR`) or from the topics. Exit 0 ready, 1 not ready, 2 a usage error.
struct Readiness: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Is an account ready for live options? Seed 004's checklist on its paper record: ✓/✗ per item, exit 0 only when all pass.",
        discussion: """
        Items: option_gates, kill_switches (the trading parameters), kill_switches_exercised, paper_sessions, net_pnl,
        fill_quality, execution_errors (the account's decisions, orders, fills and positions).
        Examples: opsctl readiness --account sim-1 --dir runs/a
                  opsctl readiness --account PA3XXXX --brokers 127.0.0.1:9092 --json
        Exit status: 0 every item passes, 1 some item fails, 2 a usage error.
        """)

    @Option(help: "The account to judge (the account id on trading.* topics).") var account: String?
    @Option(help: "A recording directory written by `opsctl up --record DIR` (DIR/<topic>.jsonl).") var dir: String?
    @Option(help: "Read the topics from this Kafka cluster instead of a recording.") var brokers: String?
    @Option(name: .customLong("kafka"), help: ArgumentHelp("A librdkafka property with --brokers (repeatable; secrets: OPS_KAFKA_SASL_PASSWORD or OPS_KAFKA_PROPERTIES_FILE).", valueName: "key=value"))
    var kafka: [String] = []
    @Option(help: "New York trading dates with orders or fills needed.") var minSessions: Int = 5
    @Option(help: "trading_params.json the account trades with (default: config/trading_params.json, else built-in seed values).") var tradingParams: String?
    @Flag(help: "Print the report as one JSON object.") var json = false

    func run() async throws {
        let (account, source) = try usage()
        let params = try usageOr { try TradingParams.load(configured: tradingParams) }
        let envelopes = try await load(source)
        let record = ReadinessRecord(accountId: account, envelopes: envelopes)
        let report = LiveReadiness.evaluate(params: params, record: record, options: ReadinessOptions(minSessions: minSessions))
        print(json ? Self.json(report) : report.lines.joined(separator: "\n"))
        if record.decisions.isEmpty, record.orders.isEmpty, record.fills.isEmpty {
            let known = Set(envelopes.compactMap { ($0.payload as? AccountSnapshot)?.accountId ?? ($0.payload as? Decision)?.accountId }).sorted()
            printErr("note: account '\(account)' has no decisions, orders or fills here; accounts in the record: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
        }
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }

    enum Source { case recording(String), kafka(String) }

    /// The flags, checked here rather than by the parser so that a usage error exits 2 with what to type instead.
    func usage() throws -> (String, Source) {
        func fail(_ message: String) -> ExitCode {
            printErr("opsctl readiness: \(message)\nusage: opsctl readiness --account ID (--dir RECORDING | --brokers HOST:PORT) [--min-sessions 5] [--trading-params FILE] [--json]")
            return ExitCode(2)
        }
        guard let account, !account.isEmpty else { throw fail("--account is required, e.g. --account sim-1") }
        guard minSessions >= 1 else { throw fail("--min-sessions must be ≥ 1, e.g. --min-sessions 5") }
        switch (dir, brokers) {
        case (nil, nil): throw fail("say where the record is: --dir RECORDING (from opsctl up --record) or --brokers HOST:PORT")
        case (.some, .some): throw fail("give --dir or --brokers, not both")
        case (let d?, nil):
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: d, isDirectory: &isDir), isDir.boolValue else {
                throw fail("--dir \(d) is not a directory; pass the DIR of `opsctl up --record DIR`")
            }
            return (account, .recording(d))
        case (nil, let b?): return (account, .kafka(b))
        }
    }

    func usageOr<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            printErr("opsctl readiness: \(error)")
            throw ExitCode(2)
        }
    }

    /// The topics through `SummarySource`, the reader `opsctl up`'s summary uses.
    func load(_ source: Source) async throws -> [AnyEnvelope] {
        switch source {
        case .recording(let d):
            return try Self.read(SummarySource.recording(d))
        case .kafka(let b):
            LogSetup.bootstrap(level: "warning")
            var connection = KafkaConnection()
            connection.brokers = b
            connection.kafka = kafka
            let client = try connection.client(id: "opsctl-readiness"), logger = Logger(service: "opsctl")
            return try await runOnDedicatedThread(name: "readiness") { try Self.read(SummarySource.kafka(client, logger: logger)) }
        }
    }

    static func read(_ source: SummarySource) throws -> [AnyEnvelope] {
        try LiveReadiness.topics.flatMap { try source.envelopes($0) }
    }

    static func json(_ report: ReadinessReport) -> String {
        let items: [[String: Any]] = report.items.map {
            ["name": $0.name, "passed": $0.passed, "detail": $0.detail, "value": $0.value ?? NSNull(), "limit": $0.limit ?? NSNull()]
        }
        let obj: [String: Any] = ["account": report.accountId, "passed": report.passed, "failed": report.failedItems,
                                  "verdict": report.verdictLine, "items": items]
        let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
