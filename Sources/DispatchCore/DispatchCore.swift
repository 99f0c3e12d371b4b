import Foundation
import OpsModel

/// The dispatcher's pure core (seed 000 Phase 1): every signal gets an auditable decision — an order command
/// sized by the account's tier, on the nearest liquid contract in the strategy's DTE window, or a skip with every
/// gate's result.
///
/// State comes from topics only: the latest chain per underlying (as of the signal, same session), the latest
/// account snapshot, open positions from position events, the day's realized P&L from closed positions, and the
/// dispatcher's own entry orders until the broker reports on them. Inputs at the signal's own time on the
/// feedback topics (positions, accounts, order events) are ordered after the signal, so a decision sees the
/// account strictly before its time plus its own earlier orders.
public struct DispatchCore: StreamCore {
    public static let name = "dispatcher"
    public let params: TradingParams
    public var serviceName: String { Self.name }
    public var accountId: String { params.account.accountId }
    public var inputTopics: [String] { [Topics.chains, Topics.signals, Topics.positions, Topics.accounts, Topics.orderEvents] }
    public var outputTopics: [String] { [Topics.decisions, Topics.orders] }
    /// Only signals cause decisions and orders; everything else is state.
    public var outputCauses: [String: [String: Int64]] { [Topics.decisions: [Topics.signals: 0], Topics.orders: [Topics.signals: 0]] }

    struct PendingEntry: Sendable {
        var ticker: String
        var costCents: Cents
        var acknowledged: Bool
    }

    private var chains: [String: OptionChain] = [:]
    private var account: AccountSnapshot?
    private var openPositions: [String: PositionEvent] = [:]
    private var pending: [String: PendingEntry] = [:]
    private var realizedByDay: [CivilDate: Cents] = [:]

    public init(params: TradingParams) { self.params = params }

    public mutating func reset() {
        chains = [:]; account = nil; openPositions = [:]; pending = [:]; realizedByDay = [:]
    }

    public func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp {
        switch topic {
        case Topics.chains, Topics.signals: NewYorkTime.utc(date: NewYorkTime.date(of: lastProcessed), hour: 0, minute: 0)
        default: .distantPast
        }
    }

