import ArgumentParser
import Foundation
import Kafka

/// librdkafka properties from the environment, so secrets never need the command line: `OPS_KAFKA_SASL_PASSWORD=…` sets
/// `sasl.password` (any property: `OPS_KAFKA_` + its name upper-cased, dots as underscores; librdkafka's names have no
/// underscores), and `OPS_KAFKA_PROPERTIES_FILE` names a file of `key=value` lines (`#` comments), e.g. a mounted secret.
/// The file comes first, the variables over it.
public enum KafkaEnvironment {
    public static let prefix = "OPS_KAFKA_"
    public static let fileVariable = "OPS_KAFKA_PROPERTIES_FILE"

    public static func properties(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String: String] {
        var out = [String: String]()
        if let path = environment[fileVariable], !path.isEmpty {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError("\(fileVariable)=\(path): cannot read the file (a file of librdkafka key=value lines)")
            }
            for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                guard let eq = line.firstIndex(of: "="), eq != line.startIndex else {
                    throw ConfigError("\(path) line \(n + 1): expected key=value (a librdkafka property), got '\(line)'")
                }
                out[line[..<eq].trimmingCharacters(in: .whitespaces)] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            }
        }
        for (name, value) in environment where name.hasPrefix(prefix) && name != fileVariable {
            out[name.dropFirst(prefix.count).lowercased().replacingOccurrences(of: "_", with: ".")] = value
        }
        return out
    }

    /// `key=value` command-line properties (`--kafka`), over the environment's.
    public static func merged(flags: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String: String] {
        var out = try properties(environment)
        for kv in flags {
            guard let eq = kv.firstIndex(of: "="), eq != kv.startIndex else {
                throw ConfigError("--kafka expects KEY=VALUE (e.g. --kafka security.protocol=SASL_SSL), got '\(kv)'")
            }
            out[String(kv[..<eq])] = String(kv[kv.index(after: eq)...])
        }
        return out
    }
}

/// How an opsctl command or the market-feed reaches Kafka: the same `--brokers` and `--kafka key=value` as the
/// services, plus the environment's properties and secrets (`KafkaEnvironment`).
public struct KafkaConnection: ParsableArguments, Sendable {
    @Option(help: "Kafka bootstrap servers, host:port[,host:port…] (env OPS_BROKERS).")
    public var brokers: String?
    @Option(name: .customLong("kafka"), help: ArgumentHelp("A librdkafka property, e.g. --kafka security.protocol=SASL_SSL (repeatable; secrets: OPS_KAFKA_SASL_PASSWORD or OPS_KAFKA_PROPERTIES_FILE).", valueName: "key=value"))
    public var kafka: [String] = []

    public init() {}

    public var bootstrap: String? {
        if let brokers { return brokers }
        if let env = ProcessInfo.processInfo.environment["OPS_BROKERS"], !env.isEmpty { return env }
        return nil
    }

    public func client(id: String) throws -> KafkaClientConfig {
        guard let b = bootstrap else {
            throw ValidationError("no broker given: pass --brokers HOST:PORT (or set OPS_BROKERS); `opsctl up` prints the embedded broker's address")
        }
        do { return KafkaClientConfig(brokers: b, clientId: id, additional: try KafkaEnvironment.merged(flags: kafka)) } catch let e as ConfigError {
            throw ValidationError(e.message)
        }
    }
}
