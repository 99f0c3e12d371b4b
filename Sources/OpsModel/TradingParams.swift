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
    public var kelly: KellyParams = KellyParams()
    public var roll: RollParams = RollParams()
    public var greeks: GreeksParams = GreeksParams()

    enum CodingKeys: String, CodingKey {
        case account, signals, sizing, execution, exits, risk, watchlist, kelly, roll, greeks
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
        /// Seed 000 Phase 4 #16–17: `tier` (the tier's risk %), `kelly` (fractional Kelly from the account's own closed
        /// trades) or `atr` (contracts from the loss at an ATR stop). The tier's risk % and max_contracts stay ceilings.
        public var method: String = "tier"
        /// ATR sizing: the stop distance in multiples of the 1-minute ATR14 the expected loss per contract assumes.
        public var atrStopMultiple: Double = 5.0
        /// Seed 000 #19: enter with half of the sized quantity, add the rest once the position is up
        /// `scale_in_trigger_pct` and the setup still holds (the add passes every gate again).
        public var scaleIn: Bool = false
        public var scaleInTriggerPct: Double = 0.20
        enum CodingKeys: String, CodingKey {
            case method
            case unknownStrategyFactor = "unknown_strategy_factor", affordabilityMultiple = "affordability_multiple"
            case atrStopMultiple = "atr_stop_multiple", scaleIn = "scale_in", scaleInTriggerPct = "scale_in_trigger_pct"
        }
        public init() {}
    }

    /// Seed 000 #16: fractional Kelly sizing (`sizing.method` = `kelly`).
    public struct KellyParams: Codable, Sendable, Equatable {
        /// The account's most recent closed trades the estimate uses.
        public var lookbackTrades: Int = 50
        /// The fraction of full Kelly risked.
        public var fraction: Double = 0.25
        /// Closed trades needed before Kelly is used (the tier's % until then).
        public var minTrades: Int = 20
        enum CodingKeys: String, CodingKey { case fraction, lookbackTrades = "lookback_trades", minTrades = "min_trades" }
        public init() {}
    }

    /// Seed 000 #18: rolling a profitable swing position near expiration into the next swing window.
    public struct RollParams: Codable, Sendable, Equatable {
        public var enabled: Bool = true
        /// A swing option position with at most this many days to expiration may roll.
        public var dte: Int = 7
        /// …when its ticker had a signal in the position's direction within this many minutes (event time).
        public var signalMinutes: Int = 30
        enum CodingKeys: String, CodingKey { case enabled, dte, signalMinutes = "signal_minutes" }
        public init() {}
    }

    /// Seed 000 #15: Black-Scholes inputs for position and portfolio Greeks.
    public struct GreeksParams: Codable, Sendable, Equatable {
        /// Continuously compounded risk-free rate.
        public var rate: Double = 0.05
        /// Continuous dividend yield per ticker; a ticker not listed has 0.
        public var dividendYield: [String: Double] = [:]
        enum CodingKeys: String, CodingKey { case rate, dividendYield = "dividend_yield" }
        public init() {}
        public func dividendYield(_ ticker: String) -> Double { dividendYield[ticker] ?? 0 }
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
        /// Seed 000 #15: |portfolio dollar delta| (Σ delta × 100 × contracts × spot, shares × price) and |portfolio
        /// vega| in dollars per vol point, this order included, at most these; null (default) turns a gate off.
        public var maxPortfolioDeltaDollars: Double? = nil
        public var maxPortfolioVegaDollars: Double? = nil
        enum CodingKeys: String, CodingKey {
            case maxDailyLoss = "max_daily_loss", maxOpenPositions = "max_open_positions", maxNotionalExposure = "max_notional_exposure"
            case blockOpenMinutes = "block_open_minutes", blockCloseMinutes = "block_close_minutes"
            case tickerCooldownMinutes = "ticker_cooldown_minutes", maxTradesPerTickerPerDay = "max_trades_per_ticker_per_day"
            case maxPortfolioDeltaDollars = "max_portfolio_delta_dollars", maxPortfolioVegaDollars = "max_portfolio_vega_dollars"
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(maxDailyLoss, forKey: .maxDailyLoss); try c.encode(maxOpenPositions, forKey: .maxOpenPositions)
            try c.encode(maxNotionalExposure, forKey: .maxNotionalExposure); try c.encode(blockOpenMinutes, forKey: .blockOpenMinutes)
            try c.encode(blockCloseMinutes, forKey: .blockCloseMinutes); try c.encode(tickerCooldownMinutes, forKey: .tickerCooldownMinutes)
            try c.encode(maxTradesPerTickerPerDay, forKey: .maxTradesPerTickerPerDay)
            try c.encode(maxPortfolioDeltaDollars, forKey: .maxPortfolioDeltaDollars) // explicit null: "off"
            try c.encode(maxPortfolioVegaDollars, forKey: .maxPortfolioVegaDollars)
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
        /// Commission and fees per contract (options) or per share (stock), each side.
        public func unitCosts(_ assetClass: AssetClass) -> (commission: Cents, fees: Cents) {
            assetClass == .option
                ? (Cents(commissionPerContractCents), Cents(feesPerContractCents))
                : (Cents(stockCommissionPerShareCents), Cents(stockFeesPerShareCents))
        }
        public init() {}
    }

    public struct ExitParams: Codable, Sendable, Equatable {
        /// Seed 000 question 2: `premium` — stop and target on the option's price; `underlying` — on the underlying's
        /// price, entry ∓ `underlying_stop_atr` × ATR14 and ± `underlying_target_atr` × ATR14 (sides by call/put/stock).
        public var style: String = "premium"
        /// Exit when the mark is this fraction below the entry premium (seed 000 #11: 25–40 %, not −2 %).
        public var stopLossPct: Double = 0.30
        /// The first target: the mark this fraction above the entry premium.
        public var profitTargetPct: Double = 0.50
        /// Underlying style: stop and target distances in multiples of the 1-minute ATR14 at the entry's signal.
        public var underlyingStopAtr: Double = 5.0
        public var underlyingTargetAtr: Double = 10.0
        /// Seed 000 #13: once the mark is `trail_activation_pct` above entry, exit when it falls `trail_pct` below its
        /// highest mark since entry.
        public var trailingStop: Bool = true
        public var trailActivationPct: Double = 0.25
        public var trailPct: Double = 0.20
        /// Seed 000 #14: a swing position with at most this many days to expiration exits (0 turns it off).
        public var timeExitDte: Int = 21
        /// Seed 000 #20: at the first target sell `partial_fraction` of the contracts (at least one stays), move the
        /// rest's stop to breakeven and trail it. Off: the target exits the whole position.
        public var partialExit: Bool = true
        public var partialFraction: Double = 0.5
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
            case style
            case underlyingStopAtr = "underlying_stop_atr", underlyingTargetAtr = "underlying_target_atr"
            case trailingStop = "trailing_stop", trailActivationPct = "trail_activation_pct", trailPct = "trail_pct"
            case timeExitDte = "time_exit_dte", partialExit = "partial_exit", partialFraction = "partial_fraction"
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
        return try load(merging: file, over: defaults, origin: origin)
    }

    /// `file` deep-merged over `defaults` (both as JSON objects), decoded and checked.
    static func load(merging file: [String: Any], over defaults: [String: Any], origin: String) throws(LoadError) -> TradingParams {
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
            let freeKeys = path == "account_tiers.tiers" || path == "greeks.dividend_yield"
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
        guard (0.25...0.40).contains(exits.stopLossPct) else {
            throw bad("exits.stop_loss_pct", "must be in [0.25, 0.40] (seed 000 #11: 25–40 % on the option's price), got \(exits.stopLossPct)")
        }
        guard ["premium", "underlying"].contains(exits.style) else { throw bad("exits.style", "must be premium or underlying") }
        guard exits.underlyingStopAtr > 0, exits.underlyingStopAtr.isFinite else { throw bad("exits.underlying_stop_atr", "must be > 0") }
        guard exits.underlyingTargetAtr > 0, exits.underlyingTargetAtr.isFinite else { throw bad("exits.underlying_target_atr", "must be > 0") }
        guard exits.trailActivationPct >= 0, exits.trailActivationPct.isFinite else { throw bad("exits.trail_activation_pct", "must be ≥ 0") }
        guard exits.trailPct > 0, exits.trailPct < 1 else { throw bad("exits.trail_pct", "must be in (0, 1)") }
        guard exits.timeExitDte >= 0 else { throw bad("exits.time_exit_dte", "must be ≥ 0 (0 turns it off)") }
        guard (0.5...0.75).contains(exits.partialFraction) else { throw bad("exits.partial_fraction", "must be in [0.5, 0.75] (seed 000 #20)") }
        guard ["tier", "kelly", "atr"].contains(sizing.method) else { throw bad("sizing.method", "must be tier, kelly or atr") }
        guard sizing.atrStopMultiple > 0, sizing.atrStopMultiple.isFinite else { throw bad("sizing.atr_stop_multiple", "must be > 0") }
        guard sizing.scaleInTriggerPct > 0, sizing.scaleInTriggerPct.isFinite else { throw bad("sizing.scale_in_trigger_pct", "must be > 0") }
        guard kelly.lookbackTrades >= 1 else { throw bad("kelly.lookback_trades", "must be ≥ 1") }
        guard kelly.fraction > 0, kelly.fraction <= 1 else { throw bad("kelly.fraction", "must be in (0, 1]") }
        guard kelly.minTrades >= 1, kelly.minTrades <= kelly.lookbackTrades else { throw bad("kelly.min_trades", "must be in [1, kelly.lookback_trades]") }
        guard roll.dte >= 0 else { throw bad("roll.dte", "must be ≥ 0") }
        guard roll.signalMinutes >= 1 else { throw bad("roll.signal_minutes", "must be ≥ 1") }
        guard greeks.rate.isFinite, abs(greeks.rate) < 1 else { throw bad("greeks.rate", "must be a rate in (−1, 1)") }
        for (t, q) in greeks.dividendYield where !(q.isFinite && q >= 0 && q < 1) { throw bad("greeks.dividend_yield.\(t)", "must be in [0, 1)") }
        if let v = risk.maxPortfolioDeltaDollars, !(v > 0 && v.isFinite) { throw bad("risk.max_portfolio_delta_dollars", "must be > 0 or null") }
        if let v = risk.maxPortfolioVegaDollars, !(v > 0 && v.isFinite) { throw bad("risk.max_portfolio_vega_dollars", "must be > 0 or null") }
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
