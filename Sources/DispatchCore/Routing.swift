import Foundation
import OpsModel

/// What a signal is traded in: the best option that passes the option gates, or — seed 004 §1 — the underlying
/// when they fail with fallback and `execution.stock_fallback` is on; a STOCK signal always trades the underlying.
///
/// The decision's `chain` and `contract` gates answer "is there something to trade for this signal": they pass
/// with a chosen option, or with the fallback (their detail says the option gates failed and why), and fail only
/// when neither is possible.
struct Route {
    /// `option`, `stock` or `stock_fallback`.
    var name: String
    var chainGate: GateResult
    var contractGate: GateResult
    var contract: ContractQuote?
    var candidates: [ContractQuote]
    var optionVerdict: OptionGateVerdict?
    /// The limit per share (option premium or stock price) on a valid tick; nil when there is nothing to trade.
    var priceCents: Cents?
    var symbol: String
    var isStock: Bool { name != "option" }
}

enum Routing {
    static func route(_ s: Signal, chain latest: OptionChain?, at t: Timestamp, params: TradingParams) -> Route {
        let stockPrice = Ticks.cents(s.price, tick: 1, rounding: .nearest)
        if s.instrument == .stock {
            return Route(name: "stock", chainGate: GateResult(gate: "chain", passed: true, detail: "not needed: a STOCK signal"),
                         contractGate: GateResult(gate: "contract", passed: true, detail: "stock \(s.ticker) at \(Money.dollars(stockPrice))"),
                         contract: nil, candidates: [], optionVerdict: nil, priceCents: stockPrice, symbol: s.ticker)
        }
        let maxAge = Int64(params.contractSelection.maxChainAgeMinutes) * 60_000
        let chain = latest.flatMap { c -> OptionChain? in
            c.asOf <= t && NewYorkTime.date(of: c.asOf) == NewYorkTime.date(of: t) && t.ms - c.asOf.ms <= maxAge ? c : nil
        }
        let chainDetail = chain.map { "\($0.contracts.count) contracts as of \($0.asOf)" }
            ?? latest.map { "latest chain \($0.asOf) is stale or from another session" } ?? "no chain for \(s.ticker) yet"
        var selection: Selection?
        let verdict: OptionGateVerdict
        if let chain {
            let sel = ContractSelection.choose(chain: chain, direction: s.direction, strategy: s.strategy, asOf: t, params: params,
                                               ivPercentile: s.ivPercentile, ivRank: s.ivRank)
            selection = sel
            verdict = sel.verdict
        } else {
            verdict = OptionGateVerdict(passed: false, reason: chainDetail, fallback: true)
        }
        if let sel = selection, let chosen = sel.chosen {
            let premium = OrderPricing.limitPriceCents(mid: chosen.mid, underlying: s.ticker, params: params)
            return Route(name: "option", chainGate: GateResult(gate: "chain", passed: true, detail: chainDetail),
                         contractGate: GateResult(gate: "contract", passed: true, detail: sel.detail, value: chosen.symbol),
                         contract: chosen, candidates: sel.candidates, optionVerdict: verdict, priceCents: premium, symbol: chosen.symbol)
        }
        if verdict.fallback && params.execution.stockFallback {
            let why = "Option gates failed (\(verdict.reason)); fallback to stock \(s.ticker) at \(Money.dollars(stockPrice))"
            return Route(name: "stock_fallback",
                         chainGate: GateResult(gate: "chain", passed: true, detail: chain == nil ? "\(chainDetail); stock fallback" : chainDetail),
                         contractGate: GateResult(gate: "contract", passed: true, detail: why, value: s.ticker),
                         contract: nil, candidates: [], optionVerdict: verdict, priceCents: stockPrice, symbol: s.ticker)
        }
        let off = verdict.fallback ? " (stock fallback off: execution.stock_fallback false)" : ""
        return Route(name: "option", chainGate: GateResult(gate: "chain", passed: chain != nil, detail: chainDetail + (chain == nil ? off : "")),
                     contractGate: chain == nil ? GateResult(gate: "contract", passed: false, detail: "not evaluated: needs a chain")
                                                : GateResult(gate: "contract", passed: false, detail: (selection?.detail ?? verdict.reason) + off),
                     contract: nil, candidates: selection?.candidates ?? [], optionVerdict: verdict, priceCents: nil, symbol: s.ticker)
    }
}

/// Seed 004 §1 stock fallback sizing, the tier's way: risk $ = buying power × the tier's risk % for the strategy
/// (exact decimal, floored to a cent); shares = ⌊risk $ ÷ price⌋, capped by the tier's `max_shares`. No
/// minimum-share rule: a share the budget cannot buy is not bought.
enum StockSizing {
    static func size(buyingPowerCents: Cents, priceCents: Cents, strategy: TradeStrategy, params: TradingParams) -> SizingResult {
        let (tierName, tier) = Tiering.tier(buyingPowerCents: buyingPowerCents, params: params)
        let risk = Sizing.riskFraction(tier: tier, strategy: strategy.rawValue, params: params)
        let riskCents = Exact.floorCents(risk.exact * Decimal(buyingPowerCents))
        let byBudget = priceCents > 0 && riskCents > 0 ? riskCents / priceCents : 0
        let shares = Int(min(byBudget, Cents(max(tier.maxShares, 0))))
        let total = Cents(shares) * priceCents
        let rationale = "Tier: \(tierName), Strategy: \(strategy.rawValue), "
            + "Risk: \(Fmt.fixed(risk.pct * 100, 1))% of \(Fmt.wholeDollars(buyingPowerCents)) = \(Fmt.wholeDollars(riskCents)), "
            + "Price: \(Fmt.dollarsAndCents(priceCents))/share, Shares: \(shares) (cap: \(tier.maxShares)), Total: \(Fmt.wholeDollars(total))"
        var r = SizingResult(tier: tierName, strategy: strategy, riskPct: risk.pct, buyingPowerCents: buyingPowerCents, riskCents: riskCents,
                             premiumCents: priceCents, costPerContractCents: priceCents, contracts: shares, maxContracts: tier.maxShares,
                             totalCostCents: total, minimumContractRule: false, rationale: rationale)
        r.unit = "shares"
        return r
    }
}
