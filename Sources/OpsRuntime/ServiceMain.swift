import ArgumentParser
import Foundation
import Kafka
import Logging
import OpsModel
import ServiceLifecycle

/// Flags every service takes.
public struct ServiceOptions: ParsableArguments, Sendable {
    @Option(help: "Kafka bootstrap servers, host:port[,host:port…] (env OPS_BROKERS).")
    public var brokers: String?
    @Option(help: "Consumer group id (default: the service name).")
    public var groupId: String?
    @Option(help: "Kafka client id (default: the service name).")
    public var clientId: String?
    @Option(help: "JSON config file (default: config/<service>.json when it exists; OPS_CONFIG_DIR moves config/).")
    public var config: String?
    @Option(help: "Serve Prometheus metrics on this port at /metrics (0 = any free port; default: off).")
    public var metricsPort: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: String?
    @Option(help: "Log lines as text (default) or json (one object a line).")
    public var logFormat: String?
    @Option(name: .customLong("kafka"), help: ArgumentHelp("A librdkafka property, e.g. --kafka security.protocol=SASL_SSL (repeatable).", valueName: "key=value"))
    public var kafka: [String] = []
    @Option(name: .customLong("set"), help: ArgumentHelp("Any config key of this service, e.g. --set slope_lookback=10 (repeatable).", valueName: "key=value"))
    public var set: [String] = []

    public init() {}

    /// Keys every service understands.
    public static let commonKeys: [ConfigKey] = [
        ConfigKey("brokers", .string, default: "127.0.0.1:9092", help: "Kafka bootstrap servers"),
        ConfigKey("group_id", .string, default: nil, help: "consumer group id (default: the service name)"),
        ConfigKey("client_id", .string, default: nil, help: "Kafka client id (default: the service name)"),
        ConfigKey("metrics_port", .int, default: nil, help: "Prometheus scrape port"),
        ConfigKey("log_level", .string, default: "info", help: "log level", choices: LogSetup.levels),
        ConfigKey("log_format", .string, default: "text", help: "log lines as text or json", choices: LogSetup.formats),
        ConfigKey("batch_size", .int, default: "1000", help: "most input messages per round"),
        ConfigKey("max_pending", .int, default: "100000", help: "inputs held waiting for the watermark before the partitions ahead are paused"),
        ConfigKey("commit_interval_ms", .int, default: "\(ProcessorSettings.defaultCommitIntervalMs)",
                  help: "while inputs keep coming, commit offsets at most this often (ms); a round that finds nothing new commits at once"),
        ConfigKey("watermarks", .bool, default: "true", help: "merge inputs in event-time order behind upstream watermarks"),
        PartitionAssignment.configKey,
        ConfigKey("snapshot_minutes", .int, default: "60", help: "event-time minutes between state snapshots of a stateful service (0: none; a restart re-reads its inputs)"),
    ]

    /// Resolves defaults < file < environment < flags for `service`.
    public func resolve(service: String, keys: [ConfigKey]) throws -> ResolvedConfig {
        var flags = [String: String]()
        for kv in set {
            guard let eq = kv.firstIndex(of: "="), eq != kv.startIndex else {
                throw ConfigError("--set expects KEY=VALUE (e.g. --set batch_size=500), got '\(kv)'")
            }
            flags[String(kv[..<eq])] = String(kv[kv.index(after: eq)...])
        }
        if let brokers { flags["brokers"] = brokers }
        if let groupId { flags["group_id"] = groupId }
        if let clientId { flags["client_id"] = clientId }
        if let metricsPort { flags["metrics_port"] = String(metricsPort) }
        if let logLevel { flags["log_level"] = logLevel }
        if let logFormat { flags["log_format"] = logFormat }
        let env = ProcessInfo.processInfo.environment
        let dir = env["OPS_CONFIG_DIR"] ?? "config"
        return try ResolvedConfig(keys: Self.commonKeys + keys, file: config ?? "\(dir)/\(service).json", fileRequired: config != nil,
                                  environment: env, flags: flags, kafkaFlags: kafka)
    }
}

extension ResolvedConfig {
    /// Every assignment rebuilds a service's state from what it is given (the eager protocol: all partitions revoked,
    /// then a new set); librdkafka's incremental cooperative protocol would hand over partitions one by one.
    public func refuseCooperativeAssignment() throws {
        guard let strategy = kafka["partition.assignment.strategy"], strategy.contains("cooperative") else { return }
        throw ConfigError("Kafka property partition.assignment.strategy=\(strategy) is not supported: every assignment rebuilds the service's "
            + "state, which needs the eager protocol; use range or roundrobin (or leave it unset)")
    }

