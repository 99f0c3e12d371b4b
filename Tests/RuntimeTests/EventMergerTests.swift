import Foundation
import Testing
@testable import OpsRuntime
import OpsModel

@Suite("EventMerger")
struct EventMergerTests {
    static let t0 = Timestamp(iso8601: "2024-03-12T14:00:00Z")!

    static func bar(_ ticker: String, _ minute: Int) -> AnyEnvelope {
        MarketEvent.bar(Bar(ticker: ticker, start: t0 + Minutes(minute - 1), open: 1, high: 1, low: 1, close: 1, volume: 1)).envelope(source: "t")
    }

    static func wm(_ minute: Int, topic: String = "source:feed", partitions: [Int32] = [0], of: Int32 = 1) -> Watermark {
        Watermark(producer: "feed", covers: [Watermark.Coverage(topic: topic, partitions: partitions, of: of)])
    }

    static func pending(_ e: AnyEnvelope, _ p: PartitionID, _ offset: Int64, rank: Int = 0) -> PendingEvent {
        PendingEvent(envelope: e, source: p, offset: offset, rank: rank, key: e.partitionKey, raw: [], rawKey: nil)
    }

    @Test func holdsEventsUntilEveryPartitionHasPromisedPastThem() throws {
        let p0 = PartitionID("bars", 0), p1 = PartitionID("bars", 1)
        var m = EventMerger(topicRanks: ["bars"])
        m.assign([p0, p1])
        try m.add(Self.pending(Self.bar("SPY", 1), p0, 0))
        m.watermark(Self.wm(1), time: Self.t0 + Minutes(1), at: p0, offset: 1)
        #expect(m.release().isEmpty, "partition 1 has promised nothing yet")
        #expect(m.inputWatermark == nil)
        m.watermark(Self.wm(1), time: Self.t0 + Minutes(1), at: p1, offset: 0)
        #expect(m.release().map(\.envelope.id) == [Self.bar("SPY", 1).id])
    }

    /// Two replicas sharing out accounts both read every input partition, so their input coverage alone would let the
    /// faster one speak for both; the share each names keeps a consumer at the slower replica's promise.
    @Test func replicasSharingOutAccountsAreEachWaitedFor() throws {
        let orders = PartitionID("orders", 0)
        var m = EventMerger(topicRanks: ["orders"])
        m.assign([orders])
        func promise(_ share: Int, _ minute: Int, offset: Int64) {
            let input = Watermark.Coverage(topic: "signals", partitions: [0, 1], of: 2)
            let wm = Watermark(producer: "dispatcher", covers: [input, AccountShare(index: share, count: 2).coverage(service: "dispatcher")!])
            m.watermark(wm, time: Self.t0 + Minutes(minute), at: orders, offset: offset)
        }
        promise(0, 10, offset: 0)
        #expect(m.watermark(of: orders) == nil, "the second replica has promised nothing yet")
        promise(1, 4, offset: 1)
        #expect(m.watermark(of: orders) == Self.t0 + Minutes(4), "the slower replica holds the partition back")
        promise(1, 12, offset: 2)
        #expect(m.watermark(of: orders) == Self.t0 + Minutes(10))
        #expect(AccountShare.whole.coverage(service: "dispatcher") == nil, "one replica adds nothing to its watermarks")
        // Scaled back to one instance: the shares' old promises stop holding the partition back.
        let alone = Watermark(producer: "dispatcher", covers: [Watermark.Coverage(topic: "signals", partitions: [0, 1], of: 2)])
        m.watermark(alone, time: Self.t0 + Minutes(11), at: orders, offset: 3)
        #expect(m.watermark(of: orders) == Self.t0 + Minutes(12), "the input slot holds the latest promise; no share slot is left")
        promise(0, 13, offset: 4)
        #expect(m.watermark(of: orders) == nil, "scaled out again: the other share has not spoken since")
    }

