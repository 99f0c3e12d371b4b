import Foundation
import OpsModel

/// The verdict of `OptionGates.validate` on one contract: the seed's (passed, reason, fallback) and every gate's
/// own result for the audit.
public struct OptionGateCheck: Sendable, Equatable {
    public var verdict: OptionGateVerdict
    public var mid: Double
    public var spreadPct: Double?
    public var gates: [GateResult]
    public var failedGate: String? { gates.first { !$0.passed }?.gate }
}

/// Seed 004 §1 `validate_option_contract`, the one function the dispatcher and `opsctl check-contract` share:
/// the liquidity gates of `Liquidity.check` (bid/ask, spread ≤ 10% of mid, mid ≥ $0.30, not expired, open
/// interest ≥ 500, volume ≥ 200 — seed 000's later thresholds win over 004's 100), then the ticker's IV percentile
/// ≤ `liquidity_thresholds.max_iv_percentile` (80) when known and its IV Rank ≤ `max_iv_rank` when that is set
/// (000 Phase 3 #12; off by default). The first failure is the reason.
///
/// Fallback (trade the underlying instead) is the seed's answer to a market-quality failure: a wide spread, thin
/// volume or open interest, a premium too small to trade, no valid quote, or implied volatility too high to buy.
/// An expired contract is no reason to leave options (another expiration is), so it does not fall back.
public enum OptionGates {
    public static let gateOrder = Liquidity.gateOrder + ["iv_percentile", "iv_rank"]
    static let noFallback: Set<String> = ["expiration"]

    public static func validate(bid: Double, ask: Double, expiration: CivilDate, asOf: Timestamp, volume: Int64?, openInterest: Int64?,
                                ivPercentile: Double?, ivRank: Double?, params: TradingParams, explain: Bool = true) -> OptionGateCheck {
        let liquidity = Liquidity.check(bid: bid, ask: ask, expiration: expiration, asOf: asOf, volume: volume,
                                        openInterest: openInterest, params: params, explain: explain)
        let limits = params.liquidityThresholds
        var gates = liquidity.gates
        gates.append(ceilingGate("iv_percentile", label: "IV", value: ivPercentile, limit: limits.maxIvPercentile,
                                 key: "max_iv_percentile", unit: "th percentile", explain: explain))
        gates.append(ceilingGate("iv_rank", label: "IV Rank", value: ivRank, limit: limits.maxIvRank, key: "max_iv_rank", unit: "",
                                 explain: explain))
        guard let failed = gates.first(where: { !$0.passed }) else {
            return OptionGateCheck(verdict: OptionGateVerdict(passed: true, reason: "All gates passed", fallback: false),
                                   mid: liquidity.mid, spreadPct: liquidity.spreadPct, gates: gates)
        }
        return OptionGateCheck(verdict: OptionGateVerdict(passed: false, reason: failed.detail, fallback: !noFallback.contains(failed.gate)),
                               mid: liquidity.mid, spreadPct: liquidity.spreadPct, gates: gates)
    }

    /// `explain: false`: the same verdicts and numbers, every gate's text left empty (see `Liquidity.check`).
    public static func validate(_ q: OptionQuote, asOf: Timestamp, ivPercentile: Double?, ivRank: Double?, params: TradingParams,
                                explain: Bool = true) -> OptionGateCheck {
        validate(bid: q.bid, ask: q.ask, expiration: q.expiration, asOf: asOf, volume: q.volume, openInterest: q.openInterest,
                 ivPercentile: ivPercentile, ivRank: ivRank, params: params, explain: explain)
    }

