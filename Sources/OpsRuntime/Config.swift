import Foundation

/// A configuration problem, always naming the key and where its value came from, and what to do instead.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One configuration key a service reads.
public struct ConfigKey: Sendable {
    public enum Kind: String, Sendable { case string, int, double, bool }
    public var name: String
    public var kind: Kind
    public var defaultValue: String?
    public var help: String
    /// Allowed values, for enumerations.
    public var choices: [String]?
    public init(_ name: String, _ kind: Kind, default defaultValue: String?, help: String, choices: [String]? = nil) {
        self.name = name; self.kind = kind; self.defaultValue = defaultValue; self.help = help; self.choices = choices
    }

    /// The environment variable that sets it: `OPS_` + upper-cased name with `.` and `-` as `_`.
    public var environmentName: String {
        "OPS_" + name.uppercased().replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_")
    }
}

/// Layered configuration: built-in defaults < JSON file < environment (`OPS_*`) < command-line flags.
///
/// The file is `config/<service>.json` (when present) or the file given by `--config`. A key the service does not
/// know, in the file or in a `--set`, fails startup with the key's name; so does a value of the wrong type.
/// Properties for librdkafka go under `"kafka": {…}` in the file, `OPS_KAFKA_*` variables or a properties file
/// (`KafkaEnvironment`, for secrets) or `--kafka key=value` on the command line, and are passed through untouched
/// (`security.protocol`, `sasl.*`, …).
public struct ResolvedConfig: Sendable {
    public private(set) var values: [String: String] = [:]
    public private(set) var origins: [String: String] = [:]
    public private(set) var kafka: [String: String] = [:]
    public let keys: [String: ConfigKey]

    public init(keys: [ConfigKey], file: String?, fileRequired: Bool, environment: [String: String],
                flags: [String: String], kafkaFlags: [String]) throws {
        var map = [String: ConfigKey]()
        for k in keys { map[k.name] = k }
        self.keys = map
        for k in keys { if let d = k.defaultValue { set(k.name, d, "default") } }
        if let file {
            if FileManager.default.fileExists(atPath: file) {
                try loadFile(file)
            } else if fileRequired {
                throw ConfigError("config file '\(file)' does not exist (pass --config PATH to an existing JSON file)")
            }
        }
        for k in keys { if let v = environment[k.environmentName] { try check(k, v, "environment \(k.environmentName)"); set(k.name, v, "environment \(k.environmentName)") } }
        for (name, v) in flags.sorted(by: { $0.key < $1.key }) {
            guard let k = map[name] else {
                throw ConfigError("unknown config key '\(name)' on the command line (known keys: \(keys.map(\.name).sorted().joined(separator: ", ")))")
            }
            try check(k, v, "command line")
            set(name, v, "command line")
        }
        // Over the file: the environment's properties and secrets (OPS_KAFKA_*), then --kafka flags.
        kafka.merge(try KafkaEnvironment.merged(flags: kafkaFlags, environment: environment)) { $1 }
    }

    private mutating func set(_ k: String, _ v: String, _ origin: String) { values[k] = v; origins[k] = origin }

    private mutating func loadFile(_ path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ConfigError("cannot read config file '\(path)': \(error.localizedDescription)")
        }
        let dict: [String: ConfigJSON]
        do { dict = try JSONDecoder().decode([String: ConfigJSON].self, from: data) } catch {
            throw ConfigError("config file '\(path)' is not a JSON object: \(error)")
        }
        for (name, raw) in dict.sorted(by: { $0.key < $1.key }) {
            if name == "kafka" {
                guard case .object(let props) = raw else { throw ConfigError("\(path): key 'kafka' must be an object of librdkafka properties") }
                for (p, v) in props { kafka[p] = v.text ?? "" }
                continue
            }
            if name.hasPrefix("_") { continue } // comments
            guard let k = keys[name] else {
                throw ConfigError("\(path): unknown key '\(name)' (known keys: \(keys.keys.sorted().joined(separator: ", ")))")
            }
            if case .null = raw { values[name] = nil; origins[name] = path; continue }
            guard let text = raw.text else { throw ConfigError("\(path): key '\(name)' must be a \(k.kind.rawValue)") }
            try check(k, text, path)
            set(name, text, path)
        }
    }

    private func check(_ k: ConfigKey, _ v: String, _ origin: String) throws {
        let ok: Bool
        switch k.kind {
        case .string: ok = true
        case .int: ok = Int(v) != nil
        case .double: ok = Double(v).map(\.isFinite) ?? false
        case .bool: ok = ["true", "false", "1", "0"].contains(v.lowercased())
        }
        guard ok else { throw ConfigError("config key '\(k.name)' from \(origin) must be a \(k.kind.rawValue), got '\(v)'") }
        if let choices = k.choices, !choices.contains(v) {
            throw ConfigError("config key '\(k.name)' from \(origin) must be one of \(choices.joined(separator: "|")), got '\(v)'")
        }
    }

    public func string(_ k: String) -> String? { values[k] }
    public func int(_ k: String) -> Int? { values[k].flatMap { Int($0) } }
    public func double(_ k: String) -> Double? { values[k].flatMap { Double($0) } }
    public func bool(_ k: String) -> Bool? { values[k].map { ["true", "1"].contains($0.lowercased()) } }

    public func require(_ k: String) throws -> String {
        guard let v = values[k], !v.isEmpty else {
            throw ConfigError("config key '\(k)' is required: set it in the config file, as \(keys[k]?.environmentName ?? k), or with its flag")
        }
        return v
    }

    /// Checks a value against a range, naming the key.
    public func int(_ k: String, in range: ClosedRange<Int>) throws -> Int {
        let v = try Int(require(k))!
        guard range.contains(v) else { throw ConfigError("config key '\(k)' (from \(origins[k] ?? "?")) must be in \(range), got \(v)") }
        return v
    }
}

/// Just enough JSON to read a config file.
enum ConfigJSON: Decodable {
    case string(String), number(Double), bool(Bool), null, object([String: ConfigJSON]), array([ConfigJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .number(Double(i)) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let o = try? c.decode([String: ConfigJSON].self) { self = .object(o) }
        else { self = .array(try c.decode([ConfigJSON].self)) }
    }

    var text: String? {
        switch self {
        case .string(let s): s
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): b ? "true" : "false"
        default: nil
        }
    }
}
