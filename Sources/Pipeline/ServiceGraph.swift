import BrokerCore
import DispatchCore
import FeatureCore
import Foundation
import Logging
import OpsModel
import OpsRuntime
import PositionCore
import SignalCore
import WatchlistCore

/// How many instances of a service may run.
public enum ReplicaPolicy: Sendable, Equatable {
    /// State per key (ticker): replicas split the partitions between them.
    case perKey
    /// One instance, and why.
    case single(String)
}

/// One service of the pipeline, declared once: its config keys, how its core is built from its config, and how
/// it scales. Its inputs (in tie-break rank), outputs and least delays are its core's own (`StreamCore`); the
/// executables, `opsctl up` and `opsctl backtest` all read them from here.
public struct PipelineService: Sendable {
    public let name: String
    /// Config keys besides the common ones (`ServiceOptions.commonKeys`).
    public let keys: [ConfigKey]
    public let replicas: ReplicaPolicy
    private let make: @Sendable (ResolvedConfig) throws -> any StreamCore
    /// The core built from the built-in defaults (no file read), for its declared topics.
    public let prototype: any StreamCore

    init(_ prototype: any StreamCore, keys: [ConfigKey], replicas: ReplicaPolicy, make: @escaping @Sendable (ResolvedConfig) throws -> any StreamCore) {
        self.prototype = prototype
        self.name = prototype.serviceName
        self.keys = keys
        self.replicas = replicas
        self.make = make
    }

    public var inputs: [String] { prototype.inputTopics }
    public var outputs: [String] { prototype.outputTopics }
    public var outputCauses: [String: [String: Int64]] { prototype.outputCauses }
    public var scalable: Bool { replicas == .perKey }

    /// Builds the core from a resolved config; a bad value throws a `ConfigError` naming its key.
    public func core(_ config: ResolvedConfig) throws -> any StreamCore { try make(config) }

    /// Resolves this service's config the way its executable does (defaults < config file < OPS_* environment <
    /// `--set` flags) and builds its core.
    public func core(settings: [String]) throws -> any StreamCore {
        let options: ServiceOptions
        do { options = try ServiceOptions.parse(settings.flatMap { ["--set", $0] }) } catch {
            throw ConfigError("\(name): \(ServiceOptions.message(for: error))")
        }
        return try core(options.resolve(service: name, keys: keys))
    }
}

