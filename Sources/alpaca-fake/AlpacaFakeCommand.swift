import AlpacaFakeCore
import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import MarketData
import NIOCore
import OpsModel

@main
struct AlpacaFakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alpaca-fake",
        abstract: "A fake Alpaca (trading REST, market data REST, trade_updates and stock websockets, fault injection) for tests and demos.")

    @Option(help: "Port to listen on (0: any free port).") var port = 0
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Write the bound port to this file once listening.") var portFile: String?
    @Option(help: "Accepted APCA-API-KEY-ID (default env APCA_API_KEY_ID; none: any non-empty pair).") var keyID: String?
    @Option(help: "Accepted APCA-API-SECRET-KEY (default env APCA_API_SECRET_KEY).") var secretKey: String?
    @Option(help: "Requests per minute per key (0: no limit).") var rateLimit = 200
    @Option(help: "Starting cash in dollars.") var cash = "100000"
    @Option(help: "Synthetic market tickers: all, a count, or SYM,SYM…") var tickers = "SPY,QQQ,AAPL"
    @Option(help: "Synthetic market seed.") var seed: UInt64 = 42
    @Option(help: "Clock: wall, or START[@ANCHOR][xSPEED] (default env OPS_CLOCK).") var clock: String?
    @Flag(help: "Send trade_updates as text frames (default: binary, as paper Alpaca).") var textFrames = false
    @Option(help: "Fill model: marketable (a buy limit fills at the ask once ask ≤ limit) or mid (a limit at or through the mid fills, as the simulator's limit model).") var fillModel = "marketable"
    @Option(help: "Append one JSON line per API request to this file.") var requestLog: String?
    @Option(help: "How long a timeout_after_accept fault holds a request, seconds.") var holdSeconds = 300

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let wallNow = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let liveClock = try LiveClock(spec: clock ?? env["OPS_CLOCK"] ?? "wall", wallNowMs: wallNow)
        guard ["marketable", "mid"].contains(fillModel) else { throw ValidationError("--fill-model takes marketable or mid; got '\(fillModel)'") }
        guard let cashCents = Money.cents(dollars: cash) else { throw ValidationError("--cash must be dollars, e.g. 100000") }
        let config = FakeAlpacaConfig(keyID: keyID ?? env["APCA_API_KEY_ID"], secretKey: secretKey ?? env["APCA_API_SECRET_KEY"],
                                      rateLimit: rateLimit, cashCents: cashCents, seed: seed,
                                      tickers: try SyntheticTicker.pick(tickers), clock: liveClock, fillAtMid: fillModel == "mid")
        let log = try requestLog.map { path -> FileHandle in
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            h.seekToEndOfFile()
            return h
        }
        let fakeHost = FakeHost(fake: FakeAlpaca(config: config), textFrames: textFrames, requestLog: log)
        var logger = Logger(label: "alpaca-fake")
        logger.logLevel = .warning
        let portFile = self.portFile, bindHost = host
        let app = Application(
            responder: FakeResponder(host: fakeHost, holdSeconds: holdSeconds),
            server: .http1WebSocketUpgrade(webSocketRouter: webSocketRouter(host: fakeHost)),
            configuration: .init(address: .hostname(host, port: port), serverName: "alpaca-fake"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                if let portFile { try? "\(bound)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
                FileHandle.standardOutput.write(Data("alpaca-fake listening on \(bindHost):\(bound)\n".utf8))
                // The listening socket closes when shutdown begins: end streams and held requests so it can finish.
                channel.closeFuture.whenComplete { _ in Task { await fakeHost.stop() } }
            },
            logger: logger)
        let ticker = Task {
            while !(await fakeHost.isStopped) {
                await fakeHost.tick()
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        try await app.runService()
        await fakeHost.stop()
        ticker.cancel()
    }
}
