import Foundation
import OpsModel

/// The dispatcher's pure core (seed 000 Phases 1–2, seed 004 §1–3): every signal gets an auditable decision — an
/// order command sized by the account's tier on the best-scored contract that passes the option gates (or the
/// underlying when they fail with fallback), or a skip — with every gate's value, limit and reason.
///
/// Gates, all evaluated for every signal, in this order (the first failure is the skip reason): `account`, `halt`,
/// `trading_hours`, `daily_loss`, `max_positions`, `tier_min_confidence`, `tier_min_volume_ratio`,
/// `one_position_per_ticker`, `cooldown`, `max_trades_per_ticker`, `chain`, `contract` (the option gates, or the
/// stock fallback's price), `sizing`, `max_exposure`, `buying_power`.
///
/// State comes from topics only: operator controls, the latest chain per underlying (as of the signal, same
/// session), the latest account snapshot, open positions and their marks from position events, the day's realized
/// P&L from closed positions, and the dispatcher's own entry orders until the broker reports on them. Inputs at the
/// signal's own time on the feedback topics (positions, accounts, order events) are ordered after the signal, so a
/// decision sees the account strictly before its time plus its own earlier orders. The per-ticker entry counts and
/// times are rebuilt from the signals re-read on a restore (from New York midnight), the halts from the whole
/// control topic.
public struct DispatchCore: TradingParamsCore {
    public static let name = "dispatcher"
    public private(set) var params: TradingParams
    public var serviceName: String { Self.name }
    public var accountId: String { params.account.accountId }
    public var inputTopics: [String] {
        [Topics.control, Topics.chains, Topics.signals, Topics.positions, Topics.greeks, Topics.accounts, Topics.orderEvents]
    }
    public var outputTopics: [String] { [Topics.decisions, Topics.orders] }
    /// Signals cause entries; chains cause scale-in adds and rolls' opening legs (see `chainTriggers`). Everything
    /// else is state.
    public var outputCauses: [String: [String: Int64]] { Self.outputCausesDeclared }
    static let outputCausesDeclared: [String: [String: Int64]] = [
        Topics.decisions: [Topics.signals: 0, Topics.chains: 0], Topics.orders: [Topics.signals: 0, Topics.chains: 0],
    ]

    struct PendingEntry: Sendable, Codable {
        var ticker: String
        /// What the broker reserves: notional plus costs.
        var costCents: Cents
        /// Premium × 100 × contracts, or price × shares.
        var notionalCents: Cents
        var acknowledged: Bool
        /// A scale-in add names the position it adds to: it is not one more position.
        var addsTo: String? = nil
    }

    struct TickerDay: Hashable, Sendable, Codable {
        var ticker: String
        var day: CivilDate
    }

    var chains: [String: OptionChain] = [:]
    var account: AccountSnapshot?
    var openPositions: [String: PositionEvent] = [:]
    var pending: [String: PendingEntry] = [:]
    var realizedByDay: [CivilDate: Cents] = [:]
    var controls: [(Timestamp, OperatorControl)] = []
    var dailyLossTripped: [CivilDate: Timestamp] = [:]
    var entries: [TickerDay: (count: Int, last: Timestamp)] = [:]
    /// The latest signal per ticker and direction (`"SPY BULL"`): a roll's opening leg is gated on it, a scale-in's
    /// setup fails on an opposite one.
    var latestSignals: [String: (signal: Signal, id: String, time: Timestamp)] = [:]
    /// The account's latest portfolio Greeks from the position-manager.
    var portfolioGreeks: PortfolioGreeks?
    /// The account's closed trades' realized P&L, oldest first (Kelly sizing).
    var closedPnls: [Cents] = []
    /// Scale-in adds decided (one attempt per position and session); rolls requested whose opening leg waits for
    /// the next chain of their underlying, and those seen.
    var addsDecided: Set<ScaleIn.AddKey> = []
    var pendingRolls: [String: (PositionEvent, Timestamp)] = [:]
    var exitingToday: Set<ScaleIn.AddKey> = []
    var rollsSeen: Set<String> = []
    /// Accounts the broker reported while this one had no snapshot yet (a mismatch shows in the account gate).
    var otherAccounts: Set<String> = []
    /// The account's orders the broker may still answer (`quietInputs`).
    var ordersOut = OrdersOut()

    /// Promise past the next chain while the account is flat (`lookahead`). Only where every position opens from this
    /// dispatcher's own orders (the simulated broker): an Alpaca account can report a position nobody here ordered.
    public var lookaheadEnabled = false

