import Foundation
import Testing
@testable import OpsModel

/// config/trading_params.json: defaults, partial files, and refusals that name the key.
@Suite("TradingParams loading")
struct TradingParamsTests {
    func load(_ json: String) throws(TradingParams.LoadError) -> TradingParams {
        try TradingParams.load(json: Data(json.utf8), origin: "test.json")
    }

    @Test func seedDefaultsOfIssue6() throws {
        let p = TradingParams()
        #expect(p.risk.maxDailyLoss == 500 && p.risk.maxOpenPositions == 5 && p.risk.maxNotionalExposure == 10_000)
        #expect(p.risk.blockOpenMinutes == 5 && p.risk.blockCloseMinutes == 15)
        #expect(p.risk.tickerCooldownMinutes == 30 && p.risk.maxTradesPerTickerPerDay == 3)
        #expect(p.liquidityThresholds.minOpenInterest == 500 && p.liquidityThresholds.minVolume == 200)
        #expect(p.liquidityThresholds.maxIvPercentile == 80 && p.liquidityThresholds.maxIvRank == nil)
        #expect(p.contractSelection.targetDelta.dayTrade == 0.40 && p.contractSelection.targetDelta.swingTrade == 0.50)
        #expect(p.execution.stockFallback && p.execution.entryTtlMinutes == 5 && p.exits.repriceSteps == 3)
        #expect(p.signals.momentumMode == "required")
    }

    @Test func theShippedConfigFileStatesTheDefaults() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/trading_params.json")
        let shipped = try TradingParams.load(path: url.path)
        #expect(shipped == TradingParams(), "config/trading_params.json and the built-in defaults say the same thing")
    }

    @Test func aPartialFileKeepsTheRest() throws {
        let p = try load(#"{"risk": {"max_open_positions": 1}, "liquidity_thresholds": {"max_iv_rank": 50}}"#)
        #expect(p.risk.maxOpenPositions == 1 && p.risk.maxDailyLoss == 500)
        #expect(p.liquidityThresholds.maxIvRank == 50 && p.liquidityThresholds.maxIvPercentile == 80)
        let off = try load(#"{"liquidity_thresholds": {"max_iv_percentile": null}}"#)
        #expect(off.liquidityThresholds.maxIvPercentile == nil)
    }

    @Test(arguments: [
        (#"{"risk": {"max_daily_los": 1}}"#, "risk.max_daily_los"),
        (#"{"risk": {"max_daily_loss": -1}}"#, "risk.max_daily_loss"),
        (#"{"risk": {"max_open_positions": 0}}"#, "risk.max_open_positions"),
        (#"{"risk": {"block_open_minutes": 400}}"#, "risk.block_open_minutes"),
        (#"{"liquidity_thresholds": {"max_iv_percentile": 101}}"#, "liquidity_thresholds.max_iv_percentile"),
        (#"{"contract_selection": {"target_delta": {"day_trade": 1.2}}}"#, "contract_selection.target_delta.day_trade"),
        (#"{"execution": {"fill_model": "maybe"}}"#, "execution.fill_model"),
        (#"{"signals": {"momentum_mode": "sometimes"}}"#, "signals.momentum_mode"),
    ])
    func badValuesAreRefusedByName(json: String, key: String) {
        #expect { _ = try load(json) } throws: { ($0 as? TradingParams.LoadError)?.description.contains(key) == true }
    }
}
