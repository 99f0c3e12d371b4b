import AlpacaClient
import AlpacaCore
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import OpsRuntime

/// Alpaca's `trade_updates` websocket: authenticate, listen, hand every update to the gateway. Paper sends JSON
/// in binary frames, so both kinds are read. Alpaca replays nothing after a reconnect, so every (re)connect is
/// followed by the gateway's catch-up listing; reconnects back off with jitter and never give up.
struct TradeUpdatesStream: Sendable {
    let url: String
    let credentials: AlpacaCredentials
    let logger: Logger

    struct Head: Decodable { var stream: String? }
    struct Authorization: Decodable { struct D: Decodable { var status: String? }; var data: D? }
    struct Update: Decodable { var data: Alpaca.TradeUpdate }

    func run(gateway: AlpacaGateway) async {
        let backoff = Backoff(baseMs: 500, capMs: 30_000)
        var attempt = 0
        var hasListened = false   // the first connect follows the startup reconciliation; later ones reconcile again
        while !Task.isCancelled {
            let listened = OnceFlag()
            let resumed = hasListened
            do {
                try await WebSocketClient.connect(url: url, logger: logger) { inbound, outbound, _ in
                    let auth = #"{"action":"authenticate","data":{"key_id":"\#(credentials.keyId)","secret_key":"\#(credentials.secret)"}}"#
                    try await outbound.write(.text(auth))
                    for try await message in inbound.messages(maxSize: 16 << 20) {
                        let bytes: [UInt8] = switch message {
                        case .text(let s): Array(s.utf8)
                        case .binary(let b): Array(buffer: b)
                        }
                        guard let head = try? Alpaca.decode(Head.self, from: bytes) else { continue }
                        switch head.stream {
                        case "authorization":
                            let status = (try? Alpaca.decode(Authorization.self, from: bytes))?.data?.status
                            guard status == "authorized" else { throw StreamError.unauthorized(status ?? "no status") }
                            try await outbound.write(.text(#"{"action":"listen","data":{"streams":["trade_updates"]}}"#))
                        case "listening":
                            listened.set()
                            logger.info("listening to trade_updates", metadata: ["alpaca.stream": .string(url)])
                            await gateway.catchUp()
                            if resumed { await gateway.reconcileHoldings() }
                        case "trade_updates":
                            if let u = try? Alpaca.decode(Update.self, from: bytes) { await gateway.tradeUpdate(u.data) }
                            else { logger.error("unreadable trade update", metadata: ["bytes": .stringConvertible(bytes.count)]) }
                        default:
                            continue
                        }
                    }
                }
            } catch {
                logger.warning("trade_updates stream failed", metadata: ["error": .string(String(describing: error)), "alpaca.stream": .string(url)])
            }
            if Task.isCancelled { return }
            attempt = listened.isSet ? 0 : attempt + 1
            hasListened = hasListened || listened.isSet
            let delay = backoff.delayMs(attempt: attempt, unit: Double.random(in: 0.2..<1))
            logger.info("reconnecting to trade_updates", metadata: ["retry.delay_ms": .stringConvertible(delay)])
            try? await Task.sleep(for: .milliseconds(delay))
        }
    }

    enum StreamError: Error { case unauthorized(String) }

}
