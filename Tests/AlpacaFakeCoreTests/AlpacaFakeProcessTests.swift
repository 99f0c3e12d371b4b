import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport
@testable import AlpacaFakeCore

/// The built `alpaca-fake` executable, end to end over HTTP.
@Suite struct AlpacaFakeProcessTests {
    /// Starts the fake and reads the port from its one stdout line.
    static func start() throws -> (Process, Int) {
        let p = Process()
        p.executableURL = TestPaths.binDir.appendingPathComponent("alpaca-fake")
        p.arguments = ["--clock", "2024-03-05T10:00:00-05:00", "--key-id", "key", "--secret-key", "secret", "--tickers", "SPY"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        #expect(line.hasPrefix("alpaca-fake listening on 127.0.0.1:"))
        return (p, Int(line.split(separator: ":").last ?? "") ?? 0)
    }

    static func call(_ port: Int, _ method: String, _ path: String, body: String? = nil, auth: Bool = true) async throws -> (Int, JSON?) {
        var r = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        r.httpMethod = method
        if auth {
            r.setValue("key", forHTTPHeaderField: "APCA-API-KEY-ID")
            r.setValue("secret", forHTTPHeaderField: "APCA-API-SECRET-KEY")
        }
        r.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await URLSession.shared.data(for: r)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, JSON.parse(Array(data)))
    }

    @Test func placesAnOrderAndReadsItBack() async throws {
        let (process, port) = try Self.start()
        defer { if process.isRunning { process.terminate() } }
        #expect(port > 0)
        let symbol = "SPY240305C00500000"
        _ = try await Self.call(port, "POST", "/control/quote", body: "{\"symbol\":\"\(symbol)\",\"bid\":\"1.10\",\"ask\":\"1.20\"}", auth: false)
        let order = "{\"symbol\":\"\(symbol)\",\"qty\":\"2\",\"side\":\"buy\",\"type\":\"limit\",\"limit_price\":\"1.20\","
            + "\"time_in_force\":\"day\",\"client_order_id\":\"proc-1\",\"position_intent\":\"buy_to_open\"}"
        let (status, posted) = try await Self.call(port, "POST", "/v2/orders", body: order)
        #expect(status == 200)
        #expect(posted?["status"]?.string == "accepted")
        let (getStatus, got) = try await Self.call(port, "GET", "/v2/orders:by_client_order_id?client_order_id=proc-1")
        #expect(getStatus == 200)
        #expect(got?["status"]?.string == "filled")
        #expect(got?["filled_avg_price"]?.string == "1.2")
        let (unauthorized, _) = try await Self.call(port, "GET", "/v2/account", auth: false)
        #expect(unauthorized == 401)
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