    public init(params: TradingParams, lookahead: Bool = false) {
        self.params = params
        self.lookaheadEnabled = lookahead
    }

    /// Flat — no position, no entry order unanswered, no roll waiting — only a signal can cause a decision: chains
    /// trigger scale-in adds and rolls, which need a position, and a position opens only from an order of ours, a
    /// signal's (so strictly after it).
    public var lookahead: Lookahead? {
        guard lookaheadEnabled, openPositions.isEmpty, pending.isEmpty, pendingRolls.isEmpty else { return nil }
        return Lookahead(name: "flat", causes: Self.flatCauses)
    }

    public var paramsAccount: String? { accountId }
    public mutating func reconfigure(_ params: TradingParams) { self.params = params }

    static let flatCauses: [String: [String: Int64]] = [Topics.decisions: [Topics.signals: 0], Topics.orders: [Topics.signals: 0]]

    public mutating func reset() {
        chains = [:]; account = nil; openPositions = [:]; pending = [:]; realizedByDay = [:]
        controls = []; dailyLossTripped = [:]; entries = [:]
        latestSignals = [:]; portfolioGreeks = nil; closedPnls = []; addsDecided = []; pendingRolls = [:]; rollsSeen = []; exitingToday = []; otherAccounts = []
        ordersOut = OrdersOut()
    }

    /// Everything the dispatcher derives from its inputs, the latest chain of every underlying included (parameters
    /// come from the configuration and `ops.params.v1`).
    struct Saved: Codable {
        struct Entries: Codable { var key: TickerDay; var count: Int; var last: Timestamp }
        struct LatestSignal: Codable { var key: String; var signal: Signal; var id: String; var time: Timestamp }
        struct PendingRoll: Codable { var key: String; var position: PositionEvent; var time: Timestamp }
        /// Written apart (`SnapshotCoding.encode(_:adding:_:)`); nil in the value encoded.
        var chains: [String: OptionChain]?
        var account: AccountSnapshot?
        var openPositions: [String: PositionEvent]
        var pending: [String: PendingEntry]
        var realizedByDay: [CivilDate: Cents]
        var controls: [TimedControl]
        var dailyLossTripped: [CivilDate: Timestamp]
        var entries: [Entries]
        var latestSignals: [LatestSignal]
        var portfolioGreeks: PortfolioGreeks?
        var closedPnls: [Cents]
        var addsDecided: Set<ScaleIn.AddKey>
        var pendingRolls: [PendingRoll]
        var exitingToday: Set<ScaleIn.AddKey>
        var rollsSeen: Set<String>
        var otherAccounts: Set<String>
        var ordersOut: OrdersOut?
    }

    public func snapshotState() throws -> String? {
        try SnapshotCoding.encode(Saved(
            chains: nil, account: account, openPositions: openPositions, pending: pending, realizedByDay: realizedByDay,
            controls: controls.map { TimedControl($0.0, $0.1) }, dailyLossTripped: dailyLossTripped,
            entries: entries.map { Saved.Entries(key: $0.key, count: $0.value.count, last: $0.value.last) },
            latestSignals: latestSignals.map { Saved.LatestSignal(key: $0.key, signal: $0.value.signal, id: $0.value.id, time: $0.value.time) },
            portfolioGreeks: portfolioGreeks, closedPnls: closedPnls, addsDecided: addsDecided,
            pendingRolls: pendingRolls.map { Saved.PendingRoll(key: $0.key, position: $0.value.0, time: $0.value.1) },
            exitingToday: exitingToday, rollsSeen: rollsSeen, otherAccounts: otherAccounts, ordersOut: ordersOut), adding: "chains", chains)
    }

    public mutating func restoreState(_ text: String) throws {
        let s = try SnapshotCoding.decode(Saved.self, text)
        chains = s.chains ?? [:]; account = s.account; openPositions = s.openPositions; pending = s.pending; realizedByDay = s.realizedByDay
        controls = s.controls.map(\.pair); dailyLossTripped = s.dailyLossTripped
        entries = Dictionary(s.entries.map { ($0.key, (count: $0.count, last: $0.last)) }, uniquingKeysWith: { a, _ in a })
        latestSignals = Dictionary(s.latestSignals.map { ($0.key, (signal: $0.signal, id: $0.id, time: $0.time)) }, uniquingKeysWith: { a, _ in a })
        portfolioGreeks = s.portfolioGreeks; closedPnls = s.closedPnls; addsDecided = s.addsDecided
        pendingRolls = Dictionary(s.pendingRolls.map { ($0.key, ($0.position, $0.time)) }, uniquingKeysWith: { a, _ in a })
        exitingToday = s.exitingToday; rollsSeen = s.rollsSeen; otherAccounts = s.otherAccounts
        ordersOut = s.ordersOut ?? OrdersOut()
    }

