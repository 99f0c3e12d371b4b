import Foundation

/// `config/trading_params.json`: every threshold the trading services use. A file may give only some keys; the
/// rest keep their defaults. An unknown key, a wrong type or an out-of-range value fails loading with the key's
/// path named (`liquidity_thresholds.max_spread_pct`).
public struct TradingParams: Codable, Sendable, Equatable {
    public var account: AccountParams = AccountParams()
    public var signals: SignalParams = SignalParams()
    public var accountTiers: AccountTiers = AccountTiers()
    public var sizing: SizingParams = SizingParams()
    public var liquidityThresholds: LiquidityParams = LiquidityParams()
    public var contractSelection: ContractSelectionParams = ContractSelectionParams()
    public var execution: ExecutionParams = ExecutionParams()
    public var exits: ExitParams = ExitParams()
    public var risk: RiskParams = RiskParams()
    public var watchlist: WatchlistParams = WatchlistParams()

    enum CodingKeys: String, CodingKey {
        case account, signals, sizing, execution, exits, risk, watchlist
        case accountTiers = "account_tiers", liquidityThresholds = "liquidity_thresholds", contractSelection = "contract_selection"
    }

    public init() {}

    public struct AccountParams: Codable, Sendable, Equatable {
        /// The account the dispatcher trades and the simulated broker owns.
        public var accountId: String = "sim-1"
        enum CodingKeys: String, CodingKey { case accountId = "account_id" }
        public init() {}
    }

    /// The signal engine's rules (seed 000/004 "today's logic": trend, volume surge, breakout, sentiment).
    public struct SignalParams: Codable, Sendable, Equatable {
        /// |SMA20 slope| (fraction per bar) that makes a trend.
        public var slopeMin: Double = 0.00005
        /// |distance_sma20| beyond which the move is a breakout in the trend's direction.
        public var breakoutMinDistance: Double = 0.0015
        /// volume_ratio that counts as a surge, and the ratio that earns the full volume weight.
        public var volumeSurgeRatio: Double = 1.2
        public var volumeFullRatio: Double = 2.5
        /// Confidence parts: the trend itself, the surge (scaled), the breakout, confirming momentum, sentiment.
        public var trendWeight: Double = 0.40
        public var volumeWeight: Double = 0.25
        public var breakoutWeight: Double = 0.15
        public var momentumWeight: Double = 0.10
        public var sentimentWeight: Double = 0.10
        /// ret_5m ≥ this (or ret_15m ≥ 2×) in the trend's direction confirms momentum (seed 004: 0.002 / 0.004).
        public var momentumRet5m: Double = 0.002
        /// |sentiment| at or above this boosts an aligned signal and penalizes an opposing one.
        public var sentimentThreshold: Double = 0.2
        /// Signals below this confidence are not published.
        public var minConfidence: Double = 0.45
        /// Minutes after a signal before the same ticker and direction may signal again.
        public var cooldownMinutes: Int = 15
        /// A trend this steep with ret_15m this large in its direction is a swing trade; otherwise a day trade.
        public var swingSlopeMin: Double = 0.0002
        public var swingRet15Min: Double = 0.003
        /// "options" (CALL for BULL, PUT for BEAR) or "stock".
        public var instrument: String = "options"
        /// Seed 004 §4: `required` — a signal needs momentum in its direction; `bonus` — momentum only adds its weight.
        public var momentumMode: String = "required"
        /// Chop filter (seed 000 #9): over the last `chop_lookback` bars, |SMA20 slope| stayed below `chop_slope_max`
        /// on every bar AND the close crossed the SMA20 more than `chop_max_crosses` times: no signal.
        /// Tuned on the synthetic market and SPY 2024-02-20..04-18 (signal-engine report): 0.0001 / 20 / 3 flags about
        /// 37 % of strongly ranging 20-minute windows (efficiency ratio < 0.15) and under 1 % (synthetic) / 4 % (SPY)
        /// of trending ones (> 0.40).
        public var chopSlopeMax: Double = 0.0001
        public var chopLookback: Int = 20
        public var chopMaxCrosses: Int = 3

