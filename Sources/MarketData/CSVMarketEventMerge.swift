import OpsModel

/// Merges streams of market events (several tickers, several kinds) into the one stream every source publishes.
public enum MarketEventMerge {
    /// All events of all streams in `MarketEvent.canonicalOrder` (event time, then sentiment < chain < bar, then
    /// ticker). Stable: events that compare equal keep their stream's order, and across streams the earlier stream
    /// comes first. Nothing is dropped or de-duplicated.
    ///
    /// Streams that are already in canonical order (as `BarCSV`, `ChainCSV` and `SentimentCSV` return them) are
    /// merged k-way in O(n log k); a stream that is not is first sorted stably.
    public static func merge(_ streams: [[MarketEvent]]) -> [MarketEvent] {
        let sorted = streams.map { isOrdered($0) ? $0 : stableSorted($0) }
        let total = sorted.reduce(0) { $0 + $1.count }
        var out = [MarketEvent]()
        out.reserveCapacity(total)
        var heap = MergeHeap(streams: sorted)
        for s in sorted.indices where !sorted[s].isEmpty { heap.push(MergeHeap.Cursor(stream: s, position: 0)) }
        while let top = heap.pop() {
            out.append(sorted[top.stream][top.position])
            if top.position + 1 < sorted[top.stream].count {
                heap.push(MergeHeap.Cursor(stream: top.stream, position: top.position + 1))
            }
        }
        return out
    }

    /// True when no event comes before its predecessor in canonical order.
    public static func isOrdered(_ events: [MarketEvent]) -> Bool {
        guard events.count > 1 else { return true }
        for i in 1..<events.count where MarketEvent.canonicalOrder(events[i], events[i - 1]) { return false }
        return true
    }

    static func stableSorted(_ events: [MarketEvent]) -> [MarketEvent] {
        events.indices.sorted { a, b in
            if MarketEvent.canonicalOrder(events[a], events[b]) { return true }
            if MarketEvent.canonicalOrder(events[b], events[a]) { return false }
            return a < b
        }.map { events[$0] }
    }

    /// A binary min-heap of stream cursors, ordered by the cursor's event, then stream index.
    struct MergeHeap {
        struct Cursor { var stream: Int; var position: Int }
        let streams: [[MarketEvent]]
        var items = [Cursor]()

        init(streams: [[MarketEvent]]) { self.streams = streams }

        func less(_ a: Cursor, _ b: Cursor) -> Bool {
            let ea = streams[a.stream][a.position], eb = streams[b.stream][b.position]
            if MarketEvent.canonicalOrder(ea, eb) { return true }
            if MarketEvent.canonicalOrder(eb, ea) { return false }
            return a.stream < b.stream
        }

        mutating func push(_ c: Cursor) {
            items.append(c)
            var i = items.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard less(items[i], items[parent]) else { break }
                items.swapAt(i, parent)
                i = parent
            }
        }

        mutating func pop() -> Cursor? {
            guard !items.isEmpty else { return nil }
            let top = items[0]
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < items.count, less(items[l], items[m]) { m = l }
                    if r < items.count, less(items[r], items[m]) { m = r }
                    if m == i { break }
                    items.swapAt(i, m)
                    i = m
                }
            }
            return top
        }
    }
}
