import AlpacaClient
import AlpacaCore
import ArgumentParser
import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime
import ServiceLifecycle

/// Config of the Alpaca adapters; every base URL is a flag and a key.
enum AlpacaKeys {
    static let all: [ConfigKey] = [
        ServiceOptions.tradingParamsKey,
        ConfigKey("alpaca_trading_url", .string, default: nil, help: "Alpaca trading API base URL (default: paper or live by --broker)"),
        ConfigKey("alpaca_data_url", .string, default: "https://data.alpaca.markets", help: "Alpaca market-data API base URL"),
        ConfigKey("alpaca_stream_url", .string, default: nil, help: "trade_updates websocket URL (default: the trading host's /stream)"),
        ConfigKey("alpaca_secrets_file", .string, default: nil, help: "file with APCA_API_KEY_ID= and APCA_API_SECRET_KEY= lines, mode 600"),
        ConfigKey("clock", .string, default: "wall", help: "live clock: wall, or START[@ANCHOR][xSPEED] (env OPS_CLOCK)"),
        ConfigKey("rate_limit_per_minute", .int, default: "200", help: "Alpaca requests per minute"),
        ConfigKey("request_timeout_seconds", .int, default: "10", help: "HTTP timeout of one Alpaca request"),
        ConfigKey("snapshot_seconds", .int, default: "60", help: "seconds between account snapshots"),
        ConfigKey("until", .string, default: nil, help: "bounded runs: after this clock instant no periodic watermarks, snapshots or TTL cancels (events still flow)"),
        ConfigKey("readiness_account", .string, default: nil, help: "alpaca-live: the paper account whose readiness report must pass"),
    ]

    static func tradingURL(_ broker: String) -> String {
        broker == "alpaca-live" ? "https://api.alpaca.markets" : "https://paper-api.alpaca.markets"
    }

    /// The trade_updates websocket of a trading host: https://h → wss://h/stream.
    static func streamURL(trading: String) -> String {
        var s = trading
        if s.hasPrefix("https://") { s = "wss://" + s.dropFirst(8) } else if s.hasPrefix("http://") { s = "ws://" + s.dropFirst(7) }
        return (s.hasSuffix("/") ? String(s.dropLast()) : s) + "/stream"
    }
}