        enum CodingKeys: String, CodingKey {
            case instrument
            case momentumMode = "momentum_mode", chopSlopeMax = "chop_slope_max", chopLookback = "chop_lookback", chopMaxCrosses = "chop_max_crosses"
            case slopeMin = "slope_min", breakoutMinDistance = "breakout_min_distance", volumeSurgeRatio = "volume_surge_ratio"
            case volumeFullRatio = "volume_full_ratio", trendWeight = "trend_weight", volumeWeight = "volume_weight"
            case breakoutWeight = "breakout_weight", momentumWeight = "momentum_weight", sentimentWeight = "sentiment_weight"
            case momentumRet5m = "momentum_ret_5m", sentimentThreshold = "sentiment_threshold", minConfidence = "min_confidence"
            case cooldownMinutes = "cooldown_minutes", swingSlopeMin = "swing_slope_min", swingRet15Min = "swing_ret_15m_min"
        }
        public init() {}
    }

    /// Seed 000 Phase 1 account tiers, smallest first. An account is in the first tier whose `max_size` is at or
    /// above its buying power; the last tier has no `max_size`.
    public struct AccountTiers: Codable, Sendable, Equatable {
        public var enabled: Bool = true
        public var tiers: [String: Tier] = AccountTiers.seedTiers
        public static let order = ["tiny", "small", "medium", "large"]
        public static let seedTiers: [String: Tier] = [
            "tiny": Tier(maxSize: 2000, riskPctDay: 0.25, riskPctSwing: 0.15, maxContracts: 2, minConfidence: 0.70, minVolumeRatio: 2.0, maxShares: 10),
            "small": Tier(maxSize: 5000, riskPctDay: 0.12, riskPctSwing: 0.08, maxContracts: 3, minConfidence: 0.65, minVolumeRatio: 1.8, maxShares: 25),
            "medium": Tier(maxSize: 25000, riskPctDay: 0.04, riskPctSwing: 0.06, maxContracts: 5, minConfidence: 0.55, minVolumeRatio: 1.5, maxShares: 100),
            "large": Tier(maxSize: nil, riskPctDay: 0.01, riskPctSwing: 0.02, maxContracts: 10, minConfidence: 0.45, minVolumeRatio: 1.2, maxShares: 500),
        ]
        public init() {}
    }

    public struct Tier: Codable, Sendable, Equatable {
        /// Dollars of buying power; nil for the last tier.
        public var maxSize: Double?
        /// Fractions of buying power risked per trade.
        public var riskPctDay: Double
        public var riskPctSwing: Double
        public var maxContracts: Int
        public var minConfidence: Double
        public var minVolumeRatio: Double
        /// Stock fallback (seed 004 §1): most shares one entry buys.
        public var maxShares: Int

        enum CodingKeys: String, CodingKey {
            case maxSize = "max_size", riskPctDay = "risk_pct_day", riskPctSwing = "risk_pct_swing", maxContracts = "max_contracts"
            case minConfidence = "min_confidence", minVolumeRatio = "min_volume_ratio", maxShares = "max_shares"
        }

        public init(maxSize: Double?, riskPctDay: Double, riskPctSwing: Double, maxContracts: Int, minConfidence: Double, minVolumeRatio: Double,
                    maxShares: Int = 100) {
            self.maxSize = maxSize; self.riskPctDay = riskPctDay; self.riskPctSwing = riskPctSwing; self.maxContracts = maxContracts
            self.minConfidence = minConfidence; self.minVolumeRatio = minVolumeRatio; self.maxShares = maxShares
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(maxSize, forKey: .maxSize) // explicit null for the open-ended tier
            try c.encode(riskPctDay, forKey: .riskPctDay); try c.encode(riskPctSwing, forKey: .riskPctSwing)
            try c.encode(maxContracts, forKey: .maxContracts); try c.encode(minConfidence, forKey: .minConfidence)
            try c.encode(minVolumeRatio, forKey: .minVolumeRatio); try c.encode(maxShares, forKey: .maxShares)
        }
    }

