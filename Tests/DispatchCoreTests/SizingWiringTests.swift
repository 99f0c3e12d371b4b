import OpsModel
import Testing
@testable import DispatchCore

/// `sizing.method` wired into the dispatcher: Kelly reads the account's closed trades from its position events,
/// ATR the signal's ATR14 and the chosen contract's delta; the decision records the method and the rationale line.
@Suite("DispatchCore: sizing methods from topic state")
struct SizingWiringTests {
    typealias D = DispatchDesk
    static let day = D.day

    static func params(_ method: String, scaleIn: Bool = false) -> TradingParams {
        var p = TradingParams()
        p.sizing.method = method
        p.sizing.scaleIn = scaleIn
        return p
    }

    /// Closed trades of the day before, one a minute from 10:00 (so no session's daily loss is today's).
    static func feedClosed(_ pnls: [Cents], into desk: inout D, account: String = "sim-1") throws {
        for (i, pnl) in pnls.enumerated() {
            let t = Fx.ny("2024-03-05", 10, 0).adding(ms: Int64(i) * 60_000)
            try desk.feed(D.closed("h\(i)", pnl: pnl, closedAt: t, account: account), at: t, id: "closed-\(account)-\(i)")
        }
    }

    /// KellySizingTests' thirty trades: W = 0.6, R = 1.4, f* = 11/35, × 0.25 = 7.86 %.
    static let thirty = KellySizingTests.thirty

