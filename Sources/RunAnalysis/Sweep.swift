import Foundation
import OpsModel

/// `opsctl sweep`'s grid: every combination of the values given per key (`--grid key=v1,v2…`), in the order given,
/// the first key varying slowest.
public struct SweepGrid: Sendable, Equatable {
    public var axes: [(key: String, values: [String])]

    public static func == (a: SweepGrid, b: SweepGrid) -> Bool { a.axes.elementsEqual(b.axes) { $0.key == $1.key && $0.values == $1.values } }

    /// Parses `key=v1,v2,…` items; a key given twice, or with no value, is refused naming it.
    public init(_ items: [String]) throws(ExplainError) {
        axes = []
        for item in items {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw ExplainError("--grid expects KEY=V1,V2,… e.g. --grid account_size=1000,25000 or --grid exits.style=premium,underlying; got '\(item)'")
            }
            let key = String(item[..<eq])
            let values = item[item.index(after: eq)...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !values.isEmpty else { throw ExplainError("--grid \(key) has no values; e.g. --grid \(key)=A,B") }
            guard !axes.contains(where: { $0.key == key }) else { throw ExplainError("--grid \(key) given twice; list all its values in one --grid") }
            axes.append((key, values))
        }
    }

    /// Each combination as (key, value) pairs in axis order.
    public var combinations: [[(key: String, value: String)]] {
        axes.reduce([[]]) { partial, axis in partial.flatMap { combo in axis.values.map { combo + [(axis.key, $0)] } } }
    }

    public static func label(_ combo: [(key: String, value: String)]) -> String { combo.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
}

/// One combination's result: the figures a comparison needs, from its account's performance.
public struct SweepRow: Sendable {
    public var settings: [(key: String, value: String)]
    public var performance: AccountPerformance
    public var label: String { SweepGrid.label(settings) }
    public func value(of key: String) -> String? { settings.first { $0.key == key }?.value }

    public init(settings: [(key: String, value: String)], performance: AccountPerformance) { self.settings = settings; self.performance = performance }
}

/// How the best combination is chosen: the highest value of a figure, among combinations that traded.
public enum SweepCriterion: String, CaseIterable, Sendable {
    case sharpe, `return`, calmar

    public var description: String {
        switch self {
        case .sharpe: "the highest Sharpe ratio of daily returns (annualized), among combinations that closed a trade; ties by net P&L"
        case .return: "the highest return on the starting equity, among combinations that closed a trade; ties by max drawdown"
        case .calmar: "the highest return over max drawdown (Calmar), among combinations that closed a trade; ties by net P&L"
        }
    }

    func score(_ p: AccountPerformance) -> Double {
        switch self {
        case .sharpe: p.sharpe ?? -.infinity
        case .return: p.returnPct
        case .calmar: p.maxDrawdown.fraction < 0 ? p.returnPct / (-p.maxDrawdown.fraction * 100) : (p.returnPct > 0 ? .infinity : p.returnPct)
        }
    }

    /// The best row of `rows` by this criterion, or nil when none traded.
    public func best(_ rows: [SweepRow]) -> SweepRow? {
        rows.filter { !$0.performance.closed.isEmpty }.max { a, b in
            let (sa, sb) = (score(a.performance), score(b.performance))
            if sa != sb { return sa < sb }
            return self == .return ? a.performance.maxDrawdown.cents < b.performance.maxDrawdown.cents : a.performance.netCents < b.performance.netCents
        }
    }
}

/// The comparison: a row per combination, the equity curves overlaid, the best per account size.
public struct SweepReport {
    public var rows: [SweepRow]
    public var criterion: SweepCriterion
    /// The data the combinations ran on, in words.
    public var source: String
    /// The key whose values group the "best of" (account_size when swept).
    public var groupKey: String?

    public init(rows: [SweepRow], criterion: SweepCriterion, source: String, groupKey: String?) {
        self.rows = rows; self.criterion = criterion; self.source = source; self.groupKey = groupKey
    }

