import Testing
import OpsModel
@testable import DispatchCore

@Suite("Tiering")
struct TieringTests {
    @Test("seed test 1: $1,000 is tiny at 25% day risk, $3,000 small at 12%")
    func seedTierDetection() {
        let tiny = Tiering.tier(buyingPowerCents: 100_000, params: Fx.params)
        #expect(tiny.name == "tiny")
        #expect(tiny.tier.riskPctDay == 0.25)
        let small = Tiering.tier(buyingPowerCents: 300_000, params: Fx.params)
        #expect(small.name == "small")
        #expect(small.tier.riskPctDay == 0.12)
    }

    @Test("every boundary: at max_size the lower tier, one cent above the next", arguments: [
        (199_999 as Int64, "tiny"), (200_000, "tiny"), (200_001, "small"),
        (499_999, "small"), (500_000, "small"), (500_001, "medium"),
        (2_499_999, "medium"), (2_500_000, "medium"), (2_500_001, "large"),
    ])
    func boundaries(_ cents: Int64, _ expected: String) {
        #expect(Tiering.tier(buyingPowerCents: cents, params: Fx.params).name == expected)
    }

    @Test("the large tier has no max_size and takes any buying power above medium")
    func openEndedLarge() {
        let huge = Tiering.tier(buyingPowerCents: 100_000_000_000_00, params: Fx.params)
        #expect(huge.name == "large")
        #expect(huge.tier.maxSize == nil)
        #expect(huge.tier.maxContracts == 10)
        #expect(Tiering.tier(buyingPowerCents: Int64.max, params: Fx.params).name == "large")
    }

    @Test("zero and negative buying power are tiny")
    func nonPositive() {
        #expect(Tiering.tier(buyingPowerCents: 0, params: Fx.params).name == "tiny")
        #expect(Tiering.tier(buyingPowerCents: -5_000, params: Fx.params).name == "tiny")
    }

    @Test("a fractional max_size is compared exactly in cents")
    func fractionalMaxSize() {
        var p = TradingParams()
        p.accountTiers.tiers["tiny"]!.maxSize = 2000.29
        #expect(Tiering.tier(buyingPowerCents: 200_029, params: p).name == "tiny")
        #expect(Tiering.tier(buyingPowerCents: 200_030, params: p).name == "small")
    }

    @Test("a table whose last tier has a max_size puts larger accounts in that last tier")
    func lastTierCatchesAll() {
        var p = TradingParams()
        p.accountTiers.tiers = [
            "a": .init(maxSize: 1000, riskPctDay: 0.2, riskPctSwing: 0.1, maxContracts: 1, minConfidence: 0.5, minVolumeRatio: 1),
            "b": .init(maxSize: 3000, riskPctDay: 0.1, riskPctSwing: 0.05, maxContracts: 4, minConfidence: 0.5, minVolumeRatio: 1),
        ]
        #expect(Tiering.tier(buyingPowerCents: 100_000, params: p).name == "a")
        #expect(Tiering.tier(buyingPowerCents: 100_001, params: p).name == "b")
        #expect(Tiering.tier(buyingPowerCents: 900_000, params: p).name == "b")
    }
}

@Suite("Tiering disabled")
struct TieringDisabledTests {
    @Test func disabledTiersUseTheLargestTiersRules() {
        var p = TradingParams()
        p.accountTiers.enabled = false
        #expect(Tiering.tier(buyingPowerCents: 100_000, params: p).name == "large")
        p.accountTiers.enabled = true
        #expect(Tiering.tier(buyingPowerCents: 100_000, params: p).name == "tiny")
    }
}
