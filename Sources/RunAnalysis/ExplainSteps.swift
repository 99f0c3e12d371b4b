import OpsModel

/// One step per message: what it says, in a trader's words, with every number it carries.
enum ExplainSteps {
    static func f(_ v: Double?, _ decimals: Int = 2, plus: Bool = false) -> String {
        v.map { FixedFormat.string($0, decimals: decimals, plusSign: plus) } ?? "n/a"
    }
    static func pct(_ v: Double?, _ decimals: Int = 2) -> String { v.map { FixedFormat.string($0 * 100, decimals: decimals, plusSign: true) + "%" } ?? "n/a" }
    static func usd(_ c: Cents?) -> String { c.map(Money.dollars) ?? "n/a" }
    static func perShare(_ c: Cents) -> String { Money.dollars(c) }
    static func mark(_ ok: Bool) -> String { ok ? "✓" : "✗" }

    static func bar(_ fv: FeatureVector, _ e: AnyEnvelope) -> Explanation.Step {
        let b = fv.bar
        return Explanation.Step(stage: "bar", time: b.end, title: "\(b.ticker) \(b.interval) bar \(Explanation.clock(b.start))–\(Explanation.clock(b.end))",
                                lines: ["open \(f(b.open)) high \(f(b.high)) low \(f(b.low)) close \(f(b.close)), volume \(b.volume)" + (b.vwap.map { ", vwap \(f($0))" } ?? "")],
                                topic: Topics.bars)
    }

    static func features(_ fv: FeatureVector, _ e: AnyEnvelope) -> Explanation.Step {
        var lines = ["session \(fv.sessionDate) bar #\(fv.sessionBarIndex)" + (fv.gapMinutes.map { ", after a gap of \($0) min" } ?? "")]
        lines.append("sma20 \(f(fv.sma20)), distance from it \(pct(fv.distanceSma20)), slope \(f(fv.sma20Slope, 5))/bar over \(fv.slopeLookback) bars")
        lines.append("volume ratio \(f(fv.volumeRatio))x; returns 1m \(pct(fv.ret1m)), 5m \(pct(fv.ret5m)), 15m \(pct(fv.ret15m)); atr14 \(f(fv.atr14, 3))")
        lines.append("ATM IV \(pct(fv.atmIv, 1).replacingOccurrences(of: "+", with: "")), IV percentile \(f(fv.ivPercentile, 0)), IV rank \(f(fv.ivRank, 0)); sentiment \(f(fv.sentimentScore, 2, plus: true))")
        return Explanation.Step(stage: "features", time: e.eventTime, title: "\(fv.ticker) feature vector", lines: lines, topic: Topics.features, envelope: e)
    }

    static func watchlist(_ list: Watchlist, _ e: AnyEnvelope, ticker: String) -> Explanation.Step {
        let rank = list.tickers.firstIndex(of: ticker)
        let title = rank.map { "\(ticker) on the watchlist of \(Explanation.clock(list.asOf)) (#\($0 + 1) of \(list.tickers.count))" }
            ?? "\(ticker) NOT on the watchlist of \(Explanation.clock(list.asOf)): only its tickers signal"
        return Explanation.Step(stage: "watchlist", time: e.eventTime, title: title, lines: ["selected: " + list.tickers.joined(separator: ", ")],
                                topic: Topics.watchlist, envelope: e)
    }

    static func signal(_ s: Signal, _ e: AnyEnvelope) -> Explanation.Step {
        var lines = s.rules.map { "\(mark($0.passed)) \($0.rule.padding(toLength: 10, withPad: " ", startingAt: 0)) \(f($0.contribution, 2, plus: true))  \($0.detail)" }
        lines.append("confidence \(f(s.confidence, 4)) at price \(f(s.price)); \(s.reason)")
        return Explanation.Step(stage: "signal", time: e.eventTime,
                                title: "\(s.ticker) \(s.direction.rawValue) \(s.instrument.rawValue) \(s.strategy.rawValue), confidence \(f(s.confidence, 2))",
                                lines: lines, topic: Topics.signals, envelope: e)
    }

