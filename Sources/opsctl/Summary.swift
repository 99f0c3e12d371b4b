import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime
import RunAnalysis
import Synchronization

/// What a run produced, read back from the topics themselves.
struct RunSummary {
    var featuresOnTopic = 0
    var featuresDistinct = 0
    var perTicker: [String: Int] = [:]
    var ready: [String: Int] = [:]
    var sessions = Set<String>()
    var deadLetters: [String: Int] = [:]
    var deadLetterExamples: [String] = []
    /// Distinct watchlists published, and the latest.
    var watchlists = 0
    var lastWatchlist: Watchlist?
    var trading = TradingSummary()
    /// Several accounts side by side (`--accounts`): each one's trading, smallest first.
    var perAccount: [(String, TradingSummary)] = []

    struct TradingSummary {
        var signals: [String: Int] = [:]
        var decisions = 0
        var orderDecisions = 0
        var skips: [String: Int] = [:]
        var tiers: [String: Int] = [:]
        var contracts: [Int] = []
        var entryOrders = 0
        var exitOrders = 0
        var orderStatus: [String: Int] = [:]
        var fills = 0
        var opened = 0
        var closed = 0
        var wins = 0
        var realizedCents: Cents = 0
        var exitReasons: [String: Int] = [:]
        var account: AccountSnapshot?
        var startingCash: Cents?
        /// Entries by route: option, stock, stock_fallback.
        var routes: [String: Int] = [:]
        /// The kill switches as the last decision saw them: gate → "passed|BLOCKING: detail".
        var killSwitches: [(String, String)] = []
        /// Kill switches that blocked at least one signal.
        var tripped: [String: Int] = [:]
        /// Seed 000 Phases 3–4: partial exits taken, decisions by kind (entry, scale_in, roll) and outcome, sizing
        /// methods, the last portfolio Greeks per account.
        var partialExits = 0
        var kinds: [String: Int] = [:]
        var methods: [String: Int] = [:]
        var greeks: [String: PortfolioGreeks] = [:]
        var openedIds = Set<String>()
    }

    static let killSwitchGates = KillSwitches.gates

    /// The topics `collect` reads (a Kafka source reads them together).
    static let topicsRead = [Topics.features, Topics.signals, Topics.decisions, Topics.orders, Topics.orderEvents, Topics.fills,
                             Topics.positions, Topics.greeks, Topics.accounts, Topics.watchlist, Topics.deadLetter]

    static func collect(source: SummarySource) throws -> RunSummary {
        var s = RunSummary()
        var seen = Set<String>()
        for e in try source.envelopes(Topics.features) {
            s.featuresOnTopic += 1
            guard seen.insert(e.id).inserted, let f = e.payload as? FeatureVector else { continue }
            s.featuresDistinct += 1
            s.perTicker[f.ticker, default: 0] += 1
            s.sessions.insert(f.sessionDate.iso)
            for (k, v) in [("sma20", f.sma20), ("sma20_slope", f.sma20Slope), ("volume_ratio", f.volumeRatio), ("ret_15m", f.ret15m),
                           ("atr14", f.atr14), ("atm_iv", f.atmIv), ("sentiment", f.sentimentScore)] where v != nil {
                s.ready[k, default: 0] += 1
            }
        }
        let source = source.memoized()
        s.trading = try collectTrading(source: source)
        let accounts = try distinct(Topics.accounts, AccountSnapshot.self, source: source)
        var starts = [String: AccountSnapshot]()
        for a in accounts where a.seq < (starts[a.accountId]?.seq ?? .max) { starts[a.accountId] = a }
        if starts.count > 1 {
            for id in starts.keys.sorted(by: { (starts[$0]!.cashCents, $0) < (starts[$1]!.cashCents, $1) }) {
                s.perAccount.append((id, try collectTrading(source: source, account: id)))
            }
        }
        let lists = try distinct(Topics.watchlist, Watchlist.self, source: source)
        s.watchlists = lists.count
        s.lastWatchlist = lists.max { $0.asOf < $1.asOf }
        var dlSeen = Set<String>()
        for e in try source.envelopes(Topics.deadLetter) {
            guard dlSeen.insert(e.id).inserted, let d = e.payload as? DeadLetter else { continue }
            s.deadLetters["\(d.topic) \(d.errorKind)", default: 0] += 1
            if s.deadLetterExamples.count < 5 { s.deadLetterExamples.append("\(d.topic)@\(d.offset): \(d.reason)") }
        }
        return s
    }

