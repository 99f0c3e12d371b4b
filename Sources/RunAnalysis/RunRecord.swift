import OpsModel

/// What a run published, read once and indexed for questions about it: every distinct envelope of the topics an
/// explanation or a report reads, by topic in event-time order, by id, by what caused it, and the position events by
/// position. Built from a recording or from live topics (the loader says which); pure from here on.
public struct RunRecord: Sendable {
    /// The topics read: everything a trade's story touches. Bars come inside feature vectors and chains inside
    /// fills (their quote), so the market topics, by far the largest, are not needed.
    public static let topics = [Topics.features, Topics.watchlist, Topics.signals, Topics.decisions, Topics.orders,
                                Topics.orderEvents, Topics.fills, Topics.positions, Topics.accounts, Topics.greeks,
                                Topics.deadLetter]

    public private(set) var byTopic: [String: [AnyEnvelope]] = [:]
    public private(set) var byId: [String: (topic: String, envelope: AnyEnvelope)] = [:]
    /// Envelope ids by their `causation_id`.
    public private(set) var effects: [String: [String]] = [:]
    public private(set) var positionEvents: [String: [AnyEnvelope]] = [:]

    /// `load` returns a topic's envelopes (watermarks left out); copies of one id (redeliveries, a broadcast's
    /// partitions) are kept once.
    public init(load: (String) throws -> [AnyEnvelope]) rethrows {
        for topic in Self.topics {
            var kept = [AnyEnvelope]()
            for e in try load(topic) where !(e.payload is Watermark) && byId[e.id] == nil {
                byId[e.id] = (topic, e)
                kept.append(e)
                if let c = e.causationId { effects[c, default: []].append(e.id) }
                if let p = e.payload as? PositionEvent { positionEvents[p.positionId, default: []].append(e) }
            }
            byTopic[topic] = kept.sorted { ($0.eventTime, $0.id) < ($1.eventTime, $1.id) }
        }
        for k in positionEvents.keys { positionEvents[k]!.sort { ($0.eventTime, $0.id) < ($1.eventTime, $1.id) } }
    }

    /// Every `P` on `topic` with its envelope, in event-time order.
    public func messages<P: Payload>(_ topic: String, _: P.Type = P.self) -> [(envelope: AnyEnvelope, payload: P)] {
        (byTopic[topic] ?? []).compactMap { e in (e.payload as? P).map { (e, $0) } }
    }

    public func payload<P: Payload>(_ id: String, _: P.Type = P.self) -> (envelope: AnyEnvelope, payload: P)? {
        guard let e = byId[id]?.envelope, let p = e.payload as? P else { return nil }
        return (e, p)
    }

    /// Messages read per topic, for "where it looked" in an error.
    public var counts: [(topic: String, messages: Int)] { Self.topics.map { ($0, byTopic[$0]?.count ?? 0) } }
}
