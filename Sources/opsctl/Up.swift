import ArgumentParser
import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime
import Pipeline

/// A pipeline service as `opsctl up` runs it: its executable and consumer group are its name.
struct ServiceSpec: Sendable {
    var name: String
    var groupId: String
    var inputs: [String]
    var outputs: [String]

    /// Services whose state is per key (ticker), so replicas split the partitions between them.
    static let scalable = Set(ServiceGraph.services.filter(\.scalable).map(\.name))

    /// Every service of the pipeline, from the one declaration of the graph.
    static let pipeline = ServiceGraph.services.map { ServiceSpec(name: $0.name, groupId: $0.name, inputs: $0.inputs, outputs: $0.outputs) }
}

/// `opsctl up`: the whole stack as separate OS processes on one broker, run to the end of its data.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole pipeline (broker, feed, every service, optional recorder) to the end of its data and print a summary.",
        discussion: """
        With no arguments: the embedded broker and the seeded synthetic market. Each service is its own OS process \
        talking Kafka over TCP. The run ends when the feed has published everything and every consumer group has \
        committed up to the end of its input topics; then every process is stopped with SIGTERM. Exit status 0 on \
        success; otherwise non-zero with the failed process named.
        """)

    @Option(help: "Use this Kafka cluster instead of starting the embedded broker.") var brokers: String?
    @Option(name: .customLong("kafka"), help: ArgumentHelp("A librdkafka property for every process, e.g. --kafka security.protocol=SASL_SSL (repeatable; secrets: OPS_KAFKA_SASL_PASSWORD or OPS_KAFKA_PROPERTIES_FILE, which every process inherits).", valueName: "key=value"))
    var kafka: [String] = []
    @OptionGroup var inputs: RunInputs
    @Option(help: "Feed pacing: max | realtime | Nx.") var speed: String = "max"
    @Option(help: "With --speed: event times before this instant (ISO-8601 with a zone) go at full speed.") var paceFrom: String?
    @Option(help: "Partitions for every topic of the embedded broker (default: per-topic counts).") var partitions: Int32?
    @Option(name: .customLong("replicas"), help: ArgumentHelp("Replicas of a service (repeatable).", valueName: "service=N")) var replicas: [String] = []
    @Option(name: .customLong("kill-after"), help: ArgumentHelp("Fault injection: SIGKILL a service once its first output topic holds N data messages (watermarks not counted), then restart it (repeatable).", valueName: "service=N")) var killAfter: [String] = []
    @Option(name: .customLong("storm"), help: ArgumentHelp("Fault injection: a rebalance storm. N times, start an extra replica of SERVICE (feature-computer or signal-engine) and then SIGKILL its oldest replica, each step once its group has made progress since the last (repeatable).", valueName: "service=N")) var storm: [String] = []
    @Option(help: "Directory for the processes' logs (default: a new temporary directory).") var logDir: String?
    @Option(help: "Give up if the run has not finished after this many seconds.") var timeout: Double = 900

    @Option(help: "Broker: sim (the simulator, default), alpaca-paper or alpaca-live (market data then comes from Alpaca too), or recorded (with --replay: the recording's own order events, fills and snapshots, no broker — to replay a live run).") var broker: String = "sim"
    @Option(help: "Alpaca trading API base URL (default: paper or live by --broker).") var alpacaTradingUrl: String?
    @Option(help: "Alpaca market-data API base URL (default https://data.alpaca.markets).") var alpacaDataUrl: String?
    @Option(help: "Alpaca trade_updates websocket URL (default: the trading host's /stream).") var alpacaStreamUrl: String?
    @Option(help: "Alpaca stock-stream base URL, the feed name appended (default wss://stream.data.alpaca.markets/v2).") var alpacaDataStreamUrl: String?
    @Flag(help: "Start a local alpaca-fake and point every Alpaca URL at it (a paper session anywhere, any time).") var alpacaFake = false
    @Option(help: "Live clock of the Alpaca adapters: wall, or START[xSPEED], e.g. 2024-03-05T10:00:00-05:00x10 (anchored when up starts).") var clock: String?
    @Option(help: "With Alpaca: run this many minutes of the live clock, then drain and summarize (default: until SIGINT).") var minutes: Double?
    @Option(help: "Required with --broker alpaca-live: I-UNDERSTAND-REAL-MONEY.") var confirmLive: String?

    var onAlpaca: Bool { broker.hasPrefix("alpaca") }

    func validate() throws {
        guard ["sim", "alpaca-paper", "alpaca-live", "recorded"].contains(broker) else {
            throw ValidationError("--broker takes sim, alpaca-paper, alpaca-live or recorded (with --replay); got '\(broker)'")
        }
        if broker == "recorded", inputs.replay == nil {
            throw ValidationError("--broker recorded replays the broker topics of a recording: add --replay DIR")
        }
        if onAlpaca {
            guard inputs.bars.isEmpty, inputs.chains.isEmpty, inputs.sentiment.isEmpty, inputs.replay == nil, inputs.synthetic == nil, inputs.sessions == nil else {
                throw ValidationError("--broker \(broker) trades on live data from Alpaca; drop --bars/--chains/--sentiment/--replay/--synthetic/--sessions")
            }
            if alpacaFake, alpacaTradingUrl != nil || alpacaDataUrl != nil || alpacaStreamUrl != nil || alpacaDataStreamUrl != nil {
                throw ValidationError("--alpaca-fake points every Alpaca URL at the fake; drop the --alpaca-*-url flags")
            }
            if alpacaFake, broker == "alpaca-live" { throw ValidationError("--alpaca-fake is paper by nature; use --broker alpaca-paper") }
            if let clock {
                do { _ = try LiveClock(spec: clock, wallNowMs: 0) } catch { throw ValidationError("--clock: \(error.description)") }
            }
            if let minutes, minutes <= 0 { throw ValidationError("--minutes must be > 0") }
        } else if alpacaFake || alpacaTradingUrl != nil || alpacaDataUrl != nil || clock != nil || minutes != nil || confirmLive != nil {
            throw ValidationError("--alpaca-*, --clock, --minutes and --confirm-live go with --broker alpaca-paper or alpaca-live")
        }
        try inputs.validateCommon()
        if Pacing(speed) == nil { throw ValidationError("--speed takes max, realtime or a factor like 60x; got '\(speed)'") }
        if let paceFrom { do { _ = try Pacing.paceFrom(paceFrom) } catch { throw ValidationError(error.description) } }
        for (name, n) in try parseCounts(replicas, flag: "--replicas") where n > 1 && !ServiceSpec.scalable.contains(name) {
            if ServiceGraph.accountShared.contains(name), let list = try? inputs.accounts.map(AccountList.init(parsing:)) {
                guard n <= list.accounts.count else {
                    throw ValidationError("--replicas \(name)=\(n): replicas share out the \(list.accounts.count) accounts of --accounts; give at most \(list.accounts.count)")
                }
                continue
            }
            guard case .single(let why) = ServiceGraph.service(name)?.replicas else { continue }
            let shared = ServiceGraph.accountShared.contains(name) ? "; with --accounts its replicas share out the accounts" : ""
            throw ValidationError("\(name) \(why)\(shared); --replicas applies to \(ServiceSpec.scalable.sorted().joined(separator: " and "))")
        }
        if inputs.accounts != nil, broker != "sim" {
            throw ValidationError("--accounts trades several simulated accounts: it goes with --broker sim (one Alpaca account is one account)")
        }
        _ = try parseCounts(killAfter, flag: "--kill-after")
        for name in try parseCounts(storm, flag: "--storm").keys where !ServiceSpec.scalable.contains(name) {
            throw ValidationError("--storm applies to the services that scale out, \(ServiceSpec.scalable.sorted().joined(separator: " and ")); \(name) runs one instance")
        }
    }

    func parseCounts(_ items: [String], flag: String) throws -> [String: Int] {
        var out = [String: Int]()
        for kv in items {
            let p = kv.split(separator: "=")
            guard p.count == 2, let n = Int(p[1]), n >= 1, ServiceSpec.pipeline.contains(where: { $0.name == p[0] }) else {
                throw ValidationError("\(flag) expects SERVICE=N with SERVICE one of \(ServiceSpec.pipeline.map(\.name).joined(separator: ", ")) and N ≥ 1; got '\(kv)'")
            }
            out[String(p[0])] = n
        }
        return out
    }

    var feedArguments: [String] {
        if onAlpaca { return inputs.feedSetArguments }
        return inputs.feedArguments(replayBroker: broker == "recorded") + ["--speed", speed, "--progress", "off"] + (paceFrom.map { ["--pace-from", $0] } ?? [])
    }

    /// The Alpaca part of the plan: one clock anchored now for every process, the run's end on it.
    func alpacaPlan() throws -> AlpacaPlan? {
        guard onAlpaca else { return nil }
        let wall = Int64(Date().timeIntervalSince1970 * 1000)
        let c = try LiveClock(spec: clock ?? "wall", wallNowMs: wall)
        return AlpacaPlan(broker: broker, tradingURL: alpacaTradingUrl, dataURL: alpacaDataUrl, streamURL: alpacaStreamUrl,
                          dataStreamURL: alpacaDataStreamUrl, fake: alpacaFake, clock: c.description,
                          until: minutes.map { c.now(wallMs: wall).adding(ms: Int64($0 * 60_000)) }, tickers: inputs.tickers ?? "SPY,QQQ,AAPL",
                          confirmLive: confirmLive)
    }

    func run() async throws {
        LogSetup.bootstrap(level: "warning")
        let alpaca = try alpacaPlan()
        do { _ = try KafkaEnvironment.merged(flags: kafka) } catch let e as ConfigError { throw ValidationError(e.message) }
        let plan = UpPlan(brokers: brokers, kafka: kafka, feedArguments: feedArguments, record: inputs.record, partitions: partitions,
                          replicas: try parseCounts(replicas, flag: "--replicas"), killAfter: try parseCounts(killAfter, flag: "--kill-after"),
                          storm: try parseCounts(storm, flag: "--storm"),
                          logDir: logDir, timeout: timeout, summaryJson: inputs.summaryJson, halts: try RunInputs.scheduledHalts(inputs.halt),
                          replay: inputs.replay, serviceSet: try inputs.serviceSettings(broker: broker == "sim"),
                          sourceDescription: describeSource(), alpaca: alpaca, brokerRunning: broker != "recorded")
        do {
            try await runOnDedicatedThread(name: "opsctl-up") { try UpRunner(plan: plan).run() }
        } catch let e as UpError {
            printErr("opsctl up: FAILED: \(e.description)")
            throw ExitCode(1)
        }
    }

    func describeSource() -> String {
        if onAlpaca { return "Alpaca market data (\(alpacaFake ? "alpaca-fake" : alpacaDataUrl ?? "https://data.alpaca.markets")), broker \(broker)" }
        return inputs.describeSource()
    }
}

