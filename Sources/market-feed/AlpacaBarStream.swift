import AlpacaClient
import AlpacaCore
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import OpsModel
import OpsRuntime

/// Alpaca's stock stream (`wss://stream.data.alpaca.markets/v2/iex|sip`): connected → auth → subscribe to the
/// watchlist's bars; each bar goes to the feed. A reconnect (backoff with jitter; longer after 406 "connection limit
/// exceeded", which a half-dead socket can cause for ~90 s) first backfills, over REST, the bars since the last one.
struct AlpacaBarStream: Sendable {
    let url: String
    let tickers: [String]
    let credentials: AlpacaCredentials
    let logger: Logger

    func run(feed: AlpacaFeed) async {
        let backoff = Backoff(baseMs: 1_000, capMs: 60_000)
        var attempt = 0
        var connectedBefore = false
        while !Task.isCancelled {
            let subscribed = OnceFlag()
            let limited = OnceFlag()
            let resumed = connectedBefore
            do {
                try await WebSocketClient.connect(url: url, logger: logger) { inbound, outbound, _ in
                    for try await message in inbound.messages(maxSize: 16 << 20) {
                        let bytes: [UInt8] = switch message {
                        case .text(let s): Array(s.utf8)
                        case .binary(let b): Array(buffer: b)
                        }
                        guard let list = try? Alpaca.decode([Alpaca.StreamMessage].self, from: bytes) else { continue }
                        for m in list {
                            switch m.T {
                            case "success" where m.msg == "connected":
                                let auth = #"{"action":"auth","key":"\#(credentials.keyId)","secret":"\#(credentials.secret)"}"#
                                try await outbound.write(.text(auth))
                            case "success" where m.msg == "authenticated":
                                let symbols = tickers.map { "\"\($0)\"" }.joined(separator: ",")
                                try await outbound.write(.text(#"{"action":"subscribe","bars":[\#(symbols)]}"#))
                            case "subscription":
                                subscribed.set()
                                logger.info("subscribed to bars", metadata: ["alpaca.stream": .string(url), "tickers": .string(tickers.joined(separator: ","))])
                                if resumed { await feed.backfillSinceLastBar() }
                            case "error":
                                if m.code == 406 { limited.set() }
                                throw StreamError.refused(m.code ?? 0, m.msg ?? "")
                            case "b":
                                if let (ticker, wire) = m.bar, let bar = Alpaca.bar(ticker: ticker, wire) { await feed.bar(bar) }
                            default:
                                continue
                            }
                        }
                    }
                }
            } catch {
                logger.warning("stock stream failed", metadata: ["error": .string(String(describing: error)), "alpaca.stream": .string(url)])
            }
            if Task.isCancelled { return }
            if subscribed.isSet { connectedBefore = true; attempt = 0 } else { attempt += 1 }
            let delay = limited.isSet ? 30_000 : backoff.delayMs(attempt: attempt, unit: Double.random(in: 0.2..<1))
            try? await Task.sleep(for: .milliseconds(delay))
        }
    }

    enum StreamError: Error { case refused(Int, String) }

}

extension AlpacaFeed {
    /// After a reconnect: the bars since the last one seen (those behind the watermark are dead-lettered as late).
    func backfillSinceLastBar() async {
        let since = lastBarStart.values.min().map { $0.adding(ms: 60_000) } ?? session?.open
        await backfill(since: since)
    }
}
