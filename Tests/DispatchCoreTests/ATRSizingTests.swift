import Testing
import OpsModel
@testable import DispatchCore

@Suite("ATR sizing")
struct ATRSizingTests {
    static var atr: TradingParams {
        var p = TradingParams()
        p.sizing.method = "atr"
        return p
    }

    static func size(_ bp: Cents, _ premium: Cents = 250, delta: Double?, atr14: Double?, _ strategy: TradeStrategy = .dayTrade,
                     params: TradingParams = atr) -> SizingResult {
        SizingMethod.size(SizingInputs(buyingPowerCents: bp, premiumCents: premium, strategy: strategy, absDelta: delta, atr14: atr14),
                          params: params)
    }

    /// Large tier, day 1%: $200,000 → $2,000; one cent of buying power less → $1,999.99.
    /// Expected loss = 0.5 × 5.0 × $1.00 × 100 = $250/contract: $2,000 buys exactly 8, $1,999.99 buys 7.
    @Test("contracts = floor(risk ÷ expected loss): exactly divisible vs one cent short",
          arguments: [(Cents(20_000_000), Cents(200_000), 8), (19_999_999, 199_999, 7)])
    func boundary(bp: Cents, risk: Cents, contracts: Int) {
        let r = Self.size(bp, delta: 0.5, atr14: 1.0)
        #expect(r.riskCents == risk)
        #expect(r.riskPct == 0.01)
        #expect(r.contracts == contracts)
        #expect(r.totalCostCents == Cents(contracts) * 25_000)
        #expect(r.method == "atr")
        #expect(r.minimumContractRule == false)
    }

    @Test("the seed's line, extended, exactly")
    func rationale() {
        #expect(Self.size(20_000_000, delta: 0.5, atr14: 1.0).rationale
                == "Tier: large, Strategy: day_trade, Risk: 1.0% of $200000 = $2000, Premium: $2.50 × 100 = $250/contract, Contracts: 8 (cap: 10), Total: $2000, Sizing: atr risk $2000 ÷ expected loss $250.00/contract (|Δ| 0.500 × 5.0 × ATR $1.0000 × 100) = 8 contracts by risk")
    }

    /// 0.40 × 5.0 × $0.24 × 100 = $48.00; medium tier swing 6% of $10,000 = $600 → 12, capped at 5.
    @Test("max_contracts caps what the risk buys")
    func cap() {
        let r = Self.size(1_000_000, delta: 0.40, atr14: 0.24, .swingTrade)
        #expect(r.contracts == 5)
        #expect(r.maxContracts == 5)
        #expect(r.rationale.hasSuffix(", Sizing: atr risk $600 ÷ expected loss $48.00/contract (|Δ| 0.400 × 5.0 × ATR $0.2400 × 100) = 12 contracts by risk"))
    }

    /// 0.3333 × 5.0 × $0.10 × 100 = $16.665 = 1666.5 cents → 1667 (never understated).
    @Test("the expected loss is rounded up to a cent")
    func roundsUp() {
        #expect(ATRSizing.expectedLossCents(absDelta: 0.3333, atr14: 0.1, params: Self.atr) == 1_667)
        #expect(ATRSizing.expectedLossCents(absDelta: 0.4, atr14: 0.24, params: Self.atr) == 4_800)
    }

    /// Tiny tier, day 25%: $66.68 → $16.67 buys one 1667-cent loss; $66.64 → $16.66 buys none (a loss rounded down to
    /// 1666 would have bought one).
    @Test("a risk budget one cent under the rounded-up loss buys none", arguments: [(Cents(6_668), 1), (6_664, 0)])
    func roundedLossBoundary(bp: Cents, contracts: Int) {
        #expect(Self.size(bp, 1, delta: 0.3333, atr14: 0.1).contracts == contracts)
    }

    /// Tiny tier, day 25% of $1,000 = $250 against 0.5 × 5.0 × $1.20 × 100 = $300: none, though the tier method's
    /// minimum-contract rule would buy one $2.50 contract.
    @Test("0 when the risk buys none: no minimum-contract rule")
    func noMinimumContract() {
        let r = Self.size(100_000, delta: 0.5, atr14: 1.2)
        #expect(r.contracts == 0)
        #expect(r.minimumContractRule == false)
        #expect(r.totalCostCents == 0)
        #expect(r.rationale.hasSuffix("Contracts: 0 (cap: 2), Total: $0, Sizing: atr risk $250 ÷ expected loss $300.00/contract (|Δ| 0.500 × 5.0 × ATR $1.2000 × 100) = 0 contracts by risk, no minimum-contract rule"))
        #expect(Sizing.size(buyingPowerCents: 100_000, premiumCents: 250, strategy: .dayTrade, params: Self.atr).contracts == 1)
    }

    @Test("the stop multiple is configurable: 2.5 halves the loss and doubles the contracts")
    func stopMultiple() {
        var p = Self.atr
        p.sizing.atrStopMultiple = 2.5
        #expect(Self.size(20_000_000, delta: 0.2, atr14: 1.0, params: p).contracts == 10)   // $2,000 ÷ $50 = 40, cap 10
        #expect(Self.size(20_000_000, delta: 0.5, atr14: 1.0, params: p).contracts == 10)   // $2,000 ÷ $125 = 16, cap 10
        #expect(Self.size(20_000_000, delta: 0.8, atr14: 1.0, params: p).contracts == 10)   // $2,000 ÷ $200 = 10
        #expect(Self.size(20_000_000, delta: 0.8, atr14: 1.0).contracts == 5)               // $2,000 ÷ $400 = 5
    }

    @Test("an unusable |Δ| or ATR14: the tier method with the reason", arguments: [
        (nil, 0.24, "|Δ| unknown"),
        (0.4, nil, "ATR14 unknown"),
        (nil, nil, "|Δ| unknown, ATR14 unknown"),
        (0.4, 0, "ATR14 = 0.0 is not a positive number"),
        (0.4, -0.1, "ATR14 = -0.1 is not a positive number"),
        (0.4, .nan, "ATR14 = nan is not a positive number"),
        (.infinity, 0.24, "|Δ| = inf is not a positive number"),
    ] as [(Double?, Double?, String)])
    func fallback(delta: Double?, atr14: Double?, reason: String) {
        let r = Self.size(100_000, delta: delta, atr14: atr14)
        var tier = Sizing.size(buyingPowerCents: 100_000, premiumCents: 250, strategy: .dayTrade, params: Self.atr)
        tier.rationale += ", Sizing: atr needs |Δ| and ATR14, \(reason): tier %"
        #expect(r == tier)
        #expect(r.method == "tier")
        #expect(ATRSizing.expectedLossCents(absDelta: delta, atr14: atr14, params: Self.atr) == nil)
    }
}

