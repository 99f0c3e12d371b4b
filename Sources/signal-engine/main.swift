import ArgumentParser
import Foundation
import OpsModel
import OpsRuntime
import Pipeline

/// signal-engine: feature vectors → trade signals with a rule-by-rule confidence breakdown, confirmed by momentum and
/// kept out of ranging markets (chop filter).
@main
struct SignalEngine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal-engine",
        abstract: "Turns feature vectors into BULL/BEAR signals (trend, volume surge, breakout, momentum, sentiment; chop filter).",
        discussion: """
        Reads \(Topics.features); writes \(Topics.signals). Thresholds: the 'signals' section of config/trading_params.json \
        (or --set trading_params=PATH): momentum_mode required|bonus, chop_slope_max, chop_lookback, chop_max_crosses among them.
        """)

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceGraph.signalEngine.main(options: options)
    }
}