    public func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp {
        switch topic {
        case Topics.chains: NewYorkTime.utc(date: NewYorkTime.date(of: lastProcessed), hour: 0, minute: 0)
        // A roll's opening leg reads the latest signal within roll.signal_minutes, which may be before midnight.
        case Topics.signals: NewYorkTime.utc(date: NewYorkTime.date(of: lastProcessed), hour: 0, minute: 0)
            .adding(ms: -Int64(params.roll.signalMinutes) * 60_000)
        default: .distantPast
        }
    }

    public mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
        let out = apply(message)
        ordersOut.sent(out)
        return out
    }

    private mutating func apply(_ message: AnyEnvelope) -> [Emit] {
        switch message.payload {
        case let c as OptionChain:
            chains[c.underlying] = c
            return chainTriggers(c, envelope: message)
        case let c as OperatorControl where c.accountId == accountId:
            controls.append((message.eventTime, c))
        case let a as AccountSnapshot where a.accountId == accountId:
            if a.seq >= (account?.seq ?? .min) { account = a }
        case let a as AccountSnapshot where account == nil && otherAccounts.count < 16:
            otherAccounts.insert(a.accountId)
        case let p as PositionEvent where p.accountId == accountId:
            ordersOut.requested(p, at: message.eventTime)
            onPosition(p, at: message.eventTime)
            if p.event == .exitRequested { exitingToday.insert(ScaleIn.AddKey(position: p.positionId, day: NewYorkTime.date(of: message.eventTime))) }
            if p.event == .exitRequested, p.exitReason == "roll", let roll = p.rollId, rollsSeen.insert(roll).inserted {
                pendingRolls[roll] = (p, message.eventTime)
            }
        case let g as PortfolioGreeks where g.accountId == accountId:
            portfolioGreeks = g
        case let e as OrderEvent where e.accountId == accountId:
            ordersOut.answered(e)
            if var entry = pending[e.clientOrderId] {
                switch e.status {
                case .accepted: entry.acknowledged = true; pending[e.clientOrderId] = entry
                case .partiallyFilled, .filled, .rejected, .cancelled: pending[e.clientOrderId] = nil
                }
            }
        case let s as Signal:
            latestSignals[ScaleIn.key(s.ticker, s.direction)] = (s, message.id, message.eventTime)
            return decide(s, envelope: message)
        default:
            break
        }
        return []
    }

    private mutating func onPosition(_ p: PositionEvent, at t: Timestamp) {
        switch p.event {
        case .opened, .marked, .exitRequested: openPositions[p.positionId] = p
        case .closed:
            openPositions[p.positionId] = nil
            realizedByDay[NewYorkTime.date(of: p.closedAt ?? t), default: 0] += p.realizedPnlCents ?? 0
            closedPnls.append(p.realizedPnlCents ?? 0)
            if closedPnls.count > 4 * params.kelly.lookbackTrades { closedPnls.removeFirst(closedPnls.count - params.kelly.lookbackTrades) }
        }
        // The kill switch trips on the P&L as it moves, not only when a signal happens to look.
        let day = NewYorkTime.date(of: t)
        if dailyLossTripped[day] == nil, dayPnl(on: day) < -KillSwitches.maxDailyLossCents(params) { dailyLossTripped[day] = t }
    }

    /// The session's realized P&L plus the unrealized P&L of open positions at their latest marks.
    func dayPnl(on day: CivilDate) -> Cents {
        (realizedByDay[day] ?? 0) + openPositions.values.reduce(0) { $0 + ($1.unrealizedPnlCents ?? 0) }
    }

    /// What the decision sees of the account.
    struct View {
        var buyingPowerCents: Cents
        var openPositions: Int
        var exposureCents: Cents
        var dayRealizedPnlCents: Cents
        var dayPnlCents: Cents
    }

    func view(at t: Timestamp) -> View? {
        guard let account else { return nil }
        // Orders the broker has not acknowledged yet are not in its snapshot: take them off here.
        let unacknowledged = pending.values.filter { !$0.acknowledged }.reduce(0) { $0 + $1.costCents }
        let exposure = openPositions.values.reduce(0) { $0 + Self.notional($1) } + pending.values.reduce(0) { $0 + $1.notionalCents }
        let day = NewYorkTime.date(of: t)
        return View(buyingPowerCents: account.buyingPowerCents - unacknowledged, openPositions: openPositions.count + pending.values.filter { $0.addsTo == nil }.count,
                    exposureCents: exposure, dayRealizedPnlCents: realizedByDay[day] ?? 0, dayPnlCents: dayPnl(on: day))
    }

    /// Notional of a position: premium × 100 × contracts for options, price × shares for stock (README).
    static func notional(_ p: PositionEvent) -> Cents {
        let remaining = Cents(p.remainingQuantity ?? p.quantity)
        return p.entryPriceCents * (OCCSymbol(p.symbol) == nil ? 1 : 100) * remaining
    }

    private mutating func decide(_ s: Signal, envelope: AnyEnvelope) -> [Emit] {
        decide(EntryRequest(kind: .entry, signal: s, signalId: envelope.id), envelope: envelope)
    }

    /// One decision: every gate for an entry, a scale-in add or a roll's opening leg; the order when all pass.
    mutating func decide(_ r: EntryRequest, envelope: AnyEnvelope) -> [Emit] {
        let s = r.signal
        let t = envelope.eventTime
        let day = NewYorkTime.date(of: t)
        let v = view(at: t)
        var gates = GateList()
        let halt = HaltState.inForce(at: t, commands: controls)
        // The position an add or a roll concerns, while it is still open (a roll's close leg may have filled already).
        let own = r.position.flatMap { openPositions[$0.positionId] != nil ? $0.positionId : nil }

        // 1. The account, the kill switches, and the tier's gates on the signal.
        let tier = v.map { Tiering.tier(buyingPowerCents: $0.buyingPowerCents, params: params) }
        if let v, let tier {
            gates.add(GateResult(gate: "account", passed: true, detail: "buying power \(Money.dollars(v.buyingPowerCents)), tier \(tier.name)",
                                 value: Fmt.cents(v.buyingPowerCents), limit: tier.name))
        } else {
            // A broker reporting other accounts only is a misconfiguration (the two services' account.account_id differ):
            // say so in every skip instead of a bare "no snapshot".
            let others = otherAccounts.sorted()
            gates.add(GateResult(gate: "account", passed: false, detail: others.isEmpty ? "no account snapshot yet from the broker"
                : "no account snapshot for \(accountId) from the broker, which reports \(others.prefix(5).joined(separator: ", ")): "
                + "the dispatcher and the broker-gateway must run with the same account.account_id"))
        }
        gates.add(KillSwitches.halt(halt))
        gates.add(KillSwitches.tradingHours(at: t, params: params))
        if let v {
            gates.add(KillSwitches.dailyLoss(dayPnlCents: v.dayPnlCents, trippedAt: dailyLossTripped[day], params: params))
            // An add or a roll does not make one more position.
            gates.add(KillSwitches.maxPositions(count: v.openPositions - (own == nil ? 0 : 1), params: params))
        } else {
            gates.notReached("daily_loss", "an account"); gates.notReached("max_positions", "an account")
        }
        if r.kind == .scaleIn {
            let why = "an add to \(r.position?.positionId ?? "?"): its entry passed it"
            for g in ["tier_min_confidence", "tier_min_volume_ratio"] { gates.add(GateResult(gate: g, passed: true, detail: "not applicable: \(why)")) }
        } else if let tier {
            gates.add(GateResult(gate: "tier_min_confidence", passed: s.confidence >= tier.tier.minConfidence,
                                 detail: "confidence \(fmt(s.confidence, 2)) vs \(fmt(tier.tier.minConfidence, 2)) (\(tier.name))",
                                 value: fmt(s.confidence, 4), limit: fmt(tier.tier.minConfidence, 2)))
            let vr = s.volumeRatio
            gates.add(GateResult(gate: "tier_min_volume_ratio", passed: (vr ?? -1) >= tier.tier.minVolumeRatio,
                                 detail: "volume ratio \(vr.map { fmt($0, 2) } ?? "n/a") vs \(fmt(tier.tier.minVolumeRatio, 2)) (\(tier.name))",
                                 value: vr.map { fmt($0, 4) }, limit: fmt(tier.tier.minVolumeRatio, 2)))
        } else {
            gates.notReached("tier_min_confidence", "an account"); gates.notReached("tier_min_volume_ratio", "an account")
        }
        // 2. Per ticker (an add is not a new trade; a roll replaces the position it closes).
        if r.kind == .scaleIn {
            gates.add(GateResult(gate: "one_position_per_ticker", passed: true, detail: "an add to \(r.position?.positionId ?? "?") in \(s.ticker)"))
            gates.add(ScaleIn.setupGate(position: r.position!, opposite: latestSignals[ScaleIn.key(s.ticker, s.direction == .bull ? .bear : .bull)]?.time,
                                            chain: chains[s.ticker], at: t))
        } else {
            let busy = openPositions.values.contains { $0.underlying == s.ticker && $0.positionId != own } || pending.values.contains { $0.ticker == s.ticker }
            gates.add(GateResult(gate: "one_position_per_ticker", passed: !busy,
                                 detail: busy ? "a position or entry order in \(s.ticker) is open" : "no open position in \(s.ticker)" + (own.map { " besides \($0), which this rolls" } ?? "")))
            if r.kind == .roll {
                // A roll continues a position; it is not a new trade idea in the ticker.
                let why = "not applicable: a roll continues \(r.position?.positionId ?? "?")"
                for g in ["cooldown", "max_trades_per_ticker"] { gates.add(GateResult(gate: g, passed: true, detail: why)) }
            } else {
                let today = entries[TickerDay(ticker: s.ticker, day: day)]
                gates.add(KillSwitches.cooldown(ticker: s.ticker, lastEntry: today?.last, at: t, params: params))
                gates.add(KillSwitches.maxTradesPerTicker(ticker: s.ticker, count: today?.count ?? 0, params: params))
            }
        }

        // 3. The instrument: the best option, or the underlying; for an add the same contract, for a roll the next one.
        let route: Route
        switch r.kind {
        case .entry: route = Routing.route(s, chain: chains[s.ticker], at: t, params: params)
        case .scaleIn: route = AddRouting.route(position: r.position!, chain: chains[s.ticker], signal: s, at: t, params: params)
        case .roll: route = RollSelection.route(position: r.position!, targetDelta: r.targetDelta ?? params.contractSelection.targetDelta.swingTrade,
                                                chain: chains[s.ticker], signal: s, at: t, params: params)
        }
        gates.add(route.chainGate)
        gates.add(route.contractGate)

        // 4. Sizing, exposure, the portfolio Greeks and affordability with costs.
        var sizing: SizingResult?
        var costs: Cents = 0
        if let v, let priced = route.priceCents {
            let sz = size(r, route: route, priceCents: priced, view: v, at: t)
            sizing = sz
            costs = route.isStock ? 0 : Cents(params.execution.commissionPerContractCents + params.execution.feesPerContractCents) * Cents(sz.contracts)
            gates.add(GateResult(gate: "sizing", passed: sz.contracts >= 1, detail: sz.rationale, value: String(sz.contracts), limit: String(sz.maxContracts)))
            // A roll's close leg is under way: the position it replaces no longer counts against the exposure.
            let closing = r.kind == .roll ? own.flatMap { openPositions[$0] }.map(Self.notional) ?? 0 : 0
            gates.add(KillSwitches.maxExposure(currentCents: v.exposureCents - closing, orderCents: sz.totalCostCents, params: params))
            let spot = chains[s.ticker]?.underlyingPrice ?? s.price
            let quote = route.contract.flatMap { c in chains[s.ticker]?.contracts.first { $0.symbol == c.symbol } }
            let exposure = GreeksGates.exposure(contract: quote, quantity: sz.contracts, stockPrice: route.isStock ? Double(priced) / 100 : nil,
                                                spot: spot, at: t, underlying: s.ticker, params: params)
            for g in GreeksGates.gates(portfolio: portfolioGreeks, order: exposure, params: params) { gates.add(g) }
            let need = sz.totalCostCents + costs
            gates.add(GateResult(gate: "buying_power", passed: sz.contracts >= 1 && need <= v.buyingPowerCents,
                                 detail: "\(Money.dollars(need)) with costs vs buying power \(Money.dollars(v.buyingPowerCents))",
                                 value: Fmt.cents(need), limit: Fmt.cents(v.buyingPowerCents)))
        } else {
            gates.notReached("sizing", "a contract and an account")
            if let v { gates.add(KillSwitches.maxExposure(currentCents: v.exposureCents, orderCents: nil, params: params)) } else { gates.notReached("max_exposure", "an account") }
            for g in GreeksGates.gates(portfolio: portfolioGreeks, order: nil, params: params) { gates.add(g) }
            gates.notReached("buying_power", "a sizing")
        }
        return emit(r, gates: gates, route: route, sizing: sizing, costs: costs, view: v, halt: halt, envelope: envelope)
    }

    /// The decision and, when every gate passed, the order.
    private mutating func emit(_ r: EntryRequest, gates: GateList, route: Route, sizing: SizingResult?, costs: Cents, view v: View?,
                               halt: HaltState?, envelope: AnyEnvelope) -> [Emit] {
        let s = r.signal
        let t = envelope.eventTime
        let failed = gates.list.first { !$0.passed }
        var order: OrderCommand?
        if failed == nil, let sz = sizing {
            let clientOrderId = r.kind == .scaleIn
                ? DeterministicID.make("add", r.position!.positionId, NewYorkTime.date(of: t).iso)
                : DeterministicID.make("ord", parts: [envelope.id, accountId] + r.idParts)
            var o = OrderCommand(accountId: accountId, clientOrderId: clientOrderId, symbol: route.symbol, underlying: s.ticker,
                                 assetClass: route.isStock ? .equity : .option, side: .buy, quantity: sz.contracts, limitPriceCents: sz.premiumCents,
                                 intent: .open, positionId: r.kind == .scaleIn ? r.position?.positionId : nil, strategy: r.position?.strategy ?? s.strategy,
                                 reason: route.isStock ? "\(route.name): \(sz.rationale)" : sz.rationale)
            o.rollId = r.rollId
            order = o
            pending[clientOrderId] = PendingEntry(ticker: s.ticker, costCents: sz.totalCostCents + costs, notionalCents: sz.totalCostCents,
                                                  acknowledged: false, addsTo: r.kind == .scaleIn ? r.position?.positionId : nil)
            if r.kind == .entry {
                let key = TickerDay(ticker: s.ticker, day: NewYorkTime.date(of: t))
                entries[key] = ((entries[key]?.count ?? 0) + 1, t)
            }
        }
        var decision = Decision(
            accountId: accountId, signalId: r.signalId, ticker: s.ticker, direction: r.position?.direction ?? s.direction,
            strategy: r.position?.strategy ?? s.strategy, confidence: s.confidence, outcome: order == nil ? .skip : .order, skipReason: failed?.gate,
            gates: gates.list, contract: route.contract, sizing: sizing, order: order, buyingPowerCents: v?.buyingPowerCents ?? 0,
            openPositions: v?.openPositions ?? 0, exposureCents: v?.exposureCents ?? 0, dayRealizedPnlCents: v?.dayRealizedPnlCents ?? 0)
        decision.route = r.kind == .roll ? "roll" : route.name
        decision.optionGate = route.optionVerdict
        decision.candidates = route.candidates.isEmpty ? nil : route.candidates
        decision.dayPnlCents = v?.dayPnlCents
        decision.halt = halt.map(KillSwitches.describe)
        decision.kind = r.kind.rawValue
        decision.positionId = r.position?.positionId
        decision.rollId = r.rollId
        decision.portfolioGreeks = portfolioGreeks
        decision.underlyingPrice = chains[s.ticker].map { r.kind == .entry ? s.price : $0.underlyingPrice } ?? s.price
        decision.atr14 = s.atr14
        var out = [Emit(Topics.decisions, Envelope(id: DeterministicID.make("decision", parts: [envelope.id, accountId] + r.idParts), eventTime: t,
                                                    causationId: envelope.id, source: Self.name, payload: decision).erased())]
        if let order {
            out.append(Emit(Topics.orders, Envelope(id: order.clientOrderId, eventTime: t, causationId: envelope.id,
                                                    source: Self.name, payload: order).erased()))
        }
        return out
    }
}

/// The gates of one decision, in evaluation order.
struct GateList {
    var list: [GateResult] = []
    mutating func add(_ g: GateResult) { list.append(g) }
    mutating func notReached(_ name: String, _ needs: String) { list.append(GateResult(gate: name, passed: false, detail: "not evaluated: needs \(needs)")) }
}

func fmt(_ v: Double, _ decimals: Int) -> String { FixedFormat.string(v, decimals: decimals) }
