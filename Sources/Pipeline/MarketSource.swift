import Foundation
import MarketData
import OpsModel
import OpsRuntime

/// One message of a market source, before any transport: the envelope a feed publishes, or — replaying a
/// recording — the recorded bytes exactly (with their envelope when they parse).
public struct SourceEvent: Sendable {
    public var topic: String
    public var key: String
    public var eventTime: Timestamp
    public var envelope: AnyEnvelope?
    /// Recorded bytes, republished verbatim (nil: encode `envelope`).
    public var raw: [UInt8]?
    /// Why recorded bytes do not parse as an envelope of their topic (they reach consumers as dead letters).
    public var decodeError: MessageError?

    public init(topic: String, key: String, eventTime: Timestamp, envelope: AnyEnvelope?, raw: [UInt8]? = nil, decodeError: MessageError? = nil) {
        self.topic = topic; self.key = key; self.eventTime = eventTime; self.envelope = envelope; self.raw = raw; self.decodeError = decodeError
    }

    /// The Kafka source item: recorded bytes as they were, or the envelope stamped with `producedAt`.
    public func item(producedAt: Timestamp?) throws -> SourceItem {
        if let raw { return SourceItem(topic: topic, key: key, value: raw, eventTime: eventTime) }
        return try SourceItem(topic: topic, envelope: envelope!, producedAt: producedAt)
    }
}

/// What a market source loaded: its events in publishing order and the rows it could not read.
public struct LoadedMarketSource: Sendable {
    public var events: [SourceEvent]
    public var deadLetters: [DeadLetter]
    /// The event time the source's own dead letters carry (its first event's).
    public var deadLetterTime: Timestamp { events.first?.eventTime ?? Timestamp(ms: 0) }
    public var log: [String] = []
}

/// Where the market data of a run comes from — CSV files, a recording or the seeded synthetic market — and how
/// it is shaped (chain and sentiment cadence, IV history). One definition for `market-feed`, which publishes it to
/// Kafka, and `opsctl backtest`, which hands it to the cores in process: both see the same events.
public struct MarketSourceSpec: Sendable {
    public var bars: [String] = []
    public var ticker: String?
    public var chains: [String] = []
    public var sentiment: [String] = []
    public var ivHistory: String?
    public var ivHistoryDays = 252
    public var replay: String?
    public var replayBroker = false
    public var synthetic: UInt64?
    public var tickers: String?
    public var sessions: Int?
    public var startDate: String?
    public var chainEvery = 5
    public var sentimentEvery = 30
    public var synthesizeChains = "auto"
    public var sourceName = "market-feed"

    public init() {}

    /// The broker's outputs, which a live run records as inputs from outside.
    public static let brokerTopics = [Topics.orderEvents, Topics.fills, Topics.accounts]
    public var publishedTopics: [String] { Topics.marketSource + (replayBroker ? Self.brokerTopics : []) }

    /// Checks the combination of flags; the message names the flag and what to type instead.
    public func validate() throws(ConfigError) {
        if sessions.map({ $0 < 1 }) ?? false { throw ConfigError("--sessions must be at least 1") }
        if chainEvery < 0 || sentimentEvery < 0 { throw ConfigError("--chain-every and --sentiment-every must be ≥ 0") }
        if ivHistoryDays < 0 { throw ConfigError("--iv-history-days must be ≥ 0") }
        guard ["auto", "on", "off"].contains(synthesizeChains) else { throw ConfigError("--synthesize-chains takes auto, on or off") }
        if let tickers {
            guard bars.isEmpty, replay == nil else { throw ConfigError("--tickers picks synthetic tickers; bar files and recordings bring their own") }
            do { _ = try SyntheticTicker.pick(tickers) } catch { throw ConfigError(error.description) }
        }
        if let startDate, CivilDate(iso: startDate) == nil { throw ConfigError("--start-date takes YYYY-MM-DD; got '\(startDate)'") }
        if replayBroker, replay == nil { throw ConfigError("--replay-broker goes with --replay DIR") }
        if replay != nil, !(bars.isEmpty && chains.isEmpty && sentiment.isEmpty && synthetic == nil && ivHistory == nil) {
            throw ConfigError("--replay republishes a recording on its own; drop --bars/--chains/--sentiment/--synthetic/--iv-history")
        }
        if bars.isEmpty, !chains.isEmpty || !sentiment.isEmpty, synthetic == nil {
            throw ConfigError("--chains/--sentiment need --bars (or --synthetic) to go with them")
        }
        for f in bars + chains + sentiment + (ivHistory.map { [$0] } ?? []) where !FileManager.default.fileExists(atPath: f) {
            throw ConfigError("no such file: \(f)")
        }
    }

