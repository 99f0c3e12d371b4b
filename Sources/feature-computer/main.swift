import ArgumentParser
import Foundation
import FeatureCore
import OpsModel
import OpsRuntime

/// feature-computer: bars (plus sentiment and chains for the as-of join, daily ATM IVs for IV percentile and IV
/// Rank) → feature vectors, per ticker.
@main
struct FeatureComputer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feature-computer",
        abstract: "Computes SMA20, slope, volume ratio, returns, ATR14, ATM IV, IV percentile and IV Rank per ticker from 1-minute bars.",
        discussion: """
        Reads \(Topics.bars), \(Topics.chains), \(Topics.sentiment) and \(Topics.ivDaily) (re-read from its beginning on a \
        restart: a year of daily ATM IVs); writes \(Topics.features); refused input goes \
        to \(Topics.deadLetter) with the reason. Config keys (file config/feature-computer.json, env OPS_<KEY>, or --set \
        key=value): slope_lookback (bars, default 5), session (regular|all), tickers (comma-separated watchlist; empty = any).
        """)

    @OptionGroup var options: ServiceOptions

    static let keys: [ConfigKey] = [
        ConfigKey("slope_lookback", .int, default: "5", help: "bars over which the SMA20 slope is measured"),
        ConfigKey("session", .string, default: "regular", help: "which bars get features", choices: SessionFilter.allCases.map(\.rawValue)),
        ConfigKey("tickers", .string, default: "", help: "comma-separated watchlist; other tickers are dead-lettered"),
    ]

    func run() async throws {
        try await StreamServiceMain.run(service: FeatureCore.name, options: options, keys: Self.keys) { config in
            let lookback = try config.int("slope_lookback", in: 1...390)
            let tickers = (config.string("tickers") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return FeatureCore(config: FeatureConfig(slopeLookback: lookback, session: SessionFilter(rawValue: config.string("session") ?? "regular")!,
                                                     tickers: tickers.isEmpty ? nil : Set(tickers)))
        }
    }
}
