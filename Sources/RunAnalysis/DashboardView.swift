import OpsModel

/// The dashboard's HTML: a page shell whose `#live` part is replaced by every server-sent event, and that part.
/// Every figure is rendered by the server; the script only swaps the part in and posts halt/resume with the token.
public enum DashboardView {
    static func esc(_ s: String) -> String { SVGChart.escape(s) }
    static func money(_ c: Cents?) -> String { c.map(Money.dollars) ?? "–" }
    static func num(_ v: Double?, _ d: Int = 2) -> String { v.map { FixedFormat.string($0, decimals: d) } ?? "–" }

    public static func live(_ s: DashboardState, controlsEnabled: Bool) -> String {
        var h = "<p class=\"meta\">fills seen <span id=\"fills\">\(s.fills)</span> · version <span id=\"version\">\(s.version)</span></p>"
        for a in s.accounts.values.sorted(by: { $0.id < $1.id }) { h += account(a, controlsEnabled: controlsEnabled) }
        h += decisions(s) + deadLetters(s)
        return h
    }

    static func account(_ a: DashboardState.Account, controlsEnabled: Bool) -> String {
        let snap = a.snapshot
        var h = "<section class=\"account\" id=\"account-\(esc(a.id))\"><h2>\(esc(a.id))"
            + (a.halted ? " <span class=\"halted\" id=\"halted-\(esc(a.id))\">HALTED</span>" : " <span class=\"running\">running</span>") + "</h2>"
        h += "<table><tr><th>equity</th><th>cash</th><th>buying power</th><th>tier</th><th>day P&amp;L vs daily loss limit</th><th>as of (ET)</th></tr>"
        let loss = a.dailyLoss.map { "\(esc($0.value ?? "–")) vs \(esc($0.limit ?? "–"))" + ($0.passed ? "" : " BLOCKING") } ?? "–"
        h += "<tr><td class=\"num\">\(money(snap?.equityCents))</td><td class=\"num\">\(money(snap?.cashCents))</td><td class=\"num\">\(money(snap?.buyingPowerCents))</td>"
            + "<td>\(esc(a.tier ?? "–"))</td><td>\(loss)</td><td>\(a.latestTime == .distantPast ? "–" : Explanation.newYork(a.latestTime))</td></tr></table>"
        // The operator halt is known from the control topic at once; the other switches as the last decision saw them.
        let switches = a.killSwitches.map { g in g.gate == "halt" && a.halted ? GateResult(gate: "halt", passed: false, detail: "operator halt") : g }
        h += "<p>kill switches at the last decision: " + (switches.isEmpty ? "no decision yet" : switches.map {
            "<span class=\"\($0.passed ? "ok" : "trip")\" title=\"\(esc($0.detail))\">\(esc($0.gate)) \($0.passed ? "ok" : "TRIPPED")</span>"
        }.joined(separator: " ")) + (a.halt.map { " · last operator command: \(esc($0.command.action.rawValue)) at \(Explanation.newYork($0.at)) — \(esc($0.command.reason))" } ?? "") + "</p>"
        if controlsEnabled {
            h += "<p><button class=\"control\" id=\"halt-\(esc(a.id))\" data-account=\"\(esc(a.id))\" data-action=\"halt\">halt entries</button> "
                + "<button class=\"control\" id=\"resume-\(esc(a.id))\" data-account=\"\(esc(a.id))\" data-action=\"resume\">resume</button></p>"
        }
        return h + positions(a) + greeks(a) + "</section>"
    }

