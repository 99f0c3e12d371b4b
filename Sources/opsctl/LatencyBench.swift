import ArgumentParser
import Foundation
import Kafka
import Logging
import MarketData
import OpsModel
import OpsRuntime

/// Bar → decision latency with the feed paced like a live market, and each service's resident memory with many
/// tickers streaming. The whole pipeline runs (`opsctl up`, every service its own process, an embedded broker over
/// TCP); the morning goes at full speed, then the feed is paced from `--pace-from`. A latency is the Kafka record
/// time (the producer's wall clock, ms) of a decision minus that of the bar of the same ticker and minute: what a
/// trader waits between a bar's arrival and the order decision it leads to. Minutes during the first paced ones
/// (the services still working off the morning) are left out.
enum LatencyBench {
    static let p99GoalMs = 20.0
    static let rssGoalMB = 64.0

    static let section = BenchSection(
        name: "latency",
        summary: "opsctl up with the feed paced: bar → decision at 60× (every synthetic ticker) and at 1× (500 tickers; --quick: 3), RSS of each service at 1×",
        run: run)

    struct Window {
        var label: String
        var speed: String
        var tickers: String
        /// Paced from this New York time (hour, minute) of the first session.
        var paceFrom: (hour: Int, minute: Int)
        /// Minutes between option chains.
        var chainEvery: Int
        /// Paced minutes at the start left out of the figures.
        var warmupMinutes: Int64
        /// Paced market minutes measured after the warm-up.
        var minutes: Int64
    }