    public func kafkaClient(service: String) throws -> KafkaClientConfig {
        KafkaClientConfig(brokers: try require("brokers"), clientId: string("client_id") ?? service, additional: kafka)
    }
}

/// The whole `main` of a stream-processing service.
public enum StreamServiceMain {
    public static func run<Core: StreamCore>(service: String, options: ServiceOptions, keys: [ConfigKey],
                                             observer: (@Sendable (Emit, Logger) -> Void)? = nil,
                                             makeCore: (ResolvedConfig) throws -> Core) async throws {
        let config: ResolvedConfig
        let core: Core
        do {
            config = try options.resolve(service: service, keys: keys)
            try config.refuseCooperativeAssignment()
            core = try makeCore(config)
        } catch let e as ConfigError {
            FileHandle.standardError.write(Data("\(service): \(e.message)\n".utf8))
            throw ExitCode(2)
        }
        LogSetup.bootstrap(level: config.string("log_level"), format: config.string("log_format"))
        let logger = Logger(service: service)
        let malloc = MallocTuning.apply(environment: ProcessInfo.processInfo.environment)
        logger.debug("malloc settings", metadata: ["malloc": .string("\(malloc)")])
        ParentWatchdog.startIfRequested(logger: logger)
        var settings = ProcessorSettings(client: try config.kafkaClient(service: service), groupId: config.string("group_id") ?? core.accountShare.groupId(service: service))
        settings.batchSize = try config.int("batch_size", in: 1...100_000)
        settings.maxPending = try config.int("max_pending", in: 2...10_000_000)
        settings.commitIntervalMs = Int64(try config.int("commit_interval_ms", in: 0...60_000))
        settings.useWatermarks = config.bool("watermarks") ?? true
        settings.snapshotEveryMs = Int64(try config.int("snapshot_minutes", in: 0...10_080)) * 60_000
        settings.assignment = config.string(PartitionAssignment.configKey.name).flatMap(PartitionAssignment.init(rawValue:)) ?? .group
        settings.observer = observer
        // Metrics first: the processor creates its counters at init, against whatever factory is bootstrapped then.
        let metrics = try MetricsEndpoint.bootstrap(port: config.int("metrics_port"), logger: logger)
        let processor = try StreamProcessor(core: core, settings: settings, logger: logger)
        var services: [any Service] = [BlockingService(name: "stream-processor") { stop in try processor.run(stop: stop) }]
        if let metrics { services.append(metrics) }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

/// Blocks until SIGTERM or SIGINT, through ServiceLifecycle (for commands whose work runs elsewhere).
public struct UntilShutdown: Service {
    public init() {}
    public func run() async throws { try? await gracefulShutdown() }

    public static func run(logger: Logger) async throws {
        try await ServiceGroup(services: [UntilShutdown()], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
    }
}

/// A blocking loop (polling Kafka) run on a dedicated thread as a ServiceLifecycle service; graceful shutdown
/// or cancellation sets its stop flag.
public struct BlockingService: Service {
    let name: String
    let body: @Sendable (StopFlag) throws -> Void
    public init(name: String, _ body: @escaping @Sendable (StopFlag) throws -> Void) { self.name = name; self.body = body }

    public func run() async throws {
        let stop = StopFlag()
        let body = self.body
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await runOnDedicatedThread(name: name) { try body(stop) }
        } onCancelOrGracefulShutdown: {
            stop.stop()
        }
    }
}

extension ServiceOptions {
    /// The config key naming config/trading_params.json, shared by the trading services.
    public static let tradingParamsKey = ConfigKey("trading_params", .string, default: nil,
                                                   help: "path of trading_params.json (default: <config dir>/trading_params.json)")
}

extension ResolvedConfig {
    /// Loads trading_params.json: the configured path, else `<config dir>/trading_params.json` when present, else the
    /// built-in defaults (which are the seed's values).
    public func tradingParams() throws -> TradingParams {
        do { return try TradingParams.load(configured: string("trading_params")) } catch { throw ConfigError(error.description) }
    }
}

/// An async loop run as a ServiceLifecycle service, cancelled on shutdown (its sleeps and for-awaits end at once).
public struct CancellableLoop: Service {
    let body: @Sendable () async -> Void
    public init(_ body: @escaping @Sendable () async -> Void) { self.body = body }
    public func run() async throws { await cancelWhenGracefulShutdown { await body() } }
}