    public struct SizingParams: Codable, Sendable, Equatable {
        /// A strategy other than day/swing risks this fraction of the tier's swing percentage (seed: half).
        public var unknownStrategyFactor: Double = 0.5
        /// The seed's "at least 1 contract if affordable" is bounded: one contract beyond the risk budget only when
        /// it costs at most this multiple of the budget.
        public var affordabilityMultiple: Double = 2.0
        enum CodingKeys: String, CodingKey { case unknownStrategyFactor = "unknown_strategy_factor", affordabilityMultiple = "affordability_multiple" }
        public init() {}
    }

    public struct LiquidityParams: Codable, Sendable, Equatable {
        /// (ask − bid) / mid × 100 at most this.
        public var maxSpreadPct: Double = 10.0
        /// Mid at least this many dollars.
        public var minPremium: Double = 0.30
        /// Seed 000 Phase 2 #6 (its later thresholds win over seed 004's 100); 0 turns the check off.
        public var minOpenInterest: Int = 500
        public var minVolume: Int = 200
        /// Seed 004 §1 gate 4: the ticker's IV percentile (0–100) at most this, when known; null turns it off.
        public var maxIvPercentile: Double? = 80
        /// Seed 000 Phase 3 #12: the ticker's IV Rank (0–100) at most this, when known; null (default) turns it off.
        public var maxIvRank: Double? = nil
        enum CodingKeys: String, CodingKey {
            case maxSpreadPct = "max_spread_pct", minPremium = "min_premium", minOpenInterest = "min_open_interest", minVolume = "min_volume"
            case maxIvPercentile = "max_iv_percentile", maxIvRank = "max_iv_rank"
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(maxSpreadPct, forKey: .maxSpreadPct); try c.encode(minPremium, forKey: .minPremium)
            try c.encode(minOpenInterest, forKey: .minOpenInterest); try c.encode(minVolume, forKey: .minVolume)
            try c.encode(maxIvPercentile, forKey: .maxIvPercentile); try c.encode(maxIvRank, forKey: .maxIvRank) // explicit null: "off"
        }
        public init() {}
    }

    public struct ContractSelectionParams: Codable, Sendable, Equatable {
        /// Inclusive DTE windows, in New York calendar days.
        public var dayTradeDte: [Int] = [0, 7]
        public var swingTradeDte: [Int] = [14, 45]
        /// A chain older than this (event time) is not used.
        public var maxChainAgeMinutes: Int = 15
        /// Seed 000 Phase 2 #7–8: the |delta| a contract is scored against, per strategy.
        public var targetDelta: TargetDelta = TargetDelta()
        /// Weights of the contract quality score's components (each normalized to [0, 1]).
        public var scoreWeights: ScoreWeights = ScoreWeights()
        /// How many of the best-scored candidates a decision lists.
        public var candidatesShown: Int = 3
        enum CodingKeys: String, CodingKey {
            case dayTradeDte = "day_trade_dte", swingTradeDte = "swing_trade_dte", maxChainAgeMinutes = "max_chain_age_minutes"
            case targetDelta = "target_delta", scoreWeights = "score_weights", candidatesShown = "candidates_shown"
        }
        public init() {}
    }

    public struct TargetDelta: Codable, Sendable, Equatable {
        public var dayTrade: Double = 0.40
        public var swingTrade: Double = 0.50
        enum CodingKeys: String, CodingKey { case dayTrade = "day_trade", swingTrade = "swing_trade" }
        public init() {}
        public func value(for strategy: TradeStrategy) -> Double { strategy == .dayTrade ? dayTrade : swingTrade }
    }

    public struct ScoreWeights: Codable, Sendable, Equatable {
        public var spread: Double = 0.35
        public var openInterest: Double = 0.20
        public var volume: Double = 0.15
        public var delta: Double = 0.30
        enum CodingKeys: String, CodingKey { case spread, volume, delta, openInterest = "open_interest" }
        public init() {}
    }

