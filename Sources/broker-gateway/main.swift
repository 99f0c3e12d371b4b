import ArgumentParser
import BrokerCore
import Foundation
import OpsModel
import OpsRuntime

/// broker-gateway: order commands → order events, fills and account snapshots, from a broker behind the same topics.
@main
struct BrokerGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker-gateway",
        abstract: "Executes order commands on a broker: the simulated paper broker (sim) for now.",
        discussion: """
        Reads \(Topics.orders), \(Topics.chains) and \(Topics.bars); writes \(Topics.orderEvents), \(Topics.fills), \
        \(Topics.accounts). The simulator fills option orders against the quotes and stock orders against the bars after \
        the order's time (execution.fill_model, default limit: an unchanged quote fills a limit at the mid at that limit, \
        never outside the quote), in pieces of at most execution.max_fill_per_quote contracts; cancels unfilled entries \
        after execution.entry_ttl_minutes and day orders after the session's close; settles options at their expiration \
        day's close. Commissions and fees come from the 'execution' section of config/trading_params.json.
        """)

    @OptionGroup var options: ServiceOptions
    @Option(help: "Broker: sim (simulated paper trading). Alpaca paper and live come behind the same topics later.")
    var broker: String = "sim"
    @Option(help: "Starting cash of the simulated account, in dollars.")
    var accountSize: String?

    func validate() throws {
        guard broker == "sim" else { throw ValidationError("--broker \(broker) is not available yet; use --broker sim") }
        if let accountSize, Self.cents(accountSize) == nil { throw ValidationError("--account-size takes dollars, e.g. 1000 or 25000.50; got '\(accountSize)'") }
    }

    static func cents(_ dollars: String) -> Cents? { Money.cents(dollars: dollars).flatMap { $0 > 0 ? $0 : nil } }

    func run() async throws {
        var options = self.options
        if let accountSize { options.set.append("account_size=\(accountSize)") }
        let keys = [ServiceOptions.tradingParamsKey, ConfigKey("account_size", .string, default: "100000", help: "starting cash in dollars")]
        try await StreamServiceMain.run(service: SimulatedBroker.name, options: options, keys: keys) { config in
            let size = config.string("account_size") ?? "100000"
            guard let cents = Self.cents(size) else { throw ConfigError("config key 'account_size' must be dollars > 0, got '\(size)'") }
            let params = try config.tradingParams()
            return SimulatedBroker(params: params, accountId: params.account.accountId, startingCashCents: cents)
        }
    }
}