    /// What a commit may store as the partition's watermark floor: never at or past an input still buffered (after
    /// a restart it is read again from the committed offset, and a higher floor would refuse it as late).
    @Test func earliestPendingTimePerPartition() throws {
        let p0 = PartitionID("bars", 0), p1 = PartitionID("bars", 1), s0 = PartitionID("sentiment", 0)
        var m = EventMerger(topicRanks: ["sentiment", "bars"])
        m.assign([p0, p1, s0])
        try m.add(Self.pending(Self.bar("SPY", 3), p0, 0, rank: 1))
        try m.add(Self.pending(Self.bar("QQQ", 2), p1, 0, rank: 1))
        try m.add(Self.pending(Self.bar("SPY", 1), p1, 1, rank: 1))
        #expect(m.earliestPendingTimes() == [p0: Self.t0 + Minutes(3), p1: Self.t0 + Minutes(1)])
        m.watermark(Self.wm(5), time: Self.t0 + Minutes(5), at: p0, offset: 1)
        m.watermark(Self.wm(1), time: Self.t0 + Minutes(1), at: p1, offset: 2)
        m.watermark(Self.wm(5), time: Self.t0 + Minutes(5), at: s0, offset: 0)
        #expect(m.release().map(\.envelope.id) == [Self.bar("SPY", 1).id])
        #expect(m.earliestPendingTimes() == [p0: Self.t0 + Minutes(3), p1: Self.t0 + Minutes(2)], "the released one is gone")
        #expect(m.watermark(of: p0) == Self.t0 + Minutes(5), "the partition promised past its buffered input")
    }

    /// `QuietInputs`: a topic the state vouches for is taken as promised up to just before what its enders could still
    /// bring, one step at a time as the enders' inputs are handled; never past `until`; and what then arrives behind
    /// such a promise is refused as late. The partition's own watermark (what a commit stores) is left alone.
    @Test func quietInputsReleaseWithoutTheirWatermarksAndRefuseWhatComesBehind() throws {
        let decisions = PartitionID("decisions", 0), fills = PartitionID("fills", 0), bars = PartitionID("bars", 0)
        let events = PartitionID("events", 0)
        func setUp() throws -> EventMerger {
            var m = EventMerger(topicRanks: ["decisions", "fills", "bars", "events"])
            m.assign([decisions, fills, bars, events])
            for minute in 1...3 { try m.add(Self.pending(Self.bar("SPY", minute), bars, Int64(minute - 1), rank: 2)) }
            m.watermark(Self.wm(10, topic: "bars"), time: Self.t0 + Minutes(10), at: bars, offset: 3)
            m.watermark(Self.wm(10, topic: "signals"), time: Self.t0 + Minutes(10), at: decisions, offset: 0)
            return m
        }
        let quiet = QuietInputs(name: "nothing-ordered", enders: ["events": ["decisions": 0, "bars": 0], "fills": ["decisions": 1, "bars": 1]])
        var m = try setUp()
        #expect(m.release().isEmpty, "the broker's topics have promised nothing")
        var released = [String]()
        for _ in 0..<5 {
            m.vouch(quiet)
            released += m.release().map(\.envelope.id)
        }
        #expect(released == (1...3).map { Self.bar("SPY", $0).id }, "each bar once its earlier ones are handled: one a release")
        #expect(m.watermark(of: fills) == nil && m.watermark(of: events) == nil, "a commit keeps only the topics' own promises")
        #expect(m.outputWatermark(causes: ["fills": 0]) == (Self.t0 + Minutes(10)).adding(ms: 1), "outputs caused by fills follow the vouched promise (a fill comes strictly after its order)")
        let late = Self.pending(Self.bar("SPY", 2), events, 0, rank: 3)
        #expect(throws: MessageError.self, "an answer behind what the state vouched for") { try m.add(late) }
        m.vouch(nil)
        #expect(m.outputWatermark(causes: ["fills": 0]) == nil, "nothing vouched: the topic's own promise (none)")

        var capped = try setUp()
        var withUntil = quiet
        withUntil.until = ["fills": Self.t0 + Minutes(2), "events": Self.t0 + Minutes(2)]
        var first = [String]()
        for _ in 0..<5 {
            capped.vouch(withUntil)
            first += capped.release().map(\.envelope.id)
        }
        #expect(first == [Self.bar("SPY", 1).id], "from `until` on a fill may come without an order (a settlement)")

        // Quiet topics ending each other's quiet (decisions open positions whose fills… ; fills make positions a
        // chain's decision adds to): neither producer has promised anything, the loop's delays are positive, and the
        // bars go through as they would with one of them promised by its own watermark.
        var both = EventMerger(topicRanks: ["decisions", "fills", "bars", "events"])
        both.assign([decisions, fills, bars, events])
        for minute in 1...3 { try both.add(Self.pending(Self.bar("SPY", minute), bars, Int64(minute - 1), rank: 2)) }
        both.watermark(Self.wm(10, topic: "bars"), time: Self.t0 + Minutes(10), at: bars, offset: 3)
        let loop = QuietInputs(name: "loop", enders: ["decisions": ["fills": 1, "bars": 1], "fills": ["decisions": 1, "bars": 1],
                                                      "events": ["decisions": 0, "bars": 0]])
        var all = [String]()
        for _ in 0..<5 {
            both.vouch(loop)
            all += both.release().map(\.envelope.id)
        }
        #expect(all == (1...3).map { Self.bar("SPY", $0).id })
        #expect(both.outputWatermark(causes: ["decisions": 0]) == (Self.t0 + Minutes(10)).adding(ms: 1), "a decision only after a bar past 10")
    }