    /// Seed 004 §1–3 kill switches and per-ticker limits, per account.
    public struct RiskParams: Codable, Sendable, Equatable {
        /// Dollars: the session's realized plus unrealized P&L below −this blocks new entries for the session.
        public var maxDailyLoss: Double = 500
        /// Open positions plus entries not yet filled or cancelled at or above this blocks.
        public var maxOpenPositions: Int = 5
        /// Dollars of notional (options: premium × 100 × contracts; stock: price × shares), this order included.
        public var maxNotionalExposure: Double = 10_000
        /// No entries in the session's first / last minutes.
        public var blockOpenMinutes: Int = 5
        public var blockCloseMinutes: Int = 15
        /// No entry within this many minutes of the ticker's last entry (seed 004 §3 last_trade_time).
        public var tickerCooldownMinutes: Int = 30
        /// At most this many entries per ticker and session (seed 004 §3 ticker_count_today).
        public var maxTradesPerTickerPerDay: Int = 3
        enum CodingKeys: String, CodingKey {
            case maxDailyLoss = "max_daily_loss", maxOpenPositions = "max_open_positions", maxNotionalExposure = "max_notional_exposure"
            case blockOpenMinutes = "block_open_minutes", blockCloseMinutes = "block_close_minutes"
            case tickerCooldownMinutes = "ticker_cooldown_minutes", maxTradesPerTickerPerDay = "max_trades_per_ticker_per_day"
        }
        public init() {}
    }

    /// Seed 004 §5: the watchlist-engine's top-N set and cadence.
    public struct WatchlistParams: Codable, Sendable, Equatable {
        public var size: Int = 10
        public var everyMinutes: Int = 30
        enum CodingKeys: String, CodingKey { case size, everyMinutes = "every_minutes" }
        public init() {}
    }

    public struct ExecutionParams: Codable, Sendable, Equatable {
        /// Added to buys and taken from sells, per share, by the `mid` and `cross` fill models (`limit` has none).
        public var slippageCents: Int = 1
        public var commissionPerContractCents: Int = 65
        public var feesPerContractCents: Int = 3
        /// Penny-program classes: $0.01 below $3.00, $0.05 from $3.00 (others: $0.05 below $3.00, $0.10 from $3.00).
        public var pennyPilot: [String] = ["SPY", "QQQ", "IWM", "AAPL", "MSFT", "TSLA", "AMZN", "NVDA", "AMD", "META", "GOOGL"]
        /// Penny-program classes quoted in pennies at any price.
        public var pennyAllPrices: [String] = ["SPY", "QQQ", "IWM"]
        /// The simulator's fill model (README "Fills"): `limit` (default), `mid`, `cross`.
        public var fillModel: String = "limit"
        /// Unfilled entry orders are cancelled this many minutes after they were placed.
        public var entryTtlMinutes: Int = 5
        /// Seed 004 §1: when an option gate fails with fallback, trade the underlying instead.
        public var stockFallback: Bool = true
        /// Most option contracts one quote fills of an order (a proxy for the displayed size at the touch, which a
        /// chain snapshot does not carry); a larger order fills in pieces, one per quote.
        public var maxFillPerQuote: Int = 5
        /// Most shares one bar fills of a stock order (5 contracts' worth of shares), and never more than the bar traded.
        public var maxSharesPerBar: Int = 500
        /// Stock commissions and fees, cents per share, each side (Alpaca: none).
        public var stockCommissionPerShareCents: Int = 0
        public var stockFeesPerShareCents: Int = 0
        enum CodingKeys: String, CodingKey {
            case maxFillPerQuote = "max_fill_per_quote", maxSharesPerBar = "max_shares_per_bar"
            case stockCommissionPerShareCents = "stock_commission_per_share_cents", stockFeesPerShareCents = "stock_fees_per_share_cents"
            case slippageCents = "slippage_cents", commissionPerContractCents = "commission_per_contract_cents"
            case feesPerContractCents = "fees_per_contract_cents", pennyPilot = "penny_pilot", pennyAllPrices = "penny_all_prices"
            case fillModel = "fill_model", entryTtlMinutes = "entry_ttl_minutes", stockFallback = "stock_fallback"
        }
        /// The tick rule of this configuration.
        public var ticks: TickRule { TickRule(pennyProgram: pennyPilot, pennyAllPrices: pennyAllPrices) }
        public init() {}
    }

