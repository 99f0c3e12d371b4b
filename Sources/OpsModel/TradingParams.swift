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

    enum CodingKeys: String, CodingKey {
        case account, signals, sizing, execution, exits
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

        enum CodingKeys: String, CodingKey {
            case instrument
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
            "tiny": Tier(maxSize: 2000, riskPctDay: 0.25, riskPctSwing: 0.15, maxContracts: 2, minConfidence: 0.70, minVolumeRatio: 2.0),
            "small": Tier(maxSize: 5000, riskPctDay: 0.12, riskPctSwing: 0.08, maxContracts: 3, minConfidence: 0.65, minVolumeRatio: 1.8),
            "medium": Tier(maxSize: 25000, riskPctDay: 0.04, riskPctSwing: 0.06, maxContracts: 5, minConfidence: 0.55, minVolumeRatio: 1.5),
            "large": Tier(maxSize: nil, riskPctDay: 0.01, riskPctSwing: 0.02, maxContracts: 10, minConfidence: 0.45, minVolumeRatio: 1.2),
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

        enum CodingKeys: String, CodingKey {
            case maxSize = "max_size", riskPctDay = "risk_pct_day", riskPctSwing = "risk_pct_swing", maxContracts = "max_contracts"
            case minConfidence = "min_confidence", minVolumeRatio = "min_volume_ratio"
        }

        public init(maxSize: Double?, riskPctDay: Double, riskPctSwing: Double, maxContracts: Int, minConfidence: Double, minVolumeRatio: Double) {
            self.maxSize = maxSize; self.riskPctDay = riskPctDay; self.riskPctSwing = riskPctSwing; self.maxContracts = maxContracts
            self.minConfidence = minConfidence; self.minVolumeRatio = minVolumeRatio
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(maxSize, forKey: .maxSize) // explicit null for the open-ended tier
            try c.encode(riskPctDay, forKey: .riskPctDay); try c.encode(riskPctSwing, forKey: .riskPctSwing)
            try c.encode(maxContracts, forKey: .maxContracts); try c.encode(minConfidence, forKey: .minConfidence)
            try c.encode(minVolumeRatio, forKey: .minVolumeRatio)
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
        /// Phase 2 raises these to 500 and 200; 0 turns the check off.
        public var minOpenInterest: Int = 0
        public var minVolume: Int = 0
        enum CodingKeys: String, CodingKey {
            case maxSpreadPct = "max_spread_pct", minPremium = "min_premium", minOpenInterest = "min_open_interest", minVolume = "min_volume"
        }
        public init() {}
    }

    public struct ContractSelectionParams: Codable, Sendable, Equatable {
        /// Inclusive DTE windows, in New York calendar days.
        public var dayTradeDte: [Int] = [0, 7]
        public var swingTradeDte: [Int] = [14, 45]
        /// A chain older than this (event time) is not used.
        public var maxChainAgeMinutes: Int = 15
        enum CodingKeys: String, CodingKey {
            case dayTradeDte = "day_trade_dte", swingTradeDte = "swing_trade_dte", maxChainAgeMinutes = "max_chain_age_minutes"
        }
        public init() {}
    }

    public struct ExecutionParams: Codable, Sendable, Equatable {
        /// "mid" fills at the mid (rounded to a tick in the trader's disfavour); "cross" buys at the ask, sells at the bid.
        public var fillPrice: String = "mid"
        /// Added to buys and taken from sells, per share.
        public var slippageCents: Int = 1
        public var commissionPerContractCents: Int = 65
        public var feesPerContractCents: Int = 3
        /// Underlyings quoted in pennies at any price; others in nickels from $3.
        public var pennyPilot: [String] = ["SPY", "QQQ", "IWM", "AAPL", "MSFT", "TSLA", "AMZN", "NVDA", "AMD", "META", "GOOGL"]
        enum CodingKeys: String, CodingKey {
            case fillPrice = "fill_price", slippageCents = "slippage_cents", commissionPerContractCents = "commission_per_contract_cents"
            case feesPerContractCents = "fees_per_contract_cents", pennyPilot = "penny_pilot"
        }
        public init() {}
    }

    public struct ExitParams: Codable, Sendable, Equatable {
        /// Exit when the mark is this fraction below the entry premium.
        public var stopLossPct: Double = 0.40
        /// Exit when the mark is this fraction above the entry premium.
        public var profitTargetPct: Double = 0.50
        /// Day trades are closed from this many minutes before the 16:00 close.
        public var dayTradeExitMinutesBeforeClose: Int = 10
        /// Anything expiring today is closed from this many minutes before the close.
        public var expirationExitMinutesBeforeClose: Int = 30
        enum CodingKeys: String, CodingKey {
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
        guard ["mid", "cross"].contains(execution.fillPrice) else { throw bad("execution.fill_price", "must be mid or cross") }
        guard execution.slippageCents >= 0, execution.commissionPerContractCents >= 0, execution.feesPerContractCents >= 0 else {
            throw bad("execution", "slippage, commission and fees must be ≥ 0")
        }
        guard exits.stopLossPct > 0, exits.stopLossPct < 1 else { throw bad("exits.stop_loss_pct", "must be in (0, 1)") }
        guard exits.profitTargetPct > 0 else { throw bad("exits.profit_target_pct", "must be > 0") }
        guard ["options", "stock"].contains(signals.instrument) else { throw bad("signals.instrument", "must be options or stock") }
        guard (0...1).contains(signals.minConfidence) else { throw bad("signals.min_confidence", "must be in [0, 1]") }
        guard signals.cooldownMinutes >= 0 else { throw bad("signals.cooldown_minutes", "must be ≥ 0") }
    }

    /// Tiers smallest first: the seed's names in their order, then any others by max_size (open-ended last).
    public var orderedTiers: [(String, Tier)] {
        accountTiers.tiers.sorted { a, b in
            let x = a.value.maxSize ?? .infinity, y = b.value.maxSize ?? .infinity
            return x != y ? x < y : a.key < b.key
        }
    }
}
