import Foundation
import MarketData
import OpsModel
import Pipeline
import RunAnalysis
import Testing

/// A synthetic run through the pipeline's cores (in process), kept once for every test of this target.
enum SyntheticRun {
    static let record: RunRecord = {
        var spec = MarketSourceSpec()
        spec.synthetic = 42
        spec.sessions = 3
        let settings = ["broker-gateway:account_size=100000"] + ServiceGraph.simulatedBrokerSettings
        var bt = Backtest(source: try! spec.load(), cores: try! Backtest.cores(settings: settings))
        bt.options.collect = Set(RunRecord.topics)
        let collected = try! bt.run().collected
        return RunRecord { collected[$0] ?? [] }
    }()
}

@Suite("opsctl explain: a trade's causal chain from a recording")
struct ExplainTests {
    let record = SyntheticRun.record
    let explainer = Explainer(record: SyntheticRun.record)

    var closedPositions: [String] {
        record.messages(Topics.positions, PositionEvent.self).filter { $0.payload.event == .closed }.map(\.payload.positionId)
    }

    @Test("a closed trade is told from its bar to its P&L, in that order, each step with its message")
    func wholeChain() throws {
        let positions = closedPositions
        #expect(!positions.isEmpty, "the synthetic run closes trades")
        for p in positions {
            let e = try explainer.explain(id: p)
            let stages = e.steps.map(\.stage)
            #expect(Array(stages.filter { ["bar", "features", "signal", "decision"].contains($0) }.prefix(4)) == ["bar", "features", "signal", "decision"], "\(stages)")
            #expect(stages.last == "result")
            for required in ["order", "order_event", "fill", "position"] { #expect(stages.contains(required), "\(p): \(stages)") }
            #expect(stages.firstIndex(of: "decision")! < stages.firstIndex(of: "order")!)
            let closed = e.steps.first { ($0.envelope?.payload as? PositionEvent)?.event == .closed }
            let realized = (closed?.envelope?.payload as? PositionEvent)?.realizedPnlCents
            #expect(e.steps.last?.title.contains(Money.dollars(realized ?? .min)) == true, "\(e.steps.last?.title ?? "")")
            #expect(e.headline.contains("realized \(Money.dollars(realized ?? .min))"))
            let ids = Set(e.steps.compactMap { $0.envelope?.id })
            let exits = record.messages(Topics.fills, Fill.self).filter { $0.payload.positionId == p }.map(\.envelope.id)
            #expect(!exits.isEmpty && exits.allSatisfy(ids.contains), "every exit fill of \(p) is in its chain")
            let exitOrders = record.messages(Topics.orders, OrderCommand.self).filter { $0.payload.positionId == p }.map(\.envelope.id)
            #expect(exitOrders.allSatisfy(ids.contains), "every exit order of \(p) is in its chain")
            let times = e.steps.filter { $0.stage != "result" }.map(\.time)
            #expect(times == times.sorted(), "steps in event-time order")
        }
    }

    @Test("every id of the chain explains the same trade")
    func everyIdSameChain() throws {
        let p = try #require(closedPositions.first)
        let reference = try explainer.explain(id: p).steps.compactMap { $0.envelope?.id }
        let watchlists = Set(record.byTopic[Topics.watchlist]!.map(\.id))
        for id in reference where !watchlists.contains(id) { #expect(try explainer.explain(id: id).steps.compactMap { $0.envelope?.id } == reference, "from \(id)") }
    }

    @Test("each decision gate is shown with its verdict, value and limit")
    func gatesShown() throws {
        let (e, d) = try #require(record.messages(Topics.decisions, Decision.self).first { $0.payload.outcome == .skip })
        let x = try explainer.explain(id: e.id)
        let step = try #require(x.steps.first { $0.stage == "decision" && $0.envelope?.id == e.id })
        for g in d.gates {
            #expect(step.lines.contains { $0.hasPrefix(g.passed ? "✓ \(g.gate)" : "✗ \(g.gate)") && (g.value.map($0.contains) ?? true) && (g.limit.map($0.contains) ?? true) }, "\(g.gate)")
        }
        #expect(step.title.contains("SKIP at \(d.skipReason!)"))
        #expect(x.headline.contains("skipped at \(d.skipReason!)"))
    }

    @Test("an unknown id is a clear error naming where it looked")
    func unknownId() {
        let error = #expect(throws: ExplainError.self) { try explainer.explain(id: "no-such-id") }
        #expect(error?.description.contains("no message or position with id 'no-such-id'") == true)
        #expect(error?.description.contains("\(Topics.decisions) \(record.byTopic[Topics.decisions]!.count)") == true)
        #expect(error?.description.contains("--ticker") == true, "says what to type instead")
    }

    @Test("why no signal: every vector that gave none is re-judged to the same verdict as the signal engine's")
    func whyNotAgreesWithTheSignalEngine() throws {
        let signalled = Set(record.messages(Topics.signals, Signal.self).map(\.payload.featuresId))
        var verdicts = [String: Int]()
        for (e, _) in record.messages(Topics.features, FeatureVector.self) where !signalled.contains(e.id) {
            let x = try explainer.explain(id: e.id)
            let verdict = try #require(x.steps.first { $0.stage == "evaluation" }).title
            #expect(!verdict.contains("would signal"), "the re-judged rules disagree with the run at \(e.id): \(verdict)")
            verdicts[String(verdict.prefix(12)), default: 0] += 1
        }
        #expect(verdicts.count >= 2, "several kinds of reasons: \(verdicts)")
    }

    @Test("asking by ticker and time finds the signal of that minute, or the vector before it")
    func byTickerAndTime() throws {
        let (e, s) = try #require(record.messages(Topics.signals, Signal.self).first)
        let x = try explainer.explain(ticker: s.ticker, at: e.eventTime.adding(ms: 30_000))
        #expect(x.steps.contains { $0.envelope?.id == e.id })
        let early = #expect(throws: ExplainError.self) { try explainer.explain(ticker: s.ticker, at: Timestamp(ms: 0)) }
        #expect(early?.description.contains("no feature vector of \(s.ticker)") == true)
    }

    @Test("JSON carries every step with its whole message")
    func json() throws {
        let p = try #require(closedPositions.first)
        let x = try explainer.explain(id: p)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(x.json.utf8)) as? [String: Any])
        let steps = try #require(obj["steps"] as? [[String: Any]])
        #expect(steps.count == x.steps.count)
        for (s, step) in zip(steps, x.steps) where step.envelope != nil {
            let message = try #require(s["message"] as? [String: Any])
            #expect(message["id"] as? String == step.envelope!.id)
            #expect(s["stage"] as? String == step.stage)
        }
    }
}
