import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime

/// What a run produced, read back from the topics themselves.
struct RunSummary {
    var featuresOnTopic = 0
    var featuresDistinct = 0
    var perTicker: [String: Int] = [:]
    var ready: [String: Int] = [:]
    var sessions = Set<String>()
    var deadLetters: [String: Int] = [:]
    var deadLetterExamples: [String] = []

    static func collect(client: KafkaClientConfig, logger: Logger) throws -> RunSummary {
        var s = RunSummary()
        var seen = Set<String>()
        for e in try TopicReader.envelopes(client: client, topic: Topics.features, logger: logger) {
            s.featuresOnTopic += 1
            guard seen.insert(e.id).inserted, let f = e.payload as? FeatureVector else { continue }
            s.featuresDistinct += 1
            s.perTicker[f.ticker, default: 0] += 1
            s.sessions.insert(f.sessionDate.iso)
            for (k, v) in [("sma20", f.sma20), ("sma20_slope", f.sma20Slope), ("volume_ratio", f.volumeRatio), ("ret_15m", f.ret15m),
                           ("atr14", f.atr14), ("atm_iv", f.atmIv), ("sentiment", f.sentimentScore)] where v != nil {
                s.ready[k, default: 0] += 1
            }
        }
        var dlSeen = Set<String>()
        for e in try TopicReader.envelopes(client: client, topic: Topics.deadLetter, logger: logger) {
            guard dlSeen.insert(e.id).inserted, let d = e.payload as? DeadLetter else { continue }
            s.deadLetters["\(d.topic) \(d.errorKind)", default: 0] += 1
            if s.deadLetterExamples.count < 5 { s.deadLetterExamples.append("\(d.topic)@\(d.offset): \(d.reason)") }
        }
        return s
    }

    func render(source: String, broker: String, feedLine: String, statuses: [(String, String)], events: [String],
                record: String?, logDir: String, seconds: Double) -> (text: String, json: String) {
        func pct(_ k: String) -> String { featuresDistinct == 0 ? "-" : "\(ready[k] ?? 0)" }
        let published = feedLine.split(separator: "\n").last(where: { $0.hasPrefix("published") }).map(String.init) ?? "published: (no report)"
        var lines = [String]()
        lines.append("ops-pipeline run summary")
        lines.append("  source        \(source)")
        lines.append("  broker        \(broker)")
        lines.append("  feed          \(published.replacingOccurrences(of: "published ", with: ""))")
        lines.append("  features      \(featuresDistinct) distinct (\(featuresOnTopic) on the topic) over \(sessions.count) session(s): "
                     + perTicker.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        lines.append("  computed      sma20 \(pct("sma20")), slope \(pct("sma20_slope")), volume_ratio \(pct("volume_ratio")), ret_15m \(pct("ret_15m")), atr14 \(pct("atr14")), atm_iv \(pct("atm_iv")), sentiment \(pct("sentiment")) (the rest null: warm-up, gaps, session starts)")
        let dlTotal = deadLetters.values.reduce(0, +)
        lines.append("  dead letters  \(dlTotal)" + (dlTotal == 0 ? "" : ": " + deadLetters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        for ex in deadLetterExamples { lines.append("                  e.g. \(ex)") }
        for e in events where e.hasPrefix("fault") { lines.append("  fault         \(e)") }
        lines.append("  processes     " + statuses.map { "\($0.0) \($0.1)" }.joined(separator: "; "))
        if let record { lines.append("  recorded      \(record)/<topic>.jsonl") }
        lines.append("  logs          \(logDir)")
        lines.append(String(format: "  wall time     %.1f s", seconds))

        var obj: [String: Any] = [
            "features_distinct": featuresDistinct, "features_on_topic": featuresOnTopic, "features_per_ticker": perTicker,
            "computed": ready, "sessions": sessions.sorted(), "dead_letters": deadLetters, "dead_letters_total": dlTotal,
            "processes": Dictionary(statuses, uniquingKeysWith: { a, _ in a }), "events": events, "feed": published,
            "wall_seconds": seconds, "log_dir": logDir,
        ]
        if let record { obj["record_dir"] = record }
        let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted])) ?? Data()
        return (lines.joined(separator: "\n"), String(decoding: data, as: UTF8.self))
    }
}
