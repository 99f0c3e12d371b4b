import OpsModel
import PositionCore

/// Answers "why did this trade happen?" (any message id of its chain, or a position id) and "why did nothing happen?"
/// (`--ticker T --at TIME`) from a `RunRecord`.
public struct Explainer: Sendable {
    public let record: RunRecord
    /// The signal rules a "why not" re-judges a feature vector with (the run's own, when the caller passes them).
    public var params: TradingParams

    private var decisionsBySignal: [String: [String]] = [:]
    private var decisionByOrder: [String: String] = [:]
    private var eventsByOrder: [String: [String]] = [:]
    private var fillsByOrder: [String: [String]] = [:]
    /// Client order ids of the orders naming a position (its exits, its adds), and each order's envelope id (an exit
    /// command's envelope id is not its client order id).
    private var ordersByPosition: [String: [String]] = [:]
    private var orderEnvelope: [String: String] = [:]
    private var signalByFeatures: [String: String] = [:]
    private(set) var featuresByTicker: [String: [(envelope: AnyEnvelope, payload: FeatureVector)]] = [:]
    private(set) var signalsByTicker: [String: [(envelope: AnyEnvelope, payload: Signal)]] = [:]
    private(set) var watchlists: [(envelope: AnyEnvelope, payload: Watchlist)] = []

    public init(record: RunRecord, params: TradingParams = TradingParams()) {
        self.record = record
        self.params = params
        for (e, d) in record.messages(Topics.decisions, Decision.self) {
            decisionsBySignal[d.signalId, default: []].append(e.id)
            if let o = d.order { decisionByOrder[o.clientOrderId] = e.id }
        }
        for (e, o) in record.messages(Topics.orderEvents, OrderEvent.self) { eventsByOrder[o.clientOrderId, default: []].append(e.id) }
        for (e, f) in record.messages(Topics.fills, Fill.self) { fillsByOrder[f.clientOrderId, default: []].append(e.id) }
        for (e, o) in record.messages(Topics.orders, OrderCommand.self) {
            orderEnvelope[o.clientOrderId] = e.id
            if let p = o.positionId { ordersByPosition[p, default: []].append(o.clientOrderId) }
        }
        for (e, s) in record.messages(Topics.signals, Signal.self) {
            signalByFeatures[s.featuresId] = e.id
            signalsByTicker[s.ticker, default: []].append((e, s))
        }
        featuresByTicker = Dictionary(grouping: record.messages(Topics.features, FeatureVector.self), by: \.payload.ticker)
        watchlists = record.messages(Topics.watchlist, Watchlist.self)
    }

    // MARK: entry points

    public func explain(id: String) throws(ExplainError) -> Explanation {
        if let (_, e) = record.byId[id] { return try explain(e, query: id) }
        if let first = record.positionEvents[id]?.first { return positionChain(id, query: id, from: first) }
        if let features = record.effects[id]?.compactMap({ record.byId[$0] }).first(where: { $0.topic == Topics.features }) {
            return try explain(features.envelope, query: id)
        }
        throw ExplainError("no message or position with id '\(id)' in \(lookedIn)\n"
                           + "  give an id from a recorded line (\"id\", \"client_order_id\", \"position_id\", \"fill_id\"), or ask by time: --ticker SPY --at 2024-03-04T10:15")
    }

    /// The latest feature vector of `ticker` at or before `time`: its signal's chain, or why it gave none.
    public func explain(ticker: String, at time: Timestamp) throws(ExplainError) -> Explanation {
        let vectors = featuresByTicker[ticker] ?? []
        guard let (e, _) = vectors.last(where: { $0.envelope.eventTime <= time }) else {
            let span = vectors.first.map { " (its features run \(Explanation.newYork($0.envelope.eventTime)) to \(Explanation.newYork(vectors.last!.envelope.eventTime)))" }
                ?? "; tickers with features: " + featuresByTicker.keys.sorted().joined(separator: ", ")
            throw ExplainError("no feature vector of \(ticker) at or before \(Explanation.newYork(time)) in \(lookedIn)\(span)")
        }
        return try explain(e, query: "\(ticker) at \(Explanation.newYork(time))")
    }

    private var lookedIn: String {
        "the \(record.byId.count) messages read (" + record.counts.map { "\($0.topic) \($0.messages)" }.joined(separator: ", ") + ")"
    }

