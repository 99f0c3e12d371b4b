import Foundation
import OpsModel
import Testing
import TestSupport

/// Issue 7 end to end: the Phases 3–4 exits, rolls and Greeks on what the services actually published. Each run
/// makes the rare events likely on the synthetic market: more swing signals (a lower swing slope and 15-minute move,
/// a lower volume-ratio floor for the large tier, no option volume or IV-percentile gate), so a two-session run shows
/// partial exits, trailing stops, time exits and a roll. The pipeline is deterministic: the same run gives the same
/// events every time.
extension PipelineTests {
@Suite("Phases 3–4 exits end to end")
struct Exits {
    typealias T = PipelineTests.Trading

    static let swingSignals = PipelineTests.params + [
        "--param", "signals.swing_slope_min=0.00005", "--param", "signals.swing_ret_15m_min=0.001",
        "--param", "account_tiers.tiers.large.min_volume_ratio=0.8",
        // The synthetic chains' longer expiries trade thinly and their IV percentile runs high: without these every
        // swing entry falls back to stock.
        "--param", "liquidity_thresholds.min_volume=0", "--param", "liquidity_thresholds.max_iv_percentile=null",
    ]

    static func events(_ dir: URL) throws -> [[String: Any]] { try T.payloads(dir, Topics.positions) }

    static func closed(_ dir: URL) throws -> [[String: Any]] { try events(dir).filter { $0["event"] as? String == "closed" } }

    /// Every partial exit: a `marked` event naming it, with fewer contracts left than bought, whose position later
    /// closes by another rule with the P&L of both sales.
    static func checkPartialExits(_ dir: URL) throws -> Int {
        let all = try events(dir)
        let partials = all.filter { $0["event"] as? String == "marked" && $0["exit_reason"] as? String == "partial_exit" }
        for p in partials {
            let id = p["position_id"] as! String
            let quantity = p["quantity"] as! Int, left = try #require(p["remaining_quantity"] as? Int)
            #expect(left >= 1 && left < quantity, "\(id): \(left) of \(quantity) left")
            #expect(p["stop_cents"] as? Int == p["entry_price_cents"] as? Int, "\(id): the rest's stop is at breakeven")
            if let close = all.first(where: { $0["position_id"] as? String == id && $0["event"] as? String == "closed" }) {
                #expect(close["exit_reason"] as? String != "partial_exit")
                #expect(close["realized_pnl_cents"] is Int)
            }
        }
        return partials.count
    }

    /// Option marks carry their Greeks, and the account's portfolio Greeks were published.
    static func checkGreeks(_ dir: URL) throws {
        let marks = try events(dir).filter { $0["event"] as? String == "marked" && $0["asset_class"] as? String == "option" }
        #expect(!marks.isEmpty)
        let priced = marks.compactMap { $0["greeks"] as? [String: Any] }
        #expect(priced.count * 10 >= marks.count * 9, "most option marks are priced: \(priced.count) of \(marks.count)")
        for g in priced {
            let delta = g["delta"] as! Double, iv = g["iv"] as! Double
            #expect(abs(delta) <= 1 && iv > 0 && (g["years"] as! Double) > 0)
        }
        let portfolio = try T.payloads(dir, Topics.greeks)
        #expect(!portfolio.isEmpty, "trading.greeks.v1 has the account's sums")
        #expect(portfolio.allSatisfy { $0["account_id"] as? String == "sim-1" && ($0["dollar_delta"] as? Double)?.isFinite == true })
    }

    @Test("premium style with trailing and partial exits: positions partially exit, trail and time-exit; none past expiration")
    func premiumStyle() throws {
        // The default exits. A 31-day time exit starts the swing window at 32 days: the first session's swing
        // entries (the 32-day Friday expiry) time-exit on the second, when 31 days are left.
        let (r, dir) = try Harness.up(["--sessions", "2"] + Self.swingSignals + ["--param", "exits.time_exit_dte=31"])
        #expect(r.status == 0, "\(r.stderr)")
        let reasons = Set(try Self.closed(dir).compactMap { $0["exit_reason"] as? String })
        #expect(try Self.checkPartialExits(dir) > 0, "a partial exit happened: \(reasons)")
        #expect(reasons.contains("trailing_stop"), "a trailing stop fired: \(reasons)")
        #expect(reasons.contains("time_exit"), "a swing position time-exited: \(reasons)")
        for e in try Self.events(dir) where e["asset_class"] as? String == "option" {
            #expect(e["stop_basis"] as? String == "premium")
        }
        try Self.checkGreeks(dir)
        #expect(try Safety.checkExpirations(dir) > 0)
        #expect(r.stdout.contains("partial exits"), "the summary counts them: \(r.stdout)")
    }

    @Test("underlying style with rolls: ATR stops on the underlying, a roll closes with a roll id the dispatcher's opening leg shares")
    func underlyingStyleAndRolls() throws {
        // Rolls on every profitable swing position with a same-direction signal in the session (time exit off).
        let (r, dir) = try Harness.up(["--sessions", "2"] + Self.swingSignals + [
            "--param", "exits.style=underlying", "--param", "exits.underlying_target_atr=3", "--param", "exits.time_exit_dte=0",
            "--param", "roll.dte=45", "--param", "roll.signal_minutes=390",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let all = try Self.events(dir)
        let opened = all.filter { $0["event"] as? String == "opened" && $0["asset_class"] as? String == "option" }
        #expect(opened.contains { $0["stop_basis"] as? String == "underlying" }, "options opened with ATR levels on the underlying")
        let rolls = try Self.closed(dir).filter { $0["exit_reason"] as? String == "roll" }
        #expect(!rolls.isEmpty, "a roll closed a position")
        let legs = try T.payloads(dir, Topics.decisions).filter { $0["kind"] as? String == "roll" }
        for roll in rolls {
            let id = try #require(roll["roll_id"] as? String)
            let leg = try #require(legs.first { $0["roll_id"] as? String == id }, "the dispatcher decided the opening leg of \(id)")
            #expect(leg["position_id"] as? String == roll["position_id"] as? String)
            let exits = try T.payloads(dir, Topics.orders).filter { $0["roll_id"] as? String == id }
            #expect(exits.contains { $0["intent"] as? String == "close" }, "the close leg carries the roll id")
            if leg["outcome"] as? String == "order" {
                #expect(exits.contains { $0["intent"] as? String == "open" }, "the opening leg carries the roll id")
            } else {
                #expect(!exits.contains { $0["intent"] as? String == "open" }, "a refused opening leg: only the close")
            }
        }
        try Self.checkGreeks(dir)
        #expect(try Safety.checkExpirations(dir) > 0)
    }
}
}
