import Foundation
import OpsModel

/// Seed 000 #18, the opening leg of a roll: in the next swing expiration window — the earliest expiration after the
/// rolled contract's whose DTE is inside the swing window (above `exits.time_exit_dte`) — the contract of the same
/// right whose |delta| is nearest the rolled position's current |delta|, among those passing the option gates.
/// Ties go to the nearer strike to the underlying, then the lower strike.
enum RollSelection {
    static func route(position p: PositionEvent, targetDelta: Double, chain latest: OptionChain?, signal s: Signal, at t: Timestamp,
                      params: TradingParams) -> Route {
        let maxAge = Int64(params.contractSelection.maxChainAgeMinutes) * 60_000
        guard let chain = latest, chain.asOf <= t, t.ms - chain.asOf.ms <= maxAge,
              let occ = OCCSymbol(p.symbol) else {
            return failed("no fresh chain for \(p.underlying) to roll into", chainPassed: false, s)
        }
        let window = ContractSelection.dteWindow(strategy: .swingTrade, params: params)
        let today = NewYorkTime.date(of: t)
        var byExpiration = [CivilDate: [ContractQuote]]()
        var refused = 0
        for q in chain.contracts where q.right == occ.right && q.expiration > occ.expiration {
            let dte = today.days(until: q.expiration)
            guard window.contains(dte) else { continue }
            let check = OptionGates.validate(q, asOf: t, ivPercentile: s.ivPercentile, ivRank: s.ivRank, params: params)
            guard check.verdict.passed,
                  let delta = q.delta ?? QuoteGreeks.greeks(q, spot: chain.underlyingPrice, at: t, underlying: p.underlying, params: params)?.delta else {
                refused += 1
                continue
            }
            byExpiration[q.expiration, default: []].append(
                ContractQuote(symbol: q.symbol, right: q.right, strike: q.strike, expiration: q.expiration, dte: dte, bid: q.bid, ask: q.ask,
                              mid: check.mid, spreadPct: check.spreadPct ?? 0, volume: q.volume, openInterest: q.openInterest, delta: delta))
        }
        let head = "roll \(p.symbol) (|delta| \(Fmt.fixed(targetDelta, 2))) into \(window.lowerBound)–\(window.upperBound) DTE after \(occ.expiration)"
        guard let next = byExpiration.keys.min(), let options = byExpiration[next] else {
            return failed("\(head): no contract passes the option gates (\(refused) refused)", chainPassed: true, s)
        }
        let spot = chain.underlyingPrice
        let chosen = options.min { a, b in
            let da = abs(abs(a.delta ?? 0) - targetDelta), db = abs(abs(b.delta ?? 0) - targetDelta)
            if da != db { return da < db }
            let ka = abs(a.strike - spot), kb = abs(b.strike - spot)
            return ka != kb ? ka < kb : a.strike < b.strike
        }!
        let premium = OrderPricing.limitPriceCents(mid: chosen.mid, underlying: p.underlying, params: params)
        let detail = "\(head): chose \(chosen.symbol) (\(chosen.dte) DTE, delta \(Fmt.fixed(chosen.delta ?? 0, 2)), mid \(Fmt.fixed(chosen.mid, 2)))"
        return Route(name: "option", chainGate: GateResult(gate: "chain", passed: true, detail: "\(chain.contracts.count) contracts as of \(chain.asOf)"),
                     contractGate: GateResult(gate: "contract", passed: true, detail: detail, value: chosen.symbol),
                     contract: chosen, candidates: [], optionVerdict: OptionGateVerdict(passed: true, reason: "All gates passed", fallback: false),
                     priceCents: premium, symbol: chosen.symbol)
    }

    static func failed(_ why: String, chainPassed: Bool, _ s: Signal) -> Route {
        Route(name: "option", chainGate: GateResult(gate: "chain", passed: chainPassed, detail: chainPassed ? "chain fresh" : why),
              contractGate: GateResult(gate: "contract", passed: false, detail: why), contract: nil, candidates: [],
              optionVerdict: OptionGateVerdict(passed: false, reason: why, fallback: false), priceCents: nil, symbol: s.ticker)
    }
}

/// Seed 000 #19, the add of a scaled-in position: the same contract (or shares) at today's quote, through the option
/// gates again.
enum AddRouting {
    static func route(position p: PositionEvent, chain latest: OptionChain?, signal s: Signal, at t: Timestamp, params: TradingParams) -> Route {
        if p.assetClass == .equity {
            let price = Ticks.cents(s.price, tick: 1, rounding: .nearest)
            return Route(name: "stock", chainGate: GateResult(gate: "chain", passed: true, detail: "not needed: shares"),
                         contractGate: GateResult(gate: "contract", passed: true, detail: "add to \(p.symbol) at \(Money.dollars(price))"),
                         contract: nil, candidates: [], optionVerdict: nil, priceCents: price, symbol: p.symbol)
        }
        let maxAge = Int64(params.contractSelection.maxChainAgeMinutes) * 60_000
        guard let chain = latest, chain.asOf <= t, t.ms - chain.asOf.ms <= maxAge else {
            return RollSelection.failed("no fresh chain for \(p.underlying)", chainPassed: false, s)
        }
        let canonical = OCCSymbol(p.symbol)?.description
        guard let q = chain.contracts.first(where: { OCCSymbol($0.symbol)?.description == canonical }) else {
            return RollSelection.failed("\(p.symbol) is not in the chain as of \(chain.asOf)", chainPassed: true, s)
        }
        let check = OptionGates.validate(q, asOf: t, ivPercentile: s.ivPercentile, ivRank: s.ivRank, params: params)
        guard check.verdict.passed else { return RollSelection.failed("add to \(p.symbol): \(check.verdict.reason)", chainPassed: true, s) }
        let today = NewYorkTime.date(of: t)
        let quote = ContractQuote(symbol: q.symbol, right: q.right, strike: q.strike, expiration: q.expiration, dte: today.days(until: q.expiration),
                                  bid: q.bid, ask: q.ask, mid: check.mid, spreadPct: check.spreadPct ?? 0, volume: q.volume,
                                  openInterest: q.openInterest, delta: q.delta)
        let premium = OrderPricing.limitPriceCents(mid: check.mid, underlying: p.underlying, params: params)
        return Route(name: "option", chainGate: GateResult(gate: "chain", passed: true, detail: "\(chain.contracts.count) contracts as of \(chain.asOf)"),
                     contractGate: GateResult(gate: "contract", passed: true, detail: "add to \(q.symbol): mid \(Fmt.fixed(check.mid, 2)), spread \(Fmt.fixed(check.spreadPct ?? 0, 1))%", value: q.symbol),
                     contract: quote, candidates: [], optionVerdict: check.verdict, priceCents: premium, symbol: p.symbol)
    }
}
