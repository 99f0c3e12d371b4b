import OpsModel

/// A bounded pending buffer (the merger's inputs waiting for the watermark). When it holds `limit` inputs or more, the
/// partitions whose watermark is ahead of the input watermark are paused: what they would add cannot be released
/// before the slowest partitions catch up, so it can wait in Kafka instead of in memory. A partition at the input
/// watermark (or without one yet) is never paused — it is what the watermark waits for, and pausing it would stop the
/// service — and neither is a side topic (operator commands, parameter changes: few and never waited for). Below half
/// the limit every partition is read again. Decided afresh every round, so a paused partition that becomes the
/// slowest is resumed at once.
public struct PendingLimit: Sendable, Equatable {
    public var limit: Int

    public init(limit: Int) { self.limit = limit }

    /// The partitions to have paused after this round, given what is paused now.
    public func paused(pending: Int, inputWatermark: Timestamp?, watermarks: [PartitionID: Timestamp?], sideTopics: Set<String>,
                       pausedNow: Set<PartitionID>) -> Set<PartitionID> {
        let over = pending >= limit
        let keep = pending >= limit / 2 && !pausedNow.isEmpty
        guard over || keep, let low = inputWatermark else { return [] }
        var out = Set<PartitionID>()
        for (p, w) in watermarks where !sideTopics.contains(p.topic) {
            guard let w, w > low else { continue }
            if over || pausedNow.contains(p) { out.insert(p) }
        }
        return out
    }
}
