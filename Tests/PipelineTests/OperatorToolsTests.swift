import Foundation
import Kafka
import OpsModel
import OpsRuntime
import Testing
import TestSupport

extension PipelineTests {
    /// What an operator does beside `opsctl up`: replay a recording, tail a topic, scrape a service's metrics.
    @Suite("Operator tools")
    struct OperatorTools {
        @Test("opsctl up --replay DIR reproduces the recorded run: same features, signals, decisions, orders and fills")
        func replayReproducesARecording() throws {
            let a = try PipelineTests.reference.get()
            let (r, b) = try Harness.up(["--replay", a.path] + PipelineTests.params)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("replay of"))
            for topic in [Topics.features, Topics.signals, Topics.decisions, Topics.orders, Topics.fills, Topics.positions] {
                #expect(try Harness.recorded(b, topic) == Harness.recorded(a, topic), "\(topic) reproduced")
            }
        }

        @Test("opsctl halt refuses an unknown account listing the known ones; halt and resume publish on the control topic at the account's time")
        func haltAndResume() throws {
            let broker = try Harness.BrokerProcess()
            defer { broker.stop() }
            let t = Timestamp(iso8601: "2024-03-04T17:31:00Z")!
            let snapshot = AccountSnapshot(accountId: "sim-1", seq: 7, cashCents: 100, reservedCents: 0, buyingPowerCents: 100, positionsValueCents: 0,
                                           equityCents: 100, realizedPnlCents: 0, commissionsCents: 0, openOrders: 0)
            let producer = try KafkaProducer(config: KafkaProducerConfig(client: broker.client), logger: Harness.logger)
            let env = Envelope(id: "acct-1", eventTime: t, causationId: nil, source: "broker-gateway", payload: snapshot)
            _ = try producer.send([ProducerRecord(topic: Topics.accounts, key: Array("sim-1".utf8), value: try env.encoded())])
            producer.close()

            let unknown = try Harness.run("opsctl", ["halt", "--account", "sim-9", "--reason", "test", "--brokers", broker.bootstrap])
            #expect(unknown.status != 0 && unknown.stderr.contains("unknown account 'sim-9'") && unknown.stderr.contains("known accounts: sim-1"), "\(unknown.stderr)")
            let noReason = try Harness.run("opsctl", ["halt", "--account", "sim-1", "--reason", " ", "--brokers", broker.bootstrap])
            #expect(noReason.status != 0 && noReason.stderr.contains("--reason must say why"))

            let halt = try Harness.run("opsctl", ["halt", "--account", "sim-1", "--reason", "desk review", "--flatten", "--brokers", broker.bootstrap])
            #expect(halt.status == 0, "\(halt.stderr)")
            let resume = try Harness.run("opsctl", ["resume", "--account", "sim-1", "--brokers", broker.bootstrap, "--at", "2024-03-04T18:00:00Z"])
            #expect(resume.status == 0, "\(resume.stderr)")
            let commands = try TopicReader.envelopes(client: broker.client, topic: Topics.control, logger: Harness.logger)
                .compactMap { e in (e.payload as? OperatorControl).map { (e.eventTime, $0) } }
            #expect(commands.count == 2)
            let h = try #require(commands.first { $0.1.action == .halt })
            #expect(h.0 == t && h.1.flatten && h.1.reason == "desk review", "a halt takes the account's latest event time")
            #expect(commands.first { $0.1.action == .resume }?.0 == Timestamp(iso8601: "2024-03-04T18:00:00Z"))
            #expect(HaltState.inForce(at: t, commands: commands)?.reason == "desk review")
        }

