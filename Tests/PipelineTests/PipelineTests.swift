import Foundation
import Kafka
import OpsModel
import OpsRuntime
import Testing
import TestSupport

/// End-to-end: the broker, the feed, the feature-computer and the recorder as separate OS processes speaking
/// Kafka over TCP. One synthetic session of three tickers keeps each run short.
@Suite("Pipeline end to end", .serialized)
struct PipelineTests {
    /// One session; momentum as a bonus (seed 004's "required" mode signals a few times a session, too few to
    /// exercise every path of the trading services in one run).
    static let params = ["--param", "signals.momentum_mode=bonus"]
    static let small = ["--sessions", "1"] + params

    /// The fault-free reference run, shared by the tests below (computed once).
    static let reference: Result<URL, Error> = Result {
        let (r, dir) = try Harness.up(small)
        guard r.status == 0 else { throw HarnessError("reference run failed (\(r.status)):\n\(r.stderr)\n\(r.stdout)") }
        return dir
    }

    @Test("opsctl up runs every process and prints a summary; the recorded features are deterministic")
    func deterministicAcrossRunsAndPartitionCounts() throws {
        let a = try Self.reference.get()
        let featuresA = try Harness.recorded(a, Topics.features)
        #expect(featuresA.count == 3 * 390, "one feature vector per regular-session bar per ticker")
        let (rb, b) = try Harness.up(Self.small)
        #expect(rb.status == 0, "\(rb.stderr)")
        #expect(rb.stdout.contains("ops-pipeline run summary"))
        #expect(rb.stdout.contains("features      1170 distinct"))
        #expect(try Harness.recorded(b, Topics.features) == featuresA, "same input, same partitions: identical lines")
        let (rc, c) = try Harness.up(Self.small + ["--partitions", "3"])
        #expect(rc.status == 0, "\(rc.stderr)")
        #expect(try Harness.recorded(c, Topics.features) == featuresA, "a different partition count changes nothing")
        #expect(try Harness.recorded(c, Topics.bars) == Harness.recorded(a, Topics.bars))
    }