enum AlpacaGatewayMain {
    static func run(broker: String, options: ServiceOptions, confirmLive: String?) async throws {
        let service = "broker-gateway"
        let config: ResolvedConfig
        let params: TradingParams
        let credentials: AlpacaCredentials
        let clock: LiveClock
        let until: Timestamp?
        do {
            config = try options.resolve(service: service, keys: AlpacaKeys.all)
            params = try config.tradingParams()
            until = try config.string("until").map { text in
                guard let t = Timestamp(iso8601: text) else {
                    throw ConfigError("config key 'until' takes an instant with a zone, e.g. 2024-03-05T11:00:00-05:00; got '\(text)'")
                }
                return t
            }
            let env = ProcessInfo.processInfo.environment
            clock = try LiveClock(spec: env["OPS_CLOCK"] ?? config.string("clock") ?? "wall", wallNowMs: AlpacaREST.wallMs())
            if broker == "alpaca-live" { try LiveGuard.check(params: params, confirmation: confirmLive) }
            credentials = try AlpacaCredentials.load(secretsFile: config.string("alpaca_secrets_file"), environment: env)
        } catch let e as ConfigError {
            FileHandle.standardError.write(Data("\(service): \(e.message)\n".utf8))
            throw ExitCode(2)
        } catch let e as LiveClockError {
            FileHandle.standardError.write(Data("\(service): config key 'clock': \(e.description)\n".utf8))
            throw ExitCode(2)
        } catch let e as AlpacaStartError {
            FileHandle.standardError.write(Data("\(service): \(e.description)\n".utf8))
            throw ExitCode(2)
        }
        LogSetup.bootstrap(level: config.string("log_level"), format: config.string("log_format"))
        let logger = Logger(service: service)
        MallocTuning.apply(environment: ProcessInfo.processInfo.environment)
        ParentWatchdog.startIfRequested(logger: logger)
        // Before any counter exists: they bind to whatever factory is bootstrapped when they are made.
        let metrics = try MetricsEndpoint.bootstrap(port: config.int("metrics_port"), logger: logger)
        let tradingURL = config.string("alpaca_trading_url") ?? AlpacaKeys.tradingURL(broker)
        let streamURL = config.string("alpaca_stream_url") ?? AlpacaKeys.streamURL(trading: tradingURL)
        let client = try config.kafkaClient(service: service)
        let accountId = params.account.accountId
        if broker == "alpaca-live" {
            do { try LiveGuard.checkReadiness(params: params, paperAccount: config.string("readiness_account"), client: client, logger: logger) }
            catch let e as AlpacaStartError {
                FileHandle.standardError.write(Data("\(service): \(e.description)\n".utf8))
                throw ExitCode(2)
            }
        }

        var ledger = AlpacaLedger(accountId: accountId, params: params)
        let start = try restore(&ledger, client: client, logger: logger)
        let rest = AlpacaREST(baseURL: tradingURL, credentials: credentials, perMinute: try config.int("rate_limit_per_minute", in: 1...10_000),
                              timeoutSeconds: try config.int("request_timeout_seconds", in: 1...600), logger: logger)
        let producer = try KafkaProducer(config: KafkaProducerConfig(client: client), logger: logger)
        let gateway = try AlpacaGateway(ledger: ledger, rest: rest, producer: producer, clock: clock, logger: logger)
        logger.info("trading on Alpaca", metadata: ["alpaca.broker": .string(broker), "alpaca.trading_url": .string(tradingURL),
                                                    "account": .string(accountId), "clock": .string(clock.description)])
        await gateway.reconcileAtStartup()

        let snapshotSeconds = try config.int("snapshot_seconds", in: 1...3600)

        let orders = OrderCommandFeed(client: client, start: start, logger: logger)
        let stream = TradeUpdatesStream(url: streamURL, credentials: credentials, logger: logger)
        var services: [any Service] = [
            CancellableLoop { await stream.run(gateway: gateway) },
            CancellableLoop { for await env in orders.commands() { await gateway.command(env) } },
            CancellableLoop {
                var seconds = 0
                var finished = false
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if let until, await gateway.now() >= until {
                        // One last watermark a minute past the end covers whatever the feed stamped at its end; after
                        // it only events move the watermark, so a bounded run's topics come to rest.
                        if !finished { await gateway.finish(after: until.adding(ms: 60_000)) }
                        finished = true
                        continue
                    }
                    await gateway.tick()
                    seconds += 1
                    if seconds % snapshotSeconds == 0 { await gateway.snapshot() }
                    if seconds % 1800 == 0 { await gateway.reconcileHoldings() }
                }
            },
        ]
        if let metrics { services.append(metrics) }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        orders.stop()
        await rest.shutdown()
        producer.close()
    }

    /// Rebuilds the ledger from the topics: every order command, then our own order events, fills and snapshots.
    /// Returns where the order feed continues (just past what was read).
    static func restore(_ ledger: inout AlpacaLedger, client: KafkaClientConfig, logger: Logger) throws -> [TopicPartitionOffset] {
        let decoder = Topics.decoder(for: Topics.orders)
        var next = [Int32: Int64]()
        for m in try TopicReader.readAll(client: client, topic: Topics.orders, logger: logger) {
            next[m.partition] = max(next[m.partition] ?? 0, m.offset + 1)
            if let e = try? decoder.decode(m.value), let c = e.payload as? OrderCommand {
                ledger.restore(command: Envelope(id: e.id, eventTime: e.eventTime, causationId: e.causationId, source: e.source, payload: c))
            }
        }
        for e in try TopicReader.envelopes(client: client, topic: Topics.orderEvents, logger: logger) {
            if let p = e.payload as? OrderEvent { ledger.restore(event: p) }
        }
        for e in try TopicReader.envelopes(client: client, topic: Topics.fills, logger: logger) {
            if let f = e.payload as? Fill { ledger.restore(fill: f) }
        }
        for e in try TopicReader.envelopes(client: client, topic: Topics.accounts, logger: logger) {
            if let s = e.payload as? AccountSnapshot { ledger.restore(snapshot: s) }
        }
        let consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "broker-gateway-alpaca"), logger: logger)
        defer { consumer.close() }
        let count = Int32(try consumer.partitionCount(topic: Topics.orders))
        return (0..<count).map { TopicPartitionOffset(topic: Topics.orders, partition: $0, offset: next[$0] ?? KafkaOffset.beginning) }
    }
}


/// Order commands from Kafka, from where the restore stopped, polled on a thread of their own.
final class OrderCommandFeed: @unchecked Sendable {
    let client: KafkaClientConfig
    let start: [TopicPartitionOffset]
    let logger: Logger
    let stopFlag = StopFlag()

    init(client: KafkaClientConfig, start: [TopicPartitionOffset], logger: Logger) {
        self.client = client; self.start = start; self.logger = logger
    }

    func stop() { stopFlag.stop() }

    func commands() -> AsyncStream<Envelope<OrderCommand>> {
        let (stream, continuation) = AsyncStream.makeStream(of: Envelope<OrderCommand>.self)
        let thread = Thread { [self] in
            defer { continuation.finish() }
            do {
                let consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "broker-gateway-alpaca"), logger: logger)
                defer { consumer.close() }
                try consumer.assign(start)
                let decoder = Topics.decoder(for: Topics.orders)
                while !stopFlag.isStopped {
                    guard let m = try consumer.poll(timeoutMs: 200) else { continue }
                    guard let e = try? decoder.decode(m.value), let c = e.payload as? OrderCommand else { continue }
                    continuation.yield(Envelope(id: e.id, eventTime: e.eventTime, causationId: e.causationId, source: e.source, payload: c))
                }
            } catch {
                logger.critical("order feed failed", metadata: ["kafka.error": .string("\(error)")])
            }
        }
        thread.name = "order-feed"
        thread.start()
        return stream
    }
}