    static func decision(_ d: Decision, _ e: AnyEnvelope) -> Explanation.Step {
        let what = d.outcome == .order ? "ORDER" + (d.route.map { " (\($0))" } ?? "") : "SKIP at \(d.skipReason ?? "?")"
        var lines = ["account saw: buying power \(usd(d.buyingPowerCents)), \(d.openPositions) open, exposure \(usd(d.exposureCents)), "
                     + "day realized \(usd(d.dayRealizedPnlCents)), day P&L \(usd(d.dayPnlCents))" + (d.paramsVersion.map { "; params_version \($0)" } ?? "")]
        if let h = d.halt { lines.append("halt in force: \(h)") }
        for g in d.gates {
            let numbers = (g.value.map { " \($0)" } ?? "") + (g.limit.map { " vs \($0)" } ?? "")
            lines.append("\(mark(g.passed)) \(g.gate)\(numbers) — \(g.detail)")
        }
        if let o = d.optionGate { lines.append("option gate: \(o.passed ? "passed" : "failed") — \(o.reason)" + (o.fallback ? " (falls back to stock)" : "")) }
        lines += candidates(d)
        if let s = d.sizing { lines += sizing(s) }
        let kind = d.kind.map { $0 == "entry" ? "" : " \($0)" } ?? ""
        return Explanation.Step(stage: "decision", time: e.eventTime, title: "\(d.accountId)\(kind): \(what)", lines: lines, topic: Topics.decisions, envelope: e)
    }

    static func candidates(_ d: Decision) -> [String] {
        guard let c = d.candidates, !c.isEmpty else { return d.contract.map { ["contract: " + quote($0)] } ?? [] }
        var lines = ["contract candidates, best first (score = weighted spread, open interest, volume, delta):"]
        for (i, q) in c.enumerated() {
            let chosen = q.symbol == d.contract?.symbol ? "  ← chosen" : ""
            lines.append("  \(i + 1). \(quote(q))\(chosen)")
        }
        return lines
    }

    static func quote(_ q: ContractQuote) -> String {
        let score = q.score.map { "score \(f($0.total, 3)) (spread \(f($0.spread)), oi \(f($0.openInterest)), vol \(f($0.volume)), delta \(f($0.delta))) " } ?? ""
        return "\(q.symbol) \(score)bid/ask \(f(q.bid))/\(f(q.ask)) spread \(f(q.spreadPct, 1))% of the mid, "
            + "Δ \(f(q.delta)), \(q.dte) DTE, OI \(q.openInterest), volume \(q.volume)"
    }

    static func sizing(_ s: SizingResult) -> [String] {
        let unit = s.unit ?? "contracts"
        return ["sizing (method \(s.method ?? "tier"), tier \(s.tier)): risk \(f(s.riskPct * 100, 1))% of buying power \(usd(s.buyingPowerCents)) = \(usd(s.riskCents)); "
                + "\(usd(s.costPerContractCents)) a \(unit == "shares" ? "share" : "contract") → \(s.contracts) \(unit) (max \(s.maxContracts))"
                + (s.sizedContracts.map { ", scaling in: \($0) sized" } ?? "") + ", total \(usd(s.totalCostCents))",
                "rationale: \(s.rationale)"]
    }

    static func order(_ o: OrderCommand, _ e: AnyEnvelope) -> Explanation.Step {
        let replaces = o.replacesClientOrderId.flatMap { o.reason.contains($0) ? nil : "; replaces \($0)" } ?? ""
        return Explanation.Step(stage: "order", time: e.eventTime,
                                title: "\(o.side.rawValue.uppercased()) \(o.quantity) \(o.symbol) limit \(perShare(o.limitPriceCents)) (\(o.intent.rawValue), \(o.strategy.rawValue))",
                                lines: ["\(o.reason)\(replaces)"] + (o.rollId.map { ["roll \($0)"] } ?? []), topic: Topics.orders, envelope: e)
    }

    static func orderEvent(_ o: OrderEvent, _ e: AnyEnvelope) -> Explanation.Step {
        let price = o.fillPriceCents.map { " @ \(perShare($0))" } ?? ""
        return Explanation.Step(stage: "order_event", time: e.eventTime,
                                title: "\(o.status.rawValue) \(o.filledQuantity)/\(o.quantity) \(o.symbol)\(price)",
                                lines: o.reason.isEmpty ? [] : [o.reason], topic: Topics.orderEvents, envelope: e)
    }

    static func fill(_ f: Fill, _ e: AnyEnvelope) -> Explanation.Step {
        let verb = f.side == .buy ? "bought" : "sold"
        if let s = f.settlement {
            return Explanation.Step(stage: "fill", time: e.eventTime, title: "\(s.rawValue): \(f.quantity) \(f.symbol) at \(perShare(f.priceCents))",
                                    lines: ["expiry settlement from the underlying's last price \(self.f(f.underlyingPrice))"], topic: Topics.fills, envelope: e)
        }
        let slip = FillSlippage(f)
        return Explanation.Step(stage: "fill", time: e.eventTime, title: "\(verb) \(f.quantity) \(f.symbol) at \(perShare(f.priceCents))",
                                lines: ["quote bid \(self.f(f.quoteBid)) / ask \(self.f(f.quoteAsk)) at \(Explanation.clock(f.quoteTime)), mid \(self.f(slip.mid, 3)): "
                                        + "\(self.f(slip.perShareCents / 100, 3, plus: true)) a share against the mid (\(self.f(slip.bps, 0, plus: true)) bps), \(usd(slip.totalCents)) in all",
                                        "commission \(usd(f.commissionCents)), fees \(usd(f.feesCents)); order placed \(Explanation.clock(f.orderTime))"],
                                topic: Topics.fills, envelope: e)
    }