    static func positions(_ a: DashboardState.Account) -> String {
        var h = "<h3>open positions (\(a.positions.count))</h3><table><tr><th>symbol</th><th>qty</th><th>entry</th><th>mark</th><th>unrealized</th>"
            + "<th>stop / target</th><th>Δ</th><th>Γ</th><th>Θ/day</th><th>vega</th><th>IV</th></tr>"
        for p in a.positions.values.sorted(by: { ($0.openedAt, $0.positionId) < ($1.openedAt, $1.positionId) }) {
            let g = p.greeks
            h += "<tr class=\"position\" id=\"position-\(esc(p.positionId))\"><td>\(esc(p.symbol))</td><td class=\"num\">\(p.remainingQuantity ?? p.quantity)</td>"
                + "<td class=\"num\">\(money(p.entryPriceCents))</td><td class=\"num\">\(money(p.markPriceCents))</td>"
                + "<td class=\"num \((p.unrealizedPnlCents ?? 0) < 0 ? "neg" : "pos")\">\(money(p.unrealizedPnlCents))</td>"
                + "<td>\(money(p.stopCents)) / \(money(p.targetCents))</td><td class=\"num\">\(num(g?.delta, 3))</td><td class=\"num\">\(num(g?.gamma, 4))</td>"
                + "<td class=\"num\">\(num(g?.theta, 3))</td><td class=\"num\">\(num(g?.vega, 3))</td><td class=\"num\">\(g.map { num($0.iv * 100, 1) + "%" } ?? "–")</td></tr>"
        }
        return h + "</table>"
    }

    static func greeks(_ a: DashboardState.Account) -> String {
        guard let g = a.greeks else { return "" }
        return "<p>portfolio Greeks: Δ \(num(g.delta, 1)) sh ($Δ \(num(g.dollarDelta, 0))), Γ \(num(g.gamma, 2)), Θ $\(num(g.theta))/day, vega $\(num(g.vega))/pt "
            + "(\(g.positions) positions\(g.unpriced > 0 ? ", \(g.unpriced) unpriced" : ""))</p>"
    }

    static func decisions(_ s: DashboardState) -> String {
        var h = "<h2>latest decisions</h2><table id=\"decisions\"><tr><th>time (ET)</th><th>account</th><th>ticker</th><th>outcome</th><th>failed gate</th></tr>"
        for (t, d) in s.decisions {
            let failed = d.gates.first { !$0.passed }
            h += "<tr><td>\(Explanation.newYork(t))</td><td>\(esc(d.accountId))</td><td>\(esc(d.ticker)) \(d.direction.rawValue)</td><td>\(d.outcome.rawValue)</td>"
                + "<td>\(failed.map { esc("\($0.gate): \($0.detail)") } ?? "–")</td></tr>"
        }
        return h + "</table>"
    }

    static func deadLetters(_ s: DashboardState) -> String {
        var h = "<h2>dead letters (\(s.deadLetters.count))</h2><table><tr><th>time (ET)</th><th>topic</th><th>kind</th><th>reason</th></tr>"
        for (t, d) in s.deadLetters {
            h += "<tr><td>\(Explanation.newYork(t))</td><td>\(esc(d.topic))@\(d.offset)</td><td>\(esc(d.errorKind))</td><td>\(esc(d.reason))</td></tr>"
        }
        return h + "</table>"
    }

    /// The whole page with the current live part; the script follows `/events` and posts to `/control`.
    public static func page(_ s: DashboardState, controlsEnabled: Bool) -> String {
        let note = controlsEnabled ? "<p>token <input type=\"password\" id=\"token\" autocomplete=\"off\"> (the server's OPS_DASHBOARD_TOKEN) <span id=\"status\"></span></p>"
            : "<p class=\"meta\">halt/resume disabled: start the dashboard with OPS_DASHBOARD_TOKEN set</p>"
        let body = "<h1>ops-pipeline dashboard</h1>\(note)<div id=\"live\">\(live(s, controlsEnabled: controlsEnabled))</div>" + script
        return RunReport.page(title: "ops-pipeline dashboard", body: body)
            .replacingOccurrences(of: "</style>", with: ".halted{color:#fff;background:#b00;padding:0 6px}.running{color:#070;font-size:14px}.ok{color:#070}.trip{color:#b00;font-weight:bold}</style>")
    }

    static let script = """
    <script>
    window.loadedAt = Date.now();
    const live = document.getElementById('live');
    const events = new EventSource('/events');
    events.onmessage = (e) => { live.innerHTML = e.data; };
    document.addEventListener('click', async (e) => {
      const b = e.target.closest('button.control');
      if (!b) return;
      const status = document.getElementById('status');
      const r = await fetch('/control', {method: 'POST', headers: {'Authorization': 'Bearer ' + document.getElementById('token').value, 'Content-Type': 'application/json'},
        body: JSON.stringify({account: b.dataset.account, action: b.dataset.action})});
      status.textContent = await r.text();
    });
    </script>
    """
}