    static func run(quick: Bool) throws -> [String] {
        let dir = NSTemporaryDirectory() + "ops-bench-latency-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fast = Window(label: "60×", speed: "60x", tickers: quick ? "3" : "all", paceFrom: (12, 0), chainEvery: 5,
                          warmupMinutes: 5, minutes: quick ? 10 : 150)
        // The first paced minutes still work off the morning published at full speed (with 500 tickers, a few
        // minutes of it): the warm-up leaves them out.
        let slow = Window(label: "1×", speed: "1x", tickers: quick ? "3" : "500", paceFrom: quick ? (9, 33) : (9, 40),
                          chainEvery: quick ? 5 : 30, warmupMinutes: quick ? 1 : 3, minutes: quick ? 1 : 4)
        var lines = [String]()
        for w in [fast, slow] {
            let m = try measure(w, dir: dir + "/\(w.speed)")
            lines.append(contentsOf: m.lines(w))
            if w.speed == slow.speed { lines.append(contentsOf: m.rssLines(w)) }
        }
        lines.append("decisions come only from signals on watchlist tickers (a few an hour each): at 1× a few minutes give")
        lines.append("few decisions, so bar → features (every bar) is shown next to it; the goal applies to bar → decision")
        lines.append("limits: a decision is three hops from its bar (features, signal, decision), each a produce → consume through")
        lines.append("the broker that waits for every input partition's watermark; the embedded broker answers an empty fetch only")
        let fetchWait = KafkaConsumerConfig.defaultProperties["fetch.wait.max.ms"] ?? "?"
        lines.append("after fetch.wait.max.ms (\(fetchWait)) and wakes no waiting fetch. On chain minutes four processes fetch and decode the")
        lines.append("minute's chains at once on 2 cores (watchlist, dispatcher, broker, position-manager); the feature-computer")
        lines.append("reads only each chain's ATM IV (market.atm-iv.v1), sent before the chains, but shares the CPU with them")
        return lines
    }

    struct Measured {
        var decisions = [Double]()
        /// Bar → decision on minutes with and without option chains (every chain reader decodes and handles them).
        var decisionsChainMinutes = [Double]()
        var decisionsOtherMinutes = [Double]()
        var features = [Double]()
        var signals = [Double]()
        var rssMB = [String: Double]()

        func lines(_ w: Window) -> [String] {
            [
                Bench.line("bar → decision p50/p99 ms at \(w.label)", pair(decisions), goal: LatencyBench.p99GoalMs,
                           met: decisions.isEmpty ? nil : KafkaBench.percentiles(decisions).p99 < LatencyBench.p99GoalMs, ceiling: true, unit: " ms p99")
                    + "   (\(decisions.count) decisions, \(w.tickers) tickers)",
                Bench.line("  on chain minutes / the others", "\(pair(decisionsChainMinutes)) / \(pair(decisionsOtherMinutes))")
                    + "   (\(decisionsChainMinutes.count) / \(decisionsOtherMinutes.count), a chain every \(w.chainEvery) minutes)",
                Bench.line("bar → features p50/p99 ms at \(w.label)", pair(features)) + "   (\(features.count) bars)",
                Bench.line("bar → signal p50/p99 ms at \(w.label)", pair(signals)) + "   (\(signals.count) signals)",
            ]
        }

        func rssLines(_ w: Window) -> [String] {
            guard !rssMB.isEmpty else { return ["RSS per service: not measured (needs Linux /proc)"] }
            return ["resident memory at most, \(w.tickers) tickers streaming at \(w.label):"] + rssMB.keys.sorted().map { name in
                let mb = rssMB[name]!
                // The feed holds the whole replay in memory (a source, not a service): shown without the goal.
                let service = name != "market-feed"
                return Bench.line("RSS MB \(name)", Bench.fixed(mb, 1), goal: service ? LatencyBench.rssGoalMB : nil,
                                  met: service ? mb < LatencyBench.rssGoalMB : nil, ceiling: true, unit: " MB")
                    + (service ? "" : "   (the source: holds the session's \(w.tickers) tickers in memory)")
            }
        }

        func pair(_ ms: [Double]) -> String {
            guard !ms.isEmpty else { return "n/a" }
            let p = KafkaBench.percentiles(ms)
            return "\(Bench.fixed(p.p50, 1))/\(Bench.fixed(p.p99, 1))"
        }
    }

    static func measure(_ w: Window, dir: String) throws -> Measured {
        let (broker, bootstrap) = try KafkaBench.startBroker(dir)
        defer { broker.stop(grace: 5) }
        let from = NewYorkTime.utc(date: SyntheticMarketConfig().startDate, hour: w.paceFrom.hour, minute: w.paceFrom.minute)
        let measureFrom = from.adding(ms: w.warmupMinutes * 60_000)
        let measureUntil = measureFrom.adding(ms: w.minutes * 60_000)
        let up = try Child(name: "up", executable: "\(BinDir.path)/opsctl",
                           arguments: ["up", "--brokers", bootstrap, "--tickers", w.tickers, "--sessions", "1", "--speed", w.speed,
                                       "--feed-set", "chain-every=\(w.chainEvery)", "--pace-from", from.iso8601, "--log-dir", dir + "/logs", "--timeout", "7200"],
                           logPath: dir + "/up.log", captureStdout: false)
        defer { up.stop(grace: 30) }
        let watcher = try RecordTimes(client: KafkaClientConfig(brokers: bootstrap, clientId: "bench-latency"))
        defer { watcher.close() }
        var rss = [String: Double]()
        // Until the feed has published the window's last minute and the pipeline has had time to answer it.
        var doneAt: Date?
        while up.isRunning {
            try watcher.poll(for: 0.5)
            for (name, mb) in ServiceMemory.residentMB(childrenOf: up.pid) { rss[name] = max(rss[name] ?? 0, mb) }
            if doneAt == nil, watcher.latestBar >= measureUntil.adding(ms: -60_000) { doneAt = Date() }
            if let doneAt, Date().timeIntervalSince(doneAt) > 10 { break }
        }
        guard doneAt != nil else { throw ValidationError("opsctl up ended (\(up.exitDescription)) before the window was published; see \(dir)/up.log") }
        try watcher.poll(for: 1)
        var m = Measured(rssMB: rss)
        m.decisions = watcher.latencies(of: Topics.decisions, from: measureFrom, until: measureUntil)
        // The window lies in the first session: its minutes after that open say which had chains.
        var market = SyntheticMarketConfig()
        market.chainEveryMinutes = w.chainEvery
        let open = SyntheticMarketConfig.open(on: market.startDate)
        let chainMinute = { (ms: Int64) in market.writesChain(minutesAfterOpen: Int((ms - open.ms) / 60_000)) }
        m.decisionsChainMinutes = watcher.latencies(of: Topics.decisions, from: measureFrom, until: measureUntil, where: chainMinute)
        m.decisionsOtherMinutes = watcher.latencies(of: Topics.decisions, from: measureFrom, until: measureUntil, where: { !chainMinute($0) })
        m.features = watcher.latencies(of: Topics.features, from: measureFrom, until: measureUntil)
        m.signals = watcher.latencies(of: Topics.signals, from: measureFrom, until: measureUntil)
        return m
    }
}

