import Foundation
import OpsModel

/// One gate's setting in the trading parameters: on with a finite limit, or not (and why).
struct ReadinessSetting: Sendable {
    var gate: String
    var key: String
    var enabled: Bool
    /// The limit as a trader reads it (`spread ≤ 10.0%`), or why it is off.
    var shown: String
}

/// Items 1 and 2: the seed's option gates and the account's kill switches are all on, with finite limits. A
/// check the code always makes (valid bid/ask, an unexpired contract, an operator halt) has no setting to turn off.
enum ReadinessGuardrails {
    static func optionGates(_ params: TradingParams) -> ReadinessItem {
        item("option_gates", optionGateSettings(params),
             note: "bid_ask, expiration always on; iv_rank \(params.liquidityThresholds.maxIvRank.map { "≤ \(ReadinessText.fixed($0, 1))" } ?? "off (optional, seed 000)")")
    }

    static func killSwitches(_ params: TradingParams) -> ReadinessItem {
        item("kill_switches", killSwitchSettings(params), note: "halt always on (opsctl halt)")
    }

    /// Seed 004 §1 gates 1–4 and seed 000's premium floor, as DispatchCore's `OptionGates` reads them.
    static func optionGateSettings(_ params: TradingParams) -> [ReadinessSetting] {
        let l = params.liquidityThresholds
        let spread = l.maxSpreadPct, premium = l.minPremium
        return [
            // Above 100 % of the mid a spread limit no longer limits anything a two-sided quote can show.
            ReadinessSetting(gate: "spread", key: "liquidity_thresholds.max_spread_pct", enabled: spread.isFinite && spread > 0 && spread <= 100,
                         shown: spread.isFinite && spread > 0 && spread <= 100 ? "spread ≤ \(ReadinessText.fixed(spread, 1))%" : "max_spread_pct \(spread) is not in (0, 100]"),
            ReadinessSetting(gate: "premium", key: "liquidity_thresholds.min_premium", enabled: premium.isFinite && premium >= 0.01,
                         shown: premium.isFinite && premium >= 0.01 ? "premium ≥ $\(ReadinessText.fixed(premium, 2))" : "min_premium \(premium) < $0.01"),
            floor("open_interest", key: "liquidity_thresholds.min_open_interest", l.minOpenInterest),
            floor("volume", key: "liquidity_thresholds.min_volume", l.minVolume),
            ivPercentile(l.maxIvPercentile),
        ]
    }

    /// Seed 004 §2 account kill switches and §3 per-ticker limits, as DispatchCore's `KillSwitches` reads them.
    static func killSwitchSettings(_ params: TradingParams) -> [ReadinessSetting] {
        let r = params.risk
        let open = r.blockOpenMinutes, close = r.blockCloseMinutes
        let hoursOn = open > 0 && close > 0 && open + close < 390
        return [
            dollars("daily_loss", key: "risk.max_daily_loss", r.maxDailyLoss, label: "daily loss ≤"),
            count("max_positions", key: "risk.max_open_positions", r.maxOpenPositions, label: "open positions ≤"),
            dollars("max_exposure", key: "risk.max_notional_exposure", r.maxNotionalExposure, label: "exposure ≤"),
            ReadinessSetting(gate: "trading_hours", key: "risk.block_open_minutes, risk.block_close_minutes", enabled: hoursOn,
                         shown: hoursOn ? "no entries first \(open) / last \(close) min"
                                        : "\(open) and \(close) min: the seed blocks the session's first and last minutes"),
            ReadinessSetting(gate: "cooldown", key: "risk.ticker_cooldown_minutes", enabled: r.tickerCooldownMinutes > 0,
                         shown: r.tickerCooldownMinutes > 0 ? "ticker cooldown \(r.tickerCooldownMinutes) min" : "0 turns it off"),
            count("max_trades_per_ticker", key: "risk.max_trades_per_ticker_per_day", r.maxTradesPerTickerPerDay, label: "entries a ticker a day ≤"),
        ]
    }

    static func item(_ name: String, _ settings: [ReadinessSetting], note: String) -> ReadinessItem {
        let off = settings.filter { !$0.enabled }
        let on = settings.count - off.count
        let detail = off.isEmpty
            ? "\(on)/\(settings.count) on: " + settings.map(\.shown).joined(separator: ", ") + "; \(note)"
            : "\(off.count) off or unbounded: " + off.map { "\($0.gate) (\($0.key): \($0.shown))" }.joined(separator: "; ")
        return ReadinessItem(name: name, passed: off.isEmpty, detail: detail, value: "\(on)", limit: "\(settings.count)")
    }

    static func floor(_ gate: String, key: String, _ minimum: Int) -> ReadinessSetting {
        ReadinessSetting(gate: gate, key: key, enabled: minimum > 0,
                     shown: minimum > 0 ? "\(gate.replacingOccurrences(of: "_", with: " ")) ≥ \(minimum)" : "0 turns it off")
    }

    static func ivPercentile(_ limit: Double?) -> ReadinessSetting {
        let key = "liquidity_thresholds.max_iv_percentile"
        guard let limit else { return ReadinessSetting(gate: "iv_percentile", key: key, enabled: false, shown: "null turns it off") }
        // A percentile is at most 100: a ceiling of 100 never blocks.
        let on = limit.isFinite && limit >= 0 && limit < 100
        return ReadinessSetting(gate: "iv_percentile", key: key, enabled: on, shown: on ? "IV percentile ≤ \(ReadinessText.fixed(limit, 0))" : "\(limit) never blocks (must be < 100)")
    }

    static func dollars(_ gate: String, key: String, _ limit: Double, label: String) -> ReadinessSetting {
        let on = limit.isFinite && limit > 0 && limit < 1e13
        return ReadinessSetting(gate: gate, key: key, enabled: on,
                            shown: on ? "\(label) \(Money.dollars(Cents((limit * 100).rounded())))" : "\(limit) is not a finite positive number of dollars")
    }

    static func count(_ gate: String, key: String, _ limit: Int, label: String) -> ReadinessSetting {
        let on = limit >= 1 && limit < Int(Int32.max)
        return ReadinessSetting(gate: gate, key: key, enabled: on, shown: on ? "\(label) \(limit)" : "\(limit) is no limit")
    }
}

/// Number text for the report, without Foundation's locale-dependent formatting.
enum ReadinessText {
    /// `1.5` with the given decimals.
    static func fixed(_ v: Double, _ decimals: Int) -> String {
        guard v.isFinite else { return "\(v)" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let n = Int64((abs(v) * scale).rounded())
        let whole = n / Int64(scale), frac = n % Int64(scale)
        var fracText = String(frac)
        while fracText.count < decimals { fracText = "0" + fracText }
        return (v < 0 && n != 0 ? "-" : "") + String(whole) + (decimals > 0 ? "." + fracText : "")
    }
}
