import Foundation

/// A child OS process started by `opsctl up`, with its stderr (its log) in a file.
final class Child: @unchecked Sendable {
    let name: String
    let executable: String
    let arguments: [String]
    let logPath: String
    let process = Process()
    private let stdoutPipe: Pipe?
    private var stdoutBuffer = [UInt8]()

    init(name: String, executable: String, arguments: [String], logPath: String, captureStdout: Bool) throws {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.logPath = logPath
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw UpError("\(name): executable \(executable) not found; build first (swift build) or set OPS_BIN_DIR")
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["OPS_PARENT_PID"] = String(getpid())
        process.environment = env
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        process.standardError = log
        if captureStdout {
            let p = Pipe()
            process.standardOutput = p
            stdoutPipe = p
        } else {
            process.standardOutput = log
            stdoutPipe = nil
        }
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var exitStatus: Int32 { process.terminationStatus }
    var wasSignalled: Bool { process.terminationReason == .uncaughtSignal }
    var exitDescription: String {
        if isRunning { return "running" }
        return wasSignalled ? "killed by signal \(exitStatus)" : "exit \(exitStatus)"
    }

    /// Reads stdout lines until one satisfies `match` (or the process ends / the timeout passes).
    func readLine(timeout: TimeInterval, where match: (String) -> Bool) -> String? {
        guard let h = stdoutPipe?.fileHandleForReading else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            while let nl = stdoutBuffer.firstIndex(of: 10) {
                let line = String(decoding: stdoutBuffer[..<nl], as: UTF8.self)
                stdoutBuffer.removeSubrange(...nl)
                if match(line) { return line }
            }
            let chunk = h.availableData
            if chunk.isEmpty { if !isRunning { return nil }; Thread.sleep(forTimeInterval: 0.05); continue }
            stdoutBuffer += chunk
        }
        return nil
    }

    /// Everything left on stdout (after the process has ended).
    func remainingStdout() -> String {
        guard let h = stdoutPipe?.fileHandleForReading else { return "" }
        let rest = stdoutBuffer + Array(h.readDataToEndOfFile())
        stdoutBuffer = []
        return String(decoding: rest, as: UTF8.self)
    }

    private var terminated = false
    /// SIGTERM, once: a second one could cut short the graceful stop the first began.
    func terminate() {
        guard isRunning, !terminated else { return }
        terminated = true
        kill(pid, SIGTERM)
    }
    func killNow() { if isRunning { kill(pid, SIGKILL) } }

    @discardableResult
    func wait(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return !isRunning
    }

    /// SIGTERM, then SIGKILL if it has not ended within `grace` seconds.
    func stop(grace: TimeInterval) {
        terminate()
        if !wait(timeout: grace) { killNow(); wait(timeout: 5) }
    }

    /// SIGTERM to every one at once (each shuts down on its own: leaves its group, writes a last snapshot), then
    /// SIGKILL to any not ended within its `grace` seconds.
    static func stopAll(_ children: [Child], grace: (Child) -> TimeInterval) {
        for c in children { c.terminate() }
        for c in children where !c.wait(timeout: grace(c)) { c.killNow(); c.wait(timeout: 5) }
    }

    /// A new process with the same command line (a supervisor's restart).
    func restarted() throws -> Child {
        try Child(name: name, executable: executable, arguments: arguments, logPath: logPath, captureStdout: stdoutPipe != nil)
    }
}

struct UpError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