    static let columns = ["trades", "win rate", "net P&L", "return", "max drawdown", "worst day", "Sharpe"]

    public static func cells(_ p: AccountPerformance) -> [String] {
        [String(p.closed.count), p.winRate.map { FixedFormat.string($0 * 100, decimals: 0) + "%" } ?? "–", Money.dollars(p.netCents),
         FixedFormat.string(p.returnPct, decimals: 2, plusSign: true) + "%",
         Money.dollars(p.maxDrawdown.cents) + " (" + FixedFormat.string(p.maxDrawdown.fraction * 100, decimals: 1) + "%)",
         p.worstDay.map { Money.dollars($0.pnlCents) } ?? "–", p.sharpe.map { FixedFormat.string($0, decimals: 2) } ?? "–"]
    }

    /// The best row per value of `groupKey` (or overall), in the order the values were given.
    public var best: [(group: String, row: SweepRow?)] {
        guard let key = groupKey else { return [("all", criterion.best(rows))] }
        var groups = [String]()
        for r in rows { if let v = r.value(of: key), !groups.contains(v) { groups.append(v) } }
        return groups.map { g in ("\(key)=\(g)", criterion.best(rows.filter { $0.value(of: key) == g })) }
    }

    /// A fixed-width table for the terminal, then the best per group.
    public var text: String {
        let header = ["combination"] + Self.columns
        let body = rows.map { [$0.label] + Self.cells($0.performance) }
        let widths = header.indices.map { i in ([header] + body).map { $0[i].count }.max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == 0 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[i] - c.count) + c }.joined(separator: "  ")
        }
        var out = [line(header)] + body.map(line)
        out.append("")
        out.append("best by \(criterion.description):")
        for (g, r) in best { out.append("  \(g): " + (r.map { "\($0.label) — " + Self.cells($0.performance).enumerated().map { "\(Self.columns[$0.offset]) \($0.element)" }.joined(separator: ", ") } ?? "no combination closed a trade")) }
        return out.joined(separator: "\n")
    }

    public var html: String {
        let e = SVGChart.escape
        var t = "<h1>ops-pipeline sweep</h1><p class=\"meta\">\(rows.count) combinations over \(e(source)); each a backtest of the same data</p>"
        t += "<h2>Best</h2><p>by \(e(criterion.description))</p><ul>"
        for (g, r) in best { t += "<li><b>\(e(g))</b>: " + (r.map { e($0.label) + " — " + e(Self.cells($0.performance).enumerated().map { "\(Self.columns[$0.offset]) \($0.element)" }.joined(separator: ", ")) } ?? "no combination closed a trade") + "</li>" }
        t += "</ul><h2>Combinations</h2><table><tr><th>#</th><th>combination</th>" + Self.columns.map { "<th>\(e($0))</th>" }.joined() + "</tr>"
        let winners = Set(best.compactMap { $0.row?.label })
        for (i, r) in rows.enumerated() {
            t += "<tr\(winners.contains(r.label) ? " style=\"font-weight:bold\"" : "")><td>\(i + 1)</td><td>\(e(r.label))</td>" + Self.cells(r.performance).map { "<td class=\"num\">\(e($0))</td>" }.joined() + "</tr>"
        }
        t += "</table><h2>Equity curves (return on the starting equity, %)</h2><figure>"
        t += SVGChart.lines(rows.enumerated().map { i, r in
            let start = Double(max(r.performance.startingCents, 1))
            return SVGChart.Series(name: "\(i + 1). \(r.label)", color: SVGChart.palette[i % SVGChart.palette.count],
                                   points: r.performance.curve.map { (Double($0.time.ms), (Double($0.equityCents) / start - 1) * 100) })
        }, title: "Equity curves overlaid", yFormat: { FixedFormat.string($0, decimals: 1) + "%" }, xLabel: RunReport.date)
        return RunReport.page(title: "ops-pipeline sweep", body: t + "</figure>")
    }
}
