import Foundation
import OpsModel
import Testing
import MarketData

private func ts(_ s: String) -> Timestamp { Timestamp(iso8601: s)! }

private func bar(_ t: String, _ start: String, volume: Int64 = 1) -> MarketEvent {
    .bar(Bar(ticker: t, start: ts(start), open: 1, high: 1, low: 1, close: 1, volume: volume))
}

@Suite("MarketEventMerge")
struct MergeCSVTests {
    @Test("merges kinds and tickers into canonical order: time, sentiment < chain < bar, ticker")
    func canonical() {
        let chain = MarketEvent.chain(OptionChain(underlying: "SPY", underlyingPrice: 1, asOf: ts("2024-03-11T14:01:00Z"), contracts: []))
        let senti = MarketEvent.sentiment(SentimentScore(ticker: "ZZZ", score: 0, source: "x"), at: ts("2024-03-11T14:01:00Z"))
        let spy = [bar("SPY", "2024-03-11T14:00:00Z"), bar("SPY", "2024-03-11T14:01:00Z")]
        let aapl = [bar("AAPL", "2024-03-11T14:00:00Z"), bar("AAPL", "2024-03-11T14:01:00Z")]
        let merged = MarketEventMerge.merge([spy, [chain], aapl, [senti]])
        #expect(merged.count == 6)
        #expect(MarketEventMerge.isOrdered(merged))
        #expect(merged.map(\.ticker) == ["ZZZ", "SPY", "AAPL", "SPY", "AAPL", "SPY"])
        #expect(merged.map(\.eventTime) == [ts("2024-03-11T14:01:00Z"), ts("2024-03-11T14:01:00Z"), ts("2024-03-11T14:01:00Z"),
                                            ts("2024-03-11T14:01:00Z"), ts("2024-03-11T14:02:00Z"), ts("2024-03-11T14:02:00Z")])
    }

    @Test("stable: equal events keep stream order; unsorted streams are sorted; nothing is dropped")
    func stable() {
        let a = [bar("SPY", "2024-03-11T14:00:00Z", volume: 1), bar("SPY", "2024-03-11T14:00:00Z", volume: 2)]
        let b = [bar("SPY", "2024-03-11T14:00:00Z", volume: 3)]
        let unsorted = [bar("QQQ", "2024-03-11T14:05:00Z", volume: 5), bar("QQQ", "2024-03-11T13:00:00Z", volume: 4),
                        bar("QQQ", "2024-03-11T14:05:00Z", volume: 6)]
        let merged = MarketEventMerge.merge([a, unsorted, b])
        let volumes = merged.map { (e: MarketEvent) -> Int64 in
            if case .bar(let x) = e { return x.volume }
            return -1
        }
        #expect(volumes == [4, 1, 2, 3, 5, 6])
        #expect(MarketEventMerge.merge([]).isEmpty)
        #expect(MarketEventMerge.merge([[], a]) == a)
    }
}