        @Test("opsctl tail prints a topic as JSON lines; --record-info adds partition, offset and the Kafka record time")
        func tail() throws {
            let broker = try Harness.BrokerProcess()
            defer { broker.stop() }
            let producer = try KafkaProducer(config: KafkaProducerConfig(client: broker.client), logger: Harness.logger)
            let bar = Bar(ticker: "SPY", start: Timestamp(iso8601: "2024-03-04T15:00:00Z")!, open: 1, high: 1, low: 1, close: 1, volume: 1)
            let env = MarketEvent.bar(bar).envelope(source: "test")
            _ = try producer.send([ProducerRecord(topic: Topics.bars, key: Array("SPY".utf8), value: try env.encoded())])
            producer.close()
            let r = try Harness.run("opsctl", ["tail", Topics.bars, "--brokers", broker.bootstrap, "--from-beginning", "--count", "1", "--idle-exit", "20"])
            #expect(r.status == 0, "\(r.stderr)")
            let line = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            #expect(line?["id"] as? String == env.id)
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            let w = try Harness.run("opsctl", ["tail", Topics.bars, "--brokers", broker.bootstrap, "--from-beginning", "--count", "1", "--idle-exit", "20", "--record-info"])
            #expect(w.status == 0, "\(w.stderr)")
            let wrapped = try JSONSerialization.jsonObject(with: Data(w.stdout.utf8)) as? [String: Any]
            #expect((wrapped?["message"] as? [String: Any])?["id"] as? String == env.id)
            #expect(wrapped?["offset"] as? Int == 0)
            #expect((0..<4).contains(wrapped?["partition"] as? Int ?? -1))
            let recorded = (wrapped?["record_time_ms"] as? NSNumber)?.int64Value ?? 0
            #expect(recorded > before - 600_000 && recorded <= before, "the producer's wall clock when it wrote the bar, not the bar's 2024 event time")
        }

        @Test("--log-format json: a service logs one JSON object a line")
        func jsonLogs() throws {
            let broker = try Harness.BrokerProcess()
            defer { broker.stop() }
            let p = Process()
            p.executableURL = TestPaths.binDir.appendingPathComponent("feature-computer")
            p.arguments = ["--brokers", broker.bootstrap, "--log-format", "json"]
            let err = Pipe()
            p.standardError = err
            try p.run()
            var text = ""
            let reader = err.fileHandleForReading
            // Wait for the first complete lines (consuming, then assigned), however slow the machine.
            for _ in 0..<600 where text.split(separator: "\n").count < 1 || !text.hasSuffix("\n") {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            p.terminate()
            p.waitUntilExit()
            let first = try #require(text.split(separator: "\n").first)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any], "\(first)")
            #expect(object["logger"] as? String == "ops.feature-computer")
            #expect(object["level"] as? String == "info")
            #expect((object["metadata"] as? [String: Any])?["kafka.group"] as? String == "feature-computer", "\(first)")
        }

        @Test("a service serves Prometheus metrics on --metrics-port")
        func metricsEndpoint() throws {
            let broker = try Harness.BrokerProcess()
            defer { broker.stop() }
            let port = try Harness.freePort()
            let p = Process()
            p.executableURL = TestPaths.binDir.appendingPathComponent("feature-computer")
            p.arguments = ["--brokers", broker.bootstrap, "--metrics-port", String(port), "--log-level", "warning"]
            p.standardError = FileHandle.nullDevice
            try p.run()
            defer { p.terminate(); p.waitUntilExit() }
            var body = ""
            // Lag is recorded once the group has assigned the partitions (a few seconds on the embedded broker).
            for _ in 0..<600 where !body.contains("ops_consumer_lag_seconds{") {
                body = (try? Harness.tcp(host: "127.0.0.1", port: port, send: "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")) ?? ""
                Thread.sleep(forTimeInterval: 0.1)
            }
            #expect(body.hasPrefix("HTTP/1.1 200 OK"))
            #expect(body.contains("# TYPE ops_"), "Prometheus text exposition: \(body.prefix(300))")
            let barsLag = body.split(separator: "\n").filter {
                $0.hasPrefix("ops_consumer_lag_messages{") && $0.contains(#"topic="market.bars.v1""#) && $0.contains(#"partition="0""#)
            }
            #expect(barsLag.count == 1 && Double(barsLag[0].split(separator: " ").last ?? "") == 0, "lag per input partition: \(body)")
            #expect(body.contains("ops_consumer_lag_seconds{"))
        }
    }
}
