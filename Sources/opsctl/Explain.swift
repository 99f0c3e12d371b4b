import ArgumentParser
import Foundation
import Logging
import OpsModel
import OpsRuntime
import RunAnalysis

/// Where `explain` and `report` read a run: a recording directory, or the live topics of a broker.
struct RunRecordSource: ParsableArguments {
    @Option(help: "A recording made with --record (DIR/<topic>.jsonl).") var dir: String?
    @OptionGroup var connection: KafkaConnection

    func validate() throws {
        if let dir {
            guard FileManager.default.fileExists(atPath: "\(dir)/\(Topics.decisions).jsonl") || FileManager.default.fileExists(atPath: "\(dir)/\(Topics.features).jsonl") else {
                throw ValidationError("--dir \(dir) holds no recording (no \(Topics.features).jsonl); make one with `opsctl up --record \(dir)` or `opsctl backtest --record \(dir)`")
            }
            if connection.brokers != nil { throw ValidationError("give --dir (a recording) or --brokers (live topics), not both") }
        } else if connection.bootstrap == nil {
            throw ValidationError("say where the run is: --dir RECORDING (from --record) or --brokers HOST:PORT (live topics)")
        }
    }

    var describe: String { dir.map { "recording \($0)" } ?? "topics on \(connection.bootstrap ?? "?")" }

    func load() throws -> RunRecord {
        if let dir { return try RunRecord(load: SummarySource.recording(dir).envelopes) }
        LogSetup.bootstrap(level: "warning")
        let client = try connection.client(id: "opsctl-explain")
        return try RunRecord(load: SummarySource.kafka(client, logger: Logger(service: "explain")).envelopes)
    }
}

/// `opsctl explain ID`: the whole causal chain of a trade, or why a ticker gave no signal at a time.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Why (not)? The causal chain of a message — bar, features, signal rules, every gate, candidates, sizing, orders, fills, marks, exit, P&L.",
        discussion: """
        ID is any message id of a trade's chain (features, signal, decision, order = client_order_id, order event, fill) or a \
        position id. Or ask by time: --ticker SPY --at 2024-03-04T10:15 (New York time without a zone, or ISO-8601 with one): \
        the latest feature vector then, its signal's chain, or why it gave none (re-judged with --params/--param, default: \
        the built-in parameters).
        """)

    @Argument(help: "A message id or position id.") var id: String?
    @Option(help: "Ticker to ask about with --at.") var ticker: String?
    @Option(help: "Time to ask about with --ticker: 2024-03-04T10:15 (New York) or ISO-8601 with a zone.") var at: String?
    @OptionGroup var source: RunRecordSource
    @Option(help: "Trading parameters a \"why no signal\" re-judges with (a trading_params.json).") var params: String?
    @Option(name: .customLong("param"), help: ArgumentHelp("One trading parameter, e.g. --param signals.min_confidence=0.6 (repeatable).", valueName: "key=value")) var param: [String] = []
    @Flag(help: "Print JSON: every step with its whole message.") var json = false

    func validate() throws {
        switch (id, ticker, at) {
        case (.some, nil, nil): break
        case (nil, .some, .some(let t)): _ = try Self.time(t)
        default: throw ValidationError("give an ID (opsctl explain ID --dir DIR) or --ticker T --at TIME (e.g. --ticker SPY --at 2024-03-04T10:15), not both")
        }
    }

    static func time(_ text: String) throws -> Timestamp {
        if let t = Timestamp(iso8601: text) { return t }
        let parts = text.split(whereSeparator: { "-T: ".contains($0) }).compactMap { Int($0) }
        guard parts.count >= 5 else { throw ValidationError("--at expects 2024-03-04T10:15 (New York) or ISO-8601 with a zone (2024-03-04T15:15:00Z); got '\(text)'") }
        return NewYorkTime.utc(date: CivilDate(year: parts[0], month: parts[1], day: parts[2]), hour: parts[3], minute: parts[4], second: parts.count > 5 ? parts[5] : 0)
    }

    func run() throws {
        let record = try source.load()
        let tradingParams = try TradingParamsOverride(file: params, settings: param).resolve()?.params ?? TradingParams()
        let explainer = Explainer(record: record, params: tradingParams)
        do {
            let e = try id.map { try explainer.explain(id: $0) } ?? explainer.explain(ticker: ticker!, at: try Self.time(at!))
            print(json ? e.json : e.text)
        } catch let error as ExplainError {
            printErr("opsctl explain: \(error.description)\n  (read from \(source.describe))")
            throw ExitCode(2)
        }
    }
}

/// `opsctl report DIR`: a recording as one self-contained HTML page with SVG charts.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Turn a recording into one self-contained HTML file: equity and drawdown per account, P&L breakdowns, Sharpe/Sortino, skips by gate, slippage, trades with their explanations.")

    @Argument(help: "A recording made with --record.") var dir: String
    @Option(help: "Where to write the page (default DIR/report.html).") var out: String?

    func validate() throws {
        guard FileManager.default.fileExists(atPath: "\(dir)/\(Topics.features).jsonl") else {
            throw ValidationError("\(dir) holds no recording (no \(Topics.features).jsonl); make one with `opsctl backtest --record \(dir)` or `opsctl up --record \(dir)`")
        }
    }

    func run() throws {
        let record = try RunRecord(load: SummarySource.recording(dir).envelopes)
        let report = RunReport(record: record, source: dir)
        let path = out ?? "\(dir)/report.html"
        do { try report.html.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw ValidationError("cannot write \(path): \(error.localizedDescription)")
        }
        for a in report.accounts {
            print("\(a.accountId): \(Money.dollars(a.startingCents)) → \(Money.dollars(a.endingCents)) (\(FixedFormat.string(a.returnPct, decimals: 2, plusSign: true))%), "
                  + "\(a.closed.count) trades closed, max drawdown \(Money.dollars(a.maxDrawdown.cents))")
        }
        print("report written to \(path)")
    }
}
