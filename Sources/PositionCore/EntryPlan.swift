import OpsModel

/// What the dispatcher's order decision tells the position-manager about an entry before it fills: the underlying's
/// price and ATR14 at the signal (underlying-style exits, the scale-in setup), the contracts a scale-in still adds,
/// the roll it opens.
struct EntryPlan: Sendable, Equatable, Codable {
    var time: Timestamp
    var underlyingPrice: Double?
    var atr14: Double?
    var scaleInPending: Int
    var rollId: String?

    func apply(to p: inout OpenPosition) {
        p.entryUnderlyingPrice = underlyingPrice
        p.atr14 = atr14
        p.scaleInPending = scaleInPending
        p.openedByRoll = rollId
    }
}

extension PositionManagerCore {
    /// Keeps the plan of an entry order; a scale-in add's decision needs none (its fill names its position).
    mutating func onDecision(_ d: Decision, at t: Timestamp) {
        if d.outcome == .order, let order = d.order {
            unanswered[order.clientOrderId] = t
            // An order never answered (a lost order event) must not end the lookahead for good: orders live a day.
            if unanswered.count > 64 { unanswered = unanswered.filter { $0.value.ms >= t.ms - 86_400_000 } }
        }
        guard d.outcome == .order, let order = d.order, order.intent == .open, d.kind != "scale_in" else { return }
        let sized = d.sizing?.sizedContracts ?? order.quantity
        plans[order.clientOrderId] = EntryPlan(time: t, underlyingPrice: d.underlyingPrice, atr14: d.atr14,
                                               scaleInPending: max(0, sized - order.quantity), rollId: d.rollId)
        // Plans of entries that never filled are dropped after a day (entry orders live minutes).
        let cutoff = t.adding(ms: -86_400_000)
        if plans.count > 64 { plans = plans.filter { $0.value.time >= cutoff || positions[Self.positionId(entryClientOrderId: $0.key)] != nil } }
    }

    static func signalKey(_ ticker: String, _ direction: Direction) -> String { "\(ticker) \(direction.rawValue)" }

    func lastSignal(for p: OpenPosition) -> Timestamp? { lastSignal[Self.signalKey(p.underlying, p.direction)] }
}

/// The stop and target in force for a position, as recorded on its events: premium levels in cents per share, or
/// underlying levels in cents of the underlying's price; after a partial exit, the breakeven stop.
enum ExitLevels {
    static func levels(_ p: OpenPosition, _ x: TradingParams.ExitParams) -> (stop: Cents, target: Cents?, basis: String)? {
        if p.partialTaken { return (p.entryPriceCents, nil, "premium") }
        let stock = p.assetClass == .equity
        if x.style == "underlying", let l = UnderlyingExit.levels(p, x) {
            return (Ticks.cents(l.stop, tick: 1, rounding: .nearest), Ticks.cents(l.target, tick: 1, rounding: .nearest), "underlying")
        }
        let stop = ExitRule.stopLossThresholdCents(entryCents: p.entryPriceCents, fraction: stock ? x.stockStopLossPct : x.stopLossPct)
        let target = ExitRule.profitTargetThresholdCents(entryCents: p.entryPriceCents, fraction: stock ? x.stockProfitTargetPct : x.profitTargetPct)
        return (stop, target, "premium")
    }
}
