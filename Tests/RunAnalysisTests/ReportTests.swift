import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import OpsModel
@testable import RunAnalysis
import Testing

@Suite("opsctl report: performance figures and the HTML page")
struct ReportTests {
    let record = SyntheticRun.record

    @Test("the equity curve agrees with the broker and the position-manager: net = realized when all is closed, days sum to net")
    func equityAgrees() throws {
        let perf = record.performance()
        let a = try #require(perf.first)
        #expect(perf.map(\.accountId) == ["sim-1"] || perf.count == 1, "\(perf.map(\.accountId))")
        let snapshots = record.messages(Topics.accounts, AccountSnapshot.self).map(\.payload)
        #expect(a.startingCents == snapshots.min { $0.seq < $1.seq }!.equityCents)
        #expect(!a.closed.isEmpty)
        if a.trades.allSatisfy(\.isClosed) {
            #expect(a.netCents == a.realizedCents, "cash the broker kept = P&L the position-manager realized")
            #expect(a.endingCents == snapshots.max { $0.seq < $1.seq }!.equityCents)
        }
        #expect(a.days.count == record.sessionDates.count)
        #expect(a.days.reduce(0) { $0 + $1.pnlCents } == a.days.last!.closeCents - a.startingCents)
        let closedEvents = record.messages(Topics.positions, PositionEvent.self).map(\.payload).filter { $0.event == .closed && $0.accountId == a.accountId }
        #expect(a.realizedCents == closedEvents.reduce(0) { $0 + ($1.realizedPnlCents ?? 0) })
        #expect(a.grouped { $0.underlying }.reduce(0) { $0 + $1.pnlCents } == a.realizedCents)
        #expect(a.grouped { $0.exitReason ?? "" }.reduce(0) { $0 + $1.trades } == a.closed.count)
    }

    @Test("Sharpe, Sortino and drawdown by their definitions on a hand-made account")
    func ratios() {
        func day(_ i: Int, _ ret: Double) -> AccountPerformance.Day { .init(date: CivilDate(year: 2024, month: 3, day: i), closeCents: 0, pnlCents: 0, ret: ret) }
        let curve: [AccountPerformance.Point] = [100, 120, 90, 110, 80, 130].enumerated().map { .init(time: Timestamp(ms: Int64($0.offset)), equityCents: $0.element) }
        let a = AccountPerformance(accountId: "x", startingCents: 100, endingCents: 130, curve: curve, days: [day(1, 0.01), day(2, -0.02), day(3, 0.03)],
                                   trades: [], skipsByGate: [:], decisions: 0, orders: 0, fills: 0, slippageCents: 0, slippageBps: nil)
        // mean 0.00667, sample sd 0.025166; downside deviation sqrt(0.0004 / 3).
        let annual = 252.0.squareRoot()
        let sharpe: Double = 0.0066667 / 0.0251661 * annual
        let sortino: Double = 0.0066667 / (0.0004 / 3.0).squareRoot() * annual
        #expect(abs(a.sharpe! - sharpe) < 1e-3)
        #expect(abs(a.sortino! - sortino) < 1e-3)
        #expect(a.maxDrawdown.cents == -40)
        #expect(abs(a.maxDrawdown.fraction - (-40.0 / 120)) < 1e-12)
        let flat = AccountPerformance(accountId: "x", startingCents: 1, endingCents: 1, curve: [], days: [day(1, 0), day(2, 0)], trades: [],
                                      skipsByGate: [:], decisions: 0, orders: 0, fills: 0, slippageCents: 0, slippageBps: nil)
        #expect(flat.sharpe == nil && flat.sortino == nil, "no variation, no ratio")
    }

    @Test("fills against the mid: a buy above the mid and a sell below it both cost")
    func slippage() {
        func fill(_ side: OrderSide, _ price: Cents) -> Fill {
            Fill(accountId: "a", fillId: "f", clientOrderId: "c", symbol: "SPY240315C00500000", underlying: "SPY", assetClass: .option, side: side,
                 quantity: 2, priceCents: price, commissionCents: 0, feesCents: 0, orderTime: Timestamp(ms: 0), quoteTime: Timestamp(ms: 1),
                 quoteBid: 2.00, quoteAsk: 2.10, intent: .open, positionId: nil, strategy: .dayTrade)
        }
        #expect(FillSlippage(fill(.buy, 210)).totalCents == 1000)
        #expect(FillSlippage(fill(.sell, 200)).totalCents == 1000)
        #expect(FillSlippage(fill(.buy, 205)).totalCents == 0)
        #expect(abs(FillSlippage(fill(.buy, 210)).bps - 5.0 / 205 * 10_000) < 1e-9)
    }

    @Test("the page is self-contained: SVG charts that parse as XML, no script, every trade linked to its explanation")
    func page() throws {
        let report = RunReport(record: record, source: "runs/x")
        let html = report.html
        #expect(!html.contains("<script"), "readable without JavaScript")
        #expect(!html.contains("http://") || !html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"), "fetches nothing")
        let svgs = html.components(separatedBy: "<svg").dropFirst().map { "<svg" + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
        #expect(svgs.count >= 7, "equity, drawdown, by ticker, strategy, exit reason, skips, by session")
        for svg in svgs { #expect(XMLParser(data: Data(svg.utf8)).parse(), "SVG parses: \(svg.prefix(120))") }
        for t in report.accounts.flatMap(\.trades) {
            #expect(html.contains("href=\"#explain-\(t.positionId)\""))
            #expect(html.contains("<details id=\"explain-\(t.positionId)\">"))
        }
        for label in ["Sharpe", "Sortino", "max drawdown", "win rate", "average win", "average loss", "fills against the mid", "P&amp;L by exit reason"] {
            #expect(html.localizedCaseInsensitiveContains(label), "\(label)")
        }
    }

    @Test("axis ticks are round numbers spanning the data")
    func ticks() {
        let t = SVGChart.lines([SVGChart.Series(name: "a", color: "#000", points: [(0, 99_870), (1, 101_234)])], title: "t", yFormat: { String($0) }, xLabel: { String($0) })
        #expect(t.contains(">99500.0<") && t.contains(">101500.0<"), "steps of 500 around the data")
    }
}
