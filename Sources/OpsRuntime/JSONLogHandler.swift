import Foundation
import Logging
import OpsModel

/// One JSON object per line on standard error (`--log-format json`), for log shippers: `time` (UTC, ms), `level`,
/// `logger`, `message`, `source` and the metadata (the logger's, then the call's) as strings, keys sorted.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    private static let lock = NSLock()

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        Self.lock.lock()
        defer { Self.lock.unlock() }
        FileHandle.standardError.write(Data(Self.line(time: Date(), level: event.level, label: label, message: event.message.description,
                                                      source: event.source, metadata: metadata.merging(event.metadata ?? [:]) { $1 }).utf8))
    }

    /// The line for one event (newline included).
    static func line(time: Date, level: Logger.Level, label: String, message: String, source: String, metadata: Logger.Metadata) -> String {
        var object: [String: Any] = ["time": Timestamp(ms: Int64((time.timeIntervalSince1970 * 1000).rounded())).iso8601,
                                     "level": level.rawValue, "logger": label, "message": message, "source": source]
        if !metadata.isEmpty { object["metadata"] = metadata.mapValues { "\($0)" } }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
