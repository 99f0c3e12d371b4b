import Foundation
import OpsModel

/// Seed 004 §2 account-level kill switches and §3 per-ticker limits, each a pure function from what the dispatcher
/// knows to a `GateResult` carrying the measured value, the limit and the reason in the seed's wording.
public enum KillSwitches {
    /// `daily_loss`: the session's realized plus unrealized P&L below −`risk.max_daily_loss` blocks entries. Once
    /// tripped (`trippedAt`), it stays tripped for the rest of that New York session whatever the P&L does after.
    public static func dailyLoss(dayPnlCents: Cents, trippedAt: Timestamp?, params: TradingParams) -> GateResult {
        let limit = maxDailyLossCents(params)
        let value = Fmt.cents(dayPnlCents), limitText = Fmt.cents(-limit)
        if dayPnlCents < -limit {
            return GateResult(gate: "daily_loss", passed: false,
                              detail: "Daily loss \(Fmt.wholeDollars(-dayPnlCents)) exceeds limit \(Fmt.wholeDollars(limit))",
                              value: value, limit: limitText)
        }
        if let trippedAt {
            return GateResult(gate: "daily_loss", passed: false,
                              detail: "Daily loss limit \(Fmt.wholeDollars(limit)) tripped at \(trippedAt.iso8601); blocked for the rest of the session (P&L now \(Fmt.wholeDollars(dayPnlCents)))",
                              value: value, limit: limitText)
        }
        return GateResult(gate: "daily_loss", passed: true,
                          detail: "Daily P&L \(Fmt.wholeDollars(dayPnlCents)) within limit \(Fmt.wholeDollars(limit))", value: value, limit: limitText)
    }

    public static func maxDailyLossCents(_ params: TradingParams) -> Cents { Exact.dollarsToCents(params.risk.maxDailyLoss) }

    /// `max_positions`: open positions plus entries ordered and not yet filled or cancelled at the limit blocks.
    public static func maxPositions(count: Int, params: TradingParams) -> GateResult {
        let limit = params.risk.maxOpenPositions
        let passed = count < limit
        return GateResult(gate: "max_positions", passed: passed,
                          detail: passed ? "Positions \(count)/\(limit)" : "At position limit: \(count)/\(limit)",
                          value: String(count), limit: String(limit))
    }

    /// `max_exposure`: notional of open positions and pending entries plus this order's above the limit blocks.
    public static func maxExposure(currentCents: Cents, orderCents: Cents?, params: TradingParams) -> GateResult {
        let limit = Exact.dollarsToCents(params.risk.maxNotionalExposure)
        guard let orderCents else {
            return GateResult(gate: "max_exposure", passed: currentCents < limit,
                              detail: "Exposure \(Fmt.wholeDollars(currentCents))/\(Fmt.wholeDollars(limit)); not evaluated with an order: needs a sizing",
                              value: Fmt.cents(currentCents), limit: Fmt.cents(limit))
        }
        let total = currentCents + orderCents
        let passed = total <= limit
        let detail = passed
            ? "Exposure \(Fmt.wholeDollars(total))/\(Fmt.wholeDollars(limit)) with this order (\(Fmt.wholeDollars(orderCents)))"
            : "At exposure limit: \(Fmt.wholeDollars(total))/\(Fmt.wholeDollars(limit)) with this order (\(Fmt.wholeDollars(orderCents)))"
        return GateResult(gate: "max_exposure", passed: passed, detail: detail, value: Fmt.cents(total), limit: Fmt.cents(limit))
    }

