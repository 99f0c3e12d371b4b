import ArgumentParser
import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime

/// `opsctl halt` / `opsctl resume`: an operator's kill switch per account (seed 004 §2), published on
/// `ops.control.v1`. The command's event time is the account's latest event time on `trading.accounts.v1` (the
/// pipeline's "now" for that account, so a halt stops entries from that minute on) unless `--at` says otherwise.
struct Halt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Halt an account's new entries (exits go on); --flatten also exits every open position.",
        discussion: "Example: opsctl halt --account sim-1 --reason \"feed looks wrong\" --brokers 127.0.0.1:9092")

    @Option(help: "The account to halt (one the broker has reported on trading.accounts.v1).") var account: String
    @Option(help: "Why: kept in every decision while the halt is in force.") var reason: String
    @Flag(help: "Also exit every open position of the account.") var flatten = false
    @OptionGroup var target: ControlTarget

    func run() async throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason must say why, e.g. --reason \"daily review\"") }
        try await target.publish(OperatorControl(accountId: account, action: .halt, reason: reason, flatten: flatten, requestedBy: ControlTarget.user))
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Lift an account's operator halt.",
                                                    discussion: "Example: opsctl resume --account sim-1 --brokers 127.0.0.1:9092")

    @Option(help: "The account to resume.") var account: String
    @Option(help: "Why (optional, for the audit trail).") var reason: String = "resumed by operator"
    @OptionGroup var target: ControlTarget

    func run() async throws {
        try await target.publish(OperatorControl(accountId: account, action: .resume, reason: reason, flatten: false, requestedBy: ControlTarget.user))
    }
}

struct ControlTarget: ParsableArguments {
    @OptionGroup var connection: KafkaConnection
    @Option(help: "Event time of the command, ISO-8601 with a zone (default: the account's latest event time).") var at: String?

    /// Each account's latest event time on `trading.accounts.v1`: the pipeline's "now" for it.
    static func latestEventTimes(client: KafkaClientConfig, logger: Logger) throws -> [String: Timestamp] {
        var latest = [String: Timestamp]()
        for e in try TopicReader.envelopes(client: client, topic: Topics.accounts, logger: logger) {
            if let a = e.payload as? AccountSnapshot { latest[a.accountId] = max(latest[a.accountId] ?? .distantPast, e.eventTime) }
        }
        return latest
    }

    static var user: String {
        let env = ProcessInfo.processInfo.environment
        return "\(env["USER"] ?? env["LOGNAME"] ?? "operator")@\(ProcessInfo.processInfo.hostName)"
    }

    /// An operator command as the control topic carries it: in force from `t`, keyed by account.
    static func record(_ command: OperatorControl, at t: Timestamp) throws -> ProducerRecord {
        let env = Envelope(id: command.id(at: t), eventTime: t, causationId: nil, source: "opsctl", payload: command,
                           producedAt: Timestamp(ms: Int64(Date().timeIntervalSince1970 * 1000)))
        return ProducerRecord(topic: Topics.control, key: Array(command.accountId.utf8), value: try env.encoded())
    }

    func publish(_ command: OperatorControl) async throws {
        LogSetup.bootstrap(level: "warning")
        let logger = Logger(service: "opsctl")
        let client = try connection.client(id: "opsctl-control")
        if let at, Timestamp(iso8601: at) == nil {
            throw ValidationError("--at takes ISO-8601 with a zone, e.g. 2024-03-04T15:00:00Z; got '\(at)'")
        }
        let explicit = at.flatMap { Timestamp(iso8601: $0) }
        let line = try await runOnDedicatedThread(name: "control") { () throws -> String in
            let latest = try Self.latestEventTimes(client: client, logger: logger)
            guard let now = latest[command.accountId] else {
                let known = latest.keys.sorted()
                throw ValidationError("unknown account '\(command.accountId)': \(known.isEmpty ? "no account has reported on \(Topics.accounts) yet" : "known accounts: \(known.joined(separator: ", "))")")
            }
            let t = explicit ?? now
            let producer = try KafkaProducer(config: KafkaProducerConfig(client: client), logger: logger)
            defer { producer.close() }
            _ = try producer.send([try Self.record(command, at: t)])
            return "\(command.action.rawValue) \(command.accountId) at \(t.iso8601)\(command.flatten ? " (flatten)" : ""): \(command.reason)"
        }
        print(line)
    }
}