struct UpPlan: Sendable {
    var brokers: String?
    /// `--kafka` properties, passed on to every process (the environment's reach them by inheritance).
    var kafka: [String] = []
    var feedArguments: [String]
    var record: String?
    var partitions: Int32?
    var replicas: [String: Int]
    var killAfter: [String: Int]
    var storm: [String: Int] = [:]
    var logDir: String?
    var timeout: Double
    var summaryJson: String?
    var halts: [(String, Timestamp)] = []
    /// `--replay DIR`: the recording, whose operator commands and parameter changes are published before the services.
    var replay: String? = nil
    var serviceSet: [String]
    var sourceDescription: String
    var alpaca: AlpacaPlan? = nil
    /// false when the broker topics come from a recording (`--broker recorded`).
    var brokerRunning = true

    /// The share of the accounts replica `i` of an account-owning service owns (nil: it runs alone, or owns no accounts).
    func accountShare(_ service: String, replica i: Int) -> AccountShare? {
        let n = replicas[service] ?? 1
        return n > 1 && ServiceGraph.accountShared.contains(service) ? AccountShare(index: i, count: n) : nil
    }

    /// A service run as one process for the whole run takes all its partitions without joining a group (no wait for
    /// the group to form); replicas, and a service a storm adds replicas to, join their group.
    func runsAlone(_ service: String) -> Bool {
        (replicas[service] ?? 1) == 1 && storm[service] == nil
    }

