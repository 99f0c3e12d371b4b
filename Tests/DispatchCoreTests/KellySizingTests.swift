import Testing
import OpsModel
@testable import DispatchCore

@Suite("Kelly sizing")
struct KellySizingTests {
    static func repeated(_ groups: (Int, Cents)...) -> [Cents] {
        groups.flatMap { Array(repeating: $0.1, count: $0.0) }
    }

    /// 30 trades: 18 wins averaging +$140 (9 × $100, 9 × $180), 12 losses averaging −$100 (6 × $50, 6 × $150).
    /// W = 18/30 = 0.6, R = 140/100 = 1.4, f* = 0.6 − 0.4/1.4 = 11/35 ≈ 0.3143; × 0.25 = 11/140 ≈ 0.0786.
    static let thirty = repeated((9, 10_000), (6, -5_000), (9, 18_000), (6, -15_000))

    static var kelly: TradingParams {
        var p = TradingParams()
        p.sizing.method = "kelly"
        return p
    }

    static func size(_ bp: Cents, _ premium: Cents, _ strategy: TradeStrategy = .dayTrade, trades: [Cents] = thirty,
                     params: TradingParams = kelly) -> SizingResult {
        SizingMethod.size(SizingInputs(buyingPowerCents: bp, premiumCents: premium, strategy: strategy, closedTradePnlsCents: trades),
                          params: params)
    }

    @Test("the estimate from a fixed trade list: W = 0.6, R = 1.4, f* = 11/35")
    func estimate() {
        let e = Kelly.estimate(closedTradePnlsCents: Self.thirty, params: Self.kelly)
        #expect(e.n == 30 && e.wins == 18 && e.losses == 12)
        #expect(e.winRate == 0.6)
        #expect(abs(e.payoffRatio! - 1.4) < 1e-12)
        #expect(abs(e.fStar - 11.0 / 35.0) < 1e-12)
        #expect(e.used)
    }

    /// Small tier ($5,000, day 12%): Kelly's 11/140 is below 12%, budget = 11/140 × $5,000 = $392.857… → $392.85.
    @Test("f* × fraction below the tier's %: contracts from the Kelly budget, at the cent boundary",
          arguments: [(Cents(130), 3), (131, 2)])   // 3 × $130 = $390 ≤ $392.85; 3 × $131 = $393 > $392.85
    func kellyBudget(premium: Cents, contracts: Int) {
        let r = Self.size(500_000, premium)
        #expect(r.riskCents == 39_285)
        #expect(abs(r.riskPct - 11.0 / 140.0) < 1e-12)
        #expect(r.contracts == contracts)
        #expect(r.method == "kelly")
        #expect(r.minimumContractRule == false)
        #expect(r.rationale.hasPrefix("Tier: small, Strategy: day_trade, Risk: 7.9% of $5000 = $393, "))
        #expect(r.rationale.hasSuffix(", Sizing: kelly f=0.314 (W=0.60, R=1.40, n=30) × 0.25 = 7.86%"))
    }

