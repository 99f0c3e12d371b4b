import ArgumentParser
import Foundation
import OpsModel
import OpsRuntime
import Pipeline

/// feature-computer: bars (plus sentiment and each chain's ATM IV for the as-of join, daily ATM IVs for IV percentile and IV
/// Rank) → feature vectors, per ticker.
@main
struct FeatureComputer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feature-computer",
        abstract: "Computes SMA20, slope, volume ratio, returns, ATR14, ATM IV, IV percentile and IV Rank per ticker from 1-minute bars.",
        discussion: """
        Reads \(Topics.bars), \(Topics.atmIv) (each option chain's ATM IV), \(Topics.sentiment) and \(Topics.ivDaily) (re-read from its beginning on a \
        restart: a year of daily ATM IVs); writes \(Topics.features); refused input goes \
        to \(Topics.deadLetter) with the reason. Config keys (file config/feature-computer.json, env OPS_<KEY>, or --set \
        key=value): slope_lookback (bars, default 5), session (regular|all), tickers (comma-separated watchlist; empty = any).
        """)

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceGraph.featureComputer.main(options: options)
    }
}
