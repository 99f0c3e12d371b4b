import Foundation
import OpsModel

/// `opsctl report`: one self-contained HTML page of a recorded run — a column per account of the headline figures,
/// equity and drawdown curves, P&L by ticker, strategy and exit reason, skips by gate, fills against the mid, and
/// every trade with its explanation inline. SVG charts, no JavaScript, nothing fetched.
public struct RunReport {
    public var record: RunRecord
    public var explainer: Explainer
    /// What the page says it was made from (the recording's directory).
    public var source: String
    public var accounts: [AccountPerformance]

    public init(record: RunRecord, source: String, explainer: Explainer? = nil) {
        self.record = record
        self.source = source
        self.explainer = explainer ?? Explainer(record: record)
        self.accounts = record.performance()
    }

    public var html: String {
        var body = header() + summaryTable()
        body += section("Equity", SVGChart.lines(accounts.enumerated().map { i, a in
            SVGChart.Series(name: a.accountId, color: SVGChart.palette[i % 10], points: a.curve.map { (Double($0.time.ms), Double($0.equityCents) / 100) })
        }, title: "Equity by account ($)", yFormat: Self.dollars, xLabel: Self.date))
        body += section("Drawdown", SVGChart.lines(accounts.enumerated().map { i, a in
            SVGChart.Series(name: a.accountId, color: SVGChart.palette[i % 10], points: a.drawdown.map { (Double($0.time.ms), $0.fraction * 100) })
        }, title: "Drawdown from the running peak (%)", yFormat: { FixedFormat.string($0, decimals: 1) + "%" }, xLabel: Self.date, fill: true))
        for a in accounts { body += breakdowns(a) }
        body += tradesTable() + explanations()
        return Self.page(title: "ops-pipeline report — \(source)", body: body)
    }

    private func header() -> String {
        let dates = record.sessionDates
        let span = dates.first.map { "\($0) to \(dates.last!), \(dates.count) session\(dates.count == 1 ? "" : "s")" } ?? "no sessions"
        return "<h1>ops-pipeline run report</h1><p class=\"meta\">recording <code>\(esc(source))</code> · \(span) · "
            + "\(accounts.count) account\(accounts.count == 1 ? "" : "s") · every figure from the recorded topics</p>"
    }

    private func summaryTable() -> String {
        func money(_ c: Cents?) -> String { c.map(Money.dollars) ?? "–" }
        func num(_ v: Double?, _ d: Int = 2) -> String { v.map { FixedFormat.string($0, decimals: d) } ?? "–" }
        let rows: [(String, (AccountPerformance) -> String)] = [
            ("starting equity", { money($0.startingCents) }), ("ending equity", { money($0.endingCents) }),
            ("net P&L", { money($0.netCents) }), ("return", { num($0.returnPct) + "%" }),
            ("realized P&L (closed trades)", { money($0.realizedCents) }),
            ("trades closed / open", { "\($0.closed.count) / \($0.trades.count - $0.closed.count)" }),
            ("win rate", { $0.winRate.map { FixedFormat.string($0 * 100, decimals: 0) + "%" } ?? "–" }),
            ("average win", { money($0.averageWinCents) }), ("average loss", { money($0.averageLossCents) }),
            ("profit factor", { num($0.profitFactor) }),
            ("Sharpe (daily, annualized)", { num($0.sharpe) }), ("Sortino (daily, annualized)", { num($0.sortino) }),
            ("max drawdown", { money($0.maxDrawdown.cents) + " (" + num($0.maxDrawdown.fraction * 100, 1) + "%)" }),
            ("worst day", { d in d.worstDay.map { "\(money($0.pnlCents)) on \($0.date)" } ?? "–" }),
            ("decisions / orders / fills", { "\($0.decisions) / \($0.orders) / \($0.fills)" }),
            ("skips", { "\($0.skipsByGate.values.reduce(0, +))" }),
            ("fills against the mid", { money($0.slippageCents) + " (" + num($0.slippageBps, 0) + " bps mean)" }),
        ]
        var t = "<h2>Summary</h2><table class=\"summary\"><tr><th></th>" + accounts.map { "<th>\(esc($0.accountId))</th>" }.joined() + "</tr>"
        for (label, value) in rows { t += "<tr><td>\(label)</td>" + accounts.map { "<td class=\"num\">\(esc(value($0)))</td>" }.joined() + "</tr>" }
        return t + "</table>"
    }

