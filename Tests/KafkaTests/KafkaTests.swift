import Foundation
@testable import Kafka
import Logging
import Testing

@Suite("Producer")
struct ProducerTests {
    @Test("a batch gets one delivery report per record, in input order")
    func produceBatch() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("orders")
            try fixture.cluster.createTopic(topic, partitions: 3)
            let producer = try fixture.producer()
            defer { producer.close() }

            let records = (0..<10).map { ProducerRecord(topic: topic, value: bytes("v\($0)"), partition: 1) }
            let reports = try producer.send(records)
            #expect(reports.count == 10)
            #expect(reports.map(\.offset) == Array(0..<10))
            #expect(reports.allSatisfy { $0.partition == 1 && $0.topic == topic })

            // A second call continues the partition's offsets.
            let more = try producer.send([ProducerRecord(topic: topic, value: bytes("x"), partition: 1)])
            #expect(more.map(\.offset) == [10])
            #expect(try producer.send([]).isEmpty)
        }
    }

    @Test("records with the same key land in one partition, in order")
    func keyedRecords() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("quotes")
            try fixture.cluster.createTopic(topic, partitions: 4)
            let producer = try fixture.producer()
            defer { producer.close() }

            var records: [ProducerRecord] = []
            for i in 0..<30 {
                records.append(ProducerRecord(topic: topic, key: bytes("AAPL"), value: bytes("a\(i)")))
                records.append(ProducerRecord(topic: topic, key: bytes("MSFT-\(i % 5)"), value: bytes("m\(i)")))
            }
            let reports = try producer.send(records)
            let aapl = zip(records, reports).filter { $0.0.key == bytes("AAPL") }.map(\.1)
            #expect(Set(aapl.map(\.partition)).count == 1)
            #expect(aapl.map(\.offset) == aapl.map(\.offset).sorted())
            #expect(Set(aapl.map(\.offset)).count == 30)
            // Same key, same partition across calls too.
            let again = try producer.send([ProducerRecord(topic: topic, key: bytes("AAPL"), value: bytes("late"))])
            #expect(again[0].partition == aapl[0].partition)
        }
    }

    @Test("partitionCount equals what createTopic made")
    func partitionCount() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("chains")
            try fixture.cluster.createTopic(topic, partitions: 7)
            let producer = try fixture.producer()
            defer { producer.close() }
            #expect(try producer.partitionCount(topic: topic) == 7)
            let consumer = try fixture.consumer(group: uniqueName("g"))
            defer { consumer.close() }
            #expect(try consumer.partitionCount(topic: topic) == 7)
        }
    }

    @Test("a broker going down and up does not crash; produce succeeds after up")
    func brokerDownUp() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("fills")
            try fixture.cluster.createTopic(topic, partitions: 1)
            let producer = try fixture.producer()
            defer { producer.close() }
            #expect(try producer.send([ProducerRecord(topic: topic, value: bytes("before"))]).map(\.offset) == [0])

            fixture.cluster.setBrokerDown(1)
            fixture.cluster.setRtt(broker: 1, ms: 5)
            Thread.sleep(forTimeInterval: 0.3)
            // A send issued while the broker is down completes once it is back.
            let done = DispatchSemaphore(value: 0)
            let outcome = ResultBox()
            Thread {
                outcome.set(Result { try producer.send([ProducerRecord(topic: topic, value: bytes("during"))]) })
                done.signal()
            }.start()
            Thread.sleep(forTimeInterval: 0.7)
            fixture.cluster.setBrokerUp(1)
            #expect(done.wait(timeout: .now() + 20) == .success)
            #expect(try outcome.get().map(\.offset) == [1])
            #expect(try producer.send([ProducerRecord(topic: topic, value: bytes("after"))]).map(\.offset) == [2])
        }
    }

    @Test("an unknown or invalid property throws an error naming it")
    func badConfig() throws {
        let logger = testLogger()
        let client = KafkaClientConfig(brokers: "127.0.0.1:1", clientId: "bad", additional: ["no.such.property": "1"])
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(config: KafkaProducerConfig(client: client), logger: logger)
        }
        #expect(error?.message.contains("no.such.property") == true)
        #expect(error?.code == KafkaError.invalidArgumentCode)

        var consumerConfig = KafkaConsumerConfig(client: KafkaClientConfig(brokers: "127.0.0.1:1", clientId: "bad"), groupId: "g")
        consumerConfig.properties["session.timeout.ms"] = "banana"
        let invalid = #expect(throws: KafkaError.self) {
            _ = try KafkaConsumer(config: consumerConfig, logger: logger)
        }
        #expect(invalid?.message.contains("session.timeout.ms") == true)
    }

    @Test("a closed producer throws instead of crashing; close is idempotent")
    func closedProducer() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let producer = try fixture.producer()
            producer.close()
            producer.close()
            #expect(throws: KafkaError.self) {
                _ = try producer.send([ProducerRecord(topic: "t", value: [1])])
            }
        }
    }

    @Test("a fatal error is remembered and thrown by the next call")
    func fatalError() async throws {
        let capture = LogCapture()
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("fatal")
            try fixture.cluster.createTopic(topic, partitions: 1)
            let logger = Logger(label: "capture") { _ in CaptureLogHandler(capture: capture) }
            let producer = try KafkaProducer(config: KafkaProducerConfig(client: fixture.client("fatal")), logger: logger)
            defer { producer.close(flushTimeoutMs: 100) }
            _ = try producer.send([ProducerRecord(topic: topic, value: bytes("ok"))])
            try producer.injectFatalErrorForTesting(code: 47, reason: "fenced for test") // INVALID_PRODUCER_EPOCH
            let error = #expect(throws: KafkaError.self) {
                _ = try producer.send([ProducerRecord(topic: topic, value: bytes("after"))])
            }
            #expect(error?.isFatal == true)
            #expect(error?.code == 47)
            #expect(error?.message.contains("fenced for test") == true)
        }
        #expect(capture.entries.contains { $0.level == .critical })
    }

    @Test("librdkafka log lines reach the Logger with kafka.facility metadata")
    func logRouting() async throws {
        let capture = LogCapture()
        try await onThread {
            let logger = Logger(label: "capture") { _ in CaptureLogHandler(capture: capture) }
            let fixture = try Fixture(logger: testLogger())
            defer { fixture.cluster.close() }
            var client = fixture.client("logged")
            client.additional["debug"] = "broker"
            let producer = try KafkaProducer(config: KafkaProducerConfig(client: client), logger: logger)
            _ = try producer.partitionCount(topic: uniqueName("any"))
            producer.close()
        }
        let entries = capture.entries
        #expect(entries.contains { $0.level == .debug && $0.metadata["kafka.facility"] != nil })
    }
}

