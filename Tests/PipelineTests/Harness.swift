import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime
import TestSupport

/// Runs the project's executables as separate OS processes, the way an operator does.
enum Harness {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ executable: String, _ args: [String], timeout: TimeInterval = 600, env: [String: String]? = nil) throws -> Result {
        let p = Process()
        p.executableURL = executable.hasPrefix("/") ? URL(fileURLWithPath: executable) : TestPaths.binDir.appendingPathComponent(executable)
        p.arguments = args
        if let env { p.environment = env }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Drain both pipes while the process runs so it never blocks on a full pipe.
        let outData = LockedData(), errData = LockedData()
        let t1 = Thread { outData.set(out.fileHandleForReading.readDataToEndOfFile()) }
        let t2 = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        t1.start(); t2.start()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if p.isRunning { p.terminate(); Thread.sleep(forTimeInterval: 2) }
        while !outData.done || !errData.done { Thread.sleep(forTimeInterval: 0.01) }
        return Result(status: p.terminationStatus, stdout: outData.string, stderr: errData.string)
    }

    /// `opsctl up …` into a fresh recording directory; returns the result and the directory.
    static func up(_ args: [String], env: [String: String]? = nil) throws -> (Result, URL) {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ops-test-\(UUID().uuidString)")
        let r = try run("opsctl", ["up", "--record", dir.path, "--log-dir", dir.appendingPathComponent("logs").path, "--timeout", "1200"] + args,
                        timeout: 1500, env: env)
        try? r.stdout.write(to: dir.appendingPathComponent("summary.txt"), atomically: true, encoding: .utf8)
        return (r, dir)
    }

    /// Never placed twice: some order accepted, each accepted once and filled at most once (by client order id).
    static func eachOrderOnce(_ dir: URL) throws -> Bool {
        var accepted = [String: Int](), filled = [String: Int]()
        for e in Set(try recorded(dir, Topics.orderEvents)) {
            let p = (try JSONSerialization.jsonObject(with: Data(e.utf8)) as! [String: Any])["payload"] as! [String: Any]
            let id = p["client_order_id"] as! String
            if p["status"] as! String == "accepted" { accepted[id, default: 0] += 1 }
            if p["status"] as! String == "filled" { filled[id, default: 0] += 1 }
        }
        return !accepted.isEmpty && accepted.values.allSatisfy { $0 == 1 } && filled.values.allSatisfy { $0 == 1 }
    }

    /// The lines of a recorded topic as JSON objects without the wall-clock `produced_at`.
    static func recorded(_ dir: URL, _ topic: String) throws -> [String] {
        let text = try String(contentsOf: dir.appendingPathComponent("\(topic).jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            var obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            obj["produced_at"] = nil
            return String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self)
        }
    }

    /// A running embedded broker (`opsctl broker`) for tests that need to reach the topics themselves.
    final class BrokerProcess {
        let process = Process()
        let bootstrap: String
        let control: String

        init(partitions: Int32? = nil) throws {
            process.executableURL = TestPaths.binDir.appendingPathComponent("opsctl")
            process.arguments = ["broker"] + (partitions.map { ["--partitions", String($0)] } ?? [])
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var text = ""
            let deadline = Date().addingTimeInterval(30)
            while !text.contains("CONTROL="), Date() < deadline {
                let d = out.fileHandleForReading.availableData
                if d.isEmpty { Thread.sleep(forTimeInterval: 0.05) } else { text += String(decoding: d, as: UTF8.self) }
            }
            let lines = text.split(separator: "\n").map(String.init)
            guard let b = lines.first(where: { $0.hasPrefix("BOOTSTRAP=") }), let c = lines.first(where: { $0.hasPrefix("CONTROL=") }) else {
                process.terminate()
                throw HarnessError("opsctl broker printed no BOOTSTRAP/CONTROL lines: \(text)")
            }
            bootstrap = String(b.dropFirst(10))
            control = String(c.dropFirst(8))
        }

        var client: KafkaClientConfig { KafkaClientConfig(brokers: bootstrap, clientId: "pipeline-test") }

        /// One control command; returns the answer line.
        func send(_ command: String) throws -> String {
            let parts = control.split(separator: ":")
            let r = try Harness.tcp(host: String(parts[0]), port: Int(parts[1])!, send: command + "\n")
            return r.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }

        deinit { if process.isRunning { process.terminate() } }
    }

    static func tcp(host: String, port: Int, send text: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { throw HarnessError("cannot connect to \(host):\(port)") }
        _ = text.withCString { send(fd, $0, strlen($0), 0) }
        var buf = [UInt8](repeating: 0, count: 4096)
        var out = [UInt8]()
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static let logger = Logger(label: "pipeline-test")

    /// A TCP port nothing listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false
    func set(_ d: Data) { lock.lock(); data = d; finished = true; lock.unlock() }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return finished }
    var string: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}