    /// The consumer groups of a service's replicas: one, unless replicas share out accounts (each then its own group).
    func groupIds(_ spec: ServiceSpec) -> [String] {
        let shares = (0..<(replicas[spec.name] ?? 1)).compactMap { accountShare(spec.name, replica: $0)?.groupId(service: spec.name) }
        return shares.isEmpty ? [spec.groupId] : shares
    }
}

/// `opsctl up --broker alpaca-…`: where the adapters point and on which clock they run.
struct AlpacaPlan: Sendable {
    var broker: String
    var tradingURL: String?
    var dataURL: String?
    var streamURL: String?
    var dataStreamURL: String?
    var fake: Bool
    /// An anchored `LiveClock` spec every child gets as OPS_CLOCK.
    var clock: String
    var until: Timestamp?
    var tickers: String
    var confirmLive: String?

    /// The fake's URLs replace every default.
    mutating func pointAtFake(port: Int) {
        tradingURL = "http://127.0.0.1:\(port)"
        dataURL = tradingURL
        streamURL = "ws://127.0.0.1:\(port)/stream"
        dataStreamURL = "ws://127.0.0.1:\(port)/v2"
    }

    var gatewayArguments: [String] {
        var a = ["--broker", broker]
        if let tradingURL { a += ["--alpaca-trading-url", tradingURL] }
        if let streamURL { a += ["--alpaca-stream-url", streamURL] }
        if let until { a += ["--until", until.iso8601] }
        if let confirmLive { a += ["--confirm-live", confirmLive] }
        return a
    }

