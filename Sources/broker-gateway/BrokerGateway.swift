import ArgumentParser
import BrokerCore
import Foundation
import OpsModel
import OpsRuntime
import Pipeline

/// broker-gateway: order commands → order events, fills and account snapshots, from a broker behind the same topics.
@main
struct BrokerGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker-gateway",
        abstract: "Executes order commands on a broker: the simulator (sim), or Alpaca (alpaca-paper, alpaca-live).",
        discussion: """
        Reads \(Topics.orders), \(Topics.chains) and \(Topics.bars); writes \(Topics.orderEvents), \(Topics.fills), \
        \(Topics.accounts). The simulator fills option orders against the quotes and stock orders against the bars after \
        the order's time (execution.fill_model, default limit: an unchanged quote fills a limit at the mid at that limit, \
        never outside the quote), in pieces of at most execution.max_fill_per_quote contracts; cancels unfilled entries \
        after execution.entry_ttl_minutes and day orders after the session's close; settles options at their expiration \
        day's close. Commissions and fees come from the 'execution' section of config/trading_params.json.

        With --broker alpaca-paper (or alpaca-live) the same topics are served by an Alpaca account: each order command \
        is placed once with POST /v2/orders under its deterministic client order id (after any doubt — a timeout, 5xx, \
        429 or lost connection — the id is looked up before anything is sent again); the trade_updates websocket becomes \
        order events and fills, stamped with the receive time on the live clock; account snapshots come from \
        GET /v2/account every minute and after fills; at startup the topics are reconciled with Alpaca's orders, \
        positions and option activities. Keys come from APCA_API_KEY_ID / APCA_API_SECRET_KEY or an owner-only \
        --alpaca-secrets-file, never a flag. alpaca-live also needs --confirm-live I-UNDERSTAND-REAL-MONEY.
        """)

    @OptionGroup var options: ServiceOptions
    @Option(help: "Broker: sim (simulated paper trading), alpaca-paper, alpaca-live.")
    var broker: String = "sim"
    @Option(help: "Alpaca trading API base URL (config alpaca_trading_url; default by --broker).")
    var alpacaTradingUrl: String?
    @Option(help: "Alpaca market-data API base URL (config alpaca_data_url).")
    var alpacaDataUrl: String?
    @Option(help: "Alpaca trade_updates websocket URL (config alpaca_stream_url; default: the trading host's /stream).")
    var alpacaStreamUrl: String?
    @Option(help: "File holding APCA_API_KEY_ID=… and APCA_API_SECRET_KEY=… (mode 600); else the environment.")
    var alpacaSecretsFile: String?
    @Option(help: "Live clock: wall, or START[@ANCHOR][xSPEED] (env OPS_CLOCK).")
    var clock: String?
    @Option(help: "Bounded runs on Alpaca: after this clock instant no periodic watermarks or snapshots (config until).")
    var until: String?
    @Option(help: "Required with --broker alpaca-live: the phrase I-UNDERSTAND-REAL-MONEY.")
    var confirmLive: String?
    @Option(help: "Starting cash of the simulated account, in dollars.")
    var accountSize: String?

    func validate() throws {
        guard ["sim", "alpaca-paper", "alpaca-live"].contains(broker) else {
            throw ValidationError("--broker takes sim, alpaca-paper or alpaca-live; got '\(broker)'")
        }
        if broker == "sim", alpacaTradingUrl != nil || alpacaStreamUrl != nil || alpacaSecretsFile != nil || confirmLive != nil || until != nil || clock != nil {
            throw ValidationError("--alpaca-*, --clock, --until and --confirm-live go with --broker alpaca-paper or alpaca-live")
        }
        if let accountSize, Self.cents(accountSize) == nil { throw ValidationError("--account-size takes dollars, e.g. 1000 or 25000.50; got '\(accountSize)'") }
    }

    static func cents(_ dollars: String) -> Cents? { Money.cents(dollars: dollars).flatMap { $0 > 0 ? $0 : nil } }

    func run() async throws {
        if broker != "sim" {
            var options = self.options
            for (key, value) in [("alpaca_trading_url", alpacaTradingUrl), ("alpaca_data_url", alpacaDataUrl), ("alpaca_stream_url", alpacaStreamUrl),
                                 ("alpaca_secrets_file", alpacaSecretsFile), ("clock", clock), ("until", until)] {
                if let value { options.set.append("\(key)=\(value)") }
            }
            return try await AlpacaGatewayMain.run(broker: broker, options: options, confirmLive: confirmLive)
        }
        var options = self.options
        if let accountSize { options.set.append("account_size=\(accountSize)") }
        try await ServiceGraph.brokerGateway.main(options: options)
    }
}