    public struct ExitParams: Codable, Sendable, Equatable {
        /// Exit when the mark is this fraction below the entry premium.
        public var stopLossPct: Double = 0.40
        /// Exit when the mark is this fraction above the entry premium.
        public var profitTargetPct: Double = 0.50
        /// Day trades are closed from this many minutes before the session's close (16:00, or 13:00 on an early close).
        public var dayTradeExitMinutesBeforeClose: Int = 10
        /// Anything expiring today is closed from this many minutes before the session's close.
        public var expirationExitMinutesBeforeClose: Int = 30
        /// An unfilled exit is repriced at every new quote, reaching a crossing price after this many steps.
        public var repriceSteps: Int = 3
        /// A stock position (stock fallback) exits when the price is this fraction below its entry (the seed's 2%).
        public var stockStopLossPct: Double = 0.02
        /// A stock position exits when the price is this fraction above its entry.
        public var stockProfitTargetPct: Double = 0.04
        enum CodingKeys: String, CodingKey {
            case repriceSteps = "reprice_steps"
            case stockStopLossPct = "stock_stop_loss_pct", stockProfitTargetPct = "stock_profit_target_pct"
            case stopLossPct = "stop_loss_pct", profitTargetPct = "profit_target_pct"
            case dayTradeExitMinutesBeforeClose = "day_trade_exit_minutes_before_close"
            case expirationExitMinutesBeforeClose = "expiration_exit_minutes_before_close"
        }
        public init() {}
    }

    // MARK: loading

    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// The services' rule: the given path; else `<OPS_CONFIG_DIR or config>/trading_params.json` when it exists;
    /// else the built-in defaults (the seed's values).
    public static func load(configured path: String?) throws(LoadError) -> TradingParams {
        let dir = ProcessInfo.processInfo.environment["OPS_CONFIG_DIR"] ?? "config"
        let p = path ?? "\(dir)/trading_params.json"
        if path == nil, !FileManager.default.fileExists(atPath: p) { return TradingParams() }
        return try load(path: p)
    }