/// Reads bars, feature vectors and decisions as they are written and keeps each one's Kafka record time by (ticker,
/// minute).
final class RecordTimes {
    private let consumer: KafkaConsumer
    private let topics = [Topics.bars, Topics.features, Topics.signals, Topics.decisions]
    private var times = [String: [String: Int64]]()
    private(set) var latestBar = Timestamp(ms: 0)

    init(client: KafkaClientConfig) throws {
        consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "bench-latency"), logger: Logger(label: "bench"))
        var offsets = [TopicPartitionOffset]()
        for t in topics {
            let n = try KafkaRetry().run("metadata") { try consumer.partitionCount(topic: t) }
            offsets += (0..<Int32(n)).map { TopicPartitionOffset(topic: t, partition: $0, offset: KafkaOffset.beginning) }
        }
        try consumer.assign(offsets)
    }

    func close() { consumer.close() }

    func poll(for seconds: Double) throws {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until {
            for m in try consumer.pollBatch(max: 5000, timeoutMs: 100) { note(m) }
        }
    }

    private func note(_ m: KafkaMessage) {
        guard let ts = m.timestampMs, let env = try? Topics.decoder(for: m.topic).decode(m.value) else { return }
        let ticker: String
        switch env.payload {
        case let b as Bar: ticker = b.ticker; latestBar = max(latestBar, env.eventTime)
        case let f as FeatureVector: ticker = f.ticker
        case let s as Signal: ticker = s.ticker
        case let d as Decision: ticker = d.ticker
        default: return
        }
        // The first copy counts: a redelivered duplicate is not a later answer.
        let key = "\(ticker)@\(env.eventTime.ms)"
        if times[m.topic]?[key] == nil { times[m.topic, default: [:]][key] = ts }
    }

    /// Milliseconds from each bar to the `topic` message of its ticker and minute, for minutes in [from, until) that
    /// `minute` (on the event time, ms) accepts.
    func latencies(of topic: String, from: Timestamp, until: Timestamp, where minute: (Int64) -> Bool = { _ in true }) -> [Double] {
        let bars = times[Topics.bars] ?? [:]
        return (times[topic] ?? [:]).compactMap { key, ts in
            guard let at = key.split(separator: "@").last.flatMap({ Int64($0) }), at >= from.ms, at < until.ms, minute(at),
                  let bar = bars[key] else { return nil }
            return Double(ts - bar)
        }
    }
}

/// Resident memory of a process's children, by executable name (Linux /proc; empty elsewhere).
enum ServiceMemory {
    static func residentMB(childrenOf parent: Int32) -> [String: Double] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [:] }
        var out = [String: Double]()
        for e in entries {
            guard let pid = Int32(e), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After "pid (comm) state ppid …": the name may hold spaces, so split after the last ')'.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == parent,
                  let cmd = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                  let exe = cmd.split(separator: "\0").first,
                  let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                  let kb = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { continue }
            let name = String(exe.split(separator: "/").last ?? exe)
            out[name] = max(out[name] ?? 0, kb / 1024)
        }
        return out
    }
}
