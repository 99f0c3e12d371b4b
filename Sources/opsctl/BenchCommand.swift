import ArgumentParser
import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime
import Pipeline

/// `opsctl bench`: the pipeline's figures next to their goals, measured in one run on this machine. A benchmark,
/// not a test: `make bench` builds release binaries first; the test suite only checks that `--quick` prints every
/// figure.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput next to the goals: backtest bars/s, Kafka raw vs pipeline messages/s, market minutes/s end to end, bar → decision latency paced at 60× and 1×, RSS per service with 500 tickers, Greeks + IV solves/s.",
        discussion: "With section names (greeks, decode, backtest, kafka, latency), only those run. Run from a release build (make bench); a debug build's figures are far lower.")

    @Argument(help: "Sections to run (default: all).") var sections: [String] = []
    @Flag(help: "Small sizes: every figure in seconds (what the tests run), not a measurement to quote.") var quick = false

    static let all: [BenchSection] = [GreeksBench.section, DecodeBench.section, BacktestBench.section, KafkaBench.section, LatencyBench.section]

    func validate() throws {
        for s in sections where !Self.all.contains(where: { $0.name == s }) {
            throw ValidationError("no bench section '\(s)'; sections: \(Self.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() async throws {
        LogSetup.bootstrap(level: "error")
        #if DEBUG
        print("note: a debug build; figures are far below a release build's (make bench builds with -c release)")
        #endif
        let chosen = Self.all.filter { sections.isEmpty || sections.contains($0.name) }
        let quick = self.quick
        for section in chosen {
            print("\(section.name): \(section.summary)")
            let lines = try await runOnDedicatedThread(name: "bench-\(section.name)") { try section.run(quick) }
            for line in lines { print("  " + line) }
        }
        if !Sink.value.isFinite { print("warning: a benchmarked result was not finite (checksum \(Sink.value))") }
    }
}

/// The whole pipeline's cores in one process on the synthetic market (chains every 5 minutes): bars per second of
/// core time, data generation excluded.
enum BacktestBench {
    static let goal = 1_000_000.0

    static let section = BenchSection(
        name: "backtest",
        summary: "opsctl backtest's cores on the synthetic market, chains every 5 minutes, no recording, one core",
        run: run)

    static func run(quick: Bool) throws -> [String] {
        var spec = MarketSourceSpec()
        spec.tickers = quick ? "3" : "10"
        spec.sessions = quick ? 1 : 10
        spec.ivHistoryDays = 30
        let source = try spec.load()
        var runs = [Double]()
        var stats = InProcessPipeline.Stats()
        var handled = 0
        for _ in 0..<(quick ? 1 : 3) {
            let backtest = Backtest(source: source, cores: try Backtest.cores(settings: []))
            let start = ContinuousClock.now
            let p = try backtest.run()
            let d = ContinuousClock.now - start
            runs.append(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
            stats = p.stats
            handled = p.handledPerStage.reduce(0) { $0 + $1.1 }
        }
        let seconds = runs.min()!
        let bars = Double(stats.sourceMessages[Topics.bars] ?? 0)
        let perSecond = bars / seconds
        return [
            "\(Bench.grouped(bars)) bars of \(spec.tickers!) tickers × \(spec.sessions!) sessions, \(Bench.grouped(Double(stats.sourceMessages[Topics.chains] ?? 0))) chains; best of \(runs.count)",
            Bench.line("backtest bars/s", Bench.grouped(perSecond), goal: goal, met: perSecond >= goal),
            Bench.line("market minutes/s (in process)", Bench.grouped(Double(stats.sourceGroups) / seconds)),
            Bench.line("core inputs handled/s", Bench.grouped(Double(handled) / seconds)),
            "limit: the cores' own work per input, spread thin (contract selection, marks, feature vectors, chain liquidity,",
            "fills: 4–7% each) and handing messages between them (20 KB chains validated, ids checked); no function above 6%",
            "— reaching the goal takes cores that work on columns of numbers (see docs/backtest.md)",
        ]
    }
}

/// librdkafka's raw produce and consume rates through an embedded broker process, next to the pipeline's own rate
/// through the same kind of broker (`opsctl up` on three synthetic tickers), and market minutes per second end to end.
enum KafkaBench {
    struct Percentiles { var p50: Double; var p99: Double }

    static func percentiles(_ ms: [Double]) -> Percentiles {
        let s = ms.sorted()
        return Percentiles(p50: s[s.count / 2], p99: s[min(s.count - 1, s.count * 99 / 100)])
    }

    /// What one hop of the pipeline costs: a one-message acknowledged produce, a synchronous commit, and the time from
    /// producing a message to polling it in another consumer.
    /// With `idleSeconds`, each sample follows that long with nothing written (a paced feed's quiet minute).
    static func hopLatency(client: KafkaClientConfig, samples: Int, idleSeconds: Double = 0, logger: Logger) throws -> (produce: Percentiles, commit: Percentiles, delivery: Percentiles) {
        let producer = try KafkaProducer(config: KafkaProducerConfig(client: client), logger: logger)
        defer { producer.close() }
        let consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "bench-hop"), logger: logger)
        defer { consumer.close() }
        let topic = Topics.signals
        let partitions = Int32(try consumer.partitionCount(topic: topic))
        try consumer.assign((0..<partitions).map { TopicPartitionOffset(topic: topic, partition: $0, offset: KafkaOffset.end) })
        _ = try consumer.poll(timeoutMs: 500)
        var produce = [Double](), commit = [Double](), delivery = [Double]()
        let value = Array(String(repeating: "y", count: 300).utf8)
        for i in 0..<samples {
            if idleSeconds > 0 {
                // Keep polling while idle, as a service does.
                let until = DispatchTime.now().uptimeNanoseconds + UInt64(idleSeconds * 1e9)
                while DispatchTime.now().uptimeNanoseconds < until { _ = try consumer.poll(timeoutMs: 100) }
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = try producer.send([ProducerRecord(topic: topic, key: Array("K\(i)".utf8), value: value)])
            let t1 = DispatchTime.now().uptimeNanoseconds
            var got: KafkaMessage?
            while got == nil, DispatchTime.now().uptimeNanoseconds - t0 < 5_000_000_000 { got = try consumer.poll(timeoutMs: 100) }
            let t2 = DispatchTime.now().uptimeNanoseconds
            try consumer.commit([TopicPartitionOffset(topic: topic, partition: r[0].partition, offset: r[0].offset + 1)])
            let t3 = DispatchTime.now().uptimeNanoseconds
            produce.append(Double(t1 - t0) / 1e6)
            delivery.append(Double(t2 - t0) / 1e6)
            commit.append(Double(t3 - t2) / 1e6)
        }
        return (percentiles(produce), percentiles(commit), percentiles(delivery))
    }

    static let minutesGoal = 500.0

    static let section = BenchSection(
        name: "kafka",
        summary: "an embedded broker process over TCP: raw librdkafka produce/consume of pipeline-sized messages vs the whole pipeline (opsctl up, 3 synthetic tickers)",
        run: run)

    static func startBroker(_ dir: String) throws -> (Child, String) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let b = try Child(name: "broker", executable: "\(BinDir.path)/opsctl", arguments: ["broker", "--log-level", "warning"],
                          logPath: "\(dir)/broker.log", captureStdout: true)
        guard let line = b.readLine(timeout: 30, where: { $0.hasPrefix("BOOTSTRAP=") }) else {
            b.stop(grace: 2)
            throw ValidationError("the embedded broker did not start; see \(dir)/broker.log")
        }
        return (b, String(line.dropFirst("BOOTSTRAP=".count)))
    }

    static func run(quick: Bool) throws -> [String] {
        let dir = NSTemporaryDirectory() + "ops-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let logger = Logger(label: "bench")
        // 1. Raw: messages the size of a bar envelope, produced in acknowledged batches, then consumed.
        let (broker, bootstrap) = try startBroker(dir)
        defer { broker.stop(grace: 5) }
        let client = KafkaClientConfig(brokers: bootstrap, clientId: "bench")
        let count = quick ? 20_000 : 400_000
        let value = Array(String(repeating: "x", count: 380).utf8)
        let producer = try KafkaProducer(config: KafkaProducerConfig(client: client), logger: logger)
        let t0 = Date()
        var sent = 0
        while sent < count {
            let n = min(2000, count - sent)
            _ = try producer.send((0..<n).map { i in ProducerRecord(topic: Topics.bars, key: Array("T\((sent + i) % 64)".utf8), value: value) })
            sent += n
        }
        let produceSeconds = Date().timeIntervalSince(t0)
        producer.close()
        let consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "bench-raw"), logger: logger)
        let partitions = Int32(try consumer.partitionCount(topic: Topics.bars))
        try consumer.assign((0..<partitions).map { TopicPartitionOffset(topic: Topics.bars, partition: $0, offset: KafkaOffset.beginning) })
        let t1 = Date()
        var received = 0
        while received < count, Date().timeIntervalSince(t1) < 300 { received += try consumer.pollBatch(max: 5000, timeoutMs: 100).count }
        let consumeSeconds = Date().timeIntervalSince(t1)
        consumer.close()
        let rawProduce = Double(count) / produceSeconds, rawConsume = Double(received) / consumeSeconds
        let hop = try hopLatency(client: client, samples: quick ? 20 : 200, logger: logger)
        let idleHop = try hopLatency(client: client, samples: quick ? 3 : 10, idleSeconds: 2, logger: logger)
        // 2. The pipeline on a fresh broker, every service its own process.
        let (pipelineBroker, pipelineBootstrap) = try startBroker(dir + "/pipeline")
        defer { pipelineBroker.stop(grace: 5) }
        // Ten sessions (3,900 market minutes): starting the processes and finishing the summary are fixed costs
        // (~0.5 s), which two sessions would measure mostly.
        let sessions = quick ? 1 : 10
        let up = try Child(name: "up", executable: "\(BinDir.path)/opsctl",
                           arguments: ["up", "--brokers", pipelineBootstrap, "--sessions", String(sessions),
                                       "--log-dir", dir + "/logs", "--summary-json", dir + "/summary.json"],
                           logPath: dir + "/up.log", captureStdout: false)
        guard up.wait(timeout: 3600), up.exitStatus == 0 else { throw ValidationError("opsctl up failed (\(up.exitDescription)); see \(dir)/up.log") }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))) as? [String: Any] ?? [:]
        let wall = summary["wall_seconds"] as? Double ?? 1
        let written = try Topics.all.reduce(0) { total, topic in
            total + (try consumerGroupLag(client: KafkaClientConfig(brokers: pipelineBootstrap, clientId: "bench"), groupId: "bench-count",
                                          topics: [topic.name], logger: logger).values.reduce(0) { $0 + Int($1.end) })
        }
        // Read back from the topic: a recorder would be one more process reading every topic (what `up` runs without).
        let bars = try TopicReader.envelopes(client: KafkaClientConfig(brokers: pipelineBootstrap, clientId: "bench"), topic: Topics.bars, logger: logger)
        let minutes = Set(bars.map(\.eventTime)).count
        let pipelineRate = Double(written) / wall, minutesRate = Double(minutes) / wall
        try? FileManager.default.removeItem(atPath: dir)
        return [
            Bench.line("raw produce msgs/s", Bench.grouped(rawProduce)) + "   (\(Bench.grouped(Double(count))) × 380 B, acks=all, lz4)",
            Bench.line("raw consume msgs/s", Bench.grouped(rawConsume)),
            Bench.line("one-message produce→ack p50/p99 ms", "\(Bench.fixed(hop.produce.p50, 2))/\(Bench.fixed(hop.produce.p99, 2))"),
            Bench.line("commit p50/p99 ms", "\(Bench.fixed(hop.commit.p50, 2))/\(Bench.fixed(hop.commit.p99, 2))"),
            Bench.line("produce→consume p50/p99 ms", "\(Bench.fixed(hop.delivery.p50, 2))/\(Bench.fixed(hop.delivery.p99, 2))"),
            Bench.line("same after 2 s idle p50/p99 ms", "\(Bench.fixed(idleHop.delivery.p50, 2))/\(Bench.fixed(idleHop.delivery.p99, 2))"),
            Bench.line("pipeline msgs/s (all topics)", Bench.grouped(pipelineRate)) + "   (\(Bench.grouped(Double(written))) messages incl. watermarks in \(Bench.fixed(wall, 1)) s)",
            Bench.line("pipeline / raw produce", Bench.fixed(pipelineRate / rawProduce, 3)),
            Bench.line("market minutes/s end to end", Bench.fixed(minutesRate, 1), goal: minutesGoal, met: minutesRate >= minutesGoal)
                + "   (\(Bench.grouped(Double(minutes))) minutes, \(sessions) sessions, in \(Bench.fixed(wall, 1)) s)",
            "limits: the wall time includes starting seven processes (no group join: each takes all its partitions) and",
            "the summary's last reads (~0.2 s); quiet stretches cost no round trip (lookahead), nor does holding (quiet",
            "inputs: fills, order events and decisions answer orders and signals the readers know of); an order out",
            "still waits for its answer, two produce→consume hops above; eight processes share 2 cores at ~85%",
        ]
    }
}
