import Foundation
import OpsModel

/// What the dispatcher decides on: a signal's entry, a scale-in add, or a roll's opening leg.
struct EntryRequest {
    enum Kind: String { case entry, scaleIn = "scale_in", roll }
    var kind: Kind
    /// The signal the gates read: the entry's own; for a roll the latest one in its direction; for an add one
    /// standing for the position (its tier gates are not applied).
    var signal: Signal
    var signalId: String
    /// The position added to, or rolled.
    var position: PositionEvent? = nil
    var rollId: String? = nil
    /// A roll's |delta| to match.
    var targetDelta: Double? = nil

    /// What names the decision and the order, with the causing input's id: several requests can hang on one chain.
    var idParts: [String] {
        switch kind {
        case .entry: []
        case .scaleIn: [position?.positionId ?? ""]
        case .roll: [rollId ?? ""]
        }
    }
}

/// Seed 000 #19 scaling in: enter with half of the sized quantity; add the rest once the position is up
/// `sizing.scale_in_trigger_pct` (its mark at or above entry × (1 + pct)) and the setup still holds (no signal the
/// other way since the entry, and the underlying not back through the entry signal's price). The add is decided
/// once per position, through every gate again.
enum ScaleIn {
    static func key(_ ticker: String, _ d: Direction) -> String { "\(ticker) \(d.rawValue)" }

    /// (first leg, add) of `sized`: ⌊sized / 2⌋ now (at least 1), the rest later; nil below 2 (nothing to split).
    static func split(_ sized: Int) -> (first: Int, add: Int)? {
        guard sized >= 2 else { return nil }
        let first = sized / 2
        return (first, sized - first)
    }

    /// The entry sized by its method, halved for scaling in.
    static func halve(_ sz: SizingResult) -> SizingResult {
        guard let (first, add) = split(sz.contracts) else { return sz }
        var r = sz
        r.sizedContracts = sz.contracts
        r.contracts = first
        r.totalCostCents = Cents(first) * sz.costPerContractCents
        r.rationale += ", Scale-in: \(first) now, \(add) more at the trigger"
        return r
    }

    /// One add attempt per position and session: a refused add may be tried again the next session (and a restore,
    /// which re-reads chains from midnight, re-makes exactly today's attempts).
    struct AddKey: Hashable, Sendable, Codable {
        var position: String
        var day: CivilDate
    }

    /// An option position's mark in `chain` as the position-manager takes it (the mid to the nearest cent, with a
    /// usable ask); nil for shares or a contract not quoted.
    static func mark(_ p: PositionEvent, in chain: OptionChain) -> Cents? {
        guard let occ = OCCSymbol(p.symbol)?.description,
              let q = chain.contracts.first(where: { OCCSymbol($0.symbol)?.description == occ }),
              q.ask > 0, q.ask <= 100_000, q.bid >= 0, q.bid <= q.ask else { return nil }
        return Ticks.cents(q.mid, tick: 1, rounding: .nearest)
    }

    static func triggered(_ p: PositionEvent, params: TradingParams) -> Bool {
        guard p.event == .marked, (p.scaleInPending ?? 0) > 0, let mark = p.markPriceCents else { return false }
        return mark >= Exact.ceilCents(Decimal(p.entryPriceCents) * (1 + Exact.decimal(params.sizing.scaleInTriggerPct)))
    }

    static func setupGate(position p: PositionEvent, opposite: Timestamp?, chain: OptionChain?, at t: Timestamp) -> GateResult {
        let d = p.direction ?? .bull
        if let o = opposite, o > p.openedAt {
            return GateResult(gate: "scale_in_setup", passed: false, detail: "setup broken: a \(d == .bull ? "BEAR" : "BULL") signal on \(p.underlying) at \(o.iso8601) since the entry")
        }
        guard let entry = p.entryUnderlyingPrice, let now = chain?.underlyingPrice else {
            return GateResult(gate: "scale_in_setup", passed: true, detail: "setup holds: no opposite signal since the entry")
        }
        let holds = d == .bull ? now >= entry : now <= entry
        return GateResult(gate: "scale_in_setup", passed: holds,
                          detail: "\(holds ? "setup holds" : "setup broken"): \(p.underlying) \(Fmt.fixed(now, 2)) \(d == .bull ? "≥" : "≤") entry signal's \(Fmt.fixed(entry, 2))\(holds ? "" : " fails")",
                          value: Fmt.fixed(now, 2), limit: Fmt.fixed(entry, 2))
    }
}

