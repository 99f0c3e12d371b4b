import ArgumentParser
import Foundation
import OpsModel
import OpsRuntime
import Pipeline

/// watchlist-engine: option chains, sentiment and feature vectors → the ranked watchlist and its top-N set.
@main
struct WatchlistEngine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watchlist-engine",
        abstract: "Ranks tickers by sentiment momentum, liquidity, technical setup and volatility (seed 004 §5) and publishes the top N.",
        discussion: """
        Reads \(Topics.sentiment), \(Topics.chains) and \(Topics.features); writes \(Topics.watchlist) (every message to every \
        partition) at each session open and every watchlist.every_minutes after. Runs as one instance. Size and cadence: the \
        'watchlist' section of config/trading_params.json (or --set trading_params=PATH).
        """)

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceGraph.watchlistEngine.main(options: options)
    }
}
