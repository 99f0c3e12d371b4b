import Foundation
import OpsModel
import OpsRuntime

/// A backtest: a market source run through the pipeline's cores in one process (`InProcessPipeline`), publishing
/// as the market-feed does — the source's own dead letters and any operator commands first, then one event time
/// after another, each followed by its watermark.
public struct Backtest {
    public var source: LoadedMarketSource
    public var cores: [any StreamCore]
    /// Operator commands published before the data (`--halt`), as `opsctl up` publishes them.
    public var controls: [AnyEnvelope] = []
    public var options = InProcessPipeline.Options()

    public init(source: LoadedMarketSource, cores: [any StreamCore]) {
        self.source = source
        self.cores = cores
    }

    /// The cores of every service in the graph, each built from its config as its executable would (`settings` are
    /// `SERVICE:KEY=VALUE`, as `opsctl up --service-set`).
    public static func cores(settings: [String]) throws -> [any StreamCore] {
        try ServiceGraph.services.map { service in
            try service.core(settings: settings.filter { $0.hasPrefix(service.name + ":") }.map { String($0.dropFirst(service.name.count + 1)) })
        }
    }

    /// Runs to the end of the source; `progress` gets (event times done, total, time) now and then.
    public func run(progress: ((Int, Int, Timestamp) -> Void)? = nil) throws -> InProcessPipeline {
        let topics = Set(source.events.map(\.topic)).union(Topics.marketSource)
        let pipeline = try InProcessPipeline(cores: cores, sourceTopics: Topics.marketSource.filter { topics.contains($0) }, options: options)
        pipeline.recordSourceDeadLetters(source.deadLetters, at: source.deadLetterTime)
        for c in controls {
            pipeline.publish(SourceEvent(topic: Topics.control, key: c.partitionKey, eventTime: c.eventTime, envelope: c))
        }
        let total = Self.distinctTimes(source.events)
        var done = 0
        var current: Timestamp?
        for e in source.events {
            if let t = current, t != e.eventTime {
                try pipeline.advanceSource(to: t)
                done += 1
                if done % 256 == 0 { progress?(done, total, t) }
            }
            current = e.eventTime
            pipeline.publish(e)
        }
        if let t = current {
            try pipeline.advanceSource(to: t)
            progress?(total, total, t)
        }
        try pipeline.finish()
        return pipeline
    }

    static func distinctTimes(_ events: [SourceEvent]) -> Int {
        var n = 0
        var last: Timestamp?
        for e in events where e.eventTime != last { n += 1; last = e.eventTime }
        return n
    }
}

extension InProcessPipeline {
    /// The rows a source could not read, as the market-feed publishes them (dead letters, before its first minute).
    func recordSourceDeadLetters(_ letters: [DeadLetter], at time: Timestamp) {
        for dl in letters {
            var env = Envelope(id: dl.id, eventTime: time, causationId: nil, source: dl.service, payload: dl).erased()
            env.producedAt = options.producedAt
            stats.deadLetters += 1
            if options.record { record(env, topic: topicIndex[Topics.deadLetter]!, copies: 1) }
            if options.collect.contains(Topics.deadLetter) { collected[Topics.deadLetter, default: []].append(env) }
        }
    }
}
