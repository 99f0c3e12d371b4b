import AlpacaClient
import AlpacaCore
import Foundation
import Kafka
import Logging
import Metrics
import OpsModel
import OpsRuntime

/// What `market-feed --source alpaca` needs to run.
struct AlpacaFeedSettings: Sendable {
    var tickers: [String]
    var dataURL: String
    var tradingURL: String
    var streamURL: String
    var feed: String
    var optionsFeed: String
    var latenessMs: Int64
    var chainEveryMinutes: Int
    var until: Timestamp?
    var clock: LiveClock
    var credentials: AlpacaCredentials
    var sourceName: String
    /// Expirations asked for: today through the longest DTE window of the trading params.
    var maxDte: Int
    var history: [DailyImpliedVolatility]
}

/// market-feed on Alpaca: today's bars backfilled over REST, then the stock stream; the watermark follows the live
/// clock less the lateness, and a bar later than that is dead-lettered as late and counted; chains every N minutes
/// from the option snapshots, open interest from the day's contract list, the underlying price from the latest bar;
/// each session's ATM IV at its close.
actor AlpacaFeed {
    let settings: AlpacaFeedSettings
    let data: AlpacaREST
    let trading: AlpacaREST
    let producer: KafkaProducer
    let logger: Logger
    var partitions: [String: Int32] = [:]
    var watermark: LiveWatermark
    var lastClose: [String: Double] = [:]
    var lastBarStart: [String: Timestamp] = [:]
    var lastChain: [String: OptionChain] = [:]
    var openInterest: [String: Int64] = [:]
    var openInterestDate: CivilDate?
    var session: (open: Timestamp, close: Timestamp)?
    var sessionDate: CivilDate?
    var lastChainMinute: Int64 = -1
    var ivPublished: Set<String> = []
    var lastStamp = Timestamp.distantPast
    var counts: [String: Int] = [:]
    let lateBars = Counter(label: "ops_late_bars_total")

    init(settings: AlpacaFeedSettings, producer: KafkaProducer, logger: Logger) throws {
        self.settings = settings
        self.producer = producer
        self.logger = logger
        self.watermark = LiveWatermark(latenessMs: settings.latenessMs)
        data = AlpacaREST(baseURL: settings.dataURL, credentials: settings.credentials, perMinute: 200, timeoutSeconds: 15, logger: logger)
        trading = AlpacaREST(baseURL: settings.tradingURL, credentials: settings.credentials, perMinute: 200, timeoutSeconds: 15, logger: logger)
        for t in Topics.marketSource { partitions[t] = Int32(try producer.partitionCount(topic: t)) }
    }

    func now() -> Timestamp {
        let t = max(lastStamp, settings.clock.now(wallMs: AlpacaREST.wallMs()))
        lastStamp = t
        return t
    }

    var summary: String {
        "published bars=\(counts[Topics.bars] ?? 0) chains=\(counts[Topics.chains] ?? 0) iv_daily=\(counts[Topics.ivDaily] ?? 0) late=\(counts["late"] ?? 0)"
    }

    func shutdown() async {
        await data.shutdown()
        await trading.shutdown()
    }

    // MARK: startup

    /// `/v2/clock` and `/v2/calendar` against the built-in NYSE calendar (the broker wins), then today's bars so far.
    func start() async {
        let today = NewYorkTime.date(of: now())
        await checkCalendar(around: today)
        if !settings.history.isEmpty {
            publish(settings.history.filter { $0.date < today }.map(MarketEvent.ivDaily))
        }
        await backfill(since: session?.open)
        advanceWatermark()
    }

    func checkCalendar(around today: CivilDate) async {
        let clock = await trading.retrying(.GET, "/v2/clock")
        if clock.status == 200, let c = try? Alpaca.decode(Alpaca.Clock.self, from: clock.body) {
            let ours = MarketCalendar.session(today).map { $0.open <= now() && now() < $0.close } ?? false
            if c.isOpen != ours { logger.error("Alpaca's clock says the market is \(c.isOpen ? "open" : "closed"), the built-in calendar \(ours ? "open" : "closed"); Alpaca's calendar wins") }
        }
        let from = today.adding(days: -7), to = today.adding(days: 7)
        let answer = await trading.retrying(.GET, "/v2/calendar", query: [("start", from.iso), ("end", to.iso)])
        var days = [Alpaca.CalendarDay]()
        if answer.status == 200, let d = try? Alpaca.decode([Alpaca.CalendarDay].self, from: answer.body) { days = d }
        else { logger.error("reading Alpaca's calendar failed; using the built-in NYSE calendar", metadata: ["http.status": .string(answer.status.map(String.init) ?? "none")]) }
        if !days.isEmpty {
            for line in CalendarCheck.differences(alpaca: days, from: from, to: to) {
                logger.error("CALENDAR DISAGREEMENT: \(line); Alpaca's calendar wins")
            }
        }
        sessionDate = today
        lastChainMinute = -1   // chain minutes count from each session's open
        if let day = days.first(where: { $0.date == today.iso }) { session = CalendarCheck.session(day) }
        else if days.isEmpty { session = MarketCalendar.session(today) }
        else { session = nil }
    }

    /// Bars from `since` (the session's open at startup, the last bar after a reconnect) to now, every page.
    func backfill(since: Timestamp?) async {
        guard let since else { return }
        var token: String?
        var bars = [Bar]()
        repeat {
            var query = [("symbols", settings.tickers.joined(separator: ",")), ("timeframe", "1Min"), ("start", since.iso8601),
                         ("end", now().iso8601), ("limit", "10000"), ("feed", settings.feed)]
            if let token { query.append(("page_token", token)) }
            let answer = await data.retrying(.GET, "/v2/stocks/bars", query: query)
            guard answer.status == 200, let page = try? Alpaca.decode(Alpaca.BarsPage.self, from: answer.body) else {
                logger.error("backfilling bars failed", metadata: ["http.status": .string(answer.status.map(String.init) ?? "none")])
                return
            }
            for (ticker, list) in page.bars ?? [:] { bars += list.compactMap { Alpaca.bar(ticker: ticker, $0) } }
            token = page.nextPageToken
        } while token != nil
        let fresh = bars.filter { b in lastBarStart[b.ticker].map { b.start > $0 } ?? true }
        logger.info("backfilled bars", metadata: ["bars": .stringConvertible(fresh.count), "since": .string(since.iso8601)])
        publish(fresh.sorted { ($0.end, $0.ticker) < ($1.end, $1.ticker) }.map(MarketEvent.bar))
    }

    // MARK: live

    func bar(_ b: Bar) {
        publish([.bar(b)])
    }

    /// Every second: the watermark, chains when a chain minute has come, the session's ATM IVs at its close.
    /// Returns false once `--until` has passed.
    func tick() async -> Bool {
        let t = now()
        let today = NewYorkTime.date(of: t)
        if sessionDate != today { await checkCalendar(around: today) }
        if let s = session, t >= s.open, t < s.close {
            let minute = (t.ms - s.open.ms) / 60_000
            if minute > lastChainMinute, minute % Int64(max(settings.chainEveryMinutes, 1)) == 0, minute > 0, settings.chainEveryMinutes > 0 {
                lastChainMinute = minute
                await chains(at: t)
            }
        }
        if let s = session, t >= s.close { publishDailyIV(for: today, at: s.close) }
        advanceWatermark()
        if let until = settings.until, t >= until { return false }
        return true
    }

    func chains(at t: Timestamp) async {
        let today = NewYorkTime.date(of: t)
        if openInterestDate != today { await refreshOpenInterest(today) }
        for ticker in settings.tickers {
            guard let price = lastClose[ticker] else { continue }
            var snapshots = [String: Alpaca.SnapshotsPage.Snapshot]()
            var token: String?
            repeat {
                var query = [("feed", settings.optionsFeed), ("limit", "1000"), ("expiration_date_gte", today.iso),
                             ("expiration_date_lte", today.adding(days: settings.maxDte).iso)]
                if let token { query.append(("page_token", token)) }
                let answer = await data.retrying(.GET, "/v1beta1/options/snapshots/\(ticker)", query: query)
                guard answer.status == 200, let page = try? Alpaca.decode(Alpaca.SnapshotsPage.self, from: answer.body) else {
                    logger.error("reading option snapshots failed", metadata: ["ticker": .string(ticker), "http.status": .string(answer.status.map(String.init) ?? "none")])
                    return
                }
                snapshots.merge(page.snapshots ?? [:]) { a, _ in a }
                token = page.nextPageToken
            } while token != nil
            let chain = Alpaca.chain(underlying: ticker, price: price, at: now(), snapshots: snapshots, openInterest: openInterest)
            lastChain[ticker] = chain
            publish(MarketEvent.withChainImpliedVolatilities([.chain(chain)]))
        }
    }

    /// Open interest comes only from the contract list, once a day.
    func refreshOpenInterest(_ today: CivilDate) async {
        var oi = [String: Int64]()
        for ticker in settings.tickers {
            var token: String?
            repeat {
                var query = [("underlying_symbols", ticker), ("expiration_date_gte", today.iso),
                             ("expiration_date_lte", today.adding(days: settings.maxDte).iso), ("limit", "10000")]
                if let token { query.append(("page_token", token)) }
                let answer = await trading.retrying(.GET, "/v2/options/contracts", query: query)
                guard answer.status == 200, let page = try? Alpaca.decode(Alpaca.ContractsPage.self, from: answer.body) else {
                    logger.error("reading option contracts failed: open interest unknown (0)", metadata: ["ticker": .string(ticker)])
                    break
                }
                for c in page.optionContracts ?? [] { oi[Alpaca.canonicalSymbol(c.symbol)] = Int64(c.openInterest?.whole ?? 0) }
                token = page.nextPageToken
            } while token != nil
        }
        openInterest = oi
        openInterestDate = today
    }

    func publishDailyIV(for date: CivilDate, at close: Timestamp) {
        guard watermark.admits(close) else { return }   // started after this close: the day is not ours to value
        var out = [MarketEvent]()
        for ticker in settings.tickers where !ivPublished.contains("\(ticker)|\(date.iso)") {
            guard let chain = lastChain[ticker], NewYorkTime.date(of: chain.asOf) == date, let iv = chain.atmImpliedVolatility else { continue }
            ivPublished.insert("\(ticker)|\(date.iso)")
            out.append(.ivDaily(DailyImpliedVolatility(ticker: ticker, date: date, atmIv: iv)))
        }
        if !out.isEmpty { publish(out) }
    }

    // MARK: Kafka

    /// Publishes what is not behind the watermark; a late bar becomes a dead letter with the reason, and is counted.
    func publish(_ events: [MarketEvent]) {
        var records = [ProducerRecord]()
        let producedAt = Timestamp(ms: AlpacaREST.wallMs())
        for e in events {
            if case .bar(let b) = e {
                lastClose[b.ticker] = b.close
                lastBarStart[b.ticker] = max(lastBarStart[b.ticker] ?? .distantPast, b.start)
            }
            guard let item = try? SourceItem(topic: e.topic, envelope: e.envelope(source: settings.sourceName), producedAt: producedAt) else { continue }
            guard watermark.admits(e.eventTime) else {
                lateBars.increment()
                counts["late", default: 0] += 1
                let letter = DeadLetter(topic: e.topic, partition: 0, offset: -1, key: Array(item.key.utf8), original: item.value,
                                        error: MessageError(.late, "late: event time \(e.eventTime) is behind the feed's watermark \(watermark.published) (lateness \(settings.latenessMs) ms)"),
                                        service: settings.sourceName)
                let env = Envelope(id: DeterministicID.make("late", item.key, e.eventTime.iso8601, e.topic), eventTime: watermark.published, causationId: nil,
                                   source: settings.sourceName, payload: letter).erased()
                if let value = try? env.encoded() {
                    records.append(ProducerRecord(topic: Topics.deadLetter, key: Array(item.key.utf8), value: value))
                }
                logger.warning("late bar dead-lettered", metadata: ["topic": .string(e.topic), "event_time": .string(e.eventTime.iso8601)])
                continue
            }
            counts[e.topic, default: 0] += 1
            records.append(ProducerRecord(topic: item.topic, key: Array(item.key.utf8), value: item.value))
        }
        send(records)
    }

    func advanceWatermark() {
        guard let w = watermark.advance(now: now()) else { return }
        publishWatermark(w)
    }

    /// At `--until`: the market data of this run is complete.
    func finish() {
        publishWatermark(.endOfData)
    }

    func publishWatermark(_ w: Timestamp) {
        send(SourceWatermarks(producer: settings.sourceName, partitions: partitions).records(at: w, topics: Topics.marketSource))
    }

    func send(_ records: [ProducerRecord]) {
        do { try producer.sendRetrying(records, logger: logger) } catch {
            logger.critical("producing to Kafka failed for good", metadata: ["kafka.error": .string("\(error)")])
        }
    }
}
