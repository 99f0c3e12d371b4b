import OpsModel
import Testing
@testable import DispatchCore

/// Seed 004 §2–3 gates at their boundaries: limit −1¢, equal, +1¢; the trading-hours window's edges.
@Suite("Kill switches and per-ticker limits")
struct KillSwitchTests {
    let p = TradingParams()

    @Test(arguments: [(-49_999, true), (-50_000, true), (-50_001, false), (10_000, true)] as [(Cents, Bool)])
    func dailyLossBlocksBelowTheLimit(pnl: Cents, passes: Bool) {
        let g = KillSwitches.dailyLoss(dayPnlCents: pnl, trippedAt: nil, params: p)
        #expect(g.passed == passes && g.gate == "daily_loss")
        #expect(g.limit == "-500.00" && g.value == Fmt.cents(pnl))
        if !passes { #expect(g.detail == "Daily loss $500 exceeds limit $500", "the seed's wording, whole dollars") }
    }

    @Test func aTrippedDailyLossStaysTrippedForTheSession() {
        let g = KillSwitches.dailyLoss(dayPnlCents: 0, trippedAt: Fx.ny("2024-03-06", 11, 0), params: p)
        #expect(!g.passed && g.detail.contains("tripped at"))
        let big = KillSwitches.dailyLoss(dayPnlCents: -61_200, trippedAt: nil, params: p)
        #expect(big.detail == "Daily loss $612 exceeds limit $500")
    }

    @Test(arguments: [(4, true), (5, false), (6, false)])
    func maxPositions(count: Int, passes: Bool) {
        let g = KillSwitches.maxPositions(count: count, params: p)
        #expect(g.passed == passes)
        if !passes { #expect(g.detail == "At position limit: \(count)/5") }
    }

    @Test(arguments: [(999_999, true), (1_000_000, true), (1_000_001, false)] as [(Cents, Bool)])
    func maxExposureCountsThisOrder(total: Cents, passes: Bool) {
        let g = KillSwitches.maxExposure(currentCents: 400_000, orderCents: total - 400_000, params: p)
        #expect(g.passed == passes && g.value == Fmt.cents(total) && g.limit == "10000.00")
    }

    static let hours: [(String, Int, Int, Int, Bool)] = [
        ("2024-03-06", 9, 34, 59, false), ("2024-03-06", 9, 35, 0, true), ("2024-03-06", 15, 44, 59, true), ("2024-03-06", 15, 45, 0, false),
        ("2024-03-06", 9, 29, 0, false), ("2024-03-06", 16, 30, 0, false),
        ("2024-07-04", 11, 0, 0, false),                                      // Independence Day
        ("2024-11-29", 12, 44, 59, true), ("2024-11-29", 12, 45, 0, false),    // 13:00 half day
        ("2024-03-11", 9, 35, 0, true), ("2024-03-11", 9, 34, 59, false),     // the Monday after the spring DST switch
        ("2024-11-04", 9, 35, 0, true), ("2024-11-04", 15, 45, 0, false),     // the Monday after the fall switch
        ("2024-03-10", 11, 0, 0, false),                                      // the switch day itself is a Sunday
    ]

    @Test(arguments: hours)
    func tradingHours(day: String, h: Int, m: Int, s: Int, passes: Bool) {
        let g = KillSwitches.tradingHours(at: Fx.ny(day, h, m, s), params: p)
        #expect(g.passed == passes, "\(day) \(h):\(m):\(s) → \(g.detail)")
    }

    @Test func tradingHoursAcrossDSTUseNewYorkTime() {
        // 09:35 New York is 13:35Z in summer time and 14:35Z in winter time.
        #expect(KillSwitches.tradingHours(at: Fx.time("2024-03-11T13:35:00Z"), params: p).passed)
        #expect(!KillSwitches.tradingHours(at: Fx.time("2024-03-08T14:34:00Z"), params: p).passed)
        #expect(KillSwitches.tradingHours(at: Fx.time("2024-03-08T14:35:00Z"), params: p).passed)
    }

    @Test(arguments: [(29 * 60 + 59, false), (30 * 60, true), (31 * 60, true)])
    func cooldown(elapsedSeconds: Int, passes: Bool) {
        let last = Fx.ny("2024-03-06", 10, 0)
        let g = KillSwitches.cooldown(ticker: "SPY", lastEntry: last, at: last.adding(ms: Int64(elapsedSeconds) * 1000), params: p)
        #expect(g.passed == passes)
        #expect(KillSwitches.cooldown(ticker: "SPY", lastEntry: nil, at: last, params: p).passed)
    }

    @Test(arguments: [(2, true), (3, false)])
    func maxTradesPerTicker(count: Int, passes: Bool) {
        #expect(KillSwitches.maxTradesPerTicker(ticker: "SPY", count: count, params: p).passed == passes)
    }

    @Test func haltInForceIsTheLatestCommandAtOrBeforeTheTime() {
        let t0 = Fx.ny("2024-03-06", 11, 0), t1 = Fx.ny("2024-03-06", 12, 0)
        let halt = OperatorControl(accountId: "sim-1", action: .halt, reason: "review", flatten: false, requestedBy: "ops@h")
        let resume = OperatorControl(accountId: "sim-1", action: .resume, reason: "ok", flatten: false, requestedBy: "ops@h")
        let cmds = [(t1, resume), (t0, halt)]
        #expect(HaltState.inForce(at: t0.adding(ms: -1), commands: cmds) == nil)
        #expect(HaltState.inForce(at: t0, commands: cmds)?.reason == "review", "in force from its own minute")
        #expect(HaltState.inForce(at: t1.adding(ms: -1), commands: cmds) != nil)
        #expect(HaltState.inForce(at: t1, commands: cmds) == nil)
        #expect(HaltState.inForce(at: t1, commands: [(t1, resume), (t1, halt)]) != nil, "a tie halts")
        #expect(!KillSwitches.halt(HaltState.inForce(at: t0, commands: cmds)).passed)
    }
}
