import ArgumentParser
import Foundation
import OpsModel
import OpsRuntime
import Pipeline

/// `opsctl backtest`: every core of the pipeline in this one process, no broker — the same inputs, the same order,
/// the same outputs as `opsctl up` on the same flags, at the speed of the cores.
struct BacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Run every core of the pipeline in one process (no broker) over the same data and parameters as `opsctl up`, and print the same summary.",
        discussion: """
        Takes opsctl up's data and parameter flags. Each core sees its inputs in the canonical order the Kafka pipeline \
        gives it (event time, input rank, key, id, released behind the same watermarks), so a recording made with \
        --record is byte-identical to `opsctl up --record`'s on the same inputs, apart from produced_at.
        """)

    @OptionGroup var inputs: RunInputs
    @Option(help: "Progress on stderr: auto (when a terminal) | on | off.") var progress: String = "auto"

    func validate() throws {
        guard ["auto", "on", "off"].contains(progress) else { throw ValidationError("--progress takes auto, on or off; got '\(progress)'") }
        try inputs.validateCommon()
        _ = try inputs.sourceSpec()
    }

    func run() async throws {
        let started = Date()
        let spec = try inputs.sourceSpec()
        let source: LoadedMarketSource
        do { source = try spec.load() } catch { throw ValidationError("\(error)") }
        let settings = try inputs.serviceSettings(broker: true)
        var backtest: Backtest
        do { backtest = Backtest(source: source, cores: try Backtest.cores(settings: settings)) } catch let e as ConfigError {
            throw ValidationError(e.description)
        }
        let now = Timestamp(ms: Int64(Date().timeIntervalSince1970 * 1000))
        backtest.options.producedAt = now
        backtest.options.record = inputs.record != nil
        backtest.options.collect = Set(Topics.all.map(\.name)).subtracting(Topics.marketSource)
        var events = [String]()
        for (account, t) in try RunInputs.scheduledHalts(inputs.halt) {
            let c = RunInputs.haltCommand(account: account)
            backtest.controls.append(Envelope(id: c.id(at: t), eventTime: t, causationId: nil, source: "opsctl", payload: c, producedAt: now).erased())
            events.append("scheduled halt of \(account) at \(t.iso8601)")
        }
        let bar = ProgressLine(label: "backtest", enabled: progress == "on" || (progress == "auto" && isatty(2) == 1))
        let loadSeconds = Date().timeIntervalSince(started)
        let runStart = Date()
        let pipeline: InProcessPipeline
        do {
            pipeline = try backtest.run { done, total, t in bar.update(done, total, t) }
        } catch let e as InProcessPipeline.Stalled {
            bar.finish()
            printErr("opsctl backtest: FAILED: \(e.description)")
            throw ExitCode(1)
        }
        bar.finish()
        let runSeconds = Date().timeIntervalSince(runStart)
        if let dir = inputs.record { try pipeline.writeRecording(to: dir) }
        let collected = pipeline.collected
        let summary = try RunSummary.collect(source: SummarySource { collected[$0] ?? [] })
        let s = pipeline.stats
        let counts = [Topics.bars, Topics.chains, Topics.sentiment, Topics.ivDaily].map { "\($0.split(separator: ".")[1])=\(s.sourceMessages[$0] ?? 0)" }
        let feedLine = "published \(counts.joined(separator: " ")) rejected=\(source.deadLetters.count) minutes=\(s.sourceGroups)"
            + " from=\(s.first?.iso8601 ?? "-") to=\(s.last?.iso8601 ?? "-")"
        let bars = s.sourceMessages[Topics.bars] ?? 0
        events.append(String(format: "backtest: %d bars in %.2f s of cores (%.0f bars/s, %.0f market minutes/s); loading the data took %.2f s",
                             bars, runSeconds, Double(bars) / max(runSeconds, 1e-9), Double(s.sourceGroups) / max(runSeconds, 1e-9), loadSeconds))
        let statuses = pipeline.handledPerStage.map { ($0.0, "handled \($0.1)") }
        let report = summary.render(source: inputs.describeSource(), broker: "none (in process: simulated broker core)", feedLine: feedLine,
                                    statuses: statuses, events: events, record: inputs.record, logDir: "-",
                                    seconds: Date().timeIntervalSince(started))
        print(report.text)
        print("  " + events.last!)
        if let path = inputs.summaryJson { try report.json.write(toFile: path, atomically: true, encoding: .utf8) }
    }
}
