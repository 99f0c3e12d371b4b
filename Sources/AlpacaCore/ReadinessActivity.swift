import OpsModel

/// Items 3–5: what the paper account did — kill switches seen blocking, the sessions it traded, its net P&L.
enum ReadinessActivity {
    /// Item 3: each kill switch seen blocking a decision of the account, or else covered by a named test.
    static func killSwitchesExercised(_ r: ReadinessRecord, coverage: [String: [String]]) -> ReadinessItem {
        let blocked = blocks(r)
        let gates = KillSwitchCoverage.gates
        let seen = gates.filter { (blocked[$0] ?? 0) > 0 }
        let tested = gates.filter { (blocked[$0] ?? 0) == 0 && !(coverage[$0] ?? []).isEmpty }
        let neither = gates.filter { (blocked[$0] ?? 0) == 0 && (coverage[$0] ?? []).isEmpty }
        var parts = ["seen blocking: " + (seen.isEmpty ? "none" : seen.map { "\($0) \(blocked[$0]!)×" }.joined(separator: ", "))]
        if !tested.isEmpty { parts.append("by tests only: " + tested.map { "\($0) (\(coverage[$0]![0]))" }.joined(separator: ", ")) }
        if !neither.isEmpty { parts.append("neither seen nor tested: " + neither.joined(separator: ", ")) }
        return ReadinessItem(name: "kill_switches_exercised", passed: neither.isEmpty,
                             detail: "\(gates.count - neither.count)/\(gates.count) exercised; " + parts.joined(separator: "; "),
                             value: "\(gates.count - neither.count)", limit: "\(gates.count)")
    }

    /// Decisions whose kill-switch gate failed on a measurement; a gate the dispatcher could not evaluate (no
    /// account snapshot yet) did not block on its limit.
    static func blocks(_ r: ReadinessRecord) -> [String: Int] {
        var out = [String: Int]()
        for d in r.decisions {
            for g in d.payload.gates where !g.passed && KillSwitchCoverage.gates.contains(g.gate) && !g.detail.hasPrefix("not evaluated") {
                out[g.gate, default: 0] += 1
            }
        }
        return out
    }

    /// Item 4: New York trading dates on which the account placed an order (an order decision) or was filled.
    static func paperSessions(_ r: ReadinessRecord, minimum: Int) -> ReadinessItem {
        let dates = tradingDates(r)
        let span = dates.isEmpty ? "" : dates.count == 1 ? ": \(dates[0])" : ": \(dates.first!) … \(dates.last!)"
        return ReadinessItem(name: "paper_sessions", passed: dates.count >= minimum,
                             detail: "\(dates.count) New York trading date(s) with orders or fills (need ≥ \(minimum))\(span)",
                             value: "\(dates.count)", limit: "≥ \(minimum)")
    }

    static func tradingDates(_ r: ReadinessRecord) -> [CivilDate] {
        var days = Set<CivilDate>()
        for d in r.decisions where d.payload.outcome == .order { days.insert(NewYorkTime.date(of: d.eventTime)) }
        // An expiry settlement is the broker's doing at the close, not a session the account traded.
        for f in r.fills where f.payload.settlement == nil { days.insert(NewYorkTime.date(of: f.eventTime)) }
        return days.filter(MarketCalendar.isTradingDay).sorted()
    }

    /// Item 5: realized P&L of the closed positions (commissions and fees included), > 0.
    static func netPnl(_ r: ReadinessRecord) -> ReadinessItem {
        var closed = [String: Cents]()
        var opened = Set<String>()
        for p in r.positions {
            switch p.payload.event {
            case .opened: opened.insert(p.payload.positionId)
            case .closed: closed[p.payload.positionId] = p.payload.realizedPnlCents ?? 0
            default: break
            }
        }
        let total = closed.values.reduce(0, +)
        let wins = closed.values.filter { $0 > 0 }.count
        let stillOpen = opened.subtracting(closed.keys).count
        let rate = closed.isEmpty ? "-" : "\(Int((Double(wins) * 100 / Double(closed.count)).rounded()))%"
        let detail = closed.isEmpty
            ? "no closed positions: nothing realized to judge" + (stillOpen > 0 ? " (\(stillOpen) still open)" : "")
            : "realized \(Money.dollars(total)) net of commissions and fees over \(closed.count) closed trade(s), \(wins) won (win rate \(rate))"
              + (stillOpen > 0 ? "; \(stillOpen) still open, not counted" : "") + "; need > $0.00"
        return ReadinessItem(name: "net_pnl", passed: !closed.isEmpty && total > 0, detail: detail, value: Money.dollars(total), limit: "> $0.00")
    }
}
