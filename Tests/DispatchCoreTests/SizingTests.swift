import Testing
import OpsModel
@testable import DispatchCore

@Suite("Sizing")
struct SizingTests {
    @Test("seed test 2: $1K account, $2.50 premium, day trade → 1 contract, $250 (seed: 1–2 contracts)")
    func seedSmallAccount() {
        let r = Sizing.size(buyingPowerCents: 100_000, premiumCents: 250, strategy: "day_trade", params: Fx.params)
        #expect(r.tier == "tiny")
        #expect(r.riskCents == 25_000)
        #expect(r.contracts == 1)
        #expect((1...2).contains(r.contracts))
        #expect(r.totalCostCents == 25_000)
        #expect(r.minimumContractRule == false)
    }

    @Test("seed test 2: $100K account, $2.50 premium, day trade → 4 contracts, $1,000 (seed: 4–10)")
    func seedLargeAccount() {
        let r = Sizing.size(buyingPowerCents: 10_000_000, premiumCents: 250, strategy: "day_trade", params: Fx.params)
        #expect(r.tier == "large")
        #expect(r.riskCents == 100_000)
        #expect(r.contracts == 4)
        #expect((4...10).contains(r.contracts))
        #expect(r.totalCostCents == 100_000)
    }

    @Test("the seed's rationale line, exactly")
    func seedRationale() {
        let r = Sizing.size(buyingPowerCents: 18_200_000, premiumCents: 250, strategy: "day_trade", params: Fx.params)
        #expect(r.rationale == "Tier: large, Strategy: day_trade, Risk: 1.0% of $182000 = $1820, Premium: $2.50 × 100 = $250/contract, Contracts: 7 (cap: 10), Total: $1750")
        #expect(r.contracts == 7)
        #expect(r.maxContracts == 10)
        #expect(r.costPerContractCents == 25_000)
        #expect(r.totalCostCents == 175_000)
        #expect(r.strategy == .dayTrade)
        #expect(r.riskPct == 0.01)
        #expect(r.buyingPowerCents == 18_200_000)
        #expect(r.premiumCents == 250)
    }

    @Test("minimum-contract rule within the bound: $400 ≤ 2 × $250 → 1 contract")
    func minimumRuleApplies() {
        let r = Sizing.size(buyingPowerCents: 100_000, premiumCents: 400, strategy: "day_trade", params: Fx.params)
        #expect(r.contracts == 1)
        #expect(r.minimumContractRule)
        #expect(r.totalCostCents == 40_000)
        #expect(r.rationale == "Tier: tiny, Strategy: day_trade, Risk: 25.0% of $1000 = $250, Premium: $4.00 × 100 = $400/contract, Contracts: 1 (cap: 2), Total: $400, Minimum-contract rule: 1 contract costs $400 ≤ 2.0 × risk budget $250")
    }

    @Test("minimum-contract rule exactly at the bound: $500 = 2 × $250 → 1 contract")
    func minimumRuleAtBound() {
        let r = Sizing.size(buyingPowerCents: 100_000, premiumCents: 500, strategy: "day_trade", params: Fx.params)
        #expect(r.contracts == 1)
        #expect(r.minimumContractRule)
    }

    @Test("minimum-contract rule refused one cent over the bound: $501 > 2 × $250 → 0 contracts")
    func minimumRuleRefused() {
        let r = Sizing.size(buyingPowerCents: 100_000, premiumCents: 501, strategy: "day_trade", params: Fx.params)
        #expect(r.contracts == 0)
        #expect(r.minimumContractRule == false)
        #expect(r.totalCostCents == 0)
        #expect(r.rationale.hasSuffix("Contracts: 0 (cap: 2), Total: $0, Minimum-contract rule refused: 1 contract costs $501 > 2.0 × risk budget $250"))
    }

    @Test("the seed's flaw is bounded: a $9.00 option (90% of a $1K account) → 0 contracts")
    func ninetyPercentRefused() {
        let r = Sizing.size(buyingPowerCents: 100_000, premiumCents: 900, strategy: "day_trade", params: Fx.params)
        #expect(r.contracts == 0)
        #expect(r.minimumContractRule == false)
        #expect(r.rationale.contains("Minimum-contract rule refused: 1 contract costs $900 > 2.0 × risk budget $250"))
    }

    @Test("a contract costing more than the buying power → 0, and the rule does not come into play")
    func unaffordable() {
        let r = Sizing.size(buyingPowerCents: 100_000, premiumCents: 1_200, strategy: "day_trade", params: Fx.params)
        #expect(r.contracts == 0)
        #expect(r.minimumContractRule == false)
        #expect(!r.rationale.contains("Minimum-contract"))
        #expect(r.rationale.hasSuffix("Premium: $12.00 × 100 = $1200/contract, Contracts: 0 (cap: 2), Total: $0"))
    }

    @Test("the affordability multiple is configurable and exact")
    func affordabilityMultiple() {
        var p = TradingParams()
        p.sizing.affordabilityMultiple = 1.5
        // budget $250 × 1.5 = $375
        #expect(Sizing.size(buyingPowerCents: 100_000, premiumCents: 375, strategy: "day_trade", params: p).contracts == 1)
        let refused = Sizing.size(buyingPowerCents: 100_000, premiumCents: 376, strategy: "day_trade", params: p)
        #expect(refused.contracts == 0)
        #expect(refused.rationale.hasSuffix("$376 > 1.5 × risk budget $250"))
    }

