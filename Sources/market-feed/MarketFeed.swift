import ArgumentParser
import Foundation
import Kafka
import Logging
import MarketData
import OpsModel
import OpsRuntime
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

    @Option(help: "Kafka bootstrap servers (env OPS_BROKERS).") var brokers: String?
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
    @Option(help: "Progress on stderr: auto (when a terminal) | on | off.") var progress: String = "auto"
    @Option(help: "Name written as the source of every message.") var sourceName: String = "market-feed"
    @Option(help: "Log level.") var logLevel: String = "info"
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
        guard ["auto", "on", "off"].contains(progress) else { throw ValidationError("--progress takes auto, on or off") }
        guard ["auto", "on", "off"].contains(synthesizeChains) else { throw ValidationError("--synthesize-chains takes auto, on or off") }
        if let sessions, sessions < 1 { throw ValidationError("--sessions must be at least 1") }
        if chainEvery < 0 || sentimentEvery < 0 { throw ValidationError("--chain-every and --sentiment-every must be ≥ 0") }
        if ivHistoryDays < 0 { throw ValidationError("--iv-history-days must be ≥ 0") }
        if let tickers, source == nil {
            guard bars.isEmpty, replay == nil else { throw ValidationError("--tickers picks synthetic tickers; bar files and recordings bring their own") }
            do { _ = try SyntheticTicker.pick(tickers) } catch { throw ValidationError(error.description) }
        }
        if let startDate, CivilDate(iso: startDate) == nil { throw ValidationError("--start-date takes YYYY-MM-DD; got '\(startDate)'") }
        if replayBroker, replay == nil { throw ValidationError("--replay-broker goes with --replay DIR") }
        if replay != nil, !(bars.isEmpty && chains.isEmpty && sentiment.isEmpty && synthetic == nil && ivHistory == nil) {
            throw ValidationError("--replay republishes a recording on its own; drop --bars/--chains/--sentiment/--synthetic/--iv-history")
        }
        if bars.isEmpty, !chains.isEmpty || !sentiment.isEmpty, synthetic == nil {
            throw ValidationError("--chains/--sentiment need --bars (or --synthetic) to go with them")
        }
        for f in bars + chains + sentiment + (ivHistory.map { [$0] } ?? []) where !FileManager.default.fileExists(atPath: f) {
            throw ValidationError("no such file: \(f)")
        }
    }

    func run() async throws {
        LogSetup.bootstrap(level: logLevel)
        let logger = Logger(service: sourceName)
        ParentWatchdog.startIfRequested(logger: logger)
        guard let brokers = brokers ?? ProcessInfo.processInfo.environment["OPS_BROKERS"] else {
            throw ValidationError("no broker given: pass --brokers HOST:PORT (or set OPS_BROKERS)")
        }
        if source == "alpaca" { return try await runAlpaca(brokers: brokers, logger: logger) }
        let loaded: LoadedSource
        do { loaded = try load(logger: logger) } catch let e as CSVError {
            throw ValidationError("\(e)")
        }
        let client = KafkaClientConfig(brokers: brokers, clientId: sourceName)
        let pacing = Pacing(speed)!
        let showProgress = progress == "on" || (progress == "auto" && isatty(2) == 1)
        let name = sourceName
        let publish = BlockingService(name: "market-feed") { stop in
            let publisher = try SourcePublisher(client: client, sourceName: name, topics: publishedTopics, logger: logger)
            for t in Self.brokerTopics where replayBroker { publisher.producerOf[t] = Topics.spec(t)?.producers.first }
            try publisher.publishDeadLetters(loaded.deadLetters, at: loaded.items.first?.eventTime ?? Timestamp(ms: 0))
            let bar = ProgressLine(enabled: showProgress)
            let stats = try publisher.publish(loaded.items, pacing: pacing, stop: stop) { done, total, t in bar.update(done, total, t) }
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

    /// The broker's outputs, which a live run records as inputs from outside.
    static let brokerTopics = [Topics.orderEvents, Topics.fills, Topics.accounts]
    var publishedTopics: [String] { Topics.marketSource + (replayBroker ? Self.brokerTopics : []) }

    struct LoadedSource {
        var items: [SourceItem]
        var deadLetters: [DeadLetter]
    }

    func load(logger: Logger) throws -> LoadedSource {
        let now = Timestamp(ms: Int64(Date().timeIntervalSince1970 * 1000))
        if let replay {
            let items = try RecordingReader.items(dir: replay, topics: publishedTopics)
            guard !items.isEmpty else { throw ValidationError("'\(replay)' holds no recorded input topics") }
            return LoadedSource(items: items, deadLetters: [])
        }
        var streams = [[MarketEvent]]()
        var rejected = [RejectedRow]()
        var history = [DailyImpliedVolatility]()
        if let ivHistory {
            let r = try ImpliedVolatilityCSV.parse(contentsOf: URL(fileURLWithPath: ivHistory))
            logger.info("read IV history", metadata: ["file": .string(ivHistory), "days": .stringConvertible(r.days.count), "rejected": .stringConvertible(r.rejected.count)])
            history = r.days
            rejected += r.rejected
        }
        if bars.isEmpty {
            var config = SyntheticMarketConfig(seed: synthetic ?? 42)
            config.sessions = sessions ?? config.sessions
            if let startDate { config.startDate = CivilDate(iso: startDate)! }
            config.chainEveryMinutes = chainEvery
            config.sentimentEveryMinutes = sentimentEvery
            if let tickers { config.tickers = try SyntheticTicker.pick(tickers) }
            let market = SyntheticMarket(config: config)
            if ivHistory == nil { history = market.impliedVolatilityHistory(sessions: ivHistoryDays) }
            streams.append(market.events())
        } else {
            var barEvents = [MarketEvent]()
            for f in bars {
                let r = try BarCSV.parse(contentsOf: URL(fileURLWithPath: f), ticker: ticker)
                logger.info("read bars", metadata: ["file": .string(f), "format": .string(r.format.rawValue), "bars": .stringConvertible(r.bars.count), "rejected": .stringConvertible(r.rejected.count)])
                barEvents += r.events
                rejected += r.rejected
            }
            if let sessions {
                let dates = Set(barEvents.map { NewYorkTime.date(of: $0.eventTime) }).sorted().prefix(sessions)
                let keep = Set(dates)
                barEvents = barEvents.filter { keep.contains(NewYorkTime.date(of: $0.eventTime)) }
            }
            streams.append(barEvents)
            var chainTickers = Set<String>()
            for f in chains {
                let r = try ChainCSV.parse(contentsOf: URL(fileURLWithPath: f))
                streams.append(r.events)
                chainTickers.formUnion(r.chains.map(\.underlying))
                rejected += r.rejected
            }
            for f in sentiment {
                let r = try SentimentCSV.parse(contentsOf: URL(fileURLWithPath: f))
                streams.append(r.events)
                rejected += r.rejected
            }
            if synthesizeChains == "on" || (synthesizeChains == "auto" && chainEvery > 0) {
                streams.append(ChainsFromBars.synthesize(barEvents.compactMap { if case .bar(let b) = $0 { b } else { nil } },
                                                         every: max(chainEvery, 1), skipping: synthesizeChains == "on" ? [] : chainTickers))
            }
        }
        let merged = DailyImpliedVolatilities.withDailyValues(MarketEventMerge.merge(streams.map { $0.sorted(by: MarketEvent.canonicalOrder) }),
                                                              history: history)
        let items = try merged.map { try SourceItem(topic: $0.topic, envelope: $0.envelope(source: sourceName), producedAt: now) }
        let letters = rejected.map { row in
            DeadLetter(topic: "file:\(URL(fileURLWithPath: row.file).lastPathComponent)", partition: 0, offset: Int64(row.line), key: nil,
                       original: Array(row.raw.utf8), error: MessageError(.invalid, row.reason), service: sourceName)
        }
        return LoadedSource(items: items, deadLetters: letters)
    }
}

/// Chains for real bars that come without any: Black-Scholes around the real close, at regular-session bar ends
/// every N minutes, with a volatility estimated from the ticker's recent 1-minute returns.
enum ChainsFromBars {
    static func synthesize(_ bars: [Bar], every minutes: Int, skipping: Set<String>) -> [MarketEvent] {
        let synth = ChainSynthesizer()
        var out = [MarketEvent]()
        var returns = [String: [Double]]()
        var lastClose = [String: Double]()
        for b in bars.sorted(by: { ($0.end, $0.ticker) < ($1.end, $1.ticker) }) where !skipping.contains(b.ticker) {
            if let prev = lastClose[b.ticker] {
                returns[b.ticker, default: []].append(log(b.close / prev))
                if returns[b.ticker]!.count > 60 { returns[b.ticker]!.removeFirst() }
            }
            lastClose[b.ticker] = b.close
            let minute = NewYorkTime.minuteOfDay(b.end)
            let close = MarketCalendar.closeMinute(of: NewYorkTime.date(of: b.end)) ?? MarketCalendar.closeMinute
            guard minute > MarketCalendar.openMinute, minute <= close, (minute - MarketCalendar.openMinute) % minutes == 0 else { continue }
            let r = returns[b.ticker] ?? []
            var vol = 0.2
            if r.count >= 20 {
                let mean = r.reduce(0, +) / Double(r.count)
                let variance = r.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(r.count - 1)
                vol = min(max((variance * 390 * 252).squareRoot(), 0.08), 1.5)
            }
            let seed = b.ticker.utf8.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 }
            out.append(.chain(synth.chain(underlying: b.ticker, price: b.close, at: b.end, baseVolatility: vol, seed: seed)))
        }
        return out
    }
}

/// A one-line progress display on a terminal.
final class ProgressLine: @unchecked Sendable {
    let enabled: Bool
    var lastPercent = -1
    init(enabled: Bool) { self.enabled = enabled }

    func update(_ done: Int, _ total: Int, _ t: Timestamp) {
        guard enabled, total > 0 else { return }
        let pct = done * 100 / total
        guard pct != lastPercent else { return }
        lastPercent = pct
        let local = NewYorkTime.local(t)
        let hm = String(format: "%02d:%02d", local.secondOfDay / 3600, local.secondOfDay / 60 % 60)
        FileHandle.standardError.write(Data("\r[market-feed] \(local.date) \(hm) ET  \(done)/\(total) minutes  \(pct)%   ".utf8))
    }

    func finish() { if enabled { FileHandle.standardError.write(Data("\n".utf8)) } }
}
