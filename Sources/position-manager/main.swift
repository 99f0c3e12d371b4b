import ArgumentParser
import Foundation
import OpsModel
import OpsRuntime
import Pipeline

/// position-manager: fills, bars and chains → positions (opened, marked, exit_requested, closed) and exit orders.
@main
struct PositionManager: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "position-manager",
        abstract: "Opens positions from entry fills (options and stock), marks them from chains and bars, exits them by rule (stop, target, day-trade close, expiration) with a repriced sell, and closes them on exit fills or expiry settlement.",
        discussion: "Reads \(Topics.fills), \(Topics.bars), \(Topics.chains), \(Topics.orderEvents); writes \(Topics.positions) and exit orders to \(Topics.orders). Rules: the 'exits' section of config/trading_params.json (reprice_steps, stock_stop_loss_pct, stock_profit_target_pct among them).")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceGraph.positionManager.main(options: options)
    }
}