/// The pipeline's services in their canonical order (sources first, each before the services it feeds).
public enum ServiceGraph {
    public static let featureComputer = PipelineService(FeatureCore(), keys: [
        ConfigKey("slope_lookback", .int, default: "5", help: "bars over which the SMA20 slope is measured"),
        ConfigKey("session", .string, default: "regular", help: "which bars get features", choices: SessionFilter.allCases.map(\.rawValue)),
        ConfigKey("tickers", .string, default: "", help: "comma-separated watchlist; other tickers are dead-lettered"),
    ], replicas: .perKey) { config in
        let lookback = try config.int("slope_lookback", in: 1...390)
        let tickers = (config.string("tickers") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return FeatureCore(config: FeatureConfig(slopeLookback: lookback, session: SessionFilter(rawValue: config.string("session") ?? "regular")!,
                                                 tickers: tickers.isEmpty ? nil : Set(tickers)))
    }

    public static let watchlistEngine = PipelineService(LiveParamsCore(WatchlistCore(), configured: TradingParams()), keys: [ServiceOptions.tradingParamsKey],
                                                        replicas: .single("ranks every ticker together and runs as one instance")) { config in
        let params = try config.tradingParams()
        return LiveParamsCore(WatchlistCore(params: params.watchlist), configured: params)
    }

    public static let signalEngine = PipelineService(LiveParamsCore(SignalCore(params: TradingParams().signals), configured: TradingParams()),
                                                     keys: [ServiceOptions.tradingParamsKey], replicas: .perKey) { config in
        let params = try config.tradingParams()
        return LiveParamsCore(SignalCore(params: params.signals), configured: params)
    }

    static let accountState = ReplicaPolicy.single("owns account state and runs as one instance per account (invariant 7)")

    /// Several accounts side by side (`opsctl up --accounts`): each its own core in one service.
    public static let accountsKey = ConfigKey("accounts", .string, default: "",
                                              help: "several accounts side by side, ID=DOLLARS,… (each its own state and kill switches); empty: one account, account.account_id")
    /// The dispatcher's replicas share out the accounts.
    public static let accountReplicaKey = ConfigKey("account_replica", .string, default: "0/1",
                                                    help: "this replica's share of the accounts, I/N: it owns every Nth account from the Ith and reads every partition in its own consumer group")

    /// A service's core for its accounts: with `accounts` set, one core per account it owns (`AccountsCore`; a service
    /// that declares `account_replica` owns its share of them), each under the parameters of its account; without, the
    /// one core of `account.account_id`.
    static func accountsCore<C: StreamCore>(_ config: ResolvedConfig, params: TradingParams, single: () -> C,
                                            perAccount: (AccountList.Account, TradingParams) -> C) throws -> any StreamCore {
        let share: AccountShare
        do { share = try AccountShare(parsing: config.string(accountReplicaKey.name) ?? "0/1") } catch {
            throw ConfigError("config key '\(accountReplicaKey.name)': \(error.reason)")
        }
        guard let text = config.string(accountsKey.name), !text.isEmpty else {
            if share != .whole { throw ConfigError("config key '\(accountReplicaKey.name)' shares out accounts: set '\(accountsKey.name)' too (ID=DOLLARS,…)") }
            return single()
        }
        let list: AccountList
        do { list = try AccountList(parsing: text) } catch { throw ConfigError("config key '\(accountsKey.name)': \(error.reason)") }
        guard share.count <= list.accounts.count else {
            throw ConfigError("config key '\(accountReplicaKey.name)' is \(share.description): more replicas than the \(list.accounts.count) accounts")
        }
        let owned = list.owned(by: share)
        return AccountsCore(accounts: owned.map(\.id), cores: owned.map { a in
            var p = params
            p.account.accountId = a.id
            return perAccount(a, p)
        }, share: share, elsewhere: Set(list.accounts.map(\.id)).subtracting(owned.map(\.id)))
    }

    /// The dispatcher's and position-manager's lookahead: sound only where every position opens from a decided order.
    public static let lookaheadKey = ConfigKey("lookahead", .bool, default: "false",
                                               help: "promise past quiet stretches (only with the simulated broker: every fill answers a decided order)")

    public static let dispatcher = PipelineService(LiveParamsCore(DispatchCore(params: TradingParams()), configured: TradingParams()),
                                                   keys: [ServiceOptions.tradingParamsKey, lookaheadKey, accountsKey, accountReplicaKey],
                                                   replicas: accountState) { config in
        let params = try config.tradingParams()
        let lookahead = config.bool(lookaheadKey.name) ?? false
        return try accountsCore(config, params: params, single: { LiveParamsCore(DispatchCore(params: params, lookahead: lookahead), configured: params) },
                                perAccount: { LiveParamsCore(DispatchCore(params: $1, lookahead: lookahead), configured: $1) })
    }

    /// The simulated broker; `--broker alpaca-*` swaps in the Alpaca gateway behind the same topics.
    public static let brokerGateway = PipelineService(LiveParamsCore(SimulatedBroker(params: TradingParams(), accountId: TradingParams().account.accountId,
                                                                                     startingCashCents: 0), configured: TradingParams()), keys: [
        ServiceOptions.tradingParamsKey, ConfigKey("account_size", .string, default: "100000", help: "starting cash in dollars (one account)"), accountsKey,
    ], replicas: accountState) { config in
        let size = config.string("account_size") ?? "100000"
        guard let cents = Money.cents(dollars: size), cents > 0 else {
            throw ConfigError("config key 'account_size' must be dollars > 0, got '\(size)'")
        }
        let params = try config.tradingParams()
        return try accountsCore(config, params: params,
                                single: { LiveParamsCore(SimulatedBroker(params: params, accountId: params.account.accountId, startingCashCents: cents), configured: params) },
                                perAccount: { a, p in LiveParamsCore(SimulatedBroker(params: p, accountId: a.id, startingCashCents: a.startingCashCents), configured: p) })
    }

    public static let positionManager = PipelineService(LiveParamsCore(PositionManagerCore(params: TradingParams()), configured: TradingParams()),
                                                        keys: [ServiceOptions.tradingParamsKey, lookaheadKey, accountsKey], replicas: accountState) { config in
        let params = try config.tradingParams()
        let lookahead = config.bool(lookaheadKey.name) ?? false
        return try accountsCore(config, params: params, single: { LiveParamsCore(PositionManagerCore(params: params, lookahead: lookahead), configured: params) },
                                perAccount: { LiveParamsCore(PositionManagerCore(params: $1, lookahead: lookahead), configured: $1) })
    }

    /// The services that hold account state, configured per account by `accounts`.
    public static var accountServices: [PipelineService] { services.filter { $0.keys.contains { $0.name == accountsKey.name } } }

    /// Services whose replicas share out the accounts (`account_replica`).
    public static var accountShared: Set<String> { Set(services.filter { $0.keys.contains { $0.name == accountReplicaKey.name } }.map(\.name)) }

    /// With the simulated broker every fill answers a decided order, so the services that may look ahead do.
    public static var simulatedBrokerSettings: [String] {
        services.filter { $0.keys.contains { $0.name == lookaheadKey.name } }.map { "\($0.name):\(lookaheadKey.name)=true" }
    }

    public static let services: [PipelineService] = [featureComputer, watchlistEngine, signalEngine, dispatcher, brokerGateway, positionManager]

    public static func service(_ name: String) -> PipelineService? { services.first { $0.name == name } }

    /// The services that write a topic (empty for a source topic).
    public static func producers(of topic: String) -> [String] { services.filter { $0.outputs.contains(topic) }.map(\.name) }

    /// The services that load trading_params.json.
    public static var tradingParamsServices: [String] {
        services.filter { $0.keys.contains { $0.name == ServiceOptions.tradingParamsKey.name } }.map(\.name)
    }
}

/// A core whose type is known only at run time, as a `StreamCore` (what the generic runtime takes).
public struct AnyStreamCore: StreamCore {
    public var base: any StreamCore
    public init(_ base: any StreamCore) { self.base = base }
    public var serviceName: String { base.serviceName }
    public var inputTopics: [String] { base.inputTopics }
    public var outputTopics: [String] { base.outputTopics }
    public var outputCauses: [String: [String: Int64]] { base.outputCauses }
    public var lookahead: Lookahead? { base.lookahead }
    public var quietInputs: QuietInputs? { base.quietInputs }
    public var accountShare: AccountShare { base.accountShare }
    public mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] { try base.handle(message, from: topic) }
    public func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp { base.restoreStart(topic: topic, after: lastProcessed) }
    public mutating func reset() { base.reset() }
    public func snapshotState() throws -> String? { try base.snapshotState() }
    public mutating func restoreState(_ state: String) throws { try base.restoreState(state) }
}

extension PipelineService {
    /// The whole `main` of this service's executable.
    public func main(options: ServiceOptions, observer: (@Sendable (Emit, Logger) -> Void)? = nil) async throws {
        try await StreamServiceMain.run(service: name, options: options, keys: keys, observer: observer) { config in
            AnyStreamCore(try core(config))
        }
    }
}