/// Thread-safe holder for a result produced on another thread.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<[DeliveryReport], Error>?

    func set(_ value: Result<[DeliveryReport], Error>) {
        lock.lock()
        defer { lock.unlock() }
        result = value
    }

    func get() throws -> [DeliveryReport] {
        lock.lock()
        defer { lock.unlock() }
        guard let result else { throw KafkaError(code: -1, message: "no result") }
        return try result.get()
    }
}

@Suite("Consumer")
struct ConsumerTests {
    @Test("a group consumer reads records back; commit metadata round-trips; a second member resumes from the commit")
    func consumeCommitResume() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("trades")
            let group = uniqueName("g")
            try fixture.cluster.createTopic(topic, partitions: 1)
            let producer = try fixture.producer()
            defer { producer.close() }
            let timestamp: Int64 = 1_700_000_000_000
            _ = try producer.send((0..<5).map {
                ProducerRecord(topic: topic, key: bytes("k\($0)"), value: bytes("v\($0)"), timestampMs: timestamp + Int64($0))
            })

            // The mock coordinator waits session.timeout.ms - 1000 before
            // completing a rebalance of a group that had members: keep it short.
            let fast = ["session.timeout.ms": "4000", "heartbeat.interval.ms": "300"]
            let first = try fixture.consumer(group: group, overrides: fast)
            var assigned: [TopicPartition] = []
            var revoked: [TopicPartition] = []
            let start = Date()
            try first.subscribe(
                topics: [topic],
                onAssign: { partitions in
                    assigned = partitions
                    return partitions.map { TopicPartitionOffset($0, offset: KafkaOffset.invalid) }
                },
                onRevoke: { revoked = $0 }
            )
            let messages = try drain(first, count: 5)
            let joinSeconds = Date().timeIntervalSince(start)
            #expect(assigned == [TopicPartition(topic: topic, partition: 0)])
            #expect(messages.map { text($0.value) } == ["v0", "v1", "v2", "v3", "v4"])
            #expect(messages.map(\.offset) == Array(0..<5))
            #expect(messages.map { $0.key.map(text) } == ["k0", "k1", "k2", "k3", "k4"])
            #expect(messages.map(\.timestampMs) == (0..<5).map { timestamp + Int64($0) })
            #expect(try first.assignment() == [TopicPartition(topic: topic, partition: 0)])