    var feedArguments: [String] {
        var a = ["--source", "alpaca", "--tickers", tickers]
        if let dataURL { a += ["--alpaca-data-url", dataURL] }
        if let tradingURL { a += ["--alpaca-trading-url", tradingURL] }
        if let dataStreamURL { a += ["--alpaca-stream-url", dataStreamURL] }
        if let until { a += ["--until", until.iso8601] }
        return a
    }
}

/// Runs the plan on a dedicated thread (it blocks on processes and Kafka).
final class UpRunner: @unchecked Sendable {
    let plan: UpPlan
    let logger = Logger(service: "opsctl-up")
    var children: [Child] = []
    var events: [String] = []
    let started = Date()

    init(plan: UpPlan) { self.plan = plan }

    func note(_ s: String) {
        events.append(s)
        printErr("[opsctl up] \(s)")
    }

    func run() throws {
        let logDir = plan.logDir ?? NSTemporaryDirectory() + "ops-pipeline-\(getpid())"
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
        let bin = BinDir.path
        var brokerChild: Child?
        defer {
            Child.stopAll(children.reversed().filter(\.isRunning)) { _ in 10 }
            brokerChild?.stop(grace: 5)
        }

        // 1. Broker.
        let bootstrap: String
        if let b = plan.brokers {
            bootstrap = b
        } else {
            var args = ["broker", "--log-level", "warning"]
            if let p = plan.partitions { args += ["--partitions", String(p)] }
            let b = try Child(name: "broker", executable: "\(bin)/opsctl", arguments: args, logPath: "\(logDir)/broker.log", captureStdout: true)
            brokerChild = b
            guard let line = b.readLine(timeout: 30, where: { $0.hasPrefix("BOOTSTRAP=") }) else {
                throw UpError("broker: did not print BOOTSTRAP= (\(b.exitDescription)); see \(logDir)/broker.log")
            }
            bootstrap = String(line.dropFirst("BOOTSTRAP=".count))
            note("embedded broker at \(bootstrap) (pid \(b.pid))")
        }
        _ = FileManager.default.createFile(atPath: "\(logDir)/BOOTSTRAP", contents: Data((bootstrap + "\n").utf8))
        var alpaca = plan.alpaca
        if var a = alpaca {
            setenv("OPS_CLOCK", a.clock, 1)
            if a.fake {
                // A fake's keys: the fake and every adapter read the same environment.
                if ProcessInfo.processInfo.environment["APCA_API_KEY_ID"] == nil { setenv("APCA_API_KEY_ID", "PKFAKEPAPER", 1) }
                if ProcessInfo.processInfo.environment["APCA_API_SECRET_KEY"] == nil { setenv("APCA_API_SECRET_KEY", "fake-paper-secret", 1) }
                let f = try Child(name: "alpaca-fake", executable: "\(bin)/alpaca-fake", arguments: ["--tickers", a.tickers, "--clock", a.clock, "--fill-model", "mid"],
                                  logPath: "\(logDir)/alpaca-fake.log", captureStdout: true)
                children.append(f)
                guard let line = f.readLine(timeout: 30, where: { $0.hasPrefix("alpaca-fake listening on ") }),
                      let port = Int(line.split(separator: ":").last ?? "") else {
                    throw UpError("alpaca-fake did not start (\(f.exitDescription)); see \(logDir)/alpaca-fake.log")
                }
                a.pointAtFake(port: port)
                note("alpaca-fake at 127.0.0.1:\(port) (pid \(f.pid)), clock \(a.clock)")
            }
            alpaca = a
        }
        let client = KafkaClientConfig(brokers: bootstrap, clientId: "opsctl-up", additional: try KafkaEnvironment.merged(flags: plan.kafka))
        let kafkaArgs = plan.kafka.flatMap { ["--kafka", $0] }
        // The summary's topics are read while the run goes (without a recording to read them from), so only their
        // last messages are left to read at the end. Where they cannot be followed (not created yet on a cluster of
        // one's own), they are read at the end.
        var follower: TopicFollower<AnyEnvelope>?
        if plan.record == nil {
            do { follower = try TopicFollower.envelopes(client: client, topics: RunSummary.topicsRead, logger: logger) } catch {
                logger.info("the summary's topics are read at the end", metadata: ["error": .string("\(error)")])
            }
        }
        try publishScheduledHalts(client: client)
        if let dir = plan.replay, let line = try OperatorInputs(recording: dir).publish(client: client, logger: logger) { note(line) }

        // 2. Services, each its own process and consumer group; the recorder too.
        var serviceChildren = [String: [Child]]()
        func launch(_ spec: ServiceSpec, instance: String, name: String, extra: [String] = []) throws -> Child {
            var args = ["--brokers", bootstrap, "--client-id", "\(spec.name)-\(instance)"] + kafkaArgs + extra
            if spec.name == ServiceGraph.brokerGateway.name, let alpaca { args += alpaca.gatewayArguments }
            for s in plan.serviceSet where s.hasPrefix(spec.name + ":") { args += ["--set", String(s.dropFirst(spec.name.count + 1))] }
            return try Child(name: name, executable: "\(bin)/\(spec.name)", arguments: args,
                             logPath: "\(logDir)/\(spec.name)-\(instance).log", captureStdout: false)
        }
        for spec in ServiceSpec.pipeline where plan.brokerRunning || spec.name != ServiceGraph.brokerGateway.name {
            let n = plan.replicas[spec.name] ?? 1
            for i in 0..<n {
                let share = plan.accountShare(spec.name, replica: i)
                let extra = (share.map { ["--set", "\(ServiceGraph.accountReplicaKey.name)=\($0.description)"] } ?? [])
                    + (plan.runsAlone(spec.name) ? PartitionAssignment.all.setting : [])
                let c = try launch(spec, instance: "\(i)", name: n > 1 ? "\(spec.name)#\(i)" : spec.name, extra: extra)
                children.append(c)
                serviceChildren[spec.name, default: []].append(c)
            }
        }
        var recorder: Child?
        if let dir = plan.record {
            let r = try Child(name: "recorder", executable: "\(bin)/opsctl", arguments: ["record", "--dir", dir, "--brokers", bootstrap, "--assignment", PartitionAssignment.all.rawValue] + kafkaArgs,
                              logPath: "\(logDir)/recorder.log", captureStdout: false)
            children.append(r)
            recorder = r
        }

        // 3. The feed, to the end of its data, never further ahead of a reader than the broker keeps; meanwhile watch
        // every process and inject faults.
        var pacing = [String]()
        if alpaca == nil {
            let marketReaders = ServiceSpec.pipeline.filter { s in
                (plan.brokerRunning || s.name != ServiceGraph.brokerGateway.name) && s.inputs.contains(where: Topics.marketSource.contains)
            }.flatMap { plan.groupIds($0) }
            pacing = ["--pace-groups", (marketReaders + (recorder == nil ? [] : ["recorder"])).joined(separator: ",")]
        }
        let feed = try Child(name: "market-feed", executable: "\(bin)/market-feed",
                             arguments: ["--brokers", bootstrap] + kafkaArgs + (alpaca?.feedArguments ?? []) + plan.feedArguments + pacing,
                             logPath: "\(logDir)/market-feed.log", captureStdout: true)
        note("started \(children.map { "\($0.name) (pid \($0.pid))" }.joined(separator: ", ")), market-feed (pid \(feed.pid))")
        var pendingKills = plan.killAfter
        var counters = [String: DataCounter]()
        for name in plan.killAfter.keys {
            if let out = ServiceSpec.pipeline.first(where: { $0.name == name })?.outputs.first {
                counters[name] = try DataCounter(client: client, topic: out, logger: logger)
            }
        }
        defer { for c in counters.values { c.close() } }
        let storms = plan.storm.keys.sorted().compactMap { name in
            ServiceSpec.pipeline.first { $0.name == name }.map { Storm(service: name, groupId: $0.groupId, inputs: $0.inputs, cycles: plan.storm[name]!) }
        }
        func stormSteps() throws {
            for storm in storms {
                let next: Storm.Action?
                do {
                    next = try storm.due(now: Date()) {
                        try Storm.groupProgress(client: client, groupId: storm.groupId, topics: storm.inputs, feedDone: !feed.isRunning, logger: logger)
                    }
                } catch let e as KafkaError where e.action != .fatal {
                    continue // the broker is busy: look again on the next tick
                }
                guard let spec = ServiceSpec.pipeline.first(where: { $0.name == storm.service }), let action = next else { continue }
                switch action {
                case .start:
                    let c = try launch(spec, instance: storm.nextInstance, name: "\(spec.name)#\(storm.nextInstance)")
                    children.append(c)
                    serviceChildren[spec.name, default: []].append(c)
                    storm.took(.start, replica: c.name, now: Date())
                    note("storm: started \(c.name) (pid \(c.pid))")
                case .kill:
                    guard let victim = serviceChildren[spec.name]?.first else { continue }
                    victim.killNow()
                    victim.wait(timeout: 10)
                    children.removeAll { $0 === victim }
                    serviceChildren[spec.name]!.removeFirst()
                    storm.took(.kill, replica: victim.name, now: Date())
                    note("storm: SIGKILLed \(victim.name) (pid \(victim.pid))")
                }
                if storm.done { note(storm.report) }
            }
        }
        let deadline = started.addingTimeInterval(plan.timeout)
        func supervise() throws {
            for c in children where !c.isRunning {
                throw UpError("\(c.name) stopped unexpectedly (\(c.exitDescription)); see its log in \(c.logPath)")
            }
            for (name, threshold) in pendingKills {
                guard let counter = counters[name] else { continue }
                let out = counter.topic
                let produced = try counter.count()
                guard produced >= threshold, let victim = serviceChildren[name]?.first else { continue }
                victim.killNow()
                victim.wait(timeout: 10)
                let fresh = try victim.restarted()
                children[children.firstIndex { $0 === victim }!] = fresh
                serviceChildren[name]![0] = fresh
                pendingKills[name] = nil
                note("fault injection: SIGKILLed \(name) (pid \(victim.pid)) when \(out) held \(produced) messages; restarted as pid \(fresh.pid)")
            }
            try stormSteps()
            if Date() > deadline { throw UpError("timed out after \(Int(plan.timeout)) s") }
        }
        while feed.isRunning {
            try supervise()
            Thread.sleep(forTimeInterval: 0.05)
        }
        let feedOutput = feed.remainingStdout()
        guard !feed.wasSignalled, feed.exitStatus == 0 else {
            throw UpError("market-feed failed (\(feed.exitDescription)); see \(feed.logPath)")
        }
        note("market-feed finished: \(feedOutput.split(separator: "\n").last.map(String.init) ?? "")")

        // 4. Wait until every consumer group has committed up to the end of its inputs, twice in a row.
        // On Alpaca the gateway commits nothing: its state is rebuilt from the topics.
        var groups = ServiceSpec.pipeline.filter { (alpaca == nil && plan.brokerRunning) || $0.name != ServiceGraph.brokerGateway.name }.flatMap { spec in plan.groupIds(spec).map { ($0, spec.inputs) } }
        if recorder != nil { groups.append(("recorder", Topics.recorded)) }
        let probe = ConsumerGroupLagProbe(client: client, logger: logger)
        defer { probe.close() }
        var previousEnds: [String: Int64]? = nil
        var lastBehind = [String]()
        while true {
            do { try supervise() } catch let e as UpError where e.description.hasPrefix("timed out") {
                throw UpError("\(e.description); not caught up: \(lastBehind.prefix(12).joined(separator: "; "))")
            }
            var ends = [String: Int64]()
            var behind = [String]()
            let lags = try probe.lag(groups: groups)
            for (group, _) in groups {
                for (tp, v) in lags[group] ?? [:] {
                    ends["\(tp.topic)/\(tp.partition)"] = v.end
                    if (v.committed ?? 0) < v.end { behind.append("\(group)@\(tp.topic)/\(tp.partition) \(v.committed ?? 0)/\(v.end)") }
                }
            }
            if behind.isEmpty, previousEnds == ends, storms.allSatisfy(\.done) { break }
            lastBehind = behind.sorted()
            previousEnds = behind.isEmpty ? ends : nil
            Thread.sleep(forTimeInterval: 0.05)
        }
        note("every consumer group has caught up")

        // 5. Summary from the topics (the recording when there is one), then a graceful stop of every process. The
        // services' outputs are complete: they write their last snapshots and commits while the summary is read.
        // The recorder rewrites every file in canonical order when it stops: not while the summary reads them.
        for c in children where c !== recorder { c.terminate() }
        let summary = try RunSummary.collect(source: plan.record.map { SummarySource.recording($0) } ?? .kafka(client, logger: logger, prefetch: RunSummary.topicsRead, follower: follower))
        // The recorder's rewrite is long for a long run.
        Child.stopAll(children.reversed()) { $0 === recorder ? 600 : 15 }
        var statuses = [(String, String)]()
        statuses.append(("market-feed", feed.exitDescription))
        var failed = [String]()
        for c in children {
            statuses.append((c.name, c.exitDescription))
            if c.wasSignalled || c.exitStatus != 0 { failed.append("\(c.name) (\(c.exitDescription), log \(c.logPath))") }
        }
        let report = summary.render(source: plan.sourceDescription, broker: plan.brokers.map { "external \($0)" } ?? "embedded (\(bootstrap))",
                                    feedLine: feedOutput, statuses: statuses, events: events, record: plan.record,
                                    logDir: logDir, seconds: Date().timeIntervalSince(started))
        print(report.text)
        if let path = plan.summaryJson { try report.json.write(toFile: path, atomically: true, encoding: .utf8) }
        if !failed.isEmpty { throw UpError("did not shut down cleanly: \(failed.joined(separator: "; "))") }
    }
}