    @Test func releaseOrderIsCanonicalWhateverTheArrival() throws {
        let p0 = PartitionID("bars", 0), p1 = PartitionID("bars", 1), s0 = PartitionID("sentiment", 0)
        let events: [(AnyEnvelope, PartitionID, Int)] = [
            (Self.bar("QQQ", 2), p1, 1), (Self.bar("SPY", 1), p0, 1), (Self.bar("AAPL", 1), p1, 1), (Self.bar("SPY", 2), p0, 1),
            (MarketEvent.sentiment(SentimentScore(ticker: "SPY", score: 0.1, source: "x"), at: Self.t0 + Minutes(1)).envelope(source: "t"), s0, 0),
        ]
        var orders = Set<[String]>()
        for perm in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]] {
            var m = EventMerger(topicRanks: ["sentiment", "bars"])
            m.assign([p0, p1, s0])
            var offsets = [PartitionID: Int64]()
            for i in perm {
                let (e, p, _) = events[i]
                try m.add(Self.pending(e, p, offsets[p, default: 0], rank: events[i].2 == 0 ? 0 : 1))
                offsets[p, default: 0] += 1
            }
            for p in [p0, p1, s0] { m.watermark(Self.wm(2), time: Self.t0 + Minutes(2), at: p, offset: offsets[p, default: 0]) }
            orders.insert(m.release().map { "\($0.envelope.eventTime.iso8601) \($0.envelope.partitionKey) \($0.envelope.type)" })
        }
        #expect(orders.count == 1)
        #expect(orders.first == [
            "2024-03-12T14:01:00Z SPY sentiment", "2024-03-12T14:01:00Z AAPL bar", "2024-03-12T14:01:00Z SPY bar",
            "2024-03-12T14:02:00Z QQQ bar", "2024-03-12T14:02:00Z SPY bar",
        ])
    }

    @Test func partitionWatermarkNeedsEveryUpstreamPartition() {
        let p = PartitionID("features", 0)
        var m = EventMerger(topicRanks: ["features"])
        m.assign([p])
        // Two replicas upstream, each owning two of four bars partitions.
        m.watermark(Self.wm(5, topic: "bars", partitions: [0, 1], of: 4), time: Self.t0 + Minutes(5), at: p, offset: 0)
        #expect(m.watermark(of: p) == nil)
        m.watermark(Self.wm(3, topic: "bars", partitions: [2, 3], of: 4), time: Self.t0 + Minutes(3), at: p, offset: 1)
        #expect(m.watermark(of: p) == Self.t0 + Minutes(3))
        // An older promise never moves a partition back.
        m.watermark(Self.wm(1, topic: "bars", partitions: [0, 1, 2, 3], of: 4), time: Self.t0 + Minutes(1), at: p, offset: 2)
        #expect(m.watermark(of: p) == Self.t0 + Minutes(3))
    }

    static func wm(producer: String, _ topic: String, of: Int32 = 1) -> Watermark {
        Watermark(producer: producer, covers: [Watermark.Coverage(topic: topic, partitions: Array(0..<of), of: of)])
    }

    static func signal(_ minute: Int) -> AnyEnvelope {
        let s = Signal(ticker: "SPY", direction: .bull, instrument: .call, strategy: .dayTrade, confidence: 0.5, volumeRatio: 1,
                       price: 1, featuresId: "f\(minute)", rules: [], reason: "r")
        return Envelope(id: "sig-\(minute)", eventTime: t0 + Minutes(minute), causationId: nil, source: "t", payload: s).erased()
    }

    @Test("a feedback topic ranked later only has to reach t − 1 ms: same-time feedback sorts after the trigger")
    func laterRankedTopicsNeedOnlyJustBefore() throws {
        let sig = PartitionID(Topics.signals, 0), acc = PartitionID(Topics.accounts, 0)
        var m = EventMerger(topicRanks: [Topics.signals, Topics.accounts])
        m.assign([sig, acc])
        try m.add(Self.pending(Self.signal(5), sig, 0, rank: 0))
        m.watermark(Self.wm(producer: "signal-engine", "features"), time: Self.t0 + Minutes(5), at: sig, offset: 1)
        m.watermark(Self.wm(producer: "broker-gateway", "orders"), time: (Self.t0 + Minutes(5)).adding(ms: -2), at: acc, offset: 0)
        #expect(m.release().isEmpty, "accounts promised only up to t − 2 ms")
        m.watermark(Self.wm(producer: "broker-gateway", "orders"), time: (Self.t0 + Minutes(5)).adding(ms: -1), at: acc, offset: 1)
        #expect(m.release().count == 1)
    }

    @Test("a topic written by two services waits for both, each in its own slot")
    func expectedProducersAndSlots() {
        let p = PartitionID(Topics.orders, 0)
        var m = EventMerger(topicRanks: [Topics.orders], expectedProducers: [Topics.orders: ["dispatcher", "position-manager"]])
        m.assign([p])
        m.watermark(Self.wm(producer: "dispatcher", Topics.chains), time: Self.t0 + Minutes(9), at: p, offset: 0)
        #expect(m.watermark(of: p) == nil, "the position-manager has promised nothing yet")
        m.watermark(Self.wm(producer: "position-manager", Topics.chains), time: Self.t0 + Minutes(4), at: p, offset: 1)
        #expect(m.watermark(of: p) == Self.t0 + Minutes(4), "both read chains: their promises do not overwrite each other")
    }

    @Test("output watermarks follow the declared causes and delays")
    func outputWatermarks() throws {
        let orders = PartitionID(Topics.orders, 0), chains = PartitionID(Topics.chains, 0)
        var m = EventMerger(topicRanks: [Topics.chains, Topics.orders])
        m.assign([chains, orders])
        m.watermark(Self.wm(producer: "feed", "source:feed"), time: Self.t0 + Minutes(10), at: chains, offset: 0)
        m.watermark(Self.wm(producer: "dispatcher", Topics.signals), time: Self.t0 + Minutes(7), at: orders, offset: 0)
        // Fills: from chains at their time, from orders strictly after.
        #expect(m.outputWatermark(causes: [Topics.chains: 0, Topics.orders: 1]) == (Self.t0 + Minutes(7)).adding(ms: 1))
        #expect(m.outputWatermark(causes: [Topics.chains: 0, Topics.orders: 0]) == Self.t0 + Minutes(7))
        #expect(m.outputWatermark(causes: [Topics.chains: 0]) == Self.t0 + Minutes(10))
        // A pending chain holds the promise just before its time.
        let chain = MarketEvent.chain(OptionChain(underlying: "SPY", underlyingPrice: 1, asOf: Self.t0 + Minutes(11), contracts: [])).envelope(source: "t")
        try m.add(Self.pending(chain, chains, 1))
        #expect(m.outputWatermark(causes: [Topics.chains: 0]) == Self.t0 + Minutes(10))
        m.watermark(Self.wm(producer: "feed", "source:feed"), time: Self.t0 + Minutes(12), at: chains, offset: 2)
        #expect(m.outputWatermark(causes: [Topics.chains: 0]) == (Self.t0 + Minutes(11)).adding(ms: -1))
    }

    @Test("a lookahead narrows the causes: ruled-out inputs hold nothing back, a listed input (even undeclared) does, until causes resume")
    func lookaheadNarrowsOutputWatermarks() throws {
        let orders = PartitionID(Topics.orders, 0), chains = PartitionID(Topics.chains, 0), decisions = PartitionID(Topics.decisions, 0)
        var m = EventMerger(topicRanks: [Topics.decisions, Topics.chains, Topics.orders])
        m.assign([decisions, chains, orders])
        m.watermark(Self.wm(producer: "feed", "source:feed"), time: Self.t0 + Minutes(10), at: chains, offset: 0)
        m.watermark(Self.wm(producer: "dispatcher", Topics.signals), time: Self.t0 + Minutes(30), at: orders, offset: 0)
        m.watermark(Self.wm(producer: "dispatcher", Topics.signals), time: Self.t0 + Minutes(40), at: decisions, offset: 0)
        let declared: [String: Int64] = [Topics.chains: 0, Topics.orders: 1]
        #expect(m.outputWatermark(causes: declared) == Self.t0 + Minutes(10), "declared: every chain may fill")
        let quiet = Lookahead(name: "quiet", causes: [Topics.fills: [Topics.orders: 1]])
        #expect(m.outputWatermark(causes: declared, lookahead: quiet, output: Topics.fills) == (Self.t0 + Minutes(30)).adding(ms: 1),
                "no working order: only an order (strictly after it) fills")
        let untilExpiry = Lookahead(name: "held", causes: [Topics.fills: [Topics.orders: 1]], resumesAt: Self.t0 + Minutes(20))
        #expect(m.outputWatermark(causes: declared, lookahead: untilExpiry, output: Topics.fills) == (Self.t0 + Minutes(20)).adding(ms: -1),
                "chains settle again from the expiry close on")
        let answers = Lookahead(name: "idle", causes: [Topics.positions: [Topics.decisions: 1]])
        #expect(m.outputWatermark(causes: [Topics.chains: 0], lookahead: answers, output: Topics.positions) == (Self.t0 + Minutes(40)).adding(ms: 1),
                "an input that only changes state in general causes output under this lookahead")
    }

    @Test("a stalled input watermark names the partition and the service it waits on")
    func slowestPromiseNamesWhoIsWaitedOn() {
        let p = PartitionID(Topics.orders, 0), c = PartitionID(Topics.chains, 0)
        var m = EventMerger(topicRanks: [Topics.chains, Topics.orders], expectedProducers: [Topics.orders: ["dispatcher", "position-manager"]])
        m.assign([c, p])
        m.watermark(Self.wm(producer: "feed", "source:feed"), time: Self.t0 + Minutes(10), at: c, offset: 0)
        m.watermark(Self.wm(producer: "dispatcher", Topics.chains), time: Self.t0 + Minutes(9), at: p, offset: 0)
        var slow = m.slowestPromise()
        #expect(slow?.partition == p && slow?.producer == "position-manager" && slow?.watermark == nil, "never heard from")
        m.watermark(Self.wm(producer: "position-manager", Topics.chains), time: Self.t0 + Minutes(4), at: p, offset: 1)
        slow = m.slowestPromise()
        #expect(slow?.partition == p && slow?.producer == "position-manager" && slow?.watermark == Self.t0 + Minutes(4))
        m.watermark(Self.wm(producer: "position-manager", Topics.chains), time: Self.t0 + Minutes(12), at: p, offset: 2)
        slow = m.slowestPromise()
        #expect(slow?.partition == p && slow?.producer == "dispatcher" && slow?.watermark == Self.t0 + Minutes(9))
    }

    @Test func lateEventsAreRefused() throws {
        let p = PartitionID("bars", 0)
        var m = EventMerger(topicRanks: ["bars"])
        m.assign([p])
        m.watermark(Self.wm(5), time: Self.t0 + Minutes(5), at: p, offset: 0)
        #expect(throws: MessageError.self) { try m.add(Self.pending(Self.bar("SPY", 5), p, 1)) }
        try m.add(Self.pending(Self.bar("SPY", 6), p, 2))
        #expect(m.committable()[p]?.offset == 2, "the late one is consumed; the pending one holds the commit back")
    }

    @Test func committableOffsetStopsAtTheOldestUnreleasedEvent() throws {
        let p = PartitionID("bars", 0)
        var m = EventMerger(topicRanks: ["bars"])
        m.assign([p])
        try m.add(Self.pending(Self.bar("SPY", 1), p, 10))
        try m.add(Self.pending(Self.bar("SPY", 2), p, 11))
        m.watermark(Self.wm(1), time: Self.t0 + Minutes(1), at: p, offset: 12)
        #expect(m.release().count == 1)
        #expect(m.committable()[p]?.offset == 11)
        #expect(m.committable()[p]?.lastReleased == Self.t0 + Minutes(1))
        m.watermark(Self.wm(2), time: Self.t0 + Minutes(2), at: p, offset: 13)
        #expect(m.release().count == 1)
        #expect(m.committable()[p]?.offset == 14)
    }

    @Test("a duplicate copy counts as processed at its time on its own partition: a restart rewinds that partition to it")
    func duplicateCopyIsProcessed() throws {
        let taken = PartitionID("watchlist", 0), copy = PartitionID("watchlist", 1)
        var m = EventMerger(topicRanks: ["watchlist"])
        m.assign([taken, copy])
        try m.add(Self.pending(Self.bar("SPY", 1), taken, 4))
        m.consumedDuplicate(copy, offset: 7, time: Self.t0 + Minutes(1))
        #expect(m.committable()[copy]?.offset == 8)
        #expect(m.committable()[copy]?.lastReleased == Self.t0 + Minutes(1), "without it the copy's partition would resume past it")
        m.consumed(copy, offset: 8)
        #expect(m.committable()[copy]?.lastReleased == Self.t0 + Minutes(1), "a watermark or dead letter is not processed input")
    }

    @Test func withoutWatermarksEverythingIsReleased() throws {
        let p = PartitionID("bars", 0)
        var m = EventMerger(topicRanks: ["bars"])
        m.assign([p])
        try m.add(Self.pending(Self.bar("SPY", 2), p, 0))
        try m.add(Self.pending(Self.bar("SPY", 1), p, 1))
        #expect(m.releaseAll().map(\.offset) == [1, 0])
    }
}