    static func distinct<P: Payload>(_ topic: String, _ type: P.Type, source: SummarySource) throws -> [P] {
        var seen = Set<String>()
        return try source.envelopes(topic).compactMap { e in
            guard seen.insert(e.id).inserted else { return nil }
            return e.payload as? P
        }
    }

    /// The trading of every account together, or of one (`account`).
    static func collectTrading(source: SummarySource, account: String? = nil) throws -> TradingSummary {
        var t = TradingSummary()
        func mine(_ p: some AccountScoped) -> Bool { account == nil || p.accountId == account }
        func distinct<P: Payload & AccountScoped>(_ topic: String, _ type: P.Type, source: SummarySource) throws -> [P] {
            try RunSummary.distinct(topic, type, source: source).filter(mine)
        }
        for s in try RunSummary.distinct(Topics.signals, Signal.self, source: source) { t.signals[s.direction.rawValue, default: 0] += 1 }
        var last: (Timestamp, Decision)?
        for e in try source.envelopes(Topics.decisions) {
            guard let d = e.payload as? Decision, mine(d) else { continue }
            if last.map({ e.eventTime >= $0.0 }) ?? true { last = (e.eventTime, d) }
            for g in d.gates where !g.passed && killSwitchGates.contains(g.gate) { t.tripped[g.gate, default: 0] += 1 }
        }
        if let d = last?.1 {
            t.killSwitches = killSwitchGates.compactMap { name in
                d.gates.first { $0.gate == name }.map { (name, $0.passed ? "ok (\($0.detail))" : "BLOCKING: \($0.detail)") }
            }
        }
        for d in try distinct(Topics.decisions, Decision.self, source: source) {
            t.decisions += 1
            t.kinds["\(d.kind ?? "entry") \(d.outcome.rawValue)", default: 0] += 1
            if d.outcome == .order {
                t.orderDecisions += 1
                if let m = d.sizing?.method { t.methods[m, default: 0] += 1 }
                t.routes[d.route ?? "option", default: 0] += 1
                if let sz = d.sizing { t.tiers[sz.tier, default: 0] += 1; t.contracts.append(sz.contracts) }
            } else {
                t.skips[d.skipReason ?? "?", default: 0] += 1
            }
        }
        for o in try distinct(Topics.orders, OrderCommand.self, source: source) {
            if o.intent == .open { t.entryOrders += 1 } else { t.exitOrders += 1 }
        }
        for e in try distinct(Topics.orderEvents, OrderEvent.self, source: source) { t.orderStatus[e.status.rawValue, default: 0] += 1 }
        t.fills = try distinct(Topics.fills, Fill.self, source: source).count
        for p in try distinct(Topics.positions, PositionEvent.self, source: source) {
            switch p.event {
            case .opened: if t.openedIds.insert(p.positionId).inserted { t.opened += 1 }
            case .marked where p.exitReason == "partial_exit": t.partialExits += 1
            case .closed:
                t.closed += 1
                let pnl = p.realizedPnlCents ?? 0
                t.realizedCents += pnl
                if pnl > 0 { t.wins += 1 }
                t.exitReasons[p.exitReason ?? "?", default: 0] += 1
            default: break
            }
        }
        for g in try distinct(Topics.greeks, PortfolioGreeks.self, source: source) { t.greeks[g.accountId] = g }
        let accounts = try distinct(Topics.accounts, AccountSnapshot.self, source: source)
        t.account = accounts.max { $0.seq < $1.seq }
        t.startingCash = accounts.min { $0.seq < $1.seq }?.cashCents
        return t
    }