extension UpRunner {
    /// `--halt`: operator halts on the control topic before any service runs, so they apply at their event time.
    func publishScheduledHalts(client: KafkaClientConfig) throws {
        guard !plan.halts.isEmpty else { return }
        let producer = try KafkaProducer(config: KafkaProducerConfig(client: client), logger: logger)
        defer { producer.close() }
        var records = [ProducerRecord]()
        for (account, t) in plan.halts {
            let c = RunInputs.haltCommand(account: account)
            records.append(try ControlTarget.record(c, at: t))
            note("scheduled halt of \(account) at \(t.iso8601)")
        }
        _ = try producer.send(records)
    }
}

/// Counts the data messages (not watermarks) written to a topic so far, reading it as it grows.
final class DataCounter {
    let topic: String
    private let consumer: KafkaConsumer
    private var seen = 0
    private static let watermarkPrefix = Array(#"{"type":"watermark""#.utf8)

    init(client: KafkaClientConfig, topic: String, logger: Logger) throws {
        self.topic = topic
        consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "opsctl-counter"), logger: logger)
        let n = try consumer.partitionCount(topic: topic)
        try consumer.assign((0..<Int32(n)).map { TopicPartitionOffset(topic: topic, partition: $0, offset: KafkaOffset.beginning) })
    }

    func count() throws -> Int {
        while let m = try consumer.poll(timeoutMs: 0) {
            if !m.value.starts(with: Self.watermarkPrefix) { seen += 1 }
        }
        return seen
    }

    func close() { consumer.close() }
}
