import ArgumentParser
import Foundation
import OpsModel
import OpsRuntime
import Pipeline

/// The data and parameter flags of a run, shared by `opsctl up` (a Kafka pipeline) and `opsctl backtest` (the same
/// cores in one process): the same flags give both the same inputs.
struct RunInputs: ParsableArguments {
    @Option(parsing: .upToNextOption, help: "Bar CSV files (real data).") var bars: [String] = []
    @Option(parsing: .upToNextOption, help: "Option-chain CSV files.") var chains: [String] = []
    @Option(parsing: .upToNextOption, help: "Sentiment CSV files.") var sentiment: [String] = []
    @Option(help: "Seed of the synthetic market (the default source).") var synthetic: UInt64?
    @Option(help: "Sessions to publish (synthetic: how many to generate; files: the first N).") var sessions: Int?
    @Option(help: "Publish a recording made with --record instead of a feed.") var replay: String?
    @Option(help: "Record every topic to DIR/<topic>.jsonl.") var record: String?
    @Option(help: "Starting cash of the simulated broker account, in dollars (picks the account tier).") var accountSize: String = "100000"
    @Option(help: ArgumentHelp("Several simulated accounts side by side, ID=DOLLARS,… (e.g. tiny=1000,small=5000,medium=25000,large=100000): each trades the same signals with its own state and kill switches; replaces --account-size.", valueName: "id=dollars,…")) var accounts: String?
    @Option(help: "Synthetic tickers: all | N | SYM,SYM… (default SPY,QQQ,AAPL); with Alpaca, the watchlist the feed streams.") var tickers: String?
    @Option(help: "Also write the summary as JSON to this file.") var summaryJson: String?
    @Option(name: .customLong("feed-set"), help: ArgumentHelp("Extra market-feed flag, e.g. --feed-set chain-every=15 (repeatable).", valueName: "flag=value")) var feedSet: [String] = []
    @Option(name: .customLong("service-set"), help: ArgumentHelp("Config for a service, e.g. --service-set feature-computer:slope_lookback=10 (repeatable).", valueName: "service:key=value")) var serviceSet: [String] = []
    @Option(name: .customLong("halt"), help: ArgumentHelp("Schedule an operator halt before the feed starts: ACCOUNT@TIME (ISO-8601 with a zone; repeatable).", valueName: "account@time")) var halt: [String] = []
    @Option(help: "Trading parameters for every service (a trading_params.json; partial files keep the defaults for the rest).") var params: String?
    @Option(name: .customLong("param"), help: ArgumentHelp("One trading parameter for every service, e.g. --param risk.max_open_positions=1 (repeatable; a JSON value or text).", valueName: "key=value")) var param: [String] = []

    /// The checks that do not depend on the broker.
    func validateCommon() throws {
        _ = try parseCents(accountSize, flag: "--account-size")
        if let accounts {
            do { _ = try AccountList(parsing: accounts) } catch { throw ValidationError("--accounts: \(error.reason)") }
        }
        _ = try TradingParamsOverride(file: params, settings: param).resolve()
        _ = try Self.scheduledHalts(halt)
        if replay != nil, !(bars.isEmpty && chains.isEmpty && sentiment.isEmpty && synthetic == nil) {
            throw ValidationError("--replay publishes a recording; drop --bars/--chains/--sentiment/--synthetic, or drop --replay")
        }
        if let record, let names = try? FileManager.default.contentsOfDirectory(atPath: record), names.contains(where: { $0.hasSuffix(".jsonl") }) {
            throw ValidationError("--record \(record) already holds a recording; pass a new directory (or remove it: rm -r \(record))")
        }
        for f in bars + chains + sentiment where !FileManager.default.fileExists(atPath: f) {
            throw ValidationError("no such file: \(f)")
        }
        for s in serviceSet {
            guard let colon = s.firstIndex(of: ":"), ServiceGraph.service(String(s[..<colon])) != nil, s[colon...].contains("=") else {
                throw ValidationError("--service-set expects SERVICE:KEY=VALUE with SERVICE one of \(ServiceGraph.services.map(\.name).joined(separator: ", ")); got '\(s)'")
            }
        }
        for kv in feedSet where !kv.contains("=") && !kv.hasPrefix("replay-broker") {
            throw ValidationError("--feed-set expects FLAG=VALUE, e.g. --feed-set chain-every=15; got '\(kv)'")
        }
    }

