import Foundation
import Logging
import Testing
@testable import OpsRuntime

/// Secrets for librdkafka from the environment or a properties file (never the command line), and JSON log lines.
@Suite("Kafka properties from the environment; JSON logs")
struct KafkaSecretsAndLogTests {
    @Test func environmentAndPropertiesFileSitBetweenTheConfigFileAndTheFlags() throws {
        let props = NSTemporaryDirectory() + "ops-kafka-\(UUID().uuidString).properties"
        try "# mounted secret\nsasl.username = trader\nsasl.password=from-file\n\nssl.ca.location=/etc/ca.pem\n".write(toFile: props, atomically: true, encoding: .utf8)
        let env = ["OPS_KAFKA_PROPERTIES_FILE": props, "OPS_KAFKA_SASL_PASSWORD": "from-env", "OPS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"]
        #expect(try KafkaEnvironment.properties(env) == ["sasl.username": "trader", "sasl.password": "from-env", "ssl.ca.location": "/etc/ca.pem",
                                                         "security.protocol": "SASL_SSL"])
        let file = NSTemporaryDirectory() + "ops-config-\(UUID().uuidString).json"
        try #"{"kafka": {"sasl.mechanism": "PLAIN", "sasl.password": "from-config"}}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let c = try ResolvedConfig(keys: ConfigTests.keys, file: file, fileRequired: true, environment: env, flags: [:],
                                   kafkaFlags: ["ssl.ca.location=/flag/ca.pem"])
        #expect(c.kafka["sasl.mechanism"] == "PLAIN", "the config file's")
        #expect(c.kafka["sasl.password"] == "from-env", "the environment over the file")
        #expect(c.kafka["ssl.ca.location"] == "/flag/ca.pem", "the flag over the environment")

        #expect { _ = try KafkaEnvironment.properties(["OPS_KAFKA_PROPERTIES_FILE": "/nonexistent/kafka.properties"]) }
            throws: { ($0 as? ConfigError)?.message.contains("OPS_KAFKA_PROPERTIES_FILE=/nonexistent/kafka.properties") == true }
        try "sasl.password\n".write(toFile: props, atomically: true, encoding: .utf8)
        #expect { _ = try KafkaEnvironment.properties(["OPS_KAFKA_PROPERTIES_FILE": props]) }
            throws: { ($0 as? ConfigError)?.message.contains("line 1: expected key=value") == true }
    }

    @Test func aJSONLogLineIsOneObjectWithTheMessageAndItsMetadata() throws {
        let line = JSONLogHandler.line(time: Date(timeIntervalSince1970: 1_709_560_800.123), level: .warning, label: "ops.dispatcher",
                                       message: "dead letter \"quoted\"", source: "OpsRuntime",
                                       metadata: ["kafka.topic": "trading.orders.v1", "retry.attempt": .stringConvertible(3)])
        #expect(line.hasSuffix("\n") && line.dropLast().contains("\n") == false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["time"] as? String == "2024-03-04T14:00:00.123Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["logger"] as? String == "ops.dispatcher")
        #expect(object["message"] as? String == "dead letter \"quoted\"")
        #expect(object["metadata"] as? [String: String] == ["kafka.topic": "trading.orders.v1", "retry.attempt": "3"])
    }
}
