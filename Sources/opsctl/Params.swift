import ArgumentParser
import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime

/// `opsctl params set|show`: trading parameters changed without a redeploy (seed 004 §6), on `ops.params.v1`.
struct ParamsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "params",
        abstract: "Change trading parameters while the pipeline runs (ops.params.v1), or show the changes made.",
        subcommands: [ParamsSet.self, ParamsShow.self])
}

/// Where the topic is and what the services were configured with.
struct ParamsTarget: ParsableArguments {
    @OptionGroup var connection: KafkaConnection
    @Option(help: "The trading_params.json the services run with (default: config/trading_params.json, else the built-in values).")
    var tradingParams: String?

    func client() throws -> KafkaClientConfig { try connection.client(id: "opsctl-params") }

    func configured() throws -> TradingParams {
        do { return try TradingParams.load(configured: tradingParams) } catch { throw ValidationError(error.description) }
    }

    /// Every change on the topic (one per version: a change is on every partition), in the order they take effect.
    static func changes(client: KafkaClientConfig, logger: Logger) throws -> [Envelope<ParamsChange>] {
        var byVersion = [Int64: Envelope<ParamsChange>]()
        for e in try TopicReader.envelopes(client: client, topic: Topics.params, logger: logger) {
            if let c = e.typed(ParamsChange.self) { byVersion[c.payload.paramsVersion] = c }
        }
        return byVersion.values.sorted { ($0.eventTime, $0.payload.paramsVersion) < ($1.eventTime, $1.payload.paramsVersion) }
    }

    /// The parameters an account's services hold after `changes` (those for it and for every account).
    static func inForce(_ configured: TradingParams, account: String?, changes: [Envelope<ParamsChange>]) throws -> LiveParams {
        var live = LiveParams(configured)
        for c in changes {
            do { _ = try live.apply(c.payload, account: account) } catch {
                // The services dead-lettered it too: it changed nothing there either.
                continue
            }
        }
        return live
    }
}

struct ParamsSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Publish a change of trading parameters, in force from --at in every service (validated first: a bad key or value changes nothing).",
        discussion: """
        Example: opsctl params set risk.max_daily_loss=250 --account sim-1 --reason "tighter after review" --brokers 127.0.0.1:9092
        Each KEY is a dotted key of trading_params.json; VALUE is JSON (250, true, "small") or plain text. The change takes effect \
        at its event time (--at, default: the account's latest event time on trading.accounts.v1), before any other input of that \
        time, and every decision made under it carries its params_version.
        """)

    @Argument(help: ArgumentHelp("Parameters to change.", valueName: "key=value")) var settings: [String] = []
    @Option(help: "The account whose parameters change (default: every account).") var account: String?
    @Option(help: "Event time the change takes effect, ISO-8601 with a zone (default: the latest event time on trading.accounts.v1).") var at: String?
    @Option(help: "Why: kept with the change for the audit trail.") var reason: String
    @OptionGroup var target: ParamsTarget

    static func parse(_ settings: [String]) throws -> [String: String] {
        guard !settings.isEmpty else { throw ValidationError("nothing to change: give KEY=VALUE, e.g. opsctl params set risk.max_daily_loss=250 --reason \"…\"") }
        var out = [String: String]()
        for kv in settings {
            guard let eq = kv.firstIndex(of: "="), eq != kv.startIndex else {
                throw ValidationError("expected KEY=VALUE with a dotted key, e.g. risk.max_daily_loss=250; got '\(kv)'")
            }
            out[String(kv[..<eq])] = String(kv[kv.index(after: eq)...])
        }
        return out
    }

    func run() async throws {
        LogSetup.bootstrap(level: "warning")
        let logger = Logger(service: "opsctl")
        let changes = try Self.parse(settings)
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason must say why, e.g. --reason \"daily review\"") }
        if let at, Timestamp(iso8601: at) == nil { throw ValidationError("--at takes ISO-8601 with a zone, e.g. 2024-03-05T15:00:00Z; got '\(at)'") }
        let explicit = at.flatMap { Timestamp(iso8601: $0) }
        let configured = try target.configured()
        let client = try target.client()
        let account = self.account
        let reason = self.reason
        let line = try await runOnDedicatedThread(name: "params") { () throws -> String in
            let history = try ParamsTarget.changes(client: client, logger: logger)
            let version = (history.map(\.payload.paramsVersion).max() ?? 0) + 1
            let change = ParamsChange(accountId: account, paramsVersion: version, changes: changes, reason: reason, requestedBy: ControlTarget.user)
            let t = try explicit ?? Self.latestEventTime(client: client, account: account, logger: logger)
            do { try change.validate(eventTime: t) } catch { throw ValidationError(Self.reason(error)) }
            // Validated over what the services hold by then, as each of them will validate it again.
            var live = try ParamsTarget.inForce(configured, account: account, changes: history.filter { $0.eventTime <= t })
            do { _ = try live.apply(change, account: account) } catch { throw ValidationError("refused, nothing published: \(Self.reason(error))") }
            try Self.publish(change, at: t, client: client, logger: logger)
            return "params v\(version) for \(account ?? "every account") from \(t.iso8601): "
                + changes.keys.sorted().map { "\($0)=\(changes[$0]!)" }.joined(separator: " ") + " — \(reason)"
        }
        print(line)
    }

    static func reason(_ error: any Error) -> String { (error as? MessageError)?.reason ?? "\(error)" }

    /// The pipeline's "now" for the account (every account: the latest of all), from its snapshots.
    static func latestEventTime(client: KafkaClientConfig, account: String?, logger: Logger) throws -> Timestamp {
        let latest = try ControlTarget.latestEventTimes(client: client, logger: logger)
        if let account {
            guard let t = latest[account] else {
                throw ValidationError("account '\(account)' has not reported on \(Topics.accounts)\(latest.isEmpty ? "" : " (known: \(latest.keys.sorted().joined(separator: ", ")))"); pass --at TIME")
            }
            return t
        }
        guard let t = latest.values.max() else { throw ValidationError("no account has reported on \(Topics.accounts) yet; pass --at TIME") }
        return t
    }

    /// The same bytes on every partition, each under the change's own key (compaction keeps every change).
    static func publish(_ change: ParamsChange, at t: Timestamp, client: KafkaClientConfig, logger: Logger) throws {
        let env = Envelope(id: change.id(at: t), eventTime: t, causationId: nil, source: "opsctl", payload: change,
                           producedAt: Timestamp(ms: Int64(Date().timeIntervalSince1970 * 1000)))
        let bytes = try env.encoded()
        let producer = try KafkaProducer(config: KafkaProducerConfig(client: client), logger: logger)
        defer { producer.close() }
        let n = try producer.partitionCount(topic: Topics.params)
        _ = try producer.send(records(change, bytes: bytes, partitions: Int32(n)))
    }

    static func records(_ change: ParamsChange, bytes: [UInt8], partitions: Int32) -> [ProducerRecord] {
        let key = Array("\(change.partitionKey)#\(change.paramsVersion)".utf8)
        return (0..<partitions).map { ProducerRecord(topic: Topics.params, key: key, value: bytes, partition: $0) }
    }
}