    @Test("every line of every recorded topic validates against its JSON Schema")
    func recordedTopicsValidate() throws {
        let a = try Self.reference.get()
        let r = try Harness.run("/usr/bin/env", ["python3", TestPaths.packageRoot.appendingPathComponent("scripts/validate-recording.py").path, a.path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        for topic in [Topics.bars, Topics.chains, Topics.sentiment, Topics.features] {
            #expect(r.stdout.contains("\(topic).jsonl:"), "\(topic) was recorded")
        }
    }

    @Test("SIGKILL of the feature-computer mid-run loses and changes nothing")
    func killAndRestartFeatureComputer() throws {
        let a = try Self.reference.get()
        let (r, k) = try Harness.up(Self.small + ["--kill-after", "feature-computer=300"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("fault injection: SIGKILLed feature-computer"), "the kill happened: \(r.stdout)")
        let clean = try Harness.recorded(a, Topics.features)
        let faulty = try Harness.recorded(k, Topics.features)
        #expect(Set(faulty) == Set(clean), "the same distinct messages (by id and content)")
        #expect(faulty.count >= clean.count, "redelivered duplicates may appear")
        let ids = try faulty.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.map { $0["id"] as! String }
        #expect(Set(ids).count == clean.count, "a duplicate always has the same id and content")
    }

    @Test("bad input on every input topic is dead-lettered with a reason; the good data gives the same features")
    func deadLetters() throws {
        let a = try Self.reference.get()
        let broker = try Harness.BrokerProcess()
        defer { broker.stop() }
        let producer = try KafkaProducer(config: KafkaProducerConfig(client: broker.client), logger: Harness.logger)
        let t = Timestamp(iso8601: "2024-03-04T15:00:00Z")!
        let goodBar = try MarketEvent.bar(Bar(ticker: "SPY", start: t, open: 500, high: 501, low: 499, close: 500.5, volume: 10)).envelope(source: "test").encoded()
        func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
        func envelope(_ type: String, _ payload: String, version: Int = 1, time: String = "2024-03-04T15:01:00Z") -> [UInt8] {
            Array(#"{"type":"\#(type)","version":\#(version),"id":"inj-\#(UUID().uuidString)","event_time":"\#(time)","causation_id":null,"source":"test","payload":\#(payload)}"#.utf8)
        }
        let bar = #"{"ticker":"SPY","interval":"1m","start":"2024-03-04T15:00:00Z","end":"2024-03-04T15:01:00Z","open":500,"high":501,"low":499,"close":500.5,"volume":10}"#
        let injected: [(String, [UInt8], String)] = [
            (Topics.bars, Array("this is not json".utf8), "malformed"),
            (Topics.bars, Array(goodBar.prefix(goodBar.count / 2)), "malformed"),
            (Topics.bars, envelope("bar", bar, version: 2), "unknown_version"),
            (Topics.bars, envelope("bar", bar.replacingOccurrences(of: #""low":499"#, with: #""low":-1"#)), "invalid"),
            (Topics.bars, envelope("bar", bar.replacingOccurrences(of: #""high":501"#, with: #""high":498"#)), "invalid"),
            (Topics.bars, envelope("bar", bar.replacingOccurrences(of: #""volume":10"#, with: #""volume":-10"#)), "invalid"),
            (Topics.bars, envelope("bar", bar.replacingOccurrences(of: #""interval":"1m""#, with: #""interval":"7m""#)), "invalid"),
            (Topics.chains, Array(#"{"type":"option_chain""#.utf8), "malformed"),
            (Topics.chains, envelope("option_chain", #"{"underlying":"SPY","underlying_price":500,"as_of":"2024-03-04T15:01:00Z","contracts":[{"symbol":"SPY240315C00500000","right":"call","strike":500,"expiration":"2024-03-15","bid":2.6,"ask":2.5,"volume":1,"open_interest":1}]}"#), "invalid"),
            (Topics.chains, envelope("option_chain", #"{"underlying":"SPY","underlying_price":500,"as_of":"2024-03-04T15:01:00Z","contracts":[]}"#, version: 9), "unknown_version"),
            (Topics.sentiment, Array([0xff, 0xfe, 0x00, 0x01]), "malformed"),
            (Topics.sentiment, envelope("sentiment", #"{"ticker":"SPY","score":3.5,"source":"x"}"#), "invalid"),
            (Topics.sentiment, envelope("sentiment", #"{"ticker":"SPY","score":"NaN","source":"x"}"#), "malformed"),
            (Topics.sentiment, envelope("bar", bar), "unknown_type"),
        ]
        _ = try producer.send(injected.map { ProducerRecord(topic: $0.0, key: Array("SPY".utf8), value: $0.1, timestampMs: t.ms) })
        producer.close()

        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ops-test-dlq-\(UUID().uuidString)")
        let r = try Harness.run("opsctl", ["up", "--brokers", broker.bootstrap, "--record", dir.path, "--log-dir", dir.appendingPathComponent("logs").path] + Self.small)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Harness.recorded(dir, Topics.features) == Harness.recorded(a, Topics.features), "the pipeline went on and the good data gave the same features")
        for topic in [Topics.signals, Topics.decisions, Topics.orders, Topics.fills, Topics.positions] {
            #expect(try Harness.recorded(dir, topic) == Harness.recorded(a, topic), "\(topic): bad input changed no trade")
        }

        // Every service that reads a topic refuses its bad messages itself: one dead letter per (message, consumer).
        let consumers: [String: Set<String>] = [
            Topics.bars: ["feature-computer", "broker-gateway", "position-manager"], Topics.sentiment: ["feature-computer", "watchlist-engine"],
            Topics.chains: ["watchlist-engine", "dispatcher", "broker-gateway", "position-manager"],
        ]
        let letters = try TopicReader.envelopes(client: broker.client, topic: Topics.deadLetter, logger: Harness.logger).compactMap { $0.payload as? DeadLetter }
        #expect(letters.count == injected.reduce(0) { $0 + consumers[$1.0]!.count }, "one dead letter per bad message and consumer: \(letters.map(\.reason))")
        for (topic, bytes, kind) in injected {
            let matches = letters.filter { $0.topic == topic && Base64.decode($0.originalBase64) == bytes }
            #expect(Set(matches.map(\.service)) == consumers[topic]!, "\(topic) \(kind) \(text(bytes)) was dead-lettered by every consumer")
            for m in matches {
                #expect(m.errorKind == kind, "\(text(bytes)): \(m.reason)")
                #expect(m.reason.count > 5)
            }
        }
        let v = try Harness.run("/usr/bin/env", ["python3", TestPaths.packageRoot.appendingPathComponent("scripts/validate-recording.py").path, dir.path, "--allow-unparsed"])
        #expect(v.status == 0, "dead letters and everything else the services emitted validate: \(v.stdout)")
    }

    @Test("the embedded broker's control port takes brokers down and up")
    func brokerControl() throws {
        let broker = try Harness.BrokerProcess()
        defer { broker.stop() }
        #expect(try broker.send("ping") == "ok pong")
        #expect(try broker.send("topics").contains("\(Topics.bars)=4"))
        #expect(try broker.send("down 1") == "ok broker 1 down")
        #expect(try broker.send("up 1") == "ok broker 1 up")
        #expect(try broker.send("rtt 1 50") == "ok broker 1 rtt 50ms")
        #expect(try broker.send("down 7").hasPrefix("error:"))
        let producer = try KafkaProducer(config: KafkaProducerConfig(client: broker.client), logger: Harness.logger)
        let reports = try producer.send([ProducerRecord(topic: Topics.bars, key: Array("SPY".utf8), value: Array("x".utf8))])
        #expect(reports.count == 1)
        producer.close()
    }

    @Test("CLI errors say what to type instead")
    func cliErrors() throws {
        let r = try Harness.run("opsctl", ["up", "--speed", "warp"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--speed takes max, realtime or a factor like 60x"))
        for command in [["opsctl", "up"], ["market-feed", "--brokers", "127.0.0.1:1"]] {
            let p = try Harness.run(command[0], Array(command.dropFirst()) + ["--speed", "1x", "--pace-from", "14:00"])
            #expect(p.status != 0 && p.stderr.contains("--pace-from takes an ISO-8601 instant with a zone"), "\(command[0]): \(p.stderr)")
        }
        let f = try Harness.run("feature-computer", ["--brokers", "127.0.0.1:1", "--set", "slope_lookbak=3"])
        #expect(f.status == 2)
        #expect(f.stderr.contains("unknown config key 'slope_lookbak'"))
        let params = NSTemporaryDirectory() + "ops-params-\(UUID().uuidString).json"
        try #"{"liquidity_thresholds": {"max_sprad_pct": 5}}"#.write(toFile: params, atomically: true, encoding: .utf8)
        let d = try Harness.run("dispatcher", ["--brokers", "127.0.0.1:1", "--set", "trading_params=\(params)"])
        #expect(d.status == 2)
        #expect(d.stderr.contains("unknown key 'liquidity_thresholds.max_sprad_pct'"), "\(d.stderr)")
        let b = try Harness.run("broker-gateway", ["--brokers", "127.0.0.1:1", "--broker", "alpaca"])
        #expect(b.status != 0 && b.stderr.contains("--broker takes sim, alpaca-paper or alpaca-live"), "\(b.stderr)")
    }
}