    /// Loads every event in publishing order (event time, then daily IVs, sentiment, chains, bars, then ticker).
    public func load() throws -> LoadedMarketSource {
        if let replay { return try loadRecording(replay) }
        var streams = [[MarketEvent]]()
        var rejected = [RejectedRow]()
        var history = [DailyImpliedVolatility]()
        var log = [String]()
        if let ivHistory {
            let r = try ImpliedVolatilityCSV.parse(contentsOf: URL(fileURLWithPath: ivHistory))
            log.append("read IV history \(ivHistory): \(r.days.count) days, \(r.rejected.count) rejected")
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
                log.append("read bars \(f) (\(r.format.rawValue)): \(r.bars.count) bars, \(r.rejected.count) rejected")
                barEvents += r.events
                rejected += r.rejected
            }
            if let sessions {
                let keep = Set(Set(barEvents.map { NewYorkTime.date(of: $0.eventTime) }).sorted().prefix(sessions))
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
        let merged = MarketEvent.withChainImpliedVolatilities(DailyImpliedVolatilities.withDailyValues(
            MarketEventMerge.merge(streams.map { $0.sorted(by: MarketEvent.canonicalOrder) }), history: history))
        let events = merged.map { m in
            SourceEvent(topic: m.topic, key: m.ticker, eventTime: m.eventTime, envelope: m.envelope(source: sourceName))
        }
        let letters = rejected.map { row in
            DeadLetter(topic: "file:\(URL(fileURLWithPath: row.file).lastPathComponent)", partition: 0, offset: Int64(row.line), key: nil,
                       original: Array(row.raw.utf8), error: MessageError(.invalid, row.reason), service: sourceName)
        }
        return LoadedMarketSource(events: events, deadLetters: letters, log: log)
    }

    /// A recording's input topics as they were recorded, ordered by event time (same-time lines keep file order,
    /// topics in publishing order). Lines that were not envelopes come back as their original bytes.
    func loadRecording(_ dir: String) throws -> LoadedMarketSource {
        var all = [SourceEvent]()
        for topic in publishedTopics {
            let path = "\(dir)/\(topic).jsonl"
            guard FileManager.default.fileExists(atPath: path) else {
                // Here, in the topic's publishing place (after the chains, before the bars): same-time events keep it.
                if topic == Topics.atmIv { all += Self.chainImpliedVolatilities(all) }
                continue
            }
            let decoder = Topics.decoder(for: topic)
            for line in try RecordedLine.readAll(path) {
                guard let item = line.sourceItem(topic: topic) else { continue }
                var event = SourceEvent(topic: topic, key: item.key, eventTime: item.eventTime, envelope: line.envelope, raw: item.value)
                if line.envelope == nil {
                    do { _ = try decoder.decode(item.value) } catch { event.decodeError = error }
                }
                all.append(event)
            }
        }
        guard !all.isEmpty else { throw ConfigError("'\(dir)' holds no recorded input topics (\(publishedTopics.joined(separator: ", ")))") }
        let ordered = all.enumerated().sorted { a, b in
            a.element.eventTime != b.element.eventTime ? a.element.eventTime < b.element.eventTime : a.offset < b.offset
        }.map(\.element)
        return LoadedMarketSource(events: ordered, deadLetters: [])
    }

    /// A recording made before chains' ATM IVs had their own topic: each valid recorded chain's, as a feed derives
    /// them (`MarketEvent.withChainImpliedVolatilities`), in the chains' order.
    static func chainImpliedVolatilities(_ events: [SourceEvent]) -> [SourceEvent] {
        events.compactMap { e in
            guard e.topic == Topics.chains, let env = e.envelope, let chain = env.payload as? OptionChain,
                  (try? chain.validate(eventTime: env.eventTime)) != nil, let derived = MarketEvent.impliedVolatility(of: chain)
            else { return nil }
            return SourceEvent(topic: derived.topic, key: derived.ticker, eventTime: derived.eventTime, envelope: derived.envelope(source: env.source))
        }
    }
}

/// Chains for real bars that come without any: Black-Scholes around the real close, at regular-session bar ends
/// every N minutes, with a volatility estimated from the ticker's recent 1-minute returns.
public enum ChainsFromBars {
    public static func synthesize(_ bars: [Bar], every minutes: Int, skipping: Set<String>) -> [MarketEvent] {
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