    @Test("a budget with cents is shown with cents in the minimum-contract comparison")
    func budgetWithCents() {
        // $1,000.10 × 25% = $250.025 → $250.02
        let r = Sizing.size(buyingPowerCents: 100_010, premiumCents: 500, strategy: "day_trade", params: Fx.params)
        #expect(r.riskCents == 25_002)
        #expect(r.contracts == 1)
        #expect(r.rationale.hasSuffix("1 contract costs $500 ≤ 2.0 × risk budget $250.02"))
    }

    @Test("swing trade uses risk_pct_swing")
    func swing() {
        let r = Sizing.size(buyingPowerCents: 1_000_000, premiumCents: 100, strategy: "swing_trade", params: Fx.params)
        #expect(r.tier == "medium")
        #expect(r.riskPct == 0.06)
        #expect(r.riskCents == 60_000)
        #expect(r.contracts == 5) // 6 by budget, cap 5
        #expect(r.strategy == .swingTrade)
        #expect(r.rationale == "Tier: medium, Strategy: swing_trade, Risk: 6.0% of $10000 = $600, Premium: $1.00 × 100 = $100/contract, Contracts: 5 (cap: 5), Total: $500")
    }

    @Test("an unknown strategy risks half the swing percentage")
    func unknownStrategy() {
        let swing = Sizing.size(buyingPowerCents: 1_000_000, premiumCents: 100, strategy: "swing_trade", params: Fx.params)
        let r = Sizing.size(buyingPowerCents: 1_000_000, premiumCents: 100, strategy: "scalp", params: Fx.params)
        #expect(r.riskPct == 0.03)
        #expect(r.riskCents == 30_000)
        #expect(r.riskCents * 2 == swing.riskCents)
        #expect(r.contracts == 3)
        #expect(r.strategy == .swingTrade)
        #expect(r.rationale.hasPrefix("Tier: medium, Strategy: scalp, Risk: 3.0% of $10000 = $300,"))
    }

    @Test("the hard cap: $1M account, $0.50 premium → 200 by budget, capped at 10")
    func cap() {
        let r = Sizing.size(buyingPowerCents: 100_000_000, premiumCents: 50, strategy: "day_trade", params: Fx.params)
        #expect(r.riskCents == 1_000_000)
        #expect(r.contracts == 10)
        #expect(r.totalCostCents == 50_000)
        #expect(r.rationale.hasSuffix("Contracts: 10 (cap: 10), Total: $500"))
    }

    @Test("the tiny cap is 2")
    func tinyCap() {
        let r = Sizing.size(buyingPowerCents: 200_000, premiumCents: 50, strategy: "day_trade", params: Fx.params)
        #expect(r.contracts == 2)
    }

    @Test("a non-positive premium sizes nothing and says why", arguments: [0 as Int64, -5])
    func nonPositivePremium(_ premium: Int64) {
        let r = Sizing.size(buyingPowerCents: 100_000, premiumCents: premium, strategy: "day_trade", params: Fx.params)
        #expect(r.contracts == 0)
        #expect(r.totalCostCents == 0)
        #expect(r.minimumContractRule == false)
        #expect(r.rationale.contains("is not a positive price"))
    }

    @Test("no buying power sizes nothing")
    func noBuyingPower() {
        let r = Sizing.size(buyingPowerCents: 0, premiumCents: 100, strategy: "day_trade", params: Fx.params)
        #expect(r.contracts == 0)
        #expect(r.riskCents == 0)
        #expect(r.minimumContractRule == false)
    }

    @Test("risk is exact decimal arithmetic, rounded down to a cent")
    func exactRisk() {
        var p = TradingParams()
        p.accountTiers.tiers["tiny"]!.riskPctDay = 0.29
        // 0.29 × $100 in binary is 28.999…; exactly it is $29.
        #expect(Sizing.size(buyingPowerCents: 10_000, premiumCents: 100, strategy: "day_trade", params: p).riskCents == 2_900)
        // 0.25 × $1,000.03 = $250.0075 → $250.00
        #expect(Sizing.size(buyingPowerCents: 100_003, premiumCents: 100, strategy: "day_trade", params: Fx.params).riskCents == 25_000)
    }

    @Test("the TradeStrategy overload agrees with the string form")
    func enumOverload() {
        for s in TradeStrategy.allCases {
            #expect(Sizing.size(buyingPowerCents: 345_678, premiumCents: 123, strategy: s, params: Fx.params)
                    == Sizing.size(buyingPowerCents: 345_678, premiumCents: 123, strategy: s.rawValue, params: Fx.params))
        }
    }

    @Test("whole dollars round half to even like Python's %.0f", arguments: [
        (100_050 as Int64, "$1000"), (100_150, "$1002"), (100_049, "$1000"), (100_051, "$1001"), (0, "$0"), (-250, "$-2"), (-350, "$-4"),
    ])
    func wholeDollars(_ cents: Int64, _ text: String) {
        #expect(Fmt.wholeDollars(cents) == text)
    }

    @Test("premium with two decimals", arguments: [(250 as Int64, "$2.50"), (5, "$0.05"), (1_200, "$12.00"), (-5, "$-0.05")])
    func dollarsAndCents(_ cents: Int64, _ text: String) {
        #expect(Fmt.dollarsAndCents(cents) == text)
    }

    @Test("rationale shows the buying power rounded half to even")
    func rationaleHalfEven() {
        let r = Sizing.size(buyingPowerCents: 100_050, premiumCents: 250, strategy: "day_trade", params: Fx.params)
        #expect(r.rationale.hasPrefix("Tier: tiny, Strategy: day_trade, Risk: 25.0% of $1000 = $250, "))
    }
}
