import ArgumentParser
import Foundation
import OpsModel
import OpsRuntime
import Pipeline
import RunAnalysis
import Synchronization

/// `opsctl sweep`: one backtest per combination of a parameter grid over the same data, in parallel, and a comparison.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Backtest every combination of a parameter grid on the same data (in parallel) and compare them.",
        discussion: """
        --grid KEY=V1,V2,… is repeatable: KEY is account_size (dollars) or a dotted trading parameter (exits.style, \
        sizing.method, risk.max_daily_loss, …). Every combination is validated before any runs. Prints a row per \
        combination (trades, win rate, net P&L, return, max drawdown, worst day, Sharpe) and the best per account size, \
        and writes the comparison with the equity curves overlaid to --out.
        Example: opsctl sweep --grid account_size=1000,5000,25000,100000 --grid exits.style=premium,underlying \
        --grid sizing.method=tier,kelly --bars ../shared/data/bars/SPY_1min_2024-02-20_2024-04-18_ET.csv
        """)

    @Option(name: .customLong("grid"), help: ArgumentHelp("Values to sweep: KEY=V1,V2,… (repeatable).", valueName: "key=values")) var grid: [String] = []
    @OptionGroup var inputs: RunInputs
    @Option(help: "The comparison page (HTML).") var out: String = "sweep.html"
    @Option(help: "How the best combination is chosen: \(SweepCriterion.allCases.map(\.rawValue).joined(separator: ", ")).") var rankBy: String = "sharpe"
    @Option(help: "Backtests run at once (default: the machine's cores).") var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard !grid.isEmpty else { throw ValidationError("give at least one --grid KEY=V1,V2, e.g. --grid account_size=1000,25000,100000") }
        guard SweepCriterion(rawValue: rankBy) != nil else { throw ValidationError("--rank-by takes \(SweepCriterion.allCases.map(\.rawValue).joined(separator: ", ")); got '\(rankBy)'") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be ≥ 1; got \(jobs)") }
        try inputs.validateCommon()
        _ = try inputs.sourceSpec()
        for combo in try combinations() {
            do { _ = try overrides(combo).resolve(); _ = try accountSize(combo) } catch let e as ValidationError {
                throw ValidationError("--grid \(SweepGrid.label(combo)): \(e.message.replacingOccurrences(of: "--param: ", with: ""))")
            }
        }
    }

    func combinations() throws -> [[(key: String, value: String)]] {
        do { return try SweepGrid(grid).combinations } catch { throw ValidationError(error.description) }
    }

    func accountSize(_ combo: [(key: String, value: String)]) throws -> String {
        let size = combo.first { $0.key == "account_size" }?.value ?? inputs.accountSize
        _ = try parseCents(size, flag: "--grid account_size")
        return size
    }

    func overrides(_ combo: [(key: String, value: String)]) -> TradingParamsOverride {
        TradingParamsOverride(file: inputs.params, settings: inputs.param + combo.filter { $0.key != "account_size" }.map { "\($0.key)=\($0.value)" })
    }

    func run() throws {
        let combos = try combinations()
        let source: LoadedMarketSource
        do { source = try inputs.sourceSpec().load() } catch { throw ValidationError("\(error)") }
        var settings = [[String]]()
        for (i, combo) in combos.enumerated() {
            settings.append(["broker-gateway:account_size=\(try accountSize(combo))"] + ServiceGraph.simulatedBrokerSettings
                            + (try overrides(combo).serviceSettings(tag: "sweep\(i)")) + inputs.serviceSet)
        }
        printErr("sweep: \(combos.count) backtests of \(inputs.describeSource()), \(min(jobs, combos.count)) at a time")
        let started = Date()
        let results = try runAll(source: source, settings: settings, labels: combos.map(SweepGrid.label))
        let rows = zip(combos, results).map { SweepRow(settings: $0, performance: $1) }
        let report = SweepReport(rows: rows, criterion: SweepCriterion(rawValue: rankBy)!, source: inputs.describeSource(),
                                 groupKey: combos.first?.contains { $0.key == "account_size" } == true ? "account_size" : nil)
        print(report.text)
        try report.html.write(toFile: out, atomically: true, encoding: .utf8)
        print(String(format: "\n%d backtests in %.1f s; comparison written to %@", combos.count, Date().timeIntervalSince(started), out))
    }

    /// Runs every combination, `jobs` at a time, each its own pipeline of cores over the one loaded source.
    func runAll(source: LoadedMarketSource, settings: [[String]], labels: [String]) throws -> [AccountPerformance] {
        let next = Mutex(0)
        let results = Mutex([Int: Result<AccountPerformance, any Error>]())
        let record = inputs.record
        DispatchQueue.concurrentPerform(iterations: min(jobs, settings.count)) { _ in
            while true {
                let i = next.withLock { n in defer { n += 1 }; return n }
                guard i < settings.count else { return }
                let r = Result { try Self.backtest(source: source, settings: settings[i], record: record.map { "\($0)/\(i + 1)" }) }
                results.withLock { $0[i] = r }
                printErr("sweep: \(i + 1)/\(settings.count) done: \(labels[i])")
            }
        }
        return try results.withLock { r in try (0..<settings.count).map { try r[$0]!.get() } }
    }

    static func backtest(source: LoadedMarketSource, settings: [String], record: String?) throws -> AccountPerformance {
        var bt = Backtest(source: source, cores: try Backtest.cores(settings: settings))
        bt.options.collect = [Topics.features, Topics.decisions, Topics.orders, Topics.fills, Topics.accounts, Topics.positions]
        bt.options.record = record != nil
        let pipeline = try bt.run()
        if let record { try pipeline.writeRecording(to: record) }
        let collected = pipeline.collected
        guard let p = RunRecord(load: { collected[$0] ?? [] }).performance().first else {
            throw ValidationError("a backtest published no account snapshot (settings: \(settings.joined(separator: " ")))")
        }
        return p
    }
}