    /// `--halt ACCOUNT@TIME` as (account, event time).
    static func scheduledHalts(_ items: [String]) throws -> [(String, Timestamp)] {
        try items.map { item in
            guard let at = item.firstIndex(of: "@"), at != item.startIndex, let t = Timestamp(iso8601: String(item[item.index(after: at)...])) else {
                throw ValidationError("--halt expects ACCOUNT@TIME, e.g. --halt sim-1@2024-03-04T15:00:00Z; got '\(item)'")
            }
            return (String(item[..<at]), t)
        }
    }

    /// The operator halt `--halt` schedules, as the control topic carries it.
    static func haltCommand(account: String) -> OperatorControl {
        OperatorControl(accountId: account, action: .halt, reason: "scheduled halt (opsctl up --halt)", flatten: false, requestedBy: ControlTarget.user)
    }

    /// The market-feed's flags for these inputs (a process run by `opsctl up`).
    func feedArguments(replayBroker: Bool) -> [String] {
        var a = [String]()
        if let replay { a += ["--replay", replay] + (replayBroker ? ["--replay-broker"] : []) }
        if !bars.isEmpty { a += ["--bars"] + bars }
        if !chains.isEmpty { a += ["--chains"] + chains }
        if !sentiment.isEmpty { a += ["--sentiment"] + sentiment }
        if let synthetic { a += ["--synthetic", String(synthetic)] }
        if let sessions { a += ["--sessions", String(sessions)] }
        if let tickers { a += ["--tickers", tickers] }
        return a + feedSetArguments
    }

    var feedSetArguments: [String] {
        feedSet.flatMap { kv -> [String] in
            let p = kv.split(separator: "=", maxSplits: 1)
            return ["--" + String(p[0])] + (p.count > 1 ? [String(p[1])] : [])
        }
    }

    /// The same inputs as the market-feed would load them (for a run in process).
    func sourceSpec() throws -> MarketSourceSpec {
        var s = MarketSourceSpec()
        s.bars = bars; s.chains = chains; s.sentiment = sentiment; s.synthetic = synthetic; s.sessions = sessions
        s.replay = replay; s.tickers = tickers
        for kv in feedSet {
            let p = kv.split(separator: "=", maxSplits: 1).map(String.init)
            let value = p.count > 1 ? p[1] : ""
            func int() throws -> Int {
                guard let n = Int(value) else { throw ValidationError("--feed-set \(p[0]) takes a whole number; got '\(value)'") }
                return n
            }
            switch p[0] {
            case "chain-every": s.chainEvery = try int()
            case "sentiment-every": s.sentimentEvery = try int()
            case "iv-history-days": s.ivHistoryDays = try int()
            case "iv-history": s.ivHistory = value
            case "start-date": s.startDate = value
            case "synthesize-chains": s.synthesizeChains = value
            case "ticker": s.ticker = value
            case "source-name": s.sourceName = value
            default:
                throw ValidationError("--feed-set \(p[0]) is not a market-data flag a backtest applies; use chain-every, sentiment-every, iv-history-days, iv-history, start-date, synthesize-chains, ticker or source-name")
            }
        }
        do { try s.validate() } catch { throw ValidationError(error.description) }
        return s
    }

    /// Per service, the `--set` settings these flags give it: the account size, the trading parameters, `--service-set`.
    func serviceSettings(broker: Bool) throws -> [String] {
        (broker ? ["broker-gateway:account_size=\(accountSize)"] + ServiceGraph.simulatedBrokerSettings : []) + accountSettings
            + (try TradingParamsOverride(file: params, settings: param).serviceSettings()) + serviceSet
    }

    /// `--accounts` for every service that holds account state.
    var accountSettings: [String] {
        accounts.map { list in ServiceGraph.accountServices.map { "\($0.name):\(ServiceGraph.accountsKey.name)=\(list)" } } ?? []
    }

    func describeSource() -> String {
        if let replay { return "replay of \(replay)" }
        if !bars.isEmpty { return "bar files \(bars.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", "))" + (chains.isEmpty ? " (chains synthesized)" : "") }
        return "synthetic market, seed \(synthetic ?? 42)"
    }
}