    static func position(_ p: PositionEvent, _ e: AnyEnvelope) -> Explanation.Step {
        var lines = [String]()
        let plan = p.stopCents.map { "stop \(perShare($0))" + (p.targetCents.map { ", target \(perShare($0))" } ?? "") + " on the \(basis(p))" }
        switch p.event {
        case .opened:
            lines.append("\(p.quantity) at \(perShare(p.entryPriceCents)), cost \(usd(p.entryCostCents)) with costs" + (p.expiration.map { "; expires \($0)" } ?? ""))
        case .marked, .exitRequested:
            lines.append("mark \(usd(p.markPriceCents)), unrealized \(usd(p.unrealizedPnlCents))" + (p.exitReason.map { "; \($0)" } ?? "") + (p.exitStep.map { ", reprice step \($0)" } ?? ""))
        case .closed:
            let ret = p.entryCostCents > 0 ? " (\(f(Double(p.realizedPnlCents ?? 0) / Double(p.entryCostCents) * 100, 1, plus: true))% of the cost)" : ""
            lines.append("exit \(p.exitReason ?? "?") at \(usd(p.exitPriceCents)): realized \(usd(p.realizedPnlCents))\(ret)")
        }
        if let plan { lines.append(plan) }
        if let d = p.detail { lines.append(d) }
        if let r = p.rollId { lines.append("roll \(r)") }
        return Explanation.Step(stage: "position", time: e.eventTime, title: "\(p.event.rawValue) \(p.symbol) (\(p.positionId))",
                                lines: lines, topic: Topics.positions, envelope: e)
    }

    /// What the stop and target are prices of.
    static func basis(_ p: PositionEvent) -> String {
        p.stopBasis == "underlying" ? "underlying" : (p.assetClass == .equity ? "share price" : "premium")
    }

    /// A run of plain marks as one step: how often, from what to what, and the last one's Greeks.
    static func marks(_ run: [(AnyEnvelope, PositionEvent)]) -> Explanation.Step {
        let marks = run.compactMap(\.1.markPriceCents)
        let (first, last) = (run.first!, run.last!)
        let sameDay = NewYorkTime.date(of: first.0.eventTime) == NewYorkTime.date(of: last.0.eventTime)
        let (from, to) = sameDay ? (Explanation.clock(first.0.eventTime), Explanation.clock(last.0.eventTime))
            : (Explanation.newYork(first.0.eventTime), Explanation.newYork(last.0.eventTime))
        var lines = [(run.count == 1 ? "1 mark at \(from)" : "\(run.count) marks \(from) → \(to)") + ": \(usd(marks.first)) → \(usd(marks.last)) "
                     + "(low \(usd(marks.min())), high \(usd(marks.max()))); unrealized \(usd(last.1.unrealizedPnlCents)) at the last"]
        if let s = last.1.stopCents { lines.append("plan at the last: stop \(perShare(s))" + (last.1.targetCents.map { ", target \(perShare($0))" } ?? "") + " on the \(basis(last.1))") }
        if let g = last.1.greeks {
            lines.append("greeks at the last (a share): Δ \(f(g.delta, 3)) Γ \(f(g.gamma, 4)) Θ \(f(g.theta, 3))/day vega \(f(g.vega, 3)) IV \(pct(g.iv, 1).replacingOccurrences(of: "+", with: ""))")
        }
        return Explanation.Step(stage: "marks", time: last.0.eventTime, title: "\(last.1.symbol) held", lines: lines, topic: Topics.positions, envelope: last.0)
    }
}

/// What a fill paid against the quote's mid: positive is worse for us (paid above it on a buy, sold below it on a sell).
public struct FillSlippage: Sendable {
    public var mid: Double
    public var perShareCents: Double
    public var bps: Double
    public var totalCents: Cents

    public init(_ f: Fill) {
        mid = (f.quoteBid + f.quoteAsk) / 2
        let sign: Double = f.side == .buy ? 1 : -1
        perShareCents = sign * (Double(f.priceCents) - mid * 100)
        bps = mid > 0 ? perShareCents / (mid * 100) * 10_000 : 0
        totalCents = Cents((perShareCents * Double(f.multiplier) * Double(f.quantity)).rounded())
    }
}