    /// `trading_hours`: entries only in the regular session of an NYSE trading day, not in its first
    /// `risk.block_open_minutes` nor its last `risk.block_close_minutes` (the close from `MarketCalendar`, so a
    /// 13:00 half day blocks from 12:45). The window is [open + block_open, close − block_close).
    public static func tradingHours(at t: Timestamp, params: TradingParams) -> GateResult {
        let local = NewYorkTime.local(t)
        let now = clock(local.secondOfDay)
        guard let close = MarketCalendar.closeMinute(of: local.date) else {
            return GateResult(gate: "trading_hours", passed: false,
                              detail: "Market closed: \(local.date) is not an NYSE trading day", value: "\(local.date) \(now)", limit: "closed")
        }
        let from = (MarketCalendar.openMinute + params.risk.blockOpenMinutes) * 60
        let until = (close - params.risk.blockCloseMinutes) * 60
        let window = "\(clock(from))–\(clock(until))"
        let limit = "\(window) New York\(close == MarketCalendar.earlyCloseMinute ? " (13:00 early close)" : "")"
        let s = local.secondOfDay
        if s < from {
            return GateResult(gate: "trading_hours", passed: false,
                              detail: "Outside trading hours: \(now) New York is before \(clock(from)) (open + \(params.risk.blockOpenMinutes) min)",
                              value: now, limit: limit)
        }
        if s >= until {
            return GateResult(gate: "trading_hours", passed: false,
                              detail: "Outside trading hours: \(now) New York is at or after \(clock(until)) (close \(clock(close * 60)) − \(params.risk.blockCloseMinutes) min)",
                              value: now, limit: limit)
        }
        return GateResult(gate: "trading_hours", passed: true, detail: "Trading hours: \(now) New York within \(window)", value: now, limit: limit)
    }

    /// `halt`: an operator halt in force blocks entries.
    public static func halt(_ h: HaltState?) -> GateResult {
        guard let h else { return GateResult(gate: "halt", passed: true, detail: "No operator halt", value: "running", limit: "running") }
        return GateResult(gate: "halt", passed: false, detail: "Halted by operator: \(describe(h))", value: "halted", limit: "running")
    }

    public static func describe(_ h: HaltState) -> String {
        "since \(h.since.iso8601) by \(h.requestedBy)\(h.flatten ? " (flatten)" : ""): \(h.reason)"
    }

    // MARK: per ticker

    /// `cooldown`: no entry within `risk.ticker_cooldown_minutes` of the ticker's last entry (004 §3 last_trade_time).
    public static func cooldown(ticker: String, lastEntry: Timestamp?, at t: Timestamp, params: TradingParams) -> GateResult {
        let minutes = params.risk.tickerCooldownMinutes
        guard let lastEntry else {
            return GateResult(gate: "cooldown", passed: true, detail: "No earlier entry in \(ticker) this session", value: nil, limit: "\(minutes) min")
        }
        let elapsedMs = t.ms - lastEntry.ms
        let passed = elapsedMs >= Int64(minutes) * 60_000
        let elapsed = Fmt.minutes(elapsedMs)
        return GateResult(gate: "cooldown", passed: passed,
                          detail: passed ? "Last \(ticker) entry \(elapsed) min ago (cooldown \(minutes) min)"
                                         : "Ticker cooldown: last \(ticker) entry \(elapsed) min ago < \(minutes) min",
                          value: elapsed, limit: String(minutes))
    }

    /// `max_trades_per_ticker`: at most `risk.max_trades_per_ticker_per_day` entries a session (004 §3 ticker_count_today).
    public static func maxTradesPerTicker(ticker: String, count: Int, params: TradingParams) -> GateResult {
        let limit = params.risk.maxTradesPerTickerPerDay
        let passed = count < limit
        return GateResult(gate: "max_trades_per_ticker", passed: passed,
                          detail: passed ? "\(ticker) entries today \(count)/\(limit)" : "Ticker trade limit: \(ticker) entries today \(count)/\(limit)",
                          value: String(count), limit: String(limit))
    }

    /// `HH:MM`, or `HH:MM:SS` when the seconds are not zero.
    static func clock(_ secondOfDay: Int) -> String {
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let hm = "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60))"
        return secondOfDay % 60 == 0 ? hm : hm + ":\(two(secondOfDay % 60))"
    }
}