    private func explain(_ e: AnyEnvelope, query: String) throws(ExplainError) -> Explanation {
        switch e.payload {
        case is FeatureVector:
            if let s = signalByFeatures[e.id], let signal = record.payload(s, Signal.self) { return signalChain(signal, query: query) }
            return WhyNoSignal(explainer: self).explain(e, query: query)
        case is Signal:
            return signalChain(record.payload(e.id, Signal.self)!, query: query)
        case let d as Decision:
            if let s = record.payload(d.signalId, Signal.self) { return signalChain(s, query: query) }
            return Explanation(query: query, headline: headline(decisions: [e.id], positions: []), steps: [ExplainSteps.decision(d, e)] + tradeSteps(decisions: [e.id]))
        case let o as OrderCommand:
            return orderChain(o.clientOrderId, positionId: o.positionId, query: query)
        case let o as OrderEvent:
            return orderChain(o.clientOrderId, positionId: o.positionId, query: query)
        case let f as Fill:
            return orderChain(f.clientOrderId, positionId: f.positionId, query: query)
        case let p as PositionEvent:
            return positionChain(p.positionId, query: query, from: e)
        default:
            return causes(of: e, query: query)
        }
    }

    // MARK: chains

    func signalChain(_ s: (envelope: AnyEnvelope, payload: Signal), query: String) -> Explanation {
        // The watchlist in force first: it was published before the bar, and it gates the signal.
        var steps = watchlistStep(ticker: s.payload.ticker, at: s.envelope.eventTime).map { [$0] } ?? []
        if let (fe, fv) = record.payload(s.payload.featuresId, FeatureVector.self) {
            steps += [ExplainSteps.bar(fv, fe), ExplainSteps.features(fv, fe)]
        }
        steps.append(ExplainSteps.signal(s.payload, s.envelope))
        let decisions = decisionsBySignal[s.envelope.id] ?? []
        for id in decisions { if let (e, d) = record.payload(id, Decision.self) { steps.append(ExplainSteps.decision(d, e)) } }
        if decisions.isEmpty { steps.append(Explanation.Step(stage: "decision", time: s.envelope.eventTime, title: "no decision on this signal in the record")) }
        let trade = tradeSteps(decisions: decisions)
        let positions = Set(trade.compactMap { ($0.envelope?.payload as? PositionEvent)?.positionId })
        return Explanation(query: query, headline: headline(decisions: decisions, positions: positions, signal: s.payload), steps: steps + trade)
    }

    func orderChain(_ clientOrderId: String, positionId: String?, query: String) -> Explanation {
        if let d = decisionByOrder[clientOrderId], let (_, decision) = record.payload(d, Decision.self),
           let s = record.payload(decision.signalId, Signal.self) {
            return signalChain(s, query: query)
        }
        if let p = positionId, let first = record.positionEvents[p]?.first { return positionChain(p, query: query, from: first) }
        let steps = tradeSteps(entryOrders: [clientOrderId])
        return Explanation(query: query, headline: "order \(clientOrderId): \(steps.count) steps in the record", steps: steps)
    }

    func positionChain(_ positionId: String, query: String, from e: AnyEnvelope) -> Explanation {
        let opened = record.positionEvents[positionId]?.first { ($0.payload as? PositionEvent)?.event == .opened }
        if let fillId = opened?.causationId, let (_, fill) = record.payload(fillId, Fill.self) {
            return orderChain(fill.clientOrderId, positionId: nil, query: query)
        }
        let steps = tradeSteps(entryOrders: [], positions: [positionId])
        return Explanation(query: query, headline: headline(decisions: [], positions: [positionId]), steps: steps)
    }

    /// A message outside a trade's chain (an account snapshot, portfolio Greeks, a watchlist, a dead letter): it and
    /// what caused it, as far back as the record goes.
    func causes(of e: AnyEnvelope, query: String) -> Explanation {
        var chain = [e]
        while let c = chain.last?.causationId, let parent = record.byId[c]?.envelope, chain.count < 20 { chain.append(parent) }
        let steps = chain.reversed().map { m in
            Explanation.Step(stage: m.type, time: m.eventTime, title: "\(m.type) from \(m.source)", lines: [], topic: record.byId[m.id]?.topic, envelope: m)
        }
        return Explanation(query: query, headline: "\(e.type) \(e.id) and what caused it", steps: steps)
    }

    // MARK: the trade after the decision

    /// The entry orders of these decisions, their positions, and everything that happened to them.
    func tradeSteps(decisions: [String]) -> [Explanation.Step] {
        let orders = decisions.compactMap { record.payload($0, Decision.self)?.payload.order?.clientOrderId }
        return tradeSteps(entryOrders: orders)
    }