    public mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
        switch message.payload {
        case let c as OptionChain:
            chains[c.underlying] = c
        case let a as AccountSnapshot where a.accountId == accountId:
            if a.seq >= (account?.seq ?? .min) { account = a }
        case let p as PositionEvent where p.accountId == accountId:
            switch p.event {
            case .opened, .marked, .exitRequested: openPositions[p.positionId] = p
            case .closed:
                openPositions[p.positionId] = nil
                realizedByDay[NewYorkTime.date(of: p.closedAt ?? message.eventTime), default: 0] += p.realizedPnlCents ?? 0
            }
        case let e as OrderEvent where e.accountId == accountId:
            if var entry = pending[e.clientOrderId] {
                switch e.status {
                case .accepted: entry.acknowledged = true; pending[e.clientOrderId] = entry
                case .filled, .rejected, .cancelled: pending[e.clientOrderId] = nil
                }
            }
        case let s as Signal:
            return decide(s, envelope: message)
        default:
            break
        }
        return []
    }

    /// What the decision sees of the account.
    struct View {
        var buyingPowerCents: Cents
        var openPositions: Int
        var exposureCents: Cents
        var dayPnlCents: Cents
    }

    func view(at t: Timestamp) -> View? {
        guard let account else { return nil }
        // Orders the broker has not acknowledged yet are not in its snapshot: take them off here.
        let unacknowledged = pending.values.filter { !$0.acknowledged }.reduce(0) { $0 + $1.costCents }
        let exposure = openPositions.values.reduce(0) { $0 + $1.entryCostCents } + pending.values.reduce(0) { $0 + $1.costCents }
        return View(buyingPowerCents: account.buyingPowerCents - unacknowledged,
                    openPositions: openPositions.count + pending.count, exposureCents: exposure,
                    dayPnlCents: realizedByDay[NewYorkTime.date(of: t)] ?? 0)
    }

    private mutating func decide(_ s: Signal, envelope: AnyEnvelope) -> [Emit] {
        let t = envelope.eventTime
        var gates = [GateResult]()
        var contract: ContractQuote?
        var sizing: SizingResult?
        var order: OrderCommand?
        let v = view(at: t)

        func gate(_ name: String, _ passed: Bool, _ detail: String) { gates.append(GateResult(gate: name, passed: passed, detail: detail)) }
        func notReached(_ name: String, _ needs: String) { gate(name, false, "not evaluated: needs \(needs)") }

        // 1. The account, and its tier's gates on the signal.
        let tier: (name: String, tier: TradingParams.Tier)?
        if let v {
            tier = Tiering.tier(buyingPowerCents: v.buyingPowerCents, params: params)
            gate("account", true, "buying power \(Money.dollars(v.buyingPowerCents)), tier \(tier!.name)")
        } else {
            tier = nil
            gate("account", false, "no account snapshot yet from the broker")
        }
        if let tier {
            gate("tier_min_confidence", s.confidence >= tier.tier.minConfidence,
                 "confidence \(fmt(s.confidence, 2)) vs \(fmt(tier.tier.minConfidence, 2)) (\(tier.name))")
            let vr = s.volumeRatio
            gate("tier_min_volume_ratio", (vr ?? -1) >= tier.tier.minVolumeRatio,
                 "volume ratio \(vr.map { fmt($0, 2) } ?? "n/a") vs \(fmt(tier.tier.minVolumeRatio, 2)) (\(tier.name))")
        } else {
            notReached("tier_min_confidence", "an account"); notReached("tier_min_volume_ratio", "an account")
        }
        // 2. What the simulated broker can trade.
        gate("instrument", s.instrument != .stock, s.instrument == .stock ? "stock orders are not supported yet" : "\(s.instrument.rawValue)")
        // 3. One position per ticker.
        let busy = openPositions.values.contains { $0.underlying == s.ticker } || pending.values.contains { $0.ticker == s.ticker }
        gate("one_position_per_ticker", !busy, busy ? "a position or entry order in \(s.ticker) is open" : "no open position in \(s.ticker)")
        // 4. A fresh chain of this session.
        let maxAge = Int64(params.contractSelection.maxChainAgeMinutes) * 60_000
        let chain = chains[s.ticker].flatMap { c -> OptionChain? in
            c.asOf <= t && NewYorkTime.date(of: c.asOf) == NewYorkTime.date(of: t) && t.ms - c.asOf.ms <= maxAge ? c : nil
        }
        if let chain {
            gate("chain", true, "\(chain.contracts.count) contracts as of \(chain.asOf)")
            // 5. Contract: right by direction, DTE window, liquidity, nearest strike.
            let sel = ContractSelection.choose(chain: chain, direction: s.direction, strategy: s.strategy, asOf: t, params: params)
            contract = sel.chosen
            gate("contract", sel.chosen != nil, sel.detail)
        } else {
            gate("chain", false, chains[s.ticker].map { "latest chain \($0.asOf) is stale or from another session" } ?? "no chain for \(s.ticker) yet")
            notReached("contract", "a chain")
        }
        // 6. Sizing by tier, and affordability with costs.
        if let contract, let v {
            let premium = OrderPricing.limitPriceCents(mid: contract.mid, underlying: s.ticker, params: params)
            let sz = Sizing.size(buyingPowerCents: v.buyingPowerCents, premiumCents: premium, strategy: s.strategy.rawValue, params: params)
            sizing = sz
            gate("sizing", sz.contracts >= 1, sz.rationale)
            let costs = Cents(params.execution.commissionPerContractCents + params.execution.feesPerContractCents) * Cents(sz.contracts)
            let need = sz.totalCostCents + costs
            gate("buying_power", sz.contracts >= 1 && need <= v.buyingPowerCents,
                 "\(Money.dollars(need)) with costs vs buying power \(Money.dollars(v.buyingPowerCents))")
        } else {
            notReached("sizing", "a contract and an account"); notReached("buying_power", "a sizing")
        }

        let failed = gates.first { !$0.passed }
        if failed == nil, let contract, let sz = sizing {
            let clientOrderId = DeterministicID.make("ord", envelope.id)
            let o = OrderCommand(accountId: accountId, clientOrderId: clientOrderId, symbol: contract.symbol, underlying: s.ticker,
                                 assetClass: .option, side: .buy, quantity: sz.contracts, limitPriceCents: sz.premiumCents,
                                 intent: .open, positionId: nil, strategy: s.strategy, reason: sz.rationale)
            order = o
            let costs = Cents(params.execution.commissionPerContractCents + params.execution.feesPerContractCents) * Cents(sz.contracts)
            pending[clientOrderId] = PendingEntry(ticker: s.ticker, costCents: sz.totalCostCents + costs, acknowledged: false)
        }
        let decision = Decision(
            accountId: accountId, signalId: envelope.id, ticker: s.ticker, direction: s.direction, strategy: s.strategy,
            confidence: s.confidence, outcome: order == nil ? .skip : .order, skipReason: failed?.gate, gates: gates,
            contract: contract, sizing: sizing, order: order, buyingPowerCents: v?.buyingPowerCents ?? 0,
            openPositions: v?.openPositions ?? 0, exposureCents: v?.exposureCents ?? 0, dayRealizedPnlCents: v?.dayPnlCents ?? 0)
        var out = [Emit(Topics.decisions, Envelope(id: DeterministicID.make("decision", envelope.id), eventTime: t,
                                                    causationId: envelope.id, source: Self.name, payload: decision).erased())]
        if let order {
            out.append(Emit(Topics.orders, Envelope(id: order.clientOrderId, eventTime: t, causationId: envelope.id,
                                                    source: Self.name, payload: order).erased()))
        }
        return out
    }
}

func fmt(_ v: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", v) }
