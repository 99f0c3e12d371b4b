import Foundation
import Testing
@testable import OpsRuntime

@Suite("Layered config")
struct ConfigTests {
    static let keys = ServiceOptions.commonKeys + [ConfigKey("slope_lookback", .int, default: "5", help: "")]

    func file(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "ops-config-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func precedenceIsDefaultsFileEnvironmentFlags() throws {
        let f = try file(#"{"slope_lookback": 7, "brokers": "file:1", "kafka": {"security.protocol": "SASL_SSL"}, "_comment": "ok"}"#)
        let c = try ResolvedConfig(keys: Self.keys, file: f, fileRequired: true, environment: ["OPS_BROKERS": "env:2"],
                                   flags: ["batch_size": "50"], kafkaFlags: ["sasl.mechanism=PLAIN"])
        #expect(c.int("slope_lookback") == 7)
        #expect(c.string("brokers") == "env:2")
        #expect(c.int("batch_size") == 50)
        #expect(c.string("log_level") == "info")
        #expect(c.kafka == ["security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"])
    }

    @Test("the cooperative assignment protocol is refused at startup by name; the eager ones pass")
    func cooperativeAssignmentRefused() throws {
        func config(_ strategy: String) throws -> ResolvedConfig {
            try ResolvedConfig(keys: Self.keys, file: nil, fileRequired: false, environment: [:], flags: [:],
                               kafkaFlags: ["partition.assignment.strategy=\(strategy)"])
        }
        #expect { try config("cooperative-sticky").refuseCooperativeAssignment() }
            throws: { ($0 as? ConfigError)?.message.contains("partition.assignment.strategy=cooperative-sticky is not supported") == true }
        try config("range,roundrobin").refuseCooperativeAssignment()
        let snapshots = try ResolvedConfig(keys: Self.keys, file: nil, fileRequired: false, environment: [:], flags: ["snapshot_minutes": "-5"], kafkaFlags: [])
        #expect { _ = try snapshots.int("snapshot_minutes", in: 0...10_080) } throws: { ($0 as? ConfigError)?.message.contains("snapshot_minutes") == true }
    }

    @Test func unknownKeysAndBadValuesFailNamingTheKey() throws {
        let f = try file(#"{"slope_lookbak": 7}"#)
        #expect { _ = try ResolvedConfig(keys: Self.keys, file: f, fileRequired: true, environment: [:], flags: [:], kafkaFlags: []) }
            throws: { ($0 as? ConfigError)?.message.contains("unknown key 'slope_lookbak'") == true }
        #expect { _ = try ResolvedConfig(keys: Self.keys, file: nil, fileRequired: false, environment: ["OPS_SLOPE_LOOKBACK": "ten"], flags: [:], kafkaFlags: []) }
            throws: { ($0 as? ConfigError)?.message.contains("'slope_lookback'") == true }
        #expect { _ = try ResolvedConfig(keys: Self.keys, file: nil, fileRequired: false, environment: [:], flags: ["log_level": "loud"], kafkaFlags: []) }
            throws: { ($0 as? ConfigError)?.message.contains("must be one of") == true }
        #expect { _ = try ResolvedConfig(keys: Self.keys, file: "/nonexistent.json", fileRequired: true, environment: [:], flags: [:], kafkaFlags: []) }
            throws: { ($0 as? ConfigError)?.message.contains("does not exist") == true }
        #expect { _ = try ResolvedConfig(keys: Self.keys, file: nil, fileRequired: false, environment: [:], flags: [:], kafkaFlags: ["novalue"]) }
            throws: { ($0 as? ConfigError)?.message.contains("--kafka expects KEY=VALUE") == true }
        let c = try ResolvedConfig(keys: Self.keys, file: nil, fileRequired: false, environment: [:], flags: ["slope_lookback": "0"], kafkaFlags: [])
        #expect { _ = try c.int("slope_lookback", in: 1...390) } throws: { ($0 as? ConfigError)?.message.contains("slope_lookback") == true }
    }
}