    /// A ceiling that applies only when both the value is known and the limit is set.
    static func ceilingGate(_ gate: String, label: String, value: Double?, limit: Double?, key: String, unit: String,
                            explain: Bool = true) -> GateResult {
        let failed = value.flatMap { v in limit.map { Liquidity.micro(v) > Liquidity.micro($0) } } ?? false
        guard explain else { return GateResult(gate: gate, passed: !failed, detail: "") }
        let shown = value.map { Fmt.fixed($0, 1) }
        guard let limit else {
            return GateResult(gate: gate, passed: true, detail: "\(label) \(shown.map { $0 + unit } ?? "unknown"), check off (\(key) null)", value: shown, limit: nil)
        }
        guard let shown else {
            return GateResult(gate: gate, passed: true, detail: "\(label) unknown (not enough history), check skipped", value: nil, limit: Fmt.fixed(limit, 1))
        }
        if failed {
            return GateResult(gate: gate, passed: false, detail: "\(label) too high: \(shown)\(unit) > \(Fmt.fixed(limit, 1))", value: shown, limit: Fmt.fixed(limit, 1))
        }
        return GateResult(gate: gate, passed: true, detail: "\(label) \(shown)\(unit) ≤ \(Fmt.fixed(limit, 1))", value: shown, limit: Fmt.fixed(limit, 1))
    }
}

/// Seed 000 Phase 2 #7: a contract's quality score. Components, each in [0, 1] (1 best):
/// - spread: 1 − spread % ÷ `max_spread_pct` (a contract at the limit scores 0);
/// - open interest and volume: log(1 + x) ÷ log(1 + the best among the candidates) — logarithmic because both span
///   orders of magnitude, so 5,000 vs 50,000 counts as much as 500 vs 5,000;
/// - delta: 1 − ||delta| − target| ÷ max(target, 1 − target), target from `contract_selection.target_delta`
///   (day 0.40, swing 0.50); 0 when the chain gives no delta.
/// Total = Σ weight × component ÷ Σ weights (`contract_selection.score_weights`).
public enum ContractScoring {
    public static func rank(_ passing: [ContractQuote], underlyingPrice: Double, strategy: TradeStrategy, params: TradingParams) -> [ContractQuote] {
        let maxOI = passing.map(\.openInterest).max() ?? 0
        let maxVolume = passing.map(\.volume).max() ?? 0
        let target = params.contractSelection.targetDelta.value(for: strategy)
        let scored = passing.map { q -> ContractQuote in
            var x = q
            x.score = score(q, maxOpenInterest: maxOI, maxVolume: maxVolume, targetDelta: target, params: params)
            return x
        }
        return scored.sorted { a, b in
            let sa = Liquidity.micro(a.score?.total ?? 0), sb = Liquidity.micro(b.score?.total ?? 0)
            if sa != sb { return sa > sb }
            let da = Liquidity.micro(abs(a.strike - underlyingPrice)), db = Liquidity.micro(abs(b.strike - underlyingPrice))
            if da != db { return da < db }
            if a.dte != b.dte { return a.dte < b.dte }
            if a.strike != b.strike { return a.strike < b.strike }
            return a.symbol < b.symbol
        }
    }

    public static func score(_ q: ContractQuote, maxOpenInterest: Int64, maxVolume: Int64, targetDelta: Double, params: TradingParams) -> ContractScore {
        let w = params.contractSelection.scoreWeights
        let spread = clamp01(1 - q.spreadPct / params.liquidityThresholds.maxSpreadPct)
        let oi = logShare(q.openInterest, of: maxOpenInterest)
        let volume = logShare(q.volume, of: maxVolume)
        let delta = q.delta.map { clamp01(1 - abs(abs($0) - targetDelta) / max(targetDelta, 1 - targetDelta)) } ?? 0
        let total = (w.spread * spread + w.openInterest * oi + w.volume * volume + w.delta * delta) / (w.spread + w.openInterest + w.volume + w.delta)
        return ContractScore(total: round6(total), spread: round6(spread), openInterest: round6(oi), volume: round6(volume), delta: round6(delta))
    }

    static func logShare(_ x: Int64, of best: Int64) -> Double {
        guard best > 0, x > 0 else { return 0 }
        return clamp01(log1p(Double(x)) / log1p(Double(best)))
    }

    static func clamp01(_ v: Double) -> Double { v.isFinite ? min(1, max(0, v)) : 0 }
    /// Six decimals: what is published and compared, so ties do not hang on binary noise.
    static func round6(_ v: Double) -> Double { (v * 1_000_000).rounded() / 1_000_000 }
}