    private func breakdowns(_ a: AccountPerformance) -> String {
        func chart(_ groups: [AccountPerformance.Group], _ title: String) -> String {
            SVGChart.bars(groups.map { ("\($0.key) (\($0.trades))", Double($0.pnlCents) / 100) }, title: title, format: Self.dollars)
        }
        var s = "<h2>Account \(esc(a.accountId))</h2><div class=\"grid\">"
        s += figure(chart(a.grouped { $0.underlying }, "P&L by ticker"), "P&L by ticker (trades)")
        s += figure(chart(a.grouped { $0.strategy }, "P&L by strategy"), "P&L by strategy (trades)")
        s += figure(chart(a.grouped { $0.exitReason ?? "open" }, "P&L by exit reason"), "P&L by exit reason (trades)")
        s += figure(SVGChart.bars(a.skipsByGate.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, Double($0.value)) },
                                  title: "Skips by gate", format: { String(Int($0)) }), "Signals skipped, by the first gate that failed")
        s += figure(SVGChart.bars(a.days.map { ($0.date.iso, Double($0.pnlCents) / 100) }, title: "P&L by session", format: Self.dollars), "P&L by session")
        return s + "</div>" + fillsTable(a)
    }

    private func fillsTable(_ a: AccountPerformance) -> String {
        let fills = record.messages(Topics.fills, Fill.self).filter { $0.payload.accountId == a.accountId && $0.payload.settlement == nil }
        guard !fills.isEmpty else { return "" }
        var t = "<details><summary>Fills against the quote mid (\(fills.count))</summary><table><tr><th>time (ET)</th><th>side</th><th>qty</th><th>symbol</th>"
            + "<th>price</th><th>bid</th><th>ask</th><th>mid</th><th>vs mid a share</th><th>bps</th><th>total</th></tr>"
        for (e, f) in fills {
            let s = FillSlippage(f)
            t += "<tr><td>\(Explanation.newYork(e.eventTime))</td><td>\(f.side.rawValue)</td><td class=\"num\">\(f.quantity)</td><td>\(esc(f.symbol))</td>"
                + "<td class=\"num\">\(Money.dollars(f.priceCents))</td><td class=\"num\">\(FixedFormat.string(f.quoteBid, decimals: 2))</td>"
                + "<td class=\"num\">\(FixedFormat.string(f.quoteAsk, decimals: 2))</td><td class=\"num\">\(FixedFormat.string(s.mid, decimals: 3))</td>"
                + "<td class=\"num\">\(FixedFormat.string(s.perShareCents / 100, decimals: 3, plusSign: true))</td>"
                + "<td class=\"num\">\(FixedFormat.string(s.bps, decimals: 0, plusSign: true))</td><td class=\"num\">\(Money.dollars(s.totalCents))</td></tr>"
        }
        return t + "</table></details>"
    }

    private func tradesTable() -> String {
        var t = "<h2>Trades</h2><table><tr><th>account</th><th>opened (ET)</th><th>closed (ET)</th><th>ticker</th><th>symbol</th><th>strategy</th>"
            + "<th>qty</th><th>entry</th><th>exit</th><th>P&amp;L</th><th>exit reason</th><th>why</th></tr>"
        for a in accounts {
            for tr in a.trades {
                t += "<tr><td>\(esc(a.accountId))</td><td>\(Explanation.newYork(tr.openedAt))</td><td>\(tr.closedAt.map(Explanation.newYork) ?? "open")</td>"
                    + "<td>\(esc(tr.underlying))</td><td>\(esc(tr.symbol))</td><td>\(esc(tr.strategy))</td><td class=\"num\">\(tr.quantity)</td>"
                    + "<td class=\"num\">\(Money.dollars(tr.entryPriceCents))</td><td class=\"num\">\(tr.exitPriceCents.map(Money.dollars) ?? "–")</td>"
                    + "<td class=\"num \(tr.pnlCents < 0 ? "neg" : "pos")\">\(Money.dollars(tr.pnlCents))\(tr.isClosed ? "" : " (open)")</td>"
                    + "<td>\(esc(tr.exitReason ?? "–"))</td><td><a href=\"#explain-\(esc(tr.positionId))\">explain</a></td></tr>"
            }
        }
        return t + "</table>"
    }

    private func explanations() -> String {
        var s = "<h2>Explanations</h2><p class=\"meta\">the same text as <code>opsctl explain POSITION_ID --dir \(esc(source))</code></p>"
        for a in accounts {
            for tr in a.trades {
                let text = (try? explainer.explain(id: tr.positionId).text) ?? "no explanation"
                s += "<details id=\"explain-\(esc(tr.positionId))\"><summary>\(esc(tr.underlying)) \(esc(tr.symbol)) opened \(Explanation.newYork(tr.openedAt)): \(Money.dollars(tr.pnlCents))</summary><pre>\(esc(text))</pre></details>"
            }
        }
        return s
    }

    private func section(_ title: String, _ svg: String) -> String { "<h2>\(esc(title))</h2>" + figure(svg, nil) }
    private func figure(_ svg: String, _ caption: String?) -> String {
        "<figure>\(svg)" + (caption.map { "<figcaption>\(esc($0))</figcaption>" } ?? "") + "</figure>"
    }
    private func esc(_ s: String) -> String { SVGChart.escape(s) }

    static func dollars(_ v: Double) -> String { Money.dollars(Cents((v * 100).rounded())) }
    static func date(_ ms: Double) -> String {
        let l = NewYorkTime.local(Timestamp(ms: Int64(ms)))
        return String(l.date.iso.dropFirst(5))
    }

    public static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(SVGChart.escape(title))</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 12px}
        h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
        table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 7px;text-align:left}
        td.num{text-align:right;font-variant-numeric:tabular-nums}.neg{color:#b00}.pos{color:#070}
        .meta{color:#666}figure{margin:8px 0}figcaption{color:#666;font-size:12px}
        svg{width:100%;height:auto;background:#fff}svg .tick{font-size:11px;fill:#444}
        .grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}
        </style></head><body>
        \(body)
        </body></html>
        """
    }
}
