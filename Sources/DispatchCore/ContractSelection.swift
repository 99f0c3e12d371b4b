import Foundation
import OpsModel

/// The contract chosen for a signal, or why none was, with the counts behind it.
public struct Selection: Sendable, Equatable {
    public var chosen: ContractQuote?
    /// Contracts of the wanted right (calls for BULL, puts for BEAR) in the chain. Every one of them is either
    /// liquid inside the DTE window or counted once in `refusals`.
    public var considered: Int
    /// Why the others were passed over, by kind: "dte" (outside the strategy's window) or the first failed
    /// liquidity gate ("bid_ask", "spread", "premium", "expiration", "open_interest", "volume").
    public var refusals: [String: Int]
    /// One line for the decision, e.g.
    /// `12 calls in 0–7 DTE, 9 liquid; chose SPY240308C00500000 (strike 500, 2 DTE, mid 2.52, spread 0.8%)`.
    public var detail: String
    /// The best-scored passing contracts, best first (at most `contract_selection.candidates_shown`).
    public var candidates: [ContractQuote]
    /// The option gates' verdict for the signal: passed with a contract, or why not and whether to fall back.
    public var verdict: OptionGateVerdict

    public init(chosen: ContractQuote?, considered: Int, refusals: [String: Int], detail: String,
                candidates: [ContractQuote] = [], verdict: OptionGateVerdict = OptionGateVerdict(passed: false, reason: "", fallback: false)) {
        self.chosen = chosen; self.considered = considered; self.refusals = refusals; self.detail = detail
        self.candidates = candidates; self.verdict = verdict
    }
}

/// Seed 000 Phase 2 #7–8 contract choice: the best quality score among the contracts that pass every option gate,
/// not the nearest strike.
///
/// Calls for BULL, puts for BEAR; DTE is New York calendar days from the trading date of `asOf` to the expiration,
/// inside the strategy's inclusive window (`contract_selection.day_trade_dte` / `swing_trade_dte`); the contract
/// must pass `OptionGates.validate` at `asOf` (liquidity, expiration, the ticker's IV percentile and IV Rank).
/// Each passing contract is scored (`ContractScoring`): spread, open interest, volume and the distance of |delta|
/// from `contract_selection.target_delta`, each normalized to [0, 1], weighted by `contract_selection.score_weights`.
/// The best score wins; ties go to the nearer strike, the nearer expiration, the lower strike, then the symbol, so
/// the choice never depends on chain order. The best `candidates_shown` are kept for the decision.
public enum ContractSelection {
    public static func choose(chain: OptionChain, direction: Direction, strategy: TradeStrategy, asOf: Timestamp,
                              params: TradingParams, ivPercentile: Double? = nil, ivRank: Double? = nil) -> Selection {
        let right: OptionRight = direction == .bull ? .call : .put
        let window = dteWindow(strategy: strategy, params: params)
        let today = NewYorkTime.date(of: asOf)

        var considered = 0, inWindow = 0
        var refusals: [String: Int] = [:]
        var passing: [ContractQuote] = []
        var lastFailed: OptionQuote?

        for q in chain.contracts where q.right == right {
            considered += 1
            let dte = today.days(until: q.expiration)
            guard window.contains(dte) else { refusals["dte", default: 0] += 1; continue }
            inWindow += 1
            // Screened without texts; only the last refusal's are kept (below).
            let check = OptionGates.validate(q, asOf: asOf, ivPercentile: ivPercentile, ivRank: ivRank, params: params, explain: false)
            guard check.verdict.passed else {
                refusals[check.failedGate ?? "liquidity", default: 0] += 1
                lastFailed = q
                continue
            }
            passing.append(ContractQuote(symbol: q.symbol, right: q.right, strike: q.strike, expiration: q.expiration, dte: dte,
                                         bid: q.bid, ask: q.ask, mid: check.mid, spreadPct: check.spreadPct ?? 0,
                                         volume: q.volume, openInterest: q.openInterest, delta: q.delta))
        }
        let lastFailure = lastFailed.map { OptionGates.validate($0, asOf: asOf, ivPercentile: ivPercentile, ivRank: ivRank, params: params).verdict }
        let ranked = ContractScoring.rank(passing, underlyingPrice: chain.underlyingPrice, strategy: strategy, params: params)

        let noun = right == .call ? "call" : "put"
        func count(_ n: Int) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        let head = "\(count(inWindow)) in \(window.lowerBound)–\(window.upperBound) DTE, \(passing.count) passing the option gates"
        let shown = Array(ranked.prefix(params.contractSelection.candidatesShown))
        if let chosen = ranked.first {
            let sc = chosen.score.map { Fmt.fixed($0.total, 3) } ?? "n/a"
            let detail = head + "; chose \(chosen.symbol) (score \(sc), strike \(Fmt.number(chosen.strike)), \(chosen.dte) DTE, "
                + "mid \(Fmt.fixed(chosen.mid, 2)), spread \(Fmt.fixed(chosen.spreadPct, 1))%, delta \(chosen.delta.map { Fmt.fixed($0, 2) } ?? "n/a"))"
            return Selection(chosen: chosen, considered: considered, refusals: refusals, detail: detail, candidates: shown,
                             verdict: OptionGateVerdict(passed: true, reason: "All gates passed", fallback: false))
        }
        var detail = "no \(noun) chosen: " + head
        let gateRefusals = OptionGates.gateOrder.compactMap { g in refusals[g].map { "\(g) \($0)" } }
        if !gateRefusals.isEmpty { detail += " (refused: " + gateRefusals.joined(separator: ", ") + ")" }
        if let outside = refusals["dte"] { detail += "; \(count(outside)) outside the window" }
        if considered == 0 { detail += "; the chain of \(chain.underlying) has no \(noun)s" }
        // No tradable option: a market-quality failure (the seed falls back to stock), unless the only failures
        // were expirations, which another chain would fix.
        let fallback = lastFailure?.fallback ?? true
        return Selection(chosen: nil, considered: considered, refusals: refusals, detail: detail, candidates: [],
                         verdict: OptionGateVerdict(passed: false, reason: lastFailure.map { "\(detail); last: \($0.reason)" } ?? detail, fallback: fallback))
    }

    /// The strategy's inclusive DTE window. A malformed window (loading refuses one) is read as [first, max(first, last)].
    /// A swing window starts above `exits.time_exit_dte` when that exit is on: a contract it would exit at once is not
    /// bought (with the defaults, [14, 45] becomes [22, 45]).
    public static func dteWindow(strategy: TradeStrategy, params: TradingParams) -> ClosedRange<Int> {
        let w = strategy == .dayTrade ? params.contractSelection.dayTradeDte : params.contractSelection.swingTradeDte
        var lo = w.first ?? 0
        let hi = w.last ?? lo
        if strategy == .swingTrade, params.exits.timeExitDte > 0 { lo = max(lo, params.exits.timeExitDte + 1) }
        return lo...max(lo, hi)
    }
}