    func tradeSteps(entryOrders: [String], positions extra: Set<String> = []) -> [Explanation.Step] {
        let positions = extra.union(entryOrders.map { PositionManagerCore.positionId(entryClientOrderId: $0) }.filter { record.positionEvents[$0] != nil })
        var orderIds = entryOrders
        for p in positions.sorted() { orderIds += ordersByPosition[p] ?? [] }
        var items = [(rank: Int, e: AnyEnvelope)]()
        for o in Set(orderIds) {
            if let e = orderEnvelope[o].flatMap({ record.byId[$0]?.envelope }) { items.append((0, e)) }
            items += (eventsByOrder[o] ?? []).compactMap { record.byId[$0].map { (1, $0.envelope) } }
            items += (fillsByOrder[o] ?? []).compactMap { record.byId[$0].map { (2, $0.envelope) } }
        }
        for p in positions { items += (record.positionEvents[p] ?? []).map { (3, $0) } }
        items.sort { ($0.e.eventTime, $0.rank, $0.e.id) < ($1.e.eventTime, $1.rank, $1.e.id) }
        return steps(items.map(\.e)) + results(positions.sorted())
    }

    /// Each message as its step, with runs of plain marks of one position folded into one.
    private func steps(_ messages: [AnyEnvelope]) -> [Explanation.Step] {
        var out = [Explanation.Step]()
        var run = [(AnyEnvelope, PositionEvent)]()
        func flush() { if !run.isEmpty { out.append(ExplainSteps.marks(run)); run = [] } }
        for e in messages {
            if let p = e.payload as? PositionEvent, p.event == .marked, p.exitReason == nil, run.last.map({ $0.1.positionId == p.positionId }) ?? true {
                run.append((e, p))
                continue
            }
            flush()
            switch e.payload {
            case let o as OrderCommand: out.append(ExplainSteps.order(o, e))
            case let o as OrderEvent: out.append(ExplainSteps.orderEvent(o, e))
            case let f as Fill: out.append(ExplainSteps.fill(f, e))
            case let p as PositionEvent:
                if p.event == .marked, p.exitReason == nil { run.append((e, p)) } else { out.append(ExplainSteps.position(p, e)) }
            default: break
            }
        }
        flush()
        return out
    }

    private func results(_ positions: [String]) -> [Explanation.Step] {
        positions.compactMap { id in
            guard let events = record.positionEvents[id], let last = events.last, let p = last.payload as? PositionEvent else { return nil }
            if p.event == .closed {
                return Explanation.Step(stage: "result", time: last.eventTime,
                                        title: "\(p.symbol): \(p.exitReason ?? "closed"), realized \(ExplainSteps.usd(p.realizedPnlCents))",
                                        lines: ["held \(Explanation.newYork(p.openedAt)) → \(Explanation.newYork(last.eventTime)); entry cost \(ExplainSteps.usd(p.entryCostCents)), exit \(ExplainSteps.usd(p.exitPriceCents)) a share"])
            }
            return Explanation.Step(stage: "result", time: last.eventTime, title: "\(p.symbol) still open at the end of the record",
                                    lines: ["last mark \(ExplainSteps.usd(p.markPriceCents)), unrealized \(ExplainSteps.usd(p.unrealizedPnlCents))"])
        }
    }

    func watchlistStep(ticker: String, at t: Timestamp) -> Explanation.Step? {
        guard let (e, list) = latestWatchlist(at: t) else { return nil }
        return ExplainSteps.watchlist(list, e, ticker: ticker)
    }

    /// The watchlist in force at `t`: the last published at or before it (a list applies before the vectors of its minute).
    func latestWatchlist(at t: Timestamp) -> (envelope: AnyEnvelope, payload: Watchlist)? {
        watchlists.last { $0.envelope.eventTime <= t }
    }

    private func headline(decisions: [String], positions: Set<String>, signal: Signal? = nil) -> String {
        let ds = decisions.compactMap { record.payload($0, Decision.self)?.payload }
        var parts = [String]()
        if let s = signal { parts.append("\(s.ticker) \(s.direction.rawValue) signal (confidence \(ExplainSteps.f(s.confidence)))") }
        for d in ds { parts.append("\(d.accountId): " + (d.outcome == .order ? "ordered" : "skipped at \(d.skipReason ?? "?")")) }
        let closed = positions.compactMap { record.positionEvents[$0]?.last?.payload as? PositionEvent }.filter { $0.event == .closed }
        if !closed.isEmpty {
            let pnl = closed.reduce(Cents(0)) { $0 + ($1.realizedPnlCents ?? 0) }
            parts.append("closed by \(closed.compactMap(\.exitReason).joined(separator: ", ")): realized \(Money.dollars(pnl))")
        } else if !positions.isEmpty {
            parts.append("position still open")
        }
        return parts.joined(separator: " → ")
    }
}
