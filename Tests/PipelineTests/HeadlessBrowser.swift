import Foundation
import HummingbirdWSClient
import Logging
import Synchronization
import TestSupport

/// A real headless Chromium driven over the Chrome DevTools Protocol (a websocket): evaluate script in the page, take
/// a screenshot. The browser is Debian's `chromium` (the setup script installs it), or `OPS_CHROMIUM`.
final class HeadlessBrowser {
    let process = Process()
    let pageSocket: String
    let profile: URL

    static var executable: String? {
        if let p = ProcessInfo.processInfo.environment["OPS_CHROMIUM"] { return p }
        return ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(url: String) throws {
        guard let exe = Self.executable else { throw HarnessError("no chromium: install it (apt-get install chromium; scripts/setup.sh does) or set OPS_CHROMIUM") }
        profile = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ops-chromium-\(UUID().uuidString)")
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--remote-debugging-port=0",
                             "--remote-allow-origins=*", "--user-data-dir=\(profile.path)", "--window-size=1200,1500", url]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(120)
        while !text.contains("DevTools listening on "), Date() < deadline, process.isRunning {
            let d = err.fileHandleForReading.availableData
            if d.isEmpty { Thread.sleep(forTimeInterval: 0.05) } else { text += String(decoding: d, as: UTF8.self) }
        }
        // Keep draining stderr so the browser never blocks on a full pipe.
        Thread { while !err.fileHandleForReading.availableData.isEmpty {} }.start()
        guard let line = text.split(separator: "\n").first(where: { $0.contains("DevTools listening on ws://") }),
              let port = line.split(separator: ":").dropFirst(2).first.flatMap({ Int($0.prefix { $0.isNumber }) }) else {
            process.terminate()
            throw HarnessError("chromium printed no DevTools address: \(text.suffix(2000))")
        }
        var socket: String?
        while socket == nil, Date() < deadline {
            let targets = (try? JSONSerialization.jsonObject(with: try Self.get(port: port, path: "/json/list")) as? [[String: Any]]) ?? []
            socket = targets.first { $0["type"] as? String == "page" }?["webSocketDebuggerUrl"] as? String
            if socket == nil { Thread.sleep(forTimeInterval: 0.2) }
        }
        guard let socket else { process.terminate(); throw HarnessError("chromium opened no page") }
        pageSocket = socket
    }

    /// A GET on the DevTools HTTP endpoint, whose server keeps the connection open: read the headers, then
    /// Content-Length bytes.
    static func get(port: Int, path: String) throws -> Data {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { throw HarnessError("cannot connect to the DevTools port \(port)") }
        _ = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n".withCString { send(fd, $0, strlen($0), 0) }
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            guard n > 0 else { break }
            out += buf[0..<n]
            let text = String(decoding: out, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { continue }
            let header = text[..<end.lowerBound].lowercased()
            let length = header.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let body = Data(text[end.upperBound...].utf8)
            if body.count >= length { return body }
        }
        throw HarnessError("the DevTools port \(port) closed before answering \(path)")
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: profile)
    }

    /// Sends one DevTools command and returns its `result`.
    func command(_ method: String, _ params: [String: Any]) async throws -> [String: Any] {
        let request = String(decoding: try JSONSerialization.data(withJSONObject: ["id": 1, "method": method, "params": params]), as: UTF8.self)
        let reply = Mutex<String?>(nil)
        var logger = Logger(label: "cdp")
        logger.logLevel = .error
        try await WebSocketClient.connect(url: pageSocket, configuration: .init(maxFrameSize: 64 << 20), logger: logger) { inbound, outbound, _ in
            try await outbound.write(.text(request))
            for try await message in inbound.messages(maxSize: 64 << 20) {
                guard case .text(let s) = message, s.hasPrefix("{\"id\":1,") else { continue }
                reply.withLock { $0 = s }
                break
            }
        }
        guard let text = reply.withLock({ $0 }), let r = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw HarnessError("no DevTools reply to \(method)")
        }
        if let error = r["error"] { throw HarnessError("DevTools \(method): \(error)") }
        return r["result"] as? [String: Any] ?? [:]
    }

    /// The value of a script run in the page (promises awaited).
    func evaluate(_ script: String) async throws -> Any? {
        let r = try await command("Runtime.evaluate", ["expression": script, "returnByValue": true, "awaitPromise": true])
        if let ex = r["exceptionDetails"] { throw HarnessError("script failed: \(ex)") }
        return (r["result"] as? [String: Any])?["value"]
    }

    /// Polls `script` until it is true (a condition, not a sleep: generous timeout, checked every 200 ms).
    func waitUntil(_ script: String, timeout: TimeInterval = 600) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await evaluate(script) as? Bool == true { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    func screenshot(to path: URL) async throws {
        let r = try await command("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
        guard let b64 = r["data"] as? String, let png = Data(base64Encoded: b64) else { throw HarnessError("no screenshot data") }
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try png.write(to: path)
    }
}

extension Harness {
    /// An executable of the project running in the background; its stdout is collected as it comes, its stderr
    /// dropped. Stopped (SIGTERM) by `stop`.
    final class Background: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var output = ""

        init(_ executable: String, _ args: [String], env: [String: String]? = nil, stderr: URL? = nil) throws {
            process.executableURL = TestPaths.binDir.appendingPathComponent(executable)
            process.arguments = args
            if let env { process.environment = env }
            let out = Pipe()
            process.standardOutput = out
            if let stderr {
                _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
                process.standardError = try FileHandle(forWritingTo: stderr)
            } else {
                process.standardError = FileHandle.nullDevice
            }
            try process.run()
            Thread { [weak self] in
                while true {
                    let d = out.fileHandleForReading.availableData
                    if d.isEmpty { return }
                    self?.lock.withLock { self?.output += String(decoding: d, as: UTF8.self) }
                }
            }.start()
        }

        var stdout: String { lock.withLock { output } }
        var isRunning: Bool { process.isRunning }

        /// The first line of stdout holding `text`, waiting for it as long as the process runs (at most `timeout`).
        func waitForLine(containing text: String, timeout: TimeInterval = 120) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let line = stdout.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
                if !process.isRunning { return nil }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return nil
        }

        /// The exit status once it has exited (nil if it still runs after `timeout`).
        func wait(timeout: TimeInterval) -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            return process.isRunning ? nil : process.terminationStatus
        }

        func stop() {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }
}
