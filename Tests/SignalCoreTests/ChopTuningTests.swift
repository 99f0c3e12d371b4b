import Foundation
import Testing
import FeatureCore
import MarketData
import OpsModel
import SignalCore

/// The SPY minutes of 2024-02-20..04-18 in ../shared/data (or OPS_SHARED_DATA), when present.
let spyBars: URL? = {
    let root = ProcessInfo.processInfo.environment["OPS_SHARED_DATA"].map { URL(fileURLWithPath: $0) }
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/data").standardized
    let url = root.appendingPathComponent("bars/SPY_1min_2024-02-20_2024-04-18_ET.csv")
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
}()

/// How often the default chop filter calls a bar chop, among strongly ranging and clearly trending 20-minute windows
/// (Kaufman's efficiency ratio |close − close 20 bars ago| ÷ the path's length: < 0.15 ranging, > 0.40 trending).
func chopRates(_ vectors: [FeatureVector], params p: TradingParams.SignalParams = defaults) -> (ranging: Double, trending: Double, windows: Int) {
    var ranging = (0, 0), trending = (0, 0)
    for (_, list) in Dictionary(grouping: vectors, by: \.ticker) {
        var window = [ChopMeasure.Sample?]()
        for (i, fv) in list.enumerated() {
            if i > 0, list[i - 1].sessionDate != fv.sessionDate { window = [] }
            window = Array((window + [ChopMeasure.Sample(fv)]).suffix(p.chopLookback))
            let m = ChopMeasure(window: window, params: p)
            guard m.bars == p.chopLookback, i >= 20, list[i - 20].sessionDate == fv.sessionDate else { continue }
            let path = (i - 19...i).reduce(0.0) { $0 + abs(list[$1].bar.close - list[$1 - 1].bar.close) }
            guard path > 0 else { continue }
            let er = abs(fv.bar.close - list[i - 20].bar.close) / path
            if er < 0.15 { ranging.0 += 1; if m.isChop { ranging.1 += 1 } }
            if er > 0.40 { trending.0 += 1; if m.isChop { trending.1 += 1 } }
        }
    }
    return (Double(ranging.1) / Double(max(1, ranging.0)), Double(trending.1) / Double(max(1, trending.0)), ranging.0 + trending.0)
}

/// Feature vectors of bars alone (the chop filter reads none of the joined data).
func barFeatures(_ bars: [Bar]) throws -> [FeatureVector] {
    var core = FeatureCore()
    return try bars.flatMap { b in
        try core.handle(MarketEvent.bar(b).envelope(source: "t"), from: Topics.bars).compactMap { $0.envelope.payload as? FeatureVector }
    }
}

@Suite("Chop filter tuning")
struct ChopTuningTests {
    @Test("on the synthetic market the defaults flag ranging windows, not trending ones", arguments: [UInt64(42), 7])
    func synthetic(seed: UInt64) throws {
        let market = SyntheticMarket(config: SyntheticMarketConfig(seed: seed, sessions: 10, chainEveryMinutes: 0, sentimentEveryMinutes: 0))
        let bars = market.events().compactMap { if case .bar(let b) = $0 { b } else { nil } }
        let r = chopRates(try barFeatures(bars))
        print(String(format: "chop on synthetic seed %d (10 sessions × 3): ranging %.1f%%, trending %.1f%% of %d windows",
                     seed, r.ranging * 100, r.trending * 100, r.windows))
        #expect(r.ranging >= 0.25, "blocks ranging")
        #expect(r.trending <= 0.02, "not trends")
    }

    @Test("on SPY 2024-02-20..04-18 the defaults flag ranging windows, not trending ones",
          .enabled(if: spyBars != nil, "../shared/data is absent: skipped"))
    func spy() throws {
        let bars = try BarCSV.parse(contentsOf: try #require(spyBars), ticker: nil).bars
        let r = chopRates(try barFeatures(bars))
        print(String(format: "chop on SPY (42 sessions): ranging %.1f%%, trending %.1f%% of %d windows", r.ranging * 100, r.trending * 100, r.windows))
        #expect(r.ranging >= 0.25)
        #expect(r.trending <= 0.06)
    }
}