    /// A $5,000 account (small tier, day 12 %: $600 buys 2 of the $2.52 call); Kelly's 7.86 % = $392.85 buys 1.
    static func entry(_ params: TradingParams, closed: [Cents], cash: Cents = 500_000, signal: Signal = D.signal(),
                      chain: OptionChain = DispatchCoreStateTests.chain) throws -> (Decision, OrderCommand?) {
        var desk = D(params)
        try desk.ready(cash: cash, chain: chain)
        try Self.feedClosed(closed, into: &desk)
        let out = try desk.feed(signal, at: Fx.ny(Self.day, 10, 1), id: "s1")
        return (try #require(out.decision), out.order)
    }

    @Test("kelly with 30 closed trades: method kelly, the budget from f* × 0.25, the rationale's Sizing part")
    func kellySizes() throws {
        let (d, o) = try Self.entry(Self.params("kelly"), closed: Self.thirty)
        let sz = try #require(d.sizing)
        #expect(sz.method == "kelly" && sz.tier == "small")
        #expect(o?.quantity == 1 && sz.contracts == 1 && sz.riskCents == 39_285)
        #expect(sz.rationale.hasPrefix("Tier: small, "))
        #expect(sz.rationale.contains(", Sizing: kelly f=0.314 (W=0.60, R=1.40, n=30) × 0.25 = 7.86%"), "\(sz.rationale)")
    }

    @Test("kelly is used from kelly.min_trades (20) closed trades; before, the tier's %",
          arguments: [(19, "tier", 2), (20, "kelly", 2)])
    func minTrades(count: Int, method: String, contracts: Int) throws {
        // The first 20 of the thirty: 14 wins, 6 losses, f* ≈ 0.583, × 0.25 ≈ 14.6 % > the tier's 12 %: capped.
        let (d, o) = try Self.entry(Self.params("kelly"), closed: Array(Self.thirty.prefix(count)))
        let sz = try #require(d.sizing)
        #expect(sz.method == method && o?.quantity == contracts)
        if method == "tier" {
            #expect(sz.rationale.contains("Sizing: kelly needs 20 closed trades, has 19: tier %"))
        } else {
            #expect(sz.rationale.contains("Sizing: kelly f=") && sz.rationale.contains("capped at the tier's 12.0%"))
        }
    }

    @Test("f* ≤ 0 skips the entry at sizing, with that reason",
          arguments: [(0, 20), (10, 10)])   // no wins: f* = −∞; W = 0.5, R = 1: f* = 0 exactly
    func noEdgeSkips(wins: Int, losses: Int) throws {
        let trades = Array(repeating: Cents(10_000), count: wins) + Array(repeating: Cents(-10_000), count: losses)
        let (d, o) = try Self.entry(Self.params("kelly"), closed: trades)
        #expect(o == nil && d.outcome == .skip && d.skipReason == "sizing")
        let g = try #require(D.gate(d, "sizing"))
        #expect(!g.passed && g.value == "0" && g.detail.contains("≤ 0") && g.detail.contains("no edge, no trade"))
        #expect(d.sizing?.method == "kelly")
    }

    /// 12 wins, 8 losses at R = 1: f* = 0.2, × 0.25 = 5 % of $5,000 = $250, which buys no $252 contract; the bounded
    /// minimum-contract rule buys one ($252 ≤ 2 × $250).
    @Test("a small edge (f* = 0.2) orders")
    func smallEdgeOrders() throws {
        let trades = Array(repeating: Cents(10_000), count: 12) + Array(repeating: Cents(-10_000), count: 8)
        let (d, o) = try Self.entry(Self.params("kelly"), closed: trades)
        #expect(o?.quantity == 1 && d.sizing?.method == "kelly" && d.sizing?.minimumContractRule == true)
        #expect(d.sizing?.rationale.contains("kelly f=0.200 (W=0.60, R=1.00, n=20) × 0.25 = 5.00%") == true, "\(d.sizing?.rationale ?? "")")
    }

    @Test("only the last kelly.lookback_trades (50) closed trades count")
    func lookback() throws {
        // 60 wins then 50 losses: all 110 would be an edge (f* = 6/110 − … > 0); the last 50 are all losses.
        let trades = Array(repeating: Cents(10_000), count: 60) + Array(repeating: Cents(-10_000), count: 50)
        let (d, _) = try Self.entry(Self.params("kelly"), closed: trades)
        #expect(d.skipReason == "sizing" && d.sizing?.rationale.contains("n=50") == true)
    }

    @Test("another account's closed trades are not this account's record")
    func otherAccountIgnored() throws {
        var desk = D(Self.params("kelly"))
        try desk.ready(cash: 500_000)
        try Self.feedClosed(Self.thirty, into: &desk, account: "sim-2")
        let d = try #require(try desk.feed(D.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1").decision)
        #expect(d.sizing?.method == "tier" && d.sizing?.rationale.contains("has 0") == true)
    }

    // MARK: - ATR

    /// A call with delta 0.5 at $2.52; ATR14 $2: expected loss 0.5 × 5 × $2 × 100 = $500/contract;
    /// $182,000 (large, day 1 %) = $1,820 → 3 contracts (the tier's premium budget would buy 7).
    static let deltaChain = Fx.chain(500.2, at: Fx.ny(day, 10, 0), [D.quote(.call, 500, "2024-03-08", delta: 0.5)])

    @Test("atr with the signal's ATR14 and the chain's delta: method atr")
    func atrSizes() throws {
        let (d, o) = try Self.entry(Self.params("atr"), closed: [], cash: 18_200_000, signal: D.signal(atr14: 2.0), chain: Self.deltaChain)
        let sz = try #require(d.sizing)
        #expect(sz.method == "atr" && o?.quantity == 3 && sz.contracts == 3)
        #expect(sz.rationale.contains(", Sizing: atr risk $1820 ÷ expected loss $500.00/contract"), "\(sz.rationale)")
        #expect(d.atr14 == 2.0 && d.underlyingPrice == 500, "the position-manager's references: the signal's ATR14 and price")
    }

    @Test("atr without ATR14 falls back to the tier's %, saying why")
    func atrFallsBack() throws {
        let (d, o) = try Self.entry(Self.params("atr"), closed: [], cash: 18_200_000, signal: D.signal(atr14: nil), chain: Self.deltaChain)
        #expect(d.sizing?.method == "tier" && o?.quantity == 7)
        #expect(d.sizing?.rationale.contains("ATR14 unknown") == true, "\(d.sizing?.rationale ?? "")")
    }

    @Test("atr with a chain without deltas: |delta| from Black-Scholes on the mid, method atr")
    func atrComputesTheDelta() throws {
        let (d, _) = try Self.entry(Self.params("atr"), closed: [], cash: 18_200_000, signal: D.signal(atr14: 2.0), chain: DispatchCoreStateTests.chain)
        #expect(d.sizing?.method == "atr", "\(d.sizing?.rationale ?? "")")
        #expect(d.sizing?.rationale.contains("|Δ| 0.") == true, "\(d.sizing?.rationale ?? "")")
    }

    @Test("atr and scaling in: the first half of the ATR-sized quantity")
    func atrScaledIn() throws {
        let (d, o) = try Self.entry(Self.params("atr", scaleIn: true), closed: [], cash: 18_200_000, signal: D.signal(atr14: 2.0),
                                    chain: Self.deltaChain)
        let sz = try #require(d.sizing)
        #expect(o?.quantity == 1 && sz.sizedContracts == 3 && sz.method == "atr")
        #expect(sz.rationale.contains("Sizing: atr") && sz.rationale.hasSuffix(", Scale-in: 1 now, 2 more at the trigger"))
    }

    @Test("entry decisions by each method conform to the decision schema (the check's control)")
    func entriesMatchSchema() throws {
        let (kelly, _) = try Self.entry(Self.params("kelly"), closed: Self.thirty)
        let (atr, _) = try Self.entry(Self.params("atr", scaleIn: true), closed: [], cash: 18_200_000, signal: D.signal(atr14: 2.0), chain: Self.deltaChain)
        let (tier, _) = try Self.entry(TradingParams(), closed: [])
        for d in [kelly, atr, tier] { #expect(DecisionSchema.violations(d).isEmpty, "\(DecisionSchema.violations(d))") }
        #expect(DecisionSchema.allowed(["route"]) != nil && DecisionSchema.allowed(["sizing", "method"]) != nil, "the schema was read")
    }

    @Test("kelly's skip decision conforms to the decision schema")
    func kellySkipMatchesSchema() throws {
        let (d, _) = try Self.entry(Self.params("kelly"), closed: Array(repeating: Cents(-10_000), count: 20))
        #expect(DecisionSchema.violations(d).isEmpty, "\(DecisionSchema.violations(d))")
    }
}
