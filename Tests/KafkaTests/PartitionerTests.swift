import Foundation
import Kafka
import Testing

/// `KafkaPartitioner` names the partition librdkafka itself picks for a keyed record.
@Suite("Partitioner")
struct PartitionerTests {
    @Test("each key partitioner agrees with where librdkafka puts 300 keyed records on 7 partitions",
          arguments: ["consistent_random", "consistent", "murmur2_random", "murmur2", "fnv1a_random", "fnv1a"])
    func agreesWithLibrdkafka(name: String) async throws {
        try await onThread {
            let fixture = try Fixture()
            defer { fixture.cluster.close() }
            let topic = uniqueName("keyed")
            try fixture.cluster.createTopic(topic, partitions: 7)
            var config = KafkaProducerConfig(client: fixture.client("producer"))
            config.properties["partitioner"] = name
            let producer = try KafkaProducer(config: config, logger: fixture.logger)
            defer { producer.close() }
            let keys = (0..<300).map { bytes("T\($0 * 7919)") } + [bytes("SPY"), bytes("QQQ"), bytes("sim-1"), bytes("pos-dc472cbf34")]
            let reports = try producer.send(keys.map { ProducerRecord(topic: topic, key: $0, value: bytes("v")) })
            let partitioner = try #require(KafkaPartitioner(config))
            #expect(partitioner.name == name)
            let predicted = keys.map { partitioner.partition(key: $0, count: 7) }
            #expect(reports.map(\.partition) == predicted)
            #expect(Set(predicted).count == 7, "300 keys spread over every partition")
        }
    }

    @Test("librdkafka's default is named when nothing is set; a random or unknown partitioner has no answer")
    func defaultsAndRefusals() {
        let client = KafkaClientConfig(brokers: "localhost:9092", clientId: "t")
        #expect(KafkaPartitioner(KafkaProducerConfig(client: client))?.name == "consistent_random")
        var random = KafkaProducerConfig(client: client)
        random.properties["partitioner"] = "random"
        #expect(KafkaPartitioner(random) == nil)
        #expect(KafkaPartitioner(name: "crc64") == nil)
        // The consistent and murmur2 hashes differ (else the agreement test above would not tell them apart).
        let keys = (0..<50).map { bytes("K\($0)") }
        #expect(keys.map { KafkaPartitioner(name: "consistent")!.partition(key: $0, count: 7) }
                != keys.map { KafkaPartitioner(name: "murmur2")!.partition(key: $0, count: 7) })
    }
}