@Suite("Sizing method")
struct SizingMethodTests {
    @Test("tier: exactly Sizing.size, recorded as tier", arguments: [
        (Cents(18_200_000), Cents(250), TradeStrategy.dayTrade), (100_000, 400, .dayTrade), (100_000, 900, .dayTrade),
        (1_000_000, 100, .swingTrade), (100_000, 0, .dayTrade),
    ])
    func tier(bp: Cents, premium: Cents, strategy: TradeStrategy) {
        let inputs = SizingInputs(buyingPowerCents: bp, premiumCents: premium, strategy: strategy,
                                  closedTradePnlsCents: KellySizingTests.thirty, absDelta: 0.5, atr14: 1.0)
        let r = SizingMethod.size(inputs, params: TradingParams())
        #expect(r == Sizing.size(buyingPowerCents: bp, premiumCents: premium, strategy: strategy, params: TradingParams()))
        #expect(r.method == "tier")
        #expect(!r.rationale.contains("Sizing:"))
    }

    @Test("every method's rationale starts with the seed's `Tier: `", arguments: ["tier", "kelly", "atr"])
    func startsWithTier(method: String) {
        var p = TradingParams()
        p.sizing.method = method
        for delta in [nil, 0.5] as [Double?] {
            let inputs = SizingInputs(buyingPowerCents: 500_000, premiumCents: 130, strategy: .dayTrade,
                                      closedTradePnlsCents: KellySizingTests.thirty, absDelta: delta, atr14: 0.3)
            let r = SizingMethod.size(inputs, params: p)
            #expect(r.rationale.hasPrefix("Tier: small, Strategy: day_trade, "))
            #expect(!r.rationale.contains("\n"))
        }
    }
}
