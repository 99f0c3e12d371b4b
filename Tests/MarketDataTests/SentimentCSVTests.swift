import Foundation
import OpsModel
import Testing
import MarketData

private func ts(_ s: String) -> Timestamp { Timestamp(iso8601: s)! }

@Suite("SentimentCSV")
struct SentimentCSVTests {
    @Test("parses, sorts by time then ticker, optional articles")
    func parse() throws {
        let text = """
            ticker,time,score,source,articles
            SPY,2024-03-11T14:05:00Z,0.25,newsapi,12
            AAPL,2024-03-11 10:05:00-04:00,-0.5,newsapi,
            SPY,2024-03-11T13:00:00Z,1,finbert,3
            """
        let r = try SentimentCSV.parse(text, file: "s.csv")
        #expect(r.rejected.isEmpty)
        #expect(r.scores.map(\.score.ticker) == ["SPY", "AAPL", "SPY"])
        #expect(r.scores.map(\.time) == [ts("2024-03-11T13:00:00Z"), ts("2024-03-11T14:05:00Z"), ts("2024-03-11T14:05:00Z")])
        #expect(r.scores[1].score.score == -0.5 && r.scores[1].score.articles == nil)
        #expect(r.scores[2].score.articles == 12 && r.scores[2].score.source == "newsapi")
        #expect(r.events.map(\.eventTime) == r.scores.map(\.time))
    }

    @Test("round trip, including a source with a comma")
    func roundTrip() throws {
        let scores: [(score: SentimentScore, time: Timestamp)] = [
            (SentimentScore(ticker: "SPY", score: 0.125, source: "desk, manual", articles: 4), ts("2024-03-11T14:00:00Z")),
            (SentimentScore(ticker: "TSLA", score: -1, source: "model \"v2\""), ts("2024-03-11T14:00:00.250Z")),
        ]
        let r = try SentimentCSV.parse(SentimentCSV.render(scores), file: "rt.csv")
        #expect(r.rejected.isEmpty)
        #expect(r == SentimentCSVResult(scores: scores, rejected: []))
    }

    @Test("bad rows are rejected with line and reason; duplicates")
    func badRows() throws {
        let text = """
            ticker,time,score,source
            SPY,2024-03-11T14:05:00Z,0.25,newsapi
            SPY,2024-03-11T14:06:00Z,1.5,newsapi
            SPY,yesterday,0.1,newsapi
            SPY,2024-03-11T14:07:00Z,0.1
            SPY,2024-03-11T14:08:00Z,0.1,
            SPY,2024-03-11T14:05:00Z,0.25,newsapi
            SPY,2024-03-11T14:05:00Z,0.3,newsapi
            """
        let r = try SentimentCSV.parse(text, file: "bad.csv")
        #expect(r.scores.count == 1)
        #expect(r.identicalDuplicates == 1)
        #expect(r.rejected.map(\.line) == [3, 4, 5, 6, 8])
        #expect(r.rejected[0].reason.contains("outside [-1, 1]"))
        #expect(r.rejected[1].reason.contains("not an ISO-8601"))
        #expect(r.rejected[2].reason.contains("expected 4 fields"))
        #expect(r.rejected[3].reason.contains("source is empty"))
        #expect(r.rejected[4].reason.contains("line 2"))
    }

    @Test("unknown header throws")
    func header() {
        let e = #expect(throws: CSVError.self) { try SentimentCSV.parse("ticker,time,score\n", file: "s.csv") }
        #expect(e?.kind == .unknownHeader)
    }
}