struct ParamsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "List the parameter changes on ops.params.v1 and what is in force for an account after them.",
        discussion: "Example: opsctl params show --account sim-1 --brokers 127.0.0.1:9092")

    @Option(help: "Show what is in force for this account (default: changes for every account only).") var account: String?
    @Flag(help: "One JSON object instead of text.") var json = false
    @OptionGroup var target: ParamsTarget

    func run() async throws {
        LogSetup.bootstrap(level: "warning")
        let logger = Logger(service: "opsctl")
        let configured = try target.configured()
        let client = try target.client()
        let history = try await runOnDedicatedThread(name: "params") { try ParamsTarget.changes(client: client, logger: logger) }
        let mine = history.filter { $0.payload.accountId == nil || $0.payload.accountId == account }
        let live = try ParamsTarget.inForce(configured, account: account, changes: mine)
        let keys = Set(mine.flatMap { $0.payload.changes.keys }).sorted()
        let current = try JSONSerialization.jsonObject(with: JSONEncoder().encode(live.current)) as? [String: Any] ?? [:]
        func value(_ key: String) -> Any? {
            var node: Any? = current
            for part in key.split(separator: ".") { node = (node as? [String: Any])?[String(part)] }
            return node
        }
        if json {
            let changes: [[String: Any]] = mine.map { c in
                ["params_version": c.payload.paramsVersion, "event_time": c.eventTime.iso8601, "account_id": c.payload.accountId ?? NSNull(),
                 "changes": c.payload.changes, "reason": c.payload.reason, "requested_by": c.payload.requestedBy]
            }
            let inForce = Dictionary(uniqueKeysWithValues: keys.map { ($0, value($0) ?? NSNull()) })
            let obj: [String: Any] = ["account_id": account ?? NSNull(), "params_version": live.version, "changes": changes, "in_force": inForce]
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        if mine.isEmpty { print("no parameter changes for \(account ?? "every account") on \(Topics.params): the configured values hold") }
        for c in mine {
            let p = c.payload
            print("v\(p.paramsVersion)  \(c.eventTime.iso8601)  \(p.accountId ?? "every account")  "
                  + p.changes.keys.sorted().map { "\($0)=\(p.changes[$0]!)" }.joined(separator: " ") + "  — \(p.reason) (\(p.requestedBy))")
        }
        if !keys.isEmpty {
            print("in force for \(account ?? "every account") (params_version \(live.version)):")
            for k in keys {
                let v = value(k).flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.fragmentsAllowed, .sortedKeys]) }
                print("  \(k) = \(v.map { String(decoding: $0, as: UTF8.self) } ?? "?")")
            }
        }
    }
}
