import OpsModel
import SignalCore

/// "Why no trade here?": a feature vector that gave no signal, re-judged with the signal engine's own rules
/// (`SignalCore.evaluate`, the chop window rebuilt from the ticker's earlier vectors of the session), then held
/// against each thing that could have stopped it — no trend, a veto, the confidence threshold, the watchlist, the
/// cooldown — and the nearest signals of the ticker before and after.
struct WhyNoSignal {
    let explainer: Explainer
    var record: RunRecord { explainer.record }
    var p: TradingParams.SignalParams { explainer.params.signals }

    func explain(_ e: AnyEnvelope, query: String) -> Explanation {
        let fv = e.payload as! FeatureVector
        var steps = explainer.watchlistStep(ticker: fv.ticker, at: e.eventTime).map { [$0] } ?? []
        steps += [ExplainSteps.bar(fv, e), ExplainSteps.features(fv, e)]
        let (evaluation, verdict) = judge(fv, e)
        var lines = evaluation?.rules.map { "\(ExplainSteps.mark($0.passed)) \($0.rule.padding(toLength: 10, withPad: " ", startingAt: 0)) \(ExplainSteps.f($0.contribution, 2, plus: true))  \($0.detail)" } ?? []
        lines.append("re-judged with the signal parameters given to explain (pass the run's --params for the run's own)")
        steps.append(Explanation.Step(stage: "evaluation", time: e.eventTime, title: verdict, lines: lines))
        steps += nearestSignals(fv.ticker, around: e.eventTime)
        return Explanation(query: query, headline: "no signal for \(fv.ticker) at \(Explanation.newYork(e.eventTime)): \(verdict)", steps: steps)
    }

    /// The rules' evaluation and the first reason it gave no signal.
    private func judge(_ fv: FeatureVector, _ e: AnyEnvelope) -> (SignalCore.Evaluation?, String) {
        guard let ev = SignalCore.evaluate(fv, params: p, chop: chop(fv, e.eventTime)) else {
            guard let sma = fv.sma20, let slope = fv.sma20Slope, fv.distanceSma20 != nil else {
                return (nil, "no trend yet: sma20, its slope or the distance from it is not computed (warm-up or a gap)")
            }
            return (nil, "no trend: close \(ExplainSteps.f(fv.bar.close)) vs sma20 \(ExplainSteps.f(sma)) with slope \(ExplainSteps.f(slope, 5))/bar "
                    + "is neither above with slope ≥ \(ExplainSteps.f(p.slopeMin, 5)) nor below with slope ≤ \(ExplainSteps.f(-p.slopeMin, 5))")
        }
        if let veto = ev.vetoes.first {
            return (ev, veto == "chop" ? "vetoed by the chop filter (a ranging market)" : "vetoed: \(veto) not confirmed (signals.momentum_mode is required)")
        }
        if ev.confidence < p.minConfidence {
            return (ev, "\(ev.direction.rawValue) confidence \(ExplainSteps.f(ev.confidence, 4)) < signals.min_confidence \(ExplainSteps.f(p.minConfidence, 2))")
        }
        if let list = explainer.latestWatchlist(at: e.eventTime)?.payload,
           !list.tickers.contains(fv.ticker) {
            return (ev, "\(fv.ticker) is not on the watchlist (\(list.tickers.joined(separator: ", ")))")
        }
        let since = e.eventTime - Minutes(p.cooldownMinutes)
        if let last = (explainer.signalsByTicker[fv.ticker] ?? []).last(where: {
            $0.payload.direction == ev.direction && $0.envelope.eventTime < e.eventTime && $0.envelope.eventTime > since
        }) {
            return (ev, "cooling down: the last \(ev.direction.rawValue) signal of \(fv.ticker) was at \(Explanation.clock(last.envelope.eventTime)), "
                    + "within signals.cooldown_minutes \(p.cooldownMinutes)")
        }
        return (ev, "these parameters would signal \(ev.direction.rawValue) at confidence \(ExplainSteps.f(ev.confidence, 4)): the run's parameters differed")
    }

    /// The chop measure over the ticker's vectors of the session up to this one, as the signal engine keeps it.
    private func chop(_ fv: FeatureVector, _ t: Timestamp) -> ChopMeasure {
        let window = (explainer.featuresByTicker[fv.ticker] ?? [])
            .filter { $0.payload.sessionDate == fv.sessionDate && $0.envelope.eventTime <= t }
            .suffix(p.chopLookback).map { ChopMeasure.Sample($0.payload) }
        return ChopMeasure(window: Array(window), params: p)
    }

    private func nearestSignals(_ ticker: String, around t: Timestamp) -> [Explanation.Step] {
        let signals = explainer.signalsByTicker[ticker] ?? []
        let before = signals.last { $0.envelope.eventTime < t }, after = signals.first { $0.envelope.eventTime > t }
        return [("before", before), ("after", after)].compactMap { label, s in
            s.map { s in
                Explanation.Step(stage: "nearby", time: s.envelope.eventTime,
                                 title: "nearest \(ticker) signal \(label): \(s.payload.direction.rawValue), confidence \(ExplainSteps.f(s.payload.confidence)) (explain \(s.envelope.id))",
                                 topic: Topics.signals, envelope: s.envelope)
            }
        }
    }
}
