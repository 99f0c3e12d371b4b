import ArgumentParser
import Foundation
import Kafka
import Logging
import MarketData
import OpsModel
import OpsRuntime
import Pipeline
import ServiceLifecycle

/// market-feed: the pipeline's source. Publishes bars, option chains, sentiment and daily ATM implied volatilities
/// — from CSV files, a recording, or the seeded synthetic market — in event-time order, each minute followed by a
/// watermark on every partition of every one of those topics.
@main
struct MarketFeed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "market-feed",
        abstract: "Publish bars, option chains, sentiment and daily ATM IVs to Kafka, from files, a recording or the synthetic market.",
        discussion: """
        With no source flag it publishes the synthetic market (seed 42). Bar files may be in any of the formats in \
        docs/data-formats.md; rows that cannot be read go to \(Topics.deadLetter) with the line and the reason. When bar \
        files come without chains, chains are synthesized from the real prices every --chain-every minutes. Before the \
        first bar it publishes a history of daily ATM implied volatilities (\(Topics.ivDaily)): the synthetic market's \
        --iv-history-days prior sessions, or the days of --iv-history FILE before the first session; at each session's \
        close, that session's own value (the ATM IV of its last chain). Ends after the last event (exit 0) and prints \
        one 'published …' line on stdout.
        """)

    @OptionGroup var connection: KafkaConnection
    @Option(parsing: .upToNextOption, help: "Bar CSV files.") var bars: [String] = []
    @Option(help: "Ticker for bar files whose name or columns don't say it.") var ticker: String?
    @Option(parsing: .upToNextOption, help: "Option-chain CSV files (TD Ameritrade flat or the generic format).") var chains: [String] = []
    @Option(parsing: .upToNextOption, help: "Sentiment CSV files.") var sentiment: [String] = []
    @Option(help: "Daily ATM implied-volatility history CSV (ticker,date,atm_iv): published before the first session.") var ivHistory: String?
    @Option(help: "Synthetic market: prior sessions of daily ATM IV to generate before the first (0 = none).") var ivHistoryDays: Int = 252
    @Option(help: "Republish a recording (a directory written by the recorder).") var replay: String?
    @Flag(help: "With --replay: also republish the recorded broker outputs (order events, fills, account snapshots) with the broker-gateway's watermarks, so a live (Alpaca) run replays without any broker.") var replayBroker = false
    @Option(help: "Seed of the synthetic market (the default source).") var synthetic: UInt64?
    @Option(help: "Synthetic tickers: all | N (the first N of the universe) | SYM,SYM… (default SPY,QQQ,AAPL).") var tickers: String?
    @Option(help: "Sessions: synthetic sessions to generate, or the first N sessions of the files.") var sessions: Int?
    @Option(help: "First synthetic session date (YYYY-MM-DD; weekends are skipped).") var startDate: String?
    @Option(help: "Minutes between option-chain snapshots (synthetic and synthesized chains; 0 = none).") var chainEvery: Int = 5
    @Option(help: "Minutes between synthetic sentiment scores (0 = none).") var sentimentEvery: Int = 30
    @Option(help: "Synthesize chains for bar files without chains: auto | on | off.") var synthesizeChains: String = "auto"
    @Option(help: "Pacing: max | realtime | Nx (e.g. 60x).") var speed: String = "max"
    @Option(help: "With --speed: event times before this instant (ISO-8601 with a zone) go at full speed, e.g. skip to the afternoon and watch from there.") var paceFrom: String?
    @Option(help: "Progress on stderr: auto (when a terminal) | on | off.") var progress: String = "auto"
    @Option(help: "Consumer groups to wait for (comma-separated): no batch goes out while one of them lags more than --max-lag messages on a partition the feed writes (a pipeline service reads its own inputs; any other group, e.g. recorder, every topic).") var paceGroups: String?
    @Option(help: "With --pace-groups: the most messages a group may lag behind on a partition.") var maxLag: Int = 2000
    @Option(help: "Name written as the source of every message.") var sourceName: String = "market-feed"
    @Option(help: "Log level.") var logLevel: String = "info"
    @Option(help: "Log lines as text (default) or json (one object a line).") var logFormat: String = "text"
    @Option(help: "Live source: alpaca (bars over REST then the stock stream, chains from option snapshots). Default: files, a recording or the synthetic market.") var source: String?
    @Option(help: "--source alpaca: market-data API base URL.") var alpacaDataUrl: String = "https://data.alpaca.markets"
    @Option(help: "--source alpaca: trading API base URL (clock, calendar, option contracts).") var alpacaTradingUrl: String = "https://paper-api.alpaca.markets"
    @Option(help: "--source alpaca: stock stream base URL; the feed name is appended (default wss://stream.data.alpaca.markets/v2).") var alpacaStreamUrl: String = "wss://stream.data.alpaca.markets/v2"
    @Option(help: "--source alpaca: file holding APCA_API_KEY_ID=… and APCA_API_SECRET_KEY=… (mode 600); else the environment.") var alpacaSecretsFile: String?
    @Option(help: "--source alpaca: stock feed, iex or sip.") var feed: String = "iex"
    @Option(help: "--source alpaca: option feed, indicative or opra.") var optionsFeed: String = "indicative"
    @Option(help: "--source alpaca: seconds a bar may come after its end before it is late (the watermark trails the clock by this).") var lateness: Double = 5
    @Option(help: "--source alpaca: stop at this clock instant (ISO-8601 with a zone).") var until: String?
    @Option(help: "--source alpaca: stop after this many minutes of the live clock.") var minutes: Double?
    @Option(help: "--source alpaca: live clock, wall or START[@ANCHOR][xSPEED] (env OPS_CLOCK).") var clock: String?
    @Option(help: "--source alpaca: serve Prometheus metrics on this port at /metrics (0 = any free port).") var metricsPort: Int?

    func validate() throws {
        if let source {
            guard source == "alpaca" else { throw ValidationError("--source takes alpaca (files, recordings and the synthetic market need no --source); got '\(source)'") }
            guard bars.isEmpty, chains.isEmpty, sentiment.isEmpty, replay == nil, synthetic == nil else {
                throw ValidationError("--source alpaca is live data; drop --bars/--chains/--sentiment/--replay/--synthetic")
            }
            guard ["iex", "sip"].contains(feed) else { throw ValidationError("--feed takes iex or sip; got '\(feed)'") }
            guard ["indicative", "opra"].contains(optionsFeed) else { throw ValidationError("--options-feed takes indicative or opra; got '\(optionsFeed)'") }
            guard lateness >= 0, lateness <= 3600 else { throw ValidationError("--lateness takes seconds in [0, 3600]; got \(lateness)") }
            if let until, Timestamp(iso8601: until) == nil { throw ValidationError("--until takes an instant with a zone, e.g. 2024-03-05T11:00:00-05:00; got '\(until)'") }
            if let minutes, minutes <= 0 { throw ValidationError("--minutes must be > 0") }
            return
        }
        guard Pacing(speed) != nil else { throw ValidationError("--speed takes max, realtime or a factor like 60x; got '\(speed)'") }
        if let paceFrom { do { _ = try Pacing.paceFrom(paceFrom) } catch { throw ValidationError(error.description) } }
        guard ["auto", "on", "off"].contains(progress) else { throw ValidationError("--progress takes auto, on or off") }
        guard maxLag >= 1 else { throw ValidationError("--max-lag must be ≥ 1 message") }
        do { try sourceSpec.validate() } catch { throw ValidationError(error.description) }
    }

    /// The market data this feed publishes (the same definition `opsctl backtest` reads).
    var sourceSpec: MarketSourceSpec {
        var s = MarketSourceSpec()
        s.bars = bars; s.ticker = ticker; s.chains = chains; s.sentiment = sentiment
        s.ivHistory = ivHistory; s.ivHistoryDays = ivHistoryDays; s.replay = replay; s.replayBroker = replayBroker
        s.synthetic = synthetic; s.tickers = tickers; s.sessions = sessions; s.startDate = startDate
        s.chainEvery = chainEvery; s.sentimentEvery = sentimentEvery; s.synthesizeChains = synthesizeChains; s.sourceName = sourceName
        return s
    }

    func run() async throws {
        guard LogSetup.formats.contains(logFormat) else { throw ValidationError("--log-format takes text or json; got '\(logFormat)'") }
        LogSetup.bootstrap(level: logLevel, format: logFormat)
        let logger = Logger(service: sourceName)
        MallocTuning.apply(environment: ProcessInfo.processInfo.environment)
        ParentWatchdog.startIfRequested(logger: logger)
        let client = try connection.client(id: sourceName)
        if source == "alpaca" { return try await runAlpaca(client: client, logger: logger) }
        let loaded: LoadedMarketSource
        do { loaded = try sourceSpec.load() } catch let e as CSVError {
            throw ValidationError("\(e)")
        } catch let e as ConfigError {
            throw ValidationError(e.description)
        }
        for line in loaded.log { logger.info("\(line)") }
        let now = Timestamp(ms: Int64(Date().timeIntervalSince1970 * 1000))
        let items = try loaded.events.map { try $0.item(producedAt: now) }
        let pacing = Pacing(speed)!
        let paceFrom = try self.paceFrom.map { try Pacing.paceFrom($0) }
        let showProgress = progress == "on" || (progress == "auto" && isatty(2) == 1)
        let name = sourceName
        let publish = BlockingService(name: "market-feed") { stop in
            let publisher = try SourcePublisher(client: client, sourceName: name, topics: publishedTopics, logger: logger)
            for t in MarketSourceSpec.brokerTopics where replayBroker { publisher.producerOf[t] = Topics.spec(t)?.producers.first }
            if let groups = paceGroups?.split(separator: ",").map(String.init), !groups.isEmpty {
                let topics = publishedTopics
                publisher.gate = try LagGate(client: client, groups: groups.map { g in
                    (g, ServiceGraph.service(AccountShare.service(ofGroup: g)).map { $0.inputs.filter(topics.contains) } ?? topics)
                }, maxLag: Int64(maxLag), logger: logger)
            }
            defer { publisher.gate?.close() }
            try publisher.publishDeadLetters(loaded.deadLetters, at: loaded.deadLetterTime)
            let bar = ProgressLine(label: "market-feed", enabled: showProgress)
            let stats = try publisher.publish(items, pacing: pacing, paceFrom: paceFrom, stop: stop) { done, total, t in bar.update(done, total, t) }
            bar.finish()
            let counts = [Topics.bars, Topics.chains, Topics.sentiment, Topics.ivDaily].map { "\($0.split(separator: ".")[1])=\(stats.messages[$0] ?? 0)" }
            print("published \(counts.joined(separator: " ")) rejected=\(loaded.deadLetters.count) watermarks=\(stats.watermarks)"
                  + " from=\(stats.first?.iso8601 ?? "-") to=\(stats.last?.iso8601 ?? "-")")
        }
        // The feed's one service ends when the data does, which ends the group; SIGTERM stops it early.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: publish, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
    var publishedTopics: [String] { sourceSpec.publishedTopics }
}