@Suite("RecentIDs and restore bookkeeping")
struct RuntimeBookkeepingTests {
    @Test("pending limit: at the limit the partitions ahead pause, never the slowest or a side topic; below half all resume")
    func pendingLimit() {
        let slow = PartitionID("market.bars.v1", 0), ahead = PartitionID("market.bars.v1", 1), fresh = PartitionID("market.bars.v1", 2)
        let side = PartitionID("ops.params.v1", 0)
        let t = { (m: Int64) in Timestamp(ms: m * 60_000) }
        let marks: [PartitionID: Timestamp?] = [slow: t(10), ahead: t(15), fresh: nil, side: .distantFuture]
        let limit = PendingLimit(limit: 100)
        func decide(_ pending: Int, _ now: Set<PartitionID>, low: Timestamp? = Timestamp(ms: 10 * 60_000)) -> Set<PartitionID> {
            limit.paused(pending: pending, inputWatermark: low, watermarks: marks, sideTopics: ["ops.params.v1"], pausedNow: now)
        }
        #expect(decide(99, []) == [], "under the limit nothing pauses")
        #expect(decide(100, []) == [ahead], "only the partition ahead: the slowest, one without a watermark and the side topic read on")
        #expect(decide(60, [ahead]) == [ahead], "between half and the limit a paused partition stays paused")
        #expect(decide(60, []) == [], "…and none is newly paused")
        #expect(decide(49, [ahead]) == [], "below half every partition is read again")
        #expect(decide(500, [ahead], low: t(15)) == [], "a paused partition that has become the slowest is resumed")
        #expect(decide(500, [], low: nil) == [], "no input watermark yet: nothing is ahead of it")
    }

