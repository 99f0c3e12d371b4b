import Foundation
import Logging
import Synchronization

/// A flag one thread sets and a polling loop reads.
/// A flag set once from a concurrent context and read after (a websocket handler reporting it got as far as listening).
public final class OnceFlag: Sendable {
    private let value = Atomic<Bool>(false)
    public init() {}
    public func set() { value.store(true, ordering: .releasing) }
    public var isSet: Bool { value.load(ordering: .acquiring) }
}

public final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    public init() {}
    public func stop() { value.store(true, ordering: .releasing) }
    public var isStopped: Bool { value.load(ordering: .acquiring) }
}

/// Runs blocking work on a dedicated thread, never on Swift's cooperative pool, and awaits its result.
public func runOnDedicatedThread<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, Error>) in
        let thread = Thread {
            do { cont.resume(returning: try body()) } catch { cont.resume(throwing: error) }
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }
}

public enum LogSetup {
    /// Bootstraps swift-log once per process (executables only; libraries take a Logger).
    /// `format` "json": one JSON object a line (`JSONLogHandler`); otherwise swift-log's text lines.
    public static func bootstrap(level: String?, format: String? = nil) {
        let lvl = level.flatMap { Logger.Level(rawValue: $0) } ?? .info
        let json = format == "json"
        LoggingSystem.bootstrap { label in
            if json {
                var h = JSONLogHandler(label: label)
                h.logLevel = lvl
                return h
            }
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = lvl
            return h
        }
    }

    public static let levels = Logger.Level.allCases.map(\.rawValue)
    public static let formats = ["text", "json"]
}

/// When started by `opsctl up`, a service exits if its parent goes away, so no orphan keeps running.
public enum ParentWatchdog {
    public static func startIfRequested(logger: Logger) {
        guard let s = ProcessInfo.processInfo.environment["OPS_PARENT_PID"], let parent = Int32(s) else { return }
        let t = Thread {
            while true {
                if getppid() != parent {
                    logger.error("parent process \(parent) is gone; exiting")
                    exit(3)
                }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        t.name = "parent-watchdog"
        t.start()
    }
}

extension Logger {
    public init(service: String) {
        self.init(label: "ops.\(service)")
        self[metadataKey: "pipeline.service"] = .string(service)
    }
}