    @Test("the seed's line, extended, exactly")
    func rationale() {
        #expect(Self.size(500_000, 130).rationale
                == "Tier: small, Strategy: day_trade, Risk: 7.9% of $5000 = $393, Premium: $1.30 × 100 = $130/contract, Contracts: 3 (cap: 3), Total: $390, Sizing: kelly f=0.314 (W=0.60, R=1.40, n=30) × 0.25 = 7.86%")
    }

    /// Medium tier ($10,000, swing 6%): Kelly's 7.86% is above 6%, so the tier's $600 sizes: $600 ÷ $150 = 4.
    @Test("the tier's risk % caps f* × fraction")
    func tierCaps() {
        let r = Self.size(1_000_000, 150, .swingTrade)
        let tier = Sizing.size(buyingPowerCents: 1_000_000, premiumCents: 150, strategy: .swingTrade, params: Self.kelly)
        #expect(r.riskPct == 0.06)
        #expect(r.riskCents == 60_000)
        #expect(r.contracts == 4)
        #expect(r.method == "kelly")
        #expect(r.rationale == tier.rationale + ", Sizing: kelly f=0.314 (W=0.60, R=1.40, n=30) × 0.25 = 7.86%, capped at the tier's 6.0%")
    }

    @Test("max_contracts stays a ceiling: $392.85 buys 39 at $0.10, capped at 3")
    func maxContracts() {
        let r = Self.size(500_000, 10)
        #expect(r.contracts == 3)
        #expect(r.maxContracts == 3)
    }

    /// Kelly budget $392.85: the minimum-contract bound is 2 × $392.85 = $785.70 (the tier's would be 2 × $600).
    @Test("the bounded minimum-contract rule applies to the Kelly budget",
          arguments: [(Cents(500), 1, true), (785, 1, true), (786, 0, false)])
    func minimumContract(premium: Cents, contracts: Int, rule: Bool) {
        let r = Self.size(500_000, premium)
        #expect(r.contracts == contracts)
        #expect(r.minimumContractRule == rule)
        #expect(r.rationale.hasSuffix(", Sizing: kelly f=0.314 (W=0.60, R=1.40, n=30) × 0.25 = 7.86%"))
    }

    /// 20 wins of $100 and 10 losses of $100: f* = 2/3 − (1/3)/1 = 1/3; × 0.25 = 1/12; 1/12 × $1,200 = $100 exactly,
    /// which a rounded 0.08333… would put a cent short.
    @Test("a budget of a whole number of cents is not rounded below it")
    func exactBudget() {
        let r = Self.size(120_000, 100, trades: Self.repeated((20, 10_000), (10, -10_000)))
        #expect(r.riskCents == 10_000)
        #expect(r.contracts == 1)
        #expect(r.minimumContractRule == false)
    }

    @Test("fewer than kelly.min_trades closed trades: the tier's % with the reason", arguments: [0, 1, 12, 19])
    func tooFewTrades(n: Int) {
        let trades = Array(Self.thirty.prefix(n))
        let r = Self.size(500_000, 130, trades: trades)
        var tier = Sizing.size(buyingPowerCents: 500_000, premiumCents: 130, strategy: .dayTrade, params: Self.kelly)
        tier.rationale += ", Sizing: kelly needs 20 closed trades, has \(n): tier %"
        #expect(r == tier)
        #expect(r.method == "tier")
        #expect(Kelly.estimate(closedTradePnlsCents: trades, params: Self.kelly).used == false)
    }

    @Test("at exactly kelly.min_trades closed trades Kelly is used")
    func atMinTrades() {
        let trades = Array(Self.thirty.suffix(20))
        #expect(Kelly.estimate(closedTradePnlsCents: trades, params: Self.kelly).used)
        #expect(Self.size(500_000, 130, trades: trades).method == "kelly")
    }

    @Test("f* ≤ 0: no contracts, the reason in the rationale", arguments: [
        // W = 0.4, R = 125/100 = 1.25: f* = 0.4 − 0.6/1.25 = −0.08
        (repeated((12, 12_500), (18, -10_000)), "f=-0.080 ≤ 0 (W=0.40, R=1.25, n=30)"),
        // 10 flat trades count in n only: W = 20/40 = 0.5, R = 1: f* = 0.5 − 0.5 = 0 (without them W = 2/3, f* = 1/3)
        (repeated((20, 10_000), (10, 0), (10, -10_000)), "f=0.000 ≤ 0 (W=0.50, R=1.00, n=40)"),
        // no wins: R = 0, f* = −∞
        (repeated((25, -5_000)), "f=-∞ ≤ 0 (W=0.00, R=0.00, n=25)"),
        // only flat trades: no ratio, no edge
        (repeated((25, 0)), "f=0.000 ≤ 0 (W=0.00, R=n/a, n=25)"),
    ])
    func noEdge(trades: [Cents], reason: String) {
        let r = Self.size(500_000, 130, trades: trades)
        #expect(r.contracts == 0)
        #expect(r.riskCents == 0)
        #expect(r.riskPct == 0)
        #expect(r.totalCostCents == 0)
        #expect(r.minimumContractRule == false)
        #expect(r.method == "kelly")
        #expect(r.rationale == "Tier: small, Strategy: day_trade, Risk: 0.0% of $5000 = $0, Premium: $1.30 × 100 = $130/contract, Contracts: 0 (cap: 3), Total: $0, Sizing: kelly \(reason): no edge, no trade")
    }

    @Test("only the last kelly.lookback_trades closed trades count")
    func lookback() {
        var p = Self.kelly
        p.kelly.lookbackTrades = 30
        let older = Self.repeated((25, -100_000))   // would leave no edge if counted
        let e = Kelly.estimate(closedTradePnlsCents: older + Self.thirty, params: p)
        #expect(e == Kelly.estimate(closedTradePnlsCents: Self.thirty, params: p))
        #expect(Self.size(500_000, 130, trades: older + Self.thirty, params: p).contracts == 3)
        // With the default 50, the 20 most recent of the old losses count: W = 18/50, no edge.
        #expect(Kelly.estimate(closedTradePnlsCents: older + Self.thirty, params: Self.kelly).n == 50)
        #expect(Self.size(500_000, 130, trades: older + Self.thirty).contracts == 0)
    }

    /// 20 wins and 5 flat trades: W = 0.8, R = ∞, f* = W = 0.8; × 0.25 = 0.2, below the tiny tier's 25%.
    @Test("no losses: f* = W")
    func noLosses() {
        let trades = Self.repeated((20, 3_000), (5, 0))
        let e = Kelly.estimate(closedTradePnlsCents: trades, params: Self.kelly)
        #expect(e.payoffRatio == .infinity)
        #expect(e.fStar == 0.8)
        let r = Self.size(100_000, 100, trades: trades)
        #expect(r.riskPct == 0.2)
        #expect(r.riskCents == 20_000)
        #expect(r.contracts == 2)
        #expect(r.rationale.hasSuffix(", Sizing: kelly f=0.800 (W=0.80, R=∞, n=25) × 0.25 = 20.00%"))
    }
}