            let tp = TopicPartition(topic: topic, partition: 0)
            #expect(try first.committed([tp]).map(\.offset) == [KafkaOffset.invalid])
            try first.commit([TopicPartitionOffset(tp, offset: 3, metadata: "snapshot=42")])
            let committed = try first.committed([tp])
            #expect(committed == [TopicPartitionOffset(tp, offset: 3, metadata: "snapshot=42")])

            first.close()
            #expect(revoked == [tp])

            let second = try fixture.consumer(group: group, overrides: fast)
            defer { second.close() }
            let restart = Date()
            try second.subscribe(topics: [topic])
            let resumed = try drain(second, count: 2)
            let rejoinSeconds = Date().timeIntervalSince(restart)
            #expect(resumed.map(\.offset) == [3, 4])
            // Mock coordinator: ~3 s for a group's first join, then
            // session.timeout.ms - 1000 for each later rebalance.
            #expect(joinSeconds < 10 && rejoinSeconds < 10)
        }
    }

    @Test("close while a rebalance is pending does not hang (librdkafka #4884 workaround)")
    func closeDuringPendingRebalance() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("pending")
            try fixture.cluster.createTopic(topic, partitions: 2)
            let producer = try fixture.producer()
            defer { producer.close() }
            _ = try producer.send([ProducerRecord(topic: topic, value: bytes("x"), partition: 0)])

            let consumer = try fixture.consumer(group: uniqueName("g"))
            var revoked: [TopicPartition] = []
            try consumer.subscribe(topics: [topic])
            #expect(try drain(consumer, count: 1).count == 1)
            // Re-subscribing queues a revoke that nobody polls before close.
            try consumer.subscribe(topics: [topic], onRevoke: { revoked += $0 })
            let start = Date()
            consumer.close()
            #expect(Date().timeIntervalSince(start) < 10)
            #expect(Set(revoked) == Set((0..<2).map { TopicPartition(topic: topic, partition: $0) }))
        }
    }

    @Test("onAssign chooses the start offset (rewind for state restore)")
    func onAssignRewind() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("state")
            let group = uniqueName("g")
            try fixture.cluster.createTopic(topic, partitions: 2)
            let producer = try fixture.producer()
            defer { producer.close() }
            _ = try producer.send((0..<6).map { ProducerRecord(topic: topic, value: bytes("p0-\($0)"), partition: 0) })
            _ = try producer.send((0..<6).map { ProducerRecord(topic: topic, value: bytes("p1-\($0)"), partition: 1) })

            let consumer = try fixture.consumer(group: group)
            defer { consumer.close() }
            // Everything is committed as processed...
            try consumer.commit([
                TopicPartitionOffset(topic: topic, partition: 0, offset: 6),
                TopicPartitionOffset(topic: topic, partition: 1, offset: 6),
            ])
            // ...but on assignment we rewind: partition 0 to offset 2, partition 1 to the beginning.
            try consumer.subscribe(topics: [topic], onAssign: { partitions in
                partitions.map { TopicPartitionOffset($0, offset: $0.partition == 0 ? 2 : KafkaOffset.beginning) }
            })
            let messages = try drain(consumer, count: 10)
            #expect(messages.filter { $0.partition == 0 }.map(\.offset) == [2, 3, 4, 5])
            #expect(messages.filter { $0.partition == 1 }.map(\.offset) == Array(0..<6))
            #expect(try consumer.poll(timeoutMs: 300) == nil)
        }
    }

    @Test("seek moves an assigned partition back: the next message is the one sought, none fetched before it follows")
    func seekBack() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("seek")
            try fixture.cluster.createTopic(topic, partitions: 1)
            let producer = try fixture.producer()
            defer { producer.close() }
            _ = try producer.send((0..<8).map { ProducerRecord(topic: topic, value: bytes("m\($0)"), partition: 0) })
            let consumer = try fixture.consumer(group: uniqueName("g"))
            defer { consumer.close() }
            try consumer.assign([TopicPartitionOffset(topic: topic, partition: 0, offset: 5)])
            #expect(try drain(consumer, count: 1).map(\.offset) == [5])
            try consumer.seek([TopicPartitionOffset(topic: topic, partition: 0, offset: 1)])
            #expect(try drain(consumer, count: 7).map(\.offset) == Array(1..<8))
            #expect(try consumer.poll(timeoutMs: 300) == nil)
            #expect(throws: KafkaError.self) { try consumer.seek([TopicPartitionOffset(topic: uniqueName("unassigned"), partition: 0, offset: 0)]) }
        }
    }

    @Test("manual assign, watermarks and consumerGroupLag reach committed == end")
    func manualAssignAndLag() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("marks")
            let group = uniqueName("g")
            try fixture.cluster.createTopic(topic, partitions: 3)
            let producer = try fixture.producer()
            defer { producer.close() }
            _ = try producer.send((0..<4).map { ProducerRecord(topic: topic, value: bytes("a\($0)"), partition: 0) })
            _ = try producer.send((0..<2).map { ProducerRecord(topic: topic, value: bytes("b\($0)"), partition: 2) })

            let before = try consumerGroupLag(client: fixture.client(), groupId: group, topics: [topic], logger: fixture.logger)
            #expect(before.count == 3)
            #expect(before.values.allSatisfy { $0.committed == nil })
            #expect(before[TopicPartition(topic: topic, partition: 0)]?.end == 4)
            #expect(before[TopicPartition(topic: topic, partition: 1)]?.end == 0)
            #expect(before[TopicPartition(topic: topic, partition: 2)]?.end == 2)

            let consumer = try fixture.consumer(group: group)
            defer { consumer.close() }
            try consumer.assign((0..<3).map { TopicPartitionOffset(topic: topic, partition: $0, offset: KafkaOffset.beginning) })
            let marks = try consumer.watermarkOffsets(topic: topic, partition: 0)
            #expect(marks.low == 0 && marks.high == 4)
            let messages = try drain(consumer, count: 6)
            #expect(messages.count == 6)

            var next: [TopicPartition: Int64] = [:]
            for message in messages { next[message.topicPartition] = message.offset + 1 }
            try consumer.commit(next.map { TopicPartitionOffset($0.key, offset: $0.value) })

            let after = try consumerGroupLag(client: fixture.client(), groupId: group, topics: [topic], logger: fixture.logger)
            #expect(after[TopicPartition(topic: topic, partition: 0)]?.committed == 4)
            #expect(after[TopicPartition(topic: topic, partition: 2)]?.committed == 2)
            // Partition 1 is empty and never committed: caught up means committed ?? 0 == end.
            #expect(after.values.allSatisfy { ($0.committed ?? 0) == $0.end })
        }
    }

    @Test("offsetsForTimes finds the first message at or after a timestamp")
    func offsetsForTimes() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("ticks")
            try fixture.cluster.createTopic(topic, partitions: 1)
            let producer = try fixture.producer()
            defer { producer.close() }
            let base: Int64 = 1_700_000_000_000
            _ = try producer.send((0..<5).map {
                ProducerRecord(topic: topic, value: bytes("t\($0)"), partition: 0, timestampMs: base + Int64($0) * 1000)
            })

            let consumer = try fixture.consumer(group: uniqueName("g"))
            defer { consumer.close() }
            let tp = TopicPartition(topic: topic, partition: 0)
            // The explicit timestamps are stored with the messages.
            try consumer.assign([TopicPartitionOffset(tp, offset: KafkaOffset.beginning)])
            #expect(try drain(consumer, count: 5).map(\.timestampMs) == (0..<5).map { base + Int64($0) * 1000 })

            let found = try consumer.offsetsForTimes([tp: base + 2500])
            let exact = try consumer.offsetsForTimes([tp: base + 1000])
            let past = try consumer.offsetsForTimes([tp: base + 60_000])
            #expect(past == [tp: KafkaOffset.end])
            if found[tp] == KafkaOffset.end && exact[tp] == KafkaOffset.end {
                // librdkafka 2.0.2's mock broker answers ListOffsets-by-timestamp
                // with -1 ("FIXME: by timestamp" in rdkafka_mock_handlers.c), so the
                // lookup itself can only be checked against a real broker.
                withKnownIssue("librdkafka mock cluster does not implement ListOffsets by timestamp") {
                    #expect(found[tp] == 3)
                    #expect(exact[tp] == 1)
                }
            } else {
                #expect(found[tp] == 3)
                #expect(exact[tp] == 1)
            }
        }
    }

    @Test("the cooperative protocol uses incremental assign and still calls the handlers")
    func cooperative() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("coop")
            try fixture.cluster.createTopic(topic, partitions: 2)
            let producer = try fixture.producer()
            defer { producer.close() }
            _ = try producer.send((0..<4).map { ProducerRecord(topic: topic, value: bytes("c\($0)"), partition: Int32($0 % 2)) })

            var config = KafkaConsumerConfig(client: fixture.client("coop"), groupId: uniqueName("g"))
            config.properties["partition.assignment.strategy"] = "cooperative-sticky"
            let consumer = try KafkaConsumer(config: config, logger: fixture.logger)
            var assigned: [TopicPartition] = []
            var revoked: [TopicPartition] = []
            try consumer.subscribe(
                topics: [topic],
                onAssign: { partitions in
                    assigned += partitions
                    return partitions.map { TopicPartitionOffset($0, offset: KafkaOffset.beginning) }
                },
                onRevoke: { revoked += $0 }
            )
            let messages = try drain(consumer, count: 4)
            #expect(messages.count == 4)
            #expect(Set(assigned) == Set((0..<2).map { TopicPartition(topic: topic, partition: $0) }))
            consumer.close()
            #expect(Set(revoked) == Set(assigned))
        }
    }
}

@Suite("Embedded broker sockets")
struct MockClusterSocketTests {
    /// The mock's side of every connection a client made, with whether Nagle's algorithm is off on each.
    static func acceptedSockets(ports: Set<UInt16>) -> [(fd: Int32, noDelay: Bool)] {
        MockCluster.sockets(boundTo: ports, listening: false).compactMap { fd in
            var on: Int32 = 0
            var olen = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, &olen) == 0 else { return nil }
            return (fd, on != 0)
        }
    }

    @Test("the mock broker answers with Nagle's algorithm off: pipelined responses do not wait for the client's delayed ACK")
    func acceptedConnectionsHaveNoDelay() async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("nodelay")
            try fixture.cluster.createTopic(topic, partitions: 2)
            let producer = try fixture.producer()
            defer { producer.close() }
            _ = try producer.send([ProducerRecord(topic: topic, value: bytes("x"), partition: 0)])
            let accepted = Self.acceptedSockets(ports: Set(fixture.cluster.listenerPorts))
            let withNagle = accepted.filter { !$0.noDelay }.count
            #expect(accepted.count > 0, "the producer's connection is accepted by this process's mock broker")
            #expect(withNagle == 0, "every accepted connection inherits TCP_NODELAY from its listener")
        }
    }
}
