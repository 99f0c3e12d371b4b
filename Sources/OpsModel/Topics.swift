/// Topic names (`<domain>.<name>.v<major>`), their default partition counts and what each carries.
public enum Topics {
    public static let bars = "market.bars.v1"
    public static let chains = "market.chains.v1"
    /// Each chain's at-the-money implied volatility at the chain's time (`ChainImpliedVolatility`).
    public static let atmIv = "market.atm-iv.v1"
    public static let sentiment = "market.sentiment.v1"
    /// One ATM implied volatility per ticker and session (`iv_daily`), the history behind IV percentile and IV Rank.
    public static let ivDaily = "market.iv-daily.v1"
    /// Everything a market source (market-feed, replay) publishes and watermarks, in the rank order of same-time
    /// events (`MarketEvent.canonicalOrder`): a source that leaves one out stalls every consumer of it.
    public static let marketSource = [ivDaily, sentiment, chains, atmIv, bars]
    public static let features = "strategy.features.v1"
    public static let deadLetter = "ops.deadletter.v1"
    public static let signals = "strategy.signals.v1"
    public static let decisions = "trading.decisions.v1"
    public static let orders = "trading.orders.v1"
    public static let orderEvents = "trading.order-events.v1"
    public static let fills = "trading.fills.v1"
    public static let accounts = "trading.accounts.v1"
    public static let positions = "trading.positions.v1"
    public static let watchlist = "strategy.watchlist.v1"
    /// Seed 000 #15: each account's portfolio Greeks at every mark minute, from the position-manager.
    public static let greeks = "trading.greeks.v1"
    /// Operator commands (halt, resume). Not watermarked: a command holds nothing back and takes effect from its
    /// event time as soon as it is read (see `EventMerger`'s side inputs).
    public static let control = "ops.control.v1"
    /// Live trading-parameter changes (`opsctl params set`). Not watermarked, like operator commands; every partition
    /// carries every change (a replica of a keyed service sees them all), each under its own key, so compaction keeps
    /// the whole history a replay or a restore applies.
    public static let params = "ops.params.v1"
    /// The latest state of each stateful service (`StateSnapshot`), keyed by consumer group and compacted: a restart
    /// reads its snapshot and the inputs after it instead of its inputs' whole history.
    public static let snapshots = "ops.snapshots.v1"

    public struct Spec: Sendable {
        public var name: String
        public var partitions: Int32
        /// Payload types the topic carries (besides watermarks where `watermarked`).
        public var types: [any Payload.Type]
        public var watermarked: Bool
        public var key: String
        /// The services whose watermarks a consumer must hear before trusting a partition's watermark (a topic
        /// written by several services); empty: whoever writes it.
        public var producers: [String] = []
        /// Kept by key rather than by age (`cleanup.policy=compact`).
        public var compacted = false
    }

    public static let all: [Spec] = [
        Spec(name: bars, partitions: 4, types: [Bar.self], watermarked: true, key: "ticker"),
        Spec(name: chains, partitions: 4, types: [OptionChain.self], watermarked: true, key: "ticker"),
        Spec(name: atmIv, partitions: 4, types: [ChainImpliedVolatility.self], watermarked: true, key: "ticker"),
        Spec(name: sentiment, partitions: 4, types: [SentimentScore.self], watermarked: true, key: "ticker"),
        Spec(name: ivDaily, partitions: 4, types: [DailyImpliedVolatility.self], watermarked: true, key: "ticker"),
        Spec(name: features, partitions: 4, types: [FeatureVector.self], watermarked: true, key: "ticker", producers: ["feature-computer"]),
        Spec(name: deadLetter, partitions: 1, types: [DeadLetter.self], watermarked: false, key: "source topic/partition"),
        Spec(name: signals, partitions: 4, types: [Signal.self], watermarked: true, key: "ticker", producers: ["signal-engine"]),
        Spec(name: decisions, partitions: 2, types: [Decision.self], watermarked: true, key: "account", producers: ["dispatcher"]),
        Spec(name: orders, partitions: 2, types: [OrderCommand.self], watermarked: true, key: "account", producers: ["dispatcher", "position-manager"]),
        Spec(name: orderEvents, partitions: 2, types: [OrderEvent.self], watermarked: true, key: "account", producers: ["broker-gateway"]),
        Spec(name: fills, partitions: 2, types: [Fill.self], watermarked: true, key: "account", producers: ["broker-gateway"]),
        Spec(name: accounts, partitions: 2, types: [AccountSnapshot.self], watermarked: true, key: "account", producers: ["broker-gateway"]),
        Spec(name: positions, partitions: 4, types: [PositionEvent.self], watermarked: true, key: "position id", producers: ["position-manager"]),
        // As many partitions as strategy.features.v1, each holding every watchlist (broadcast): a signal-engine
        // replica owning any features partitions owns watchlist partitions too and so sees the whole list.
        Spec(name: watchlist, partitions: 4, types: [Watchlist.self], watermarked: true, key: "watchlist", producers: ["watchlist-engine"]),
        Spec(name: greeks, partitions: 2, types: [PortfolioGreeks.self], watermarked: true, key: "account", producers: ["position-manager"]),
        Spec(name: control, partitions: 2, types: [OperatorControl.self], watermarked: false, key: "account"),
        Spec(name: params, partitions: 4, types: [ParamsChange.self], watermarked: false, key: "account#params_version", compacted: true),
        Spec(name: snapshots, partitions: 1, types: [StateSnapshot.self], watermarked: false, key: "consumer group", compacted: true),
    ]

    public static func spec(_ name: String) -> Spec? { all.first { $0.name == name } }

    /// What a recording keeps by default: every topic but the snapshots (a service's working state, whose points
    /// depend on batching; not a record of what happened).
    public static var recorded: [String] { all.map(\.name).filter { $0 != snapshots } }

    /// A decoder that accepts what a topic carries, watermarks included.
    public static func decoder(for topic: String) -> EnvelopeDecoder {
        guard let s = spec(topic) else { return EnvelopeDecoder(accepting: []) }
        return EnvelopeDecoder(accepting: s.types + (s.watermarked ? [Watermark.self] : []))
    }
}
