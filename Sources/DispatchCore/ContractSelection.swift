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

    public init(chosen: ContractQuote?, considered: Int, refusals: [String: Int], detail: String) {
        self.chosen = chosen; self.considered = considered; self.refusals = refusals; self.detail = detail
    }
}

/// Seed 000 Phase 1 contract choice ("closest strike"), restricted to liquid contracts in the strategy's window.
///
/// Calls for BULL, puts for BEAR; DTE is New York calendar days from the trading date of `asOf` to the expiration,
/// inside the strategy's inclusive window (`contract_selection.day_trade_dte` / `swing_trade_dte`); the contract
/// must pass `Liquidity.check` at `asOf`. Among those the strike nearest `chain.underlyingPrice` wins; ties go to
/// the nearer expiration, then the lower strike (then the symbol, so the choice never depends on chain order).
public enum ContractSelection {
    public static func choose(chain: OptionChain, direction: Direction, strategy: TradeStrategy, asOf: Timestamp,
                              params: TradingParams) -> Selection {
        let right: OptionRight = direction == .bull ? .call : .put
        let window = dteWindow(strategy: strategy, params: params)
        let today = NewYorkTime.date(of: asOf)

        var considered = 0, inWindow = 0
        var refusals: [String: Int] = [:]
        var best: (key: SortKey, quote: ContractQuote)? = nil
        var liquid = 0

        for q in chain.contracts where q.right == right {
            considered += 1
            let dte = today.days(until: q.expiration)
            guard window.contains(dte) else { refusals["dte", default: 0] += 1; continue }
            inWindow += 1
            let check = Liquidity.check(q, asOf: asOf, params: params)
            guard check.valid else { refusals[check.failedGate ?? "liquidity", default: 0] += 1; continue }
            liquid += 1
            let key = SortKey(distance: Liquidity.micro(abs(q.strike - chain.underlyingPrice)), dte: dte,
                              strike: Liquidity.micro(q.strike), symbol: q.symbol)
            if let b = best, !(key < b.key) { continue }
            best = (key, ContractQuote(symbol: q.symbol, right: q.right, strike: q.strike, expiration: q.expiration, dte: dte,
                                       bid: q.bid, ask: q.ask, mid: check.mid, spreadPct: check.spreadPct ?? 0,
                                       volume: q.volume, openInterest: q.openInterest))
        }

        let noun = right == .call ? "call" : "put"
        func count(_ n: Int) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        let head = "\(count(inWindow)) in \(window.lowerBound)–\(window.upperBound) DTE, \(liquid) liquid"
        if let chosen = best?.quote {
            let detail = head + "; chose \(chosen.symbol) (strike \(Fmt.number(chosen.strike)), \(chosen.dte) DTE, "
                + "mid \(Fmt.fixed(chosen.mid, 2)), spread \(Fmt.fixed(chosen.spreadPct, 1))%)"
            return Selection(chosen: chosen, considered: considered, refusals: refusals, detail: detail)
        }
        var detail = "no \(noun) chosen: " + head
        let gateRefusals = Liquidity.gateOrder.compactMap { g in refusals[g].map { "\(g) \($0)" } }
        if !gateRefusals.isEmpty { detail += " (refused: " + gateRefusals.joined(separator: ", ") + ")" }
        if let outside = refusals["dte"] { detail += "; \(count(outside)) outside the window" }
        if considered == 0 { detail += "; the chain of \(chain.underlying) has no \(noun)s" }
        return Selection(chosen: nil, considered: considered, refusals: refusals, detail: detail)
    }

    /// The strategy's inclusive DTE window. A malformed window (loading refuses one) is read as [first, max(first, last)].
    public static func dteWindow(strategy: TradeStrategy, params: TradingParams) -> ClosedRange<Int> {
        let w = strategy == .dayTrade ? params.contractSelection.dayTradeDte : params.contractSelection.swingTradeDte
        let lo = w.first ?? 0
        return lo...max(lo, w.last ?? lo)
    }

    /// Ordering: nearest strike, then nearer expiration, then lower strike, then symbol.
    struct SortKey: Comparable {
        var distance: Double
        var dte: Int
        var strike: Double
        var symbol: String
        static func < (a: SortKey, b: SortKey) -> Bool {
            if a.distance != b.distance { return a.distance < b.distance }
            if a.dte != b.dte { return a.dte < b.dte }
            if a.strike != b.strike { return a.strike < b.strike }
            return a.symbol < b.symbol
        }
    }
}
