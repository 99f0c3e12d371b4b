import AlpacaClient
import AlpacaCore
import ArgumentParser
import Foundation
import Kafka
import Logging
import MarketData
import OpsModel
import OpsRuntime
import ServiceLifecycle

extension MarketFeed {
    /// `--source alpaca`: runs until `--until`/`--minutes` on the live clock, or SIGTERM; prints one 'published …' line.
    func runAlpaca(client: KafkaClientConfig, logger: Logger) async throws {
        let env = ProcessInfo.processInfo.environment
        let settings: AlpacaFeedSettings
        do {
            let clock = try LiveClock(spec: clock ?? env["OPS_CLOCK"] ?? "wall", wallNowMs: AlpacaREST.wallMs())
            let start = clock.now(wallMs: AlpacaREST.wallMs())
            var end = until.flatMap { Timestamp(iso8601: $0) }
            if let minutes { end = min(end ?? .distantFuture, start.adding(ms: Int64(minutes * 60_000))) }
            let params = try TradingParams.load(configured: nil)
            let windows = params.contractSelection.dayTradeDte + params.contractSelection.swingTradeDte
            var history = [DailyImpliedVolatility]()
            if let ivHistory { history = try ImpliedVolatilityCSV.parse(contentsOf: URL(fileURLWithPath: ivHistory)).days }
            let stream = (alpacaStreamUrl.hasSuffix("/") ? String(alpacaStreamUrl.dropLast()) : alpacaStreamUrl) + "/" + feed
            settings = AlpacaFeedSettings(
                tickers: (tickers ?? "SPY,QQQ,AAPL").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty },
                dataURL: alpacaDataUrl, tradingURL: alpacaTradingUrl, streamURL: stream, feed: feed, optionsFeed: optionsFeed,
                latenessMs: Int64(lateness * 1000), chainEveryMinutes: chainEvery, until: end, clock: clock,
                credentials: try AlpacaCredentials.load(secretsFile: alpacaSecretsFile, environment: env), sourceName: sourceName,
                maxDte: windows.max() ?? 45, history: history)
        } catch let e as AlpacaStartError {
            throw ValidationError(e.description)
        } catch let e as LiveClockError {
            throw ValidationError("--clock: \(e.description)")
        } catch let e as CSVError {
            throw ValidationError("\(e)")
        } catch {
            throw ValidationError("\(error)")
        }
        let metrics = try MetricsEndpoint.bootstrap(port: metricsPort, logger: logger)
        let producer = try KafkaProducer(config: KafkaProducerConfig(client: client), logger: logger)
        let feed = try AlpacaFeed(settings: settings, producer: producer, logger: logger)
        logger.info("market data from Alpaca", metadata: ["alpaca.data_url": .string(settings.dataURL), "alpaca.stream": .string(settings.streamURL),
                                                          "tickers": .string(settings.tickers.joined(separator: ",")), "clock": .string(settings.clock.description)])
        await feed.start()
        let stream = AlpacaBarStream(url: settings.streamURL, tickers: settings.tickers, credentials: settings.credentials, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = metrics.map { [.init(service: $0)] } ?? []
        services += [
            .init(service: CancellableLoop { await stream.run(feed: feed) }),
            .init(service: CancellableLoop {
                while !Task.isCancelled {
                    guard await feed.tick() else { return }
                    try? await Task.sleep(for: .milliseconds(max(50, settings.clock.wallMs(forClockMs: 1000))))
                }
            }, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        if let until = settings.until, settings.clock.now(wallMs: AlpacaREST.wallMs()) >= until { await feed.finish() }
        print(await feed.summary)
        await feed.shutdown()
        producer.close()
    }
}

