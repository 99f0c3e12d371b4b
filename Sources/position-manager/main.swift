import ArgumentParser
import Foundation
import OpsModel
import OpsRuntime
import PositionCore

/// position-manager: fills and chains → positions (opened, marked, closed) and exit orders.
@main
struct PositionManager: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "position-manager",
        abstract: "Opens positions from entry fills, marks them from chains and exits them by rule (stop, target, day-trade close, expiration).",
        discussion: "Reads \(Topics.fills), \(Topics.orderEvents), \(Topics.chains); writes \(Topics.positions) and exit orders to \(Topics.orders). Rules: the 'exits' section of config/trading_params.json.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await StreamServiceMain.run(service: PositionManagerCore.name, options: options, keys: [ServiceOptions.tradingParamsKey]) { config in
            PositionManagerCore(params: try config.tradingParams())
        }
    }
}
