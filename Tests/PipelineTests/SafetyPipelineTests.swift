import Foundation
import OpsModel
import Testing
import TestSupport

/// Issue 6 end to end: kill switches, halts and the stock fallback hold on what the services actually published.
/// Every check reads the recorded topics of a real run (all services as processes over Kafka).
extension PipelineTests {
@Suite("Safety gates end to end")
struct Safety {
    typealias T = PipelineTests.Trading

    struct Entry {
        var time: Timestamp
        var ticker: String
        var clientOrderId: String
        var decision: [String: Any]
    }

    /// Entry orders with the decision that placed them.
    static func entries(_ dir: URL) throws -> [Entry] {
        var out = [Entry]()
        for line in try T.lines(dir, Topics.decisions) {
            let p = line["payload"] as! [String: Any]
            guard p["outcome"] as! String == "order", let o = p["order"] as? [String: Any] else { continue }
            out.append(Entry(time: Timestamp(iso8601: line["event_time"] as! String)!, ticker: p["ticker"] as! String,
                             clientOrderId: o["client_order_id"] as! String, decision: p))
        }
        return out.sorted { $0.time < $1.time }
    }

    static func time(_ line: [String: Any]) -> Timestamp { Timestamp(iso8601: line["event_time"] as! String)! }

    /// Checks no recorded entry breaks a limit of `params` (computed from the topics, independently of the dispatcher).
    static func checkLimits(_ dir: URL, maxPositions: Int, cooldownMinutes: Int, maxTradesPerTicker: Int, maxDailyLossCents: Cents) throws {
        let entries = try Self.entries(dir)
        #expect(!entries.isEmpty, "the run placed entries to check")
        let positions = try T.lines(dir, Topics.positions)
        let events = try T.lines(dir, Topics.orderEvents)
        var terminal = [String: Timestamp]()
        for e in events {
            let p = e["payload"] as! [String: Any]
            if ["filled", "partially_filled", "cancelled", "rejected"].contains(p["status"] as! String) {
                let id = p["client_order_id"] as! String
                terminal[id] = min(terminal[id] ?? .distantFuture, time(e))
            }
        }
        for (i, e) in entries.enumerated() {
            // Open positions and live entry orders strictly before the decision (same-time feedback comes after it).
            var open = Set<String>()
            for line in positions where time(line) < e.time {
                let p = line["payload"] as! [String: Any]
                let id = p["position_id"] as! String
                if p["event"] as! String == "closed" { open.remove(id) } else { open.insert(id) }
            }
            let pending = entries[..<i].filter { (terminal[$0.clientOrderId] ?? .distantFuture) >= e.time }.count
            #expect(open.count + pending < maxPositions, "entry \(e.clientOrderId) at \(e.time): \(open.count) open + \(pending) pending")

            // Trading hours: inside [open + 5, close − 15) of an NYSE session.
            let local = NewYorkTime.local(e.time)
            let close = try #require(MarketCalendar.closeMinute(of: local.date), "entries only on trading days")
            #expect(local.secondOfDay >= (9 * 60 + 35) * 60 && local.secondOfDay < (close - 15) * 60, "entry at \(local.date) \(local.secondOfDay / 60) min")

            // Per ticker and session: cooldown and count.
            let sameTicker = entries[..<i].filter { $0.ticker == e.ticker && NewYorkTime.date(of: $0.time) == local.date }
            #expect(sameTicker.count < maxTradesPerTicker)
            if let last = sameTicker.last { #expect(e.time.ms - last.time.ms >= Int64(cooldownMinutes) * 60_000) }

            // Every gate passed and carries its number.
            let gates = e.decision["gates"] as! [[String: Any]]
            #expect(gates.allSatisfy { $0["passed"] as! Bool })
            for name in ["daily_loss", "max_positions", "max_exposure", "trading_hours", "halt", "cooldown", "max_trades_per_ticker"] {
                let g = try #require(gates.first { $0["gate"] as! String == name }, "\(name) is in every decision")
                #expect(g["limit"] is String)
            }
            let dayPnl = try #require(e.decision["day_pnl_cents"] as? Int)
            #expect(Cents(dayPnl) >= -maxDailyLossCents)
        }
        // Once the daily loss has blocked, nothing enters for the rest of that session.
        var trippedAt = [CivilDate: Timestamp]()
        for line in try T.lines(dir, Topics.decisions) {
            let p = line["payload"] as! [String: Any]
            let day = NewYorkTime.date(of: time(line))
            if (p["gates"] as! [[String: Any]]).contains(where: { $0["gate"] as! String == "daily_loss" && !($0["passed"] as! Bool) }) {
                trippedAt[day] = min(trippedAt[day] ?? .distantFuture, time(line))
            }
        }
        for e in entries { if let t = trippedAt[NewYorkTime.date(of: e.time)] { #expect(e.time < t) } }
    }

    /// No option position is open after its expiration's close in any recorded run, and every closed position
    /// closed by then.
    static func checkExpirations(_ dir: URL) throws -> Int {
        var checked = 0
        var last = Timestamp.distantPast
        var open = [String: (symbol: String, expiration: CivilDate)]()
        for line in try T.lines(dir, Topics.positions) {
            let p = line["payload"] as! [String: Any]
            let t = time(line)
            last = max(last, t)
            guard let occ = OCCSymbol(p["symbol"] as! String) else { continue }
            let id = p["position_id"] as! String
            #expect(t <= MarketCalendar.close(of: occ.expiration), "\(id) has an event at \(t), after its expiration \(occ.expiration)")
            if p["event"] as! String == "closed" { open[id] = nil; checked += 1 } else { open[id] = (occ.description, occ.expiration) }
        }
        for (id, p) in open { #expect(last <= MarketCalendar.close(of: p.expiration), "\(id) (\(p.symbol)) still open after it expired") }
        return checked
    }

    @Test("tight limits: no recorded entry breaks a kill switch or a per-ticker limit")
    func tightLimitsHold() throws {
        let (r, dir) = try Harness.up(["--sessions", "2", "--param", "signals.momentum_mode=bonus", "--param", "risk.max_open_positions=1", "--param", "risk.max_daily_loss=150",
                                       "--param", "risk.ticker_cooldown_minutes=45", "--param", "risk.max_trades_per_ticker_per_day=2"])
        #expect(r.status == 0, "\(r.stderr)")
        try Self.checkLimits(dir, maxPositions: 1, cooldownMinutes: 45, maxTradesPerTicker: 2, maxDailyLossCents: 15_000)
        #expect(r.stdout.contains("kill switches"), "the summary shows the kill switches: \(r.stdout)")
        let skips = try T.payloads(dir, Topics.decisions).compactMap { $0["skip_reason"] as? String }
        #expect(skips.contains("max_positions") || skips.contains("cooldown"), "the tight limits did block: \(Set(skips))")
        _ = try Self.checkExpirations(dir)
    }

    @Test("a scheduled halt stops entries from its minute on, and survives a dispatcher SIGKILL")
    func haltStopsEntriesAndSurvivesRestart() throws {
        let haltAt = NewYorkTime.utc(date: CivilDate(year: 2024, month: 3, day: 4), hour: 12, minute: 0)
        let (r, dir) = try Harness.up(PipelineTests.small + ["--halt", "sim-1@\(haltAt.iso8601)", "--kill-after", "dispatcher=25"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("fault injection: SIGKILLed dispatcher"), "the kill happened: \(r.stdout)")
        let entries = try Self.entries(dir)
        #expect(entries.contains { $0.time < haltAt }, "entries before the halt")
        #expect(entries.allSatisfy { $0.time < haltAt }, "no entry at or after the halt")
        var after = 0
        for line in try T.lines(dir, Topics.decisions) where Self.time(line) >= haltAt {
            let p = line["payload"] as! [String: Any]
            #expect(p["skip_reason"] as? String == "halt" && (p["halt"] as? String)?.contains("scheduled halt") == true)
            after += 1
        }
        #expect(after > 0, "signals after the halt were decided (and refused)")
        // Exits go on while halted: whatever was open at the halt still closes.
        var openAtHalt = Set<String>(), closedAfter = Set<String>()
        for line in try T.lines(dir, Topics.positions) {
            let p = line["payload"] as! [String: Any]
            let id = p["position_id"] as! String
            if Self.time(line) < haltAt { if p["event"] as! String == "closed" { openAtHalt.remove(id) } else { openAtHalt.insert(id) } }
            else if p["event"] as! String == "closed" { closedAfter.insert(id) }
        }
        #expect(openAtHalt.isSubset(of: closedAfter), "positions open at the halt were exited: \(openAtHalt.subtracting(closedAfter))")
    }

    @Test("stock fallback: when the option gates fail, the underlying is ordered, filled against bars, managed and closed")
    func stockFallbackTradesAndCloses() throws {
        // A spread limit no option meets: every option route fails with fallback.
        let (r, dir) = try Harness.up(PipelineTests.small + ["--param", "liquidity_thresholds.max_spread_pct=0.1"])
        #expect(r.status == 0, "\(r.stderr)")
        let entries = try Self.entries(dir)
        #expect(!entries.isEmpty)
        for e in entries {
            #expect(e.decision["route"] as? String == "stock_fallback")
            #expect(((e.decision["option_gate"] as? [String: Any])?["fallback"] as? Bool) == true)
            #expect(((e.decision["order"] as? [String: Any])?["asset_class"] as? String) == "equity")
        }
        let fills = try T.payloads(dir, Topics.fills).filter { $0["asset_class"] as? String == "equity" }
        #expect(fills.contains { $0["intent"] as? String == "open" } && fills.contains { $0["intent"] as? String == "close" })
        let positions = try T.payloads(dir, Topics.positions).filter { $0["asset_class"] as? String == "equity" }
        let closed = positions.filter { $0["event"] as? String == "closed" }
        #expect(!closed.isEmpty, "stock positions are exited by rule")
        for c in closed { #expect(c["realized_pnl_cents"] is Int && c["exit_reason"] is String) }
        #expect(r.stdout.contains("stock_fallback"), "the summary counts entries by route")
    }

    @Test("no position in any recorded run is open past its expiration")
    func noPositionPastExpiration() throws {
        let tmp = URL(fileURLWithPath: NSTemporaryDirectory())
        var checked = 0
        for dir in try FileManager.default.contentsOfDirectory(at: tmp, includingPropertiesForKeys: nil) where dir.lastPathComponent.hasPrefix("ops-test-") {
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(Topics.positions).jsonl").path) else { continue }
            checked += try Self.checkExpirations(dir)
        }
        #expect(checked > 0, "closed positions were checked")
    }
}
}