    @Test("consumer lag: messages to the partition end, seconds since the last one read was written, 0 when caught up")
    func consumerLag() {
        #expect(ConsumerLag.behind(high: 10, next: 10) == 0)
        #expect(ConsumerLag.behind(high: 10, next: 7) == 3)
        #expect(ConsumerLag.behind(high: 10, next: nil) == 10, "nothing read yet: the whole partition")
        #expect(ConsumerLag.behind(high: 5, next: 9) == 0, "an end heard before the last read is not negative lag")
        #expect(ConsumerLag.seconds(behind: 0, lastWrittenMs: 1_000, nowMs: 91_000) == 0, "caught up after a quiet minute")
        #expect(ConsumerLag.seconds(behind: 3, lastWrittenMs: 1_000, nowMs: 91_000) == 90)
        #expect(ConsumerLag.seconds(behind: 3, lastWrittenMs: nil, nowMs: 91_000) == 0)
        #expect(ConsumerLag.seconds(behind: 3, lastWrittenMs: 92_000, nowMs: 91_000) == 0, "clock skew is not negative lag")
    }

    @Test func duplicatesAndConflicts() {
        var r = RecentIDs(capacity: 3)
        #expect(r.check("a", fingerprint: 1) == .new)
        #expect(r.check("a", fingerprint: 1) == .duplicate)
        #expect(r.check("a", fingerprint: 2) == .conflict)
        for id in ["b", "c", "d"] { #expect(r.check(id, fingerprint: 0) == .new) }
        #expect(r.check("a", fingerprint: 9) == .new, "the oldest id was forgotten")
        r.forget("a")
        #expect(r.check("a", fingerprint: 9) == .new, "a refused copy does not make the next copy a duplicate")
    }

    @Test("a message's fingerprint: the same without its produced_at; any one byte changed, dropped or added changes it")
    func fingerprints() {
        let body = #"{"type":"bar","version":1,"id":"bar-1","event_time":"2024-03-04T15:00:00Z","source":"s","payload":{"close":501.5,"ticker":"SPY"}"#
        let a = Array((body + #","produced_at":"2026-12-05T12:00:00.123Z"}"#).utf8)
        let b = Array((body + #","produced_at":"2026-12-05T13:30:00Z"}"#).utf8)
        let plain = Array((body + "}").utf8)
        let f = RecentIDs.fingerprintIgnoringProducedAt(a)
        #expect(f == RecentIDs.fingerprintIgnoringProducedAt(b), "written again later: the same message")
        #expect(f != RecentIDs.fingerprintIgnoringProducedAt(Array((body.replacingOccurrences(of: "501.5", with: "501.6") + #","produced_at":"2026-12-05T12:00:00.123Z"}"#).utf8)),
                "other content at the same time: another message")
        var variants: Set<[UInt8]> = [plain, plain + [0], [0] + plain]
        for i in plain.indices {
            var changed = plain
            changed[i] ^= 0x01
            variants.insert(changed)
            var dropped = plain
            dropped.remove(at: i)
            variants.insert(dropped)   // dropping either of two equal neighbours is one variant
        }
        let fingerprints = Set(variants.map { RecentIDs.fingerprint($0) })
        #expect(variants.count > 2 * plain.count - 20)
        #expect(fingerprints.count == variants.count, "every variant has its own fingerprint")
    }

    @Test func commitMetadataRoundTrip() {
        let m = CommitMetadata(lastProcessed: Timestamp(ms: 1_700_000_000_000), restoreOffset: 42, watermark: Timestamp(ms: 1_700_000_060_000))
        #expect(m.text == "t=1700000000000;r=42;w=1700000060000")
        #expect(CommitMetadata(m.text) == m)
        #expect(CommitMetadata("w=5") == CommitMetadata(watermark: Timestamp(ms: 5)))
        #expect(CommitMetadata("garbage") == nil)
        #expect(CommitMetadata(nil) == nil)
    }

    @Test("a restored watermark holds after a restart until the partition's own promises pass it")
    func restoredWatermark() {
        let p = PartitionID(Topics.orders, 0)
        var m = EventMerger(topicRanks: [Topics.orders], expectedProducers: [Topics.orders: ["dispatcher", "position-manager"]])
        m.assign([p])
        m.restoreWatermark(EventMergerTests.t0 + Minutes(5), at: p)
        #expect(m.watermark(of: p) == EventMergerTests.t0 + Minutes(5), "known without a new watermark message")
        m.watermark(EventMergerTests.wm(producer: "dispatcher", Topics.signals), time: EventMergerTests.t0 + Minutes(9), at: p, offset: 0)
        #expect(m.watermark(of: p) == EventMergerTests.t0 + Minutes(5),
                "the position-manager, not heard again yet, counts at the floor rather than blocking (it may be waiting on us)")
        m.watermark(EventMergerTests.wm(producer: "position-manager", Topics.chains), time: EventMergerTests.t0 + Minutes(7), at: p, offset: 1)
        #expect(m.watermark(of: p) == EventMergerTests.t0 + Minutes(7))
        m.assign([p])
        #expect(m.watermark(of: p) == nil, "a new assignment starts over")
    }

    @Test func restoreLogFindsTheFirstOffsetAtOrAfterABoundary() {
        var log = RestoreLog()
        for i in 0..<10 { log.append(Timestamp(ms: Int64(i) * 1000), Int64(100 + i)) }
        #expect(log.firstOffset(atOrAfter: Timestamp(ms: 3500)) == 104)
        #expect(log.firstOffset(atOrAfter: Timestamp(ms: 0)) == 104, "boundaries only move forward; older entries are forgotten")
        #expect(log.firstOffset(atOrAfter: Timestamp(ms: 99_000)) == nil)
    }
}
