import OpsModel
import Testing
@testable import OpsRuntime

/// A broadcast output (the watchlist) goes to every partition of its topic, the same envelope on each, so every
/// consumer replica sees it whichever partitions it owns; any other output goes to its key's partition.
@Suite("Broadcast outputs")
struct BroadcastTests {
    static let envelope = Envelope(id: "w-1", eventTime: Timestamp(ms: 0), causationId: nil, source: "t",
                                   payload: SentimentScore(ticker: "SPY", score: 0.5, source: "t")).erased()

    @Test("a broadcast is one record per partition; a keyed output is one record for the partitioner", arguments: [1, 3, 4] as [Int32])
    func partitions(count: Int32) {
        let all = StreamMachine<NoCore>.partitions(of: Emit("t", Self.envelope, broadcast: true), count: count)
        #expect(all == (0..<count).map { Optional($0) })
        #expect(StreamMachine<NoCore>.partitions(of: Emit("t", Self.envelope), count: count) == [nil])
    }

    @Test("the watchlist topic has as many partitions as the features topic, so replicas split both alike")
    func watchlistPartitions() {
        #expect(Topics.spec(Topics.watchlist)?.partitions == Topics.spec(Topics.features)?.partitions)
    }
}

/// A core that does nothing: only to name a `StreamProcessor` type.
struct NoCore: StreamCore {
    var serviceName: String { "none" }
    var inputTopics: [String] { [] }
    var outputTopics: [String] { [] }
    mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] { [] }
    func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp { .distantPast }
    mutating func reset() {}
}