    /// Loads a (possibly partial) file over the defaults.
    public static func load(path: String) throws(LoadError) -> TradingParams {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError("cannot read trading params '\(path)' (pass --trading-params PATH to an existing file)")
        }
        return try load(json: data, origin: path)
    }

    public static func load(json data: Data, origin: String) throws(LoadError) -> TradingParams {
        guard let file = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw LoadError("\(origin): not a JSON object")
        }
        let defaults: [String: Any]
        do {
            let enc = JSONEncoder()
            defaults = try JSONSerialization.jsonObject(with: enc.encode(TradingParams())) as! [String: Any]
        } catch { throw LoadError("cannot encode defaults: \(error)") }
        let merged = try merge(defaults, file, path: "", origin: origin)
        let params: TradingParams
        do {
            params = try JSONDecoder().decode(TradingParams.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch { throw LoadError("\(origin): \(JSONText.describe(error))") }
        try params.check(origin: origin)
        return params
    }

    /// Deep-merges `file` over `defaults`, refusing keys the defaults do not have (tier names are free).
    static func merge(_ defaults: [String: Any], _ file: [String: Any], path: String, origin: String) throws(LoadError) -> [String: Any] {
        var out = defaults
        for (k, v) in file {
            if k.hasPrefix("_") { continue }
            let p = path.isEmpty ? k : "\(path).\(k)"
            let freeKeys = path == "account_tiers.tiers"
            guard let d = defaults[k] ?? (freeKeys ? [String: Any]() : nil) else {
                throw LoadError("\(origin): unknown key '\(p)' (known here: \(defaults.keys.sorted().joined(separator: ", ")))")
            }
            if let dv = d as? [String: Any], let fv = v as? [String: Any] {
                let base = freeKeys ? (AccountTiers.seedTiers[k].flatMap { try? JSONSerialization.jsonObject(with: JSONEncoder().encode($0)) as? [String: Any] } ?? dv) : dv
                if freeKeys && defaults[k] == nil {
                    // A new tier must give every field.
                    out[k] = fv
                } else {
                    out[k] = try merge(base, fv, path: p, origin: origin)
                }
            } else {
                out[k] = v
            }
        }
        return out
    }

    func check(origin: String) throws(LoadError) {
        func bad(_ key: String, _ why: String) -> LoadError { LoadError("\(origin): '\(key)' \(why)") }
        let tiers = orderedTiers
        guard !tiers.isEmpty else { throw bad("account_tiers.tiers", "is empty") }
        var previous = 0.0
        for (i, (name, t)) in tiers.enumerated() {
            let key = "account_tiers.tiers.\(name)"
            if i < tiers.count - 1 {
                guard let m = t.maxSize, m > previous else { throw bad("\(key).max_size", "must be set and above the previous tier's") }
                previous = m
            }
            for (f, v) in [("risk_pct_day", t.riskPctDay), ("risk_pct_swing", t.riskPctSwing)] where !(v > 0 && v <= 1) {
                throw bad("\(key).\(f)", "must be a fraction in (0, 1], got \(v)")
            }
            guard t.maxContracts >= 1 else { throw bad("\(key).max_contracts", "must be ≥ 1") }
            guard (0...1).contains(t.minConfidence) else { throw bad("\(key).min_confidence", "must be in [0, 1]") }
            guard t.minVolumeRatio >= 0 else { throw bad("\(key).min_volume_ratio", "must be ≥ 0") }
        }
        guard sizing.affordabilityMultiple >= 1 else { throw bad("sizing.affordability_multiple", "must be ≥ 1") }
        guard sizing.unknownStrategyFactor > 0, sizing.unknownStrategyFactor <= 1 else { throw bad("sizing.unknown_strategy_factor", "must be in (0, 1]") }
        guard liquidityThresholds.maxSpreadPct > 0 else { throw bad("liquidity_thresholds.max_spread_pct", "must be > 0") }
        guard liquidityThresholds.minPremium >= 0.01 else { throw bad("liquidity_thresholds.min_premium", "must be ≥ 0.01") }
        for (k, w) in [("contract_selection.day_trade_dte", contractSelection.dayTradeDte), ("contract_selection.swing_trade_dte", contractSelection.swingTradeDte)] {
            guard w.count == 2, w[0] >= 0, w[0] <= w[1] else { throw bad(k, "must be [min, max] days with 0 ≤ min ≤ max") }
        }
        guard execution.slippageCents >= 0, execution.commissionPerContractCents >= 0, execution.feesPerContractCents >= 0,
              execution.stockCommissionPerShareCents >= 0, execution.stockFeesPerShareCents >= 0 else {
            throw bad("execution", "slippage, commission and fees must be ≥ 0")
        }
        guard execution.maxFillPerQuote >= 1 else { throw bad("execution.max_fill_per_quote", "must be ≥ 1") }
        guard execution.maxSharesPerBar >= 1 else { throw bad("execution.max_shares_per_bar", "must be ≥ 1") }
        guard exits.stopLossPct > 0, exits.stopLossPct < 1 else { throw bad("exits.stop_loss_pct", "must be in (0, 1)") }
        guard exits.profitTargetPct > 0 else { throw bad("exits.profit_target_pct", "must be > 0") }
        guard ["options", "stock"].contains(signals.instrument) else { throw bad("signals.instrument", "must be options or stock") }
        guard (0...1).contains(signals.minConfidence) else { throw bad("signals.min_confidence", "must be in [0, 1]") }
        guard signals.cooldownMinutes >= 0 else { throw bad("signals.cooldown_minutes", "must be ≥ 0") }
        guard ["required", "bonus"].contains(signals.momentumMode) else { throw bad("signals.momentum_mode", "must be required or bonus") }
        guard signals.chopSlopeMax >= 0 else { throw bad("signals.chop_slope_max", "must be ≥ 0") }
        guard signals.chopLookback >= 2 else { throw bad("signals.chop_lookback", "must be ≥ 2") }
        guard signals.chopMaxCrosses >= 0 else { throw bad("signals.chop_max_crosses", "must be ≥ 0") }
        for (name, t) in tiers where t.maxShares < 0 { throw bad("account_tiers.tiers.\(name).max_shares", "must be ≥ 0") }
        guard liquidityThresholds.minOpenInterest >= 0 else { throw bad("liquidity_thresholds.min_open_interest", "must be ≥ 0") }
        guard liquidityThresholds.minVolume >= 0 else { throw bad("liquidity_thresholds.min_volume", "must be ≥ 0") }
        if let v = liquidityThresholds.maxIvPercentile, !(0...100).contains(v) { throw bad("liquidity_thresholds.max_iv_percentile", "must be in [0, 100] or null") }
        if let v = liquidityThresholds.maxIvRank, !(0...100).contains(v) { throw bad("liquidity_thresholds.max_iv_rank", "must be in [0, 100] or null") }
        for (k, d) in [("contract_selection.target_delta.day_trade", contractSelection.targetDelta.dayTrade),
                       ("contract_selection.target_delta.swing_trade", contractSelection.targetDelta.swingTrade)] where !(d > 0 && d < 1) {
            throw bad(k, "must be in (0, 1)")
        }
        let w = contractSelection.scoreWeights
        for (k, v) in [("spread", w.spread), ("open_interest", w.openInterest), ("volume", w.volume), ("delta", w.delta)] where !(v >= 0) {
            throw bad("contract_selection.score_weights.\(k)", "must be ≥ 0")
        }
        guard w.spread + w.openInterest + w.volume + w.delta > 0 else { throw bad("contract_selection.score_weights", "must not all be 0") }
        guard contractSelection.candidatesShown >= 1 else { throw bad("contract_selection.candidates_shown", "must be ≥ 1") }
        guard ["limit", "mid", "cross"].contains(execution.fillModel) else { throw bad("execution.fill_model", "must be limit, mid or cross") }
        guard execution.entryTtlMinutes >= 1 else { throw bad("execution.entry_ttl_minutes", "must be ≥ 1") }
        guard exits.repriceSteps >= 1 else { throw bad("exits.reprice_steps", "must be ≥ 1") }
        guard exits.stockStopLossPct > 0, exits.stockStopLossPct < 1 else { throw bad("exits.stock_stop_loss_pct", "must be in (0, 1)") }
        guard exits.stockProfitTargetPct > 0, exits.stockProfitTargetPct.isFinite else { throw bad("exits.stock_profit_target_pct", "must be > 0") }
        guard risk.maxDailyLoss > 0, risk.maxDailyLoss.isFinite else { throw bad("risk.max_daily_loss", "must be a positive number of dollars") }
        guard risk.maxOpenPositions >= 1 else { throw bad("risk.max_open_positions", "must be ≥ 1") }
        guard risk.maxNotionalExposure > 0, risk.maxNotionalExposure.isFinite else { throw bad("risk.max_notional_exposure", "must be a positive number of dollars") }
        guard (0...390).contains(risk.blockOpenMinutes) else { throw bad("risk.block_open_minutes", "must be in [0, 390]") }
        guard (0...390).contains(risk.blockCloseMinutes) else { throw bad("risk.block_close_minutes", "must be in [0, 390]") }
        guard risk.tickerCooldownMinutes >= 0 else { throw bad("risk.ticker_cooldown_minutes", "must be ≥ 0") }
        guard risk.maxTradesPerTickerPerDay >= 1 else { throw bad("risk.max_trades_per_ticker_per_day", "must be ≥ 1") }
        guard watchlist.size >= 1 else { throw bad("watchlist.size", "must be ≥ 1") }
        guard watchlist.everyMinutes >= 1 else { throw bad("watchlist.every_minutes", "must be ≥ 1") }
    }

    /// Tiers smallest first: the seed's names in their order, then any others by max_size (open-ended last).
    public var orderedTiers: [(String, Tier)] {
        accountTiers.tiers.sorted { a, b in
            let x = a.value.maxSize ?? .infinity, y = b.value.maxSize ?? .infinity
            return x != y ? x < y : a.key < b.key
        }
    }
}