extension DispatchCore {
    /// Decisions a chain causes besides entries: the opening legs of rolls requested on its underlying (the
    /// position-manager's `exit_requested` with `exit_reason` `roll`, seen before this chain), and scale-in adds of
    /// positions on it whose mark in this chain reached the trigger.
    ///
    /// They hang on chains, not on the position events: the position-manager reads decisions, and position events
    /// wait on fills, which wait on orders — a decision caused by a position event would close a loop whose
    /// watermarks could never start. A roll's opening leg thus follows its close by one chain (5 minutes by default).
    mutating func chainTriggers(_ chain: OptionChain, envelope: AnyEnvelope) -> [Emit] {
        let t = envelope.eventTime, day = NewYorkTime.date(of: t)
        var out = [Emit]()
        for roll in pendingRolls.keys.sorted() {
            guard let (p, requested) = pendingRolls[roll] else { continue }
            // A roll's opening leg belongs to the session of its close.
            if NewYorkTime.date(of: requested) != day { pendingRolls[roll] = nil; continue }
            guard p.underlying == chain.underlying else { continue }
            pendingRolls[roll] = nil
            let d = p.direction ?? .bull
            let recent = latestSignals[ScaleIn.key(p.underlying, d)]
            let fresh = recent.flatMap { requested.ms - $0.time.ms <= Int64(params.roll.signalMinutes) * 60_000 ? $0 : nil }
            let signal = fresh?.signal ?? standIn(p, reason: "no \(d.rawValue) signal within roll.signal_minutes")
            out += decide(EntryRequest(kind: .roll, signal: signal, signalId: fresh?.id ?? envelope.id, position: p, rollId: roll,
                                       targetDelta: p.greeks.map { abs($0.delta) }), envelope: envelope)
        }
        guard params.sizing.scaleIn else { return out }
        for id in openPositions.keys.sorted() {
            // A position being exited today (any exit request) is not added to.
            guard var p = openPositions[id], p.underlying == chain.underlying, (p.scaleInPending ?? 0) > 0,
                  !addsDecided.contains(ScaleIn.AddKey(position: id, day: day)),
                  !exitingToday.contains(ScaleIn.AddKey(position: id, day: day)),
                  let mark = p.assetClass == .equity ? p.markPriceCents : ScaleIn.mark(p, in: chain) else { continue }
            p.markPriceCents = mark
            p.event = .marked
            guard ScaleIn.triggered(p, params: params) else { continue }
            addsDecided.insert(ScaleIn.AddKey(position: id, day: day))
            out += decide(EntryRequest(kind: .scaleIn, signal: standIn(p, reason: "scale-in add"), signalId: envelope.id, position: p),
                          envelope: envelope)
        }
        return out
    }

    /// |delta| of the chosen contract: the chain's, else Black-Scholes from its mid.
    func absDelta(_ route: Route, _ s: Signal, at t: Timestamp) -> Double? {
        guard let c = route.contract else { return nil }
        if let d = c.delta { return abs(d) }
        guard let chain = chains[s.ticker], let q = chain.contracts.first(where: { $0.symbol == c.symbol }) else { return nil }
        return QuoteGreeks.greeks(q, spot: chain.underlyingPrice, at: t, underlying: s.ticker, params: params).map { abs($0.delta) }
    }

    /// A signal standing for a position (an add, or a roll without a recent signal: its confidence 0 fails the tier).
    func standIn(_ p: PositionEvent, reason: String) -> Signal {
        let d = p.direction ?? .bull
        let last = latestSignals[ScaleIn.key(p.underlying, d)]?.signal
        let price = chains[p.underlying]?.underlyingPrice ?? p.entryUnderlyingPrice ?? Double(p.entryPriceCents) / 100
        return Signal(ticker: p.underlying, direction: d, instrument: p.assetClass == .equity ? .stock : (d == .bull ? .call : .put),
                      strategy: p.strategy, confidence: 0, volumeRatio: nil, price: price, featuresId: p.positionId, rules: [],
                      reason: reason, ivPercentile: last?.ivPercentile, ivRank: last?.ivRank)
    }

    /// The sizing of a request: the method's for an entry (halved when scaling in), the pending add, or the rolled
    /// quantity; the tier's `max_contracts` caps each.
    func size(_ r: EntryRequest, route: Route, priceCents: Cents, view v: View, at t: Timestamp) -> SizingResult {
        let s = r.signal
        switch r.kind {
        case .entry:
            let sz = route.isStock
                ? StockSizing.size(buyingPowerCents: v.buyingPowerCents, priceCents: priceCents, strategy: s.strategy, params: params)
                : SizingMethod.size(SizingInputs(buyingPowerCents: v.buyingPowerCents, premiumCents: priceCents, strategy: s.strategy,
                                                 closedTradePnlsCents: closedPnls, absDelta: absDelta(route, s, at: t), atr14: s.atr14),
                                    params: params)
            return params.sizing.scaleIn ? ScaleIn.halve(sz) : sz
        case .scaleIn, .roll:
            let p = r.position!
            let (tierName, tier) = Tiering.tier(buyingPowerCents: v.buyingPowerCents, params: params)
            let cap = route.isStock ? tier.maxShares : tier.maxContracts
            let wanted = r.kind == .scaleIn ? (p.scaleInPending ?? 0) : (p.remainingQuantity ?? p.quantity)
            let n = min(wanted, cap)
            let per = priceCents * (route.isStock ? 1 : 100)
            let what = r.kind == .scaleIn ? "Scale-in add to \(p.positionId)" : "Roll of \(p.positionId)"
            let rationale = "Tier: \(tierName), \(what): \(n) \(route.isStock ? "shares" : "contracts") (wanted \(wanted), cap \(cap)), "
                + "Premium: \(Fmt.dollarsAndCents(priceCents))\(route.isStock ? "/share" : " × 100 = \(Fmt.wholeDollars(per))/contract"), Total: \(Fmt.wholeDollars(per * Cents(n)))"
            var out = SizingResult(tier: tierName, strategy: p.strategy, riskPct: Sizing.riskFraction(tier: tier, strategy: p.strategy.rawValue, params: params).pct,
                                   buyingPowerCents: v.buyingPowerCents, riskCents: 0, premiumCents: priceCents, costPerContractCents: per,
                                   contracts: n, maxContracts: cap, totalCostCents: per * Cents(n), minimumContractRule: false, rationale: rationale)
            out.unit = route.isStock ? "shares" : nil
            out.method = r.kind.rawValue
            return out
        }
    }
}