    func tradingLines() -> [String] {
        let t = trading
        func kv(_ d: [String: Int]) -> String { d.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
        var lines = [String]()
        let nSignals = t.signals.values.reduce(0, +)
        guard nSignals > 0 || t.decisions > 0 || t.account != nil else { return lines }
        lines.append("  signals       \(nSignals)" + (nSignals > 0 ? " (\(kv(t.signals)))" : ""))
        lines.append("  decisions     \(t.decisions): \(t.orderDecisions) orders, \(t.decisions - t.orderDecisions) skips")
        if !t.skips.isEmpty { lines.append("  skips         " + t.skips.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) }
        if !t.tiers.isEmpty {
            let c = t.contracts
            lines.append("  sizing        tier \(kv(t.tiers)); contracts per entry \(c.min()!)–\(c.max()!) (mean \(String(format: "%.1f", Double(c.reduce(0, +)) / Double(c.count))))")
        }
        if !t.routes.isEmpty { lines.append("  entries by    " + kv(t.routes)) }
        lines.append("  orders        \(t.entryOrders) entries, \(t.exitOrders) exits; broker: \(kv(t.orderStatus).isEmpty ? "none" : kv(t.orderStatus))")
        lines.append("  fills         \(t.fills)")
        let winRate = t.closed == 0 ? "-" : String(format: "%.0f%%", Double(t.wins) * 100 / Double(t.closed))
        lines.append("  positions     \(t.opened) opened, \(t.closed) closed, \(t.opened - t.closed) open; win rate \(winRate); exits: \(kv(t.exitReasons).isEmpty ? "none" : kv(t.exitReasons))")
        if t.partialExits > 0 || t.kinds.keys.contains(where: { !$0.hasPrefix("entry") }) {
            lines.append("  phases 3–4    partial exits \(t.partialExits); decisions \(kv(t.kinds)); sizing \(kv(t.methods))")
        }
        lines.append("  realized P&L  \(Money.dollars(t.realizedCents)) (after commissions and fees)")
        for (a, g) in t.greeks.sorted(by: { $0.key < $1.key }) {
            lines.append("  greeks \(a)   last: delta \(String(format: "%.1f", g.delta)) sh, $delta \(String(format: "%.0f", g.dollarDelta)), gamma \(String(format: "%.2f", g.gamma)), theta $\(String(format: "%.2f", g.theta))/day, vega $\(String(format: "%.2f", g.vega))/pt (\(g.positions) open)")
        }
        if !t.killSwitches.isEmpty {
            let whose = perAccount.isEmpty ? "" : " of any account"
            lines.append("  kill switches signals blocked: \(kv(t.tripped).isEmpty ? "none" : kv(t.tripped)); at the last decision\(whose):")
            for (gate, state) in t.killSwitches { lines.append("                  \(gate): \(state)") }
        }
        if !perAccount.isEmpty {
            let ends = perAccount.compactMap { $0.1.account }, starts = perAccount.compactMap { $0.1.startingCash }
            lines.append("  equity        \(Money.dollars(ends.map(\.equityCents).reduce(0, +))) from \(Money.dollars(starts.reduce(0, +))) over \(perAccount.count) accounts")
        } else if let a = t.account {
            let start = t.startingCash.map { " from \(Money.dollars($0))" } ?? ""
            lines.append("  equity        \(Money.dollars(a.equityCents))\(start) (cash \(Money.dollars(a.cashCents)), positions \(Money.dollars(a.positionsValueCents)), open orders \(a.openOrders))")
        }
        return lines
    }

    /// A column per account (`--accounts`): the same signals traded at each size.
    func accountLines() -> [String] {
        guard !perAccount.isEmpty else { return [] }
        func kv(_ d: [String: Int]) -> String { d.isEmpty ? "none" : d.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
        let rows: [(String, (TradingSummary) -> String)] = [
            ("starting cash", { t in t.startingCash.map(Money.dollars) ?? "-" }),
            ("equity", { t in t.account.map { Money.dollars($0.equityCents) } ?? "-" }),
            ("return", { t in
                guard let s = t.startingCash, s > 0, let a = t.account else { return "-" }
                return String(format: "%+.2f%%", Double(a.equityCents - s) * 100 / Double(s))
            }),
            ("tier", { t in t.tiers.max { $0.value < $1.value }?.key ?? "-" }),
            ("decisions", { t in "\(t.orderDecisions) orders / \(t.decisions - t.orderDecisions) skips" }),
            ("positions", { t in "\(t.opened) opened, \(t.closed) closed" }),
            ("win rate", { t in t.closed == 0 ? "-" : String(format: "%.0f%% of %d", Double(t.wins) * 100 / Double(t.closed), t.closed) }),
            ("realized P&L", { t in Money.dollars(t.realizedCents) }),
            ("top skip", { t in t.skips.max { ($0.value, $1.key) < ($1.value, $0.key) }.map { "\($0.key) \($0.value)" } ?? "none" }),
            ("kill switches", { t in kv(t.tripped) }),
        ]
        let cells = rows.map { name, f in (name, perAccount.map { f($0.1) }) }
        let width = max(14, (perAccount.map(\.0) + cells.flatMap(\.1)).map(\.count).max()! + 2)
        func row(_ name: String, _ values: [String]) -> String {
            "    " + name.padding(toLength: 16, withPad: " ", startingAt: 0) + values.map { $0.padding(toLength: width, withPad: " ", startingAt: 0) }.joined()
        }
        return ["  accounts      \(perAccount.count) side by side, the same signals (the lines above add them up)", row("", perAccount.map(\.0))]
            + cells.map { row($0.0, $0.1) }
    }

    func render(source: String, broker: String, feedLine: String, statuses: [(String, String)], events: [String],
                record: String?, logDir: String, seconds: Double) -> (text: String, json: String) {
        func pct(_ k: String) -> String { featuresDistinct == 0 ? "-" : "\(ready[k] ?? 0)" }
        let published = feedLine.split(separator: "\n").last(where: { $0.hasPrefix("published") }).map(String.init) ?? "published: (no report)"
        var lines = [String]()
        lines.append("ops-pipeline run summary")
        lines.append("  source        \(source)")
        lines.append("  broker        \(broker)")
        lines.append("  feed          \(published.replacingOccurrences(of: "published ", with: ""))")
        lines.append("  features      \(featuresDistinct) distinct (\(featuresOnTopic) on the topic) over \(sessions.count) session(s): "
                     + perTicker.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        lines.append("  computed      sma20 \(pct("sma20")), slope \(pct("sma20_slope")), volume_ratio \(pct("volume_ratio")), ret_15m \(pct("ret_15m")), atr14 \(pct("atr14")), atm_iv \(pct("atm_iv")), sentiment \(pct("sentiment")) (the rest null: warm-up, gaps, session starts)")
        if let w = lastWatchlist {
            let local = NewYorkTime.local(w.asOf)
            let hm = String(format: "%02d:%02d", local.secondOfDay / 3600, local.secondOfDay / 60 % 60)
            lines.append("  watchlist     \(watchlists) published; last \(w.sessionDate) \(hm) New York: top \(w.tickers.count) of \(w.entries.count): "
                         + w.tickers.joined(separator: ", "))
        }
        lines += tradingLines()
        lines += accountLines()
        let dlTotal = deadLetters.values.reduce(0, +)
        lines.append("  dead letters  \(dlTotal)" + (dlTotal == 0 ? "" : ": " + deadLetters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        for ex in deadLetterExamples { lines.append("                  e.g. \(ex)") }
        for e in events where e.hasPrefix("fault") { lines.append("  fault         \(e)") }
        lines.append("  processes     " + statuses.map { "\($0.0) \($0.1)" }.joined(separator: "; "))
        if let record { lines.append("  recorded      \(record)/<topic>.jsonl") }
        lines.append("  logs          \(logDir)")
        lines.append(String(format: "  wall time     %.1f s", seconds))

        var obj: [String: Any] = [
            "features_distinct": featuresDistinct, "features_on_topic": featuresOnTopic, "features_per_ticker": perTicker,
            "computed": ready, "sessions": sessions.sorted(), "dead_letters": deadLetters, "dead_letters_total": dlTotal,
            "processes": Dictionary(statuses, uniquingKeysWith: { a, _ in a }), "events": events, "feed": published,
            "wall_seconds": seconds, "log_dir": logDir, "watchlists": watchlists,
            "last_watchlist": lastWatchlist.map { ["as_of": $0.asOf.iso8601, "tickers": $0.tickers] as Any } ?? NSNull(),
        ]
        if let record { obj["record_dir"] = record }
        let t = trading
        // Several accounts: the sums over them (each one's own are under "accounts").
        func total(_ value: (TradingSummary) -> Cents?) -> Any {
            guard !perAccount.isEmpty else { return value(t).map { $0 as Any } ?? NSNull() }
            return perAccount.compactMap { value($0.1) }.reduce(0, +)
        }
        obj["trading"] = [
            "signals": t.signals, "decisions": t.decisions, "orders": t.orderDecisions, "skips": t.skips, "tiers": t.tiers,
            "contracts": t.contracts, "entry_orders": t.entryOrders, "exit_orders": t.exitOrders, "order_events": t.orderStatus,
            "fills": t.fills, "positions_opened": t.opened, "positions_closed": t.closed, "wins": t.wins,
            "realized_pnl_cents": t.realizedCents, "exit_reasons": t.exitReasons, "partial_exits": t.partialExits,
            "decision_kinds": t.kinds, "sizing_methods": t.methods,
            "ending_equity_cents": total(\.account?.equityCents), "ending_cash_cents": total(\.account?.cashCents),
            "starting_cash_cents": total(\.startingCash),
            "entries_by_route": t.routes, "kill_switch_blocks": t.tripped,
            "kill_switches_at_end": Dictionary(t.killSwitches, uniquingKeysWith: { a, _ in a }),
        ] as [String: Any]
        if !perAccount.isEmpty {
            obj["accounts"] = Dictionary(uniqueKeysWithValues: perAccount.map { id, t in
                (id, ["starting_cash_cents": t.startingCash.map { $0 as Any } ?? NSNull(), "ending_equity_cents": t.account.map { $0.equityCents as Any } ?? NSNull(),
                      "decisions": t.decisions, "orders": t.orderDecisions, "positions_opened": t.opened, "positions_closed": t.closed, "wins": t.wins,
                      "realized_pnl_cents": t.realizedCents, "tiers": t.tiers, "kill_switch_blocks": t.tripped, "skips": t.skips] as [String: Any])
            })
        }
        let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted])) ?? Data()
        return (lines.joined(separator: "\n"), String(decoding: data, as: UTF8.self))
    }
}

/// Where a run summary reads the topics: the broker, or — for a run with `--record`, whose recorder has caught up —
/// the recording, which holds every message even where a small broker's retention has already dropped the oldest
/// (the embedded broker keeps about 5 MiB a partition: a 42-session run loses its first weeks of features).
struct SummarySource {
    let envelopes: (String) throws -> [AnyEnvelope]

    /// `prefetch`: topics read together with one consumer at the first request (others are read when asked for) —
    /// the rest of what `follower` has read of them, when given.
    static func kafka(_ client: KafkaClientConfig, logger: Logger, prefetch: [String] = [], follower: TopicFollower<AnyEnvelope>? = nil) -> SummarySource {
        let fetched = Mutex<[String: [AnyEnvelope]]?>(nil)
        return SummarySource { topic in
            if prefetch.contains(topic) {
                if let hit = fetched.withLock({ $0?[topic] }) { return hit }
                let all = try follower?.finish() ?? TopicReader.envelopes(client: client, topics: prefetch, logger: logger)
                fetched.withLock { $0 = all }
                return all[topic] ?? []
            }
            return try TopicReader.envelopes(client: client, topic: topic, logger: logger)
        }
    }

    /// Reads each topic once, however often it is asked for (a summary per account asks again).
    func memoized() -> SummarySource {
        let cache = Mutex([String: [AnyEnvelope]]())
        let read = envelopes
        return SummarySource { topic in
            if let hit = cache.withLock({ $0[topic] }) { return hit }
            let got = try read(topic)
            cache.withLock { $0[topic] = got }
            return got
        }
    }

    static func recording(_ dir: String) -> SummarySource {
        SummarySource { topic in
            let path = "\(dir)/\(topic).jsonl"
            guard let data = FileManager.default.contents(atPath: path) else { return [] }
            let decoder = Topics.decoder(for: topic)
            return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
                guard let e = try? decoder.decode(Array(line)), !(e.payload is Watermark) else { return nil }
                return e
            }
        }
    }
}
