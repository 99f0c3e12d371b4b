import Foundation
import OpsModel

/// What `SentimentCSV.parse` found in one file.
public struct SentimentCSVResult: Sendable, Equatable {
    /// Valid scores with their publication time, ascending by (time, ticker, source).
    public var scores: [(score: SentimentScore, time: Timestamp)]
    /// Rows that failed parsing or `SentimentScore.validate`, or conflict with an earlier row, in line order.
    public var rejected: [RejectedRow]
    /// Rows dropped because an identical score (same ticker, source, time and values) was already read.
    public var identicalDuplicates: Int

    public init(scores: [(score: SentimentScore, time: Timestamp)], rejected: [RejectedRow], identicalDuplicates: Int = 0) {
        self.scores = scores; self.rejected = rejected; self.identicalDuplicates = identicalDuplicates
    }

    public var events: [MarketEvent] { scores.map { MarketEvent.sentiment($0.score, at: $0.time) } }

    public static func == (a: SentimentCSVResult, b: SentimentCSVResult) -> Bool {
        a.rejected == b.rejected && a.identicalDuplicates == b.identicalDuplicates && a.scores.count == b.scores.count
            && zip(a.scores, b.scores).allSatisfy { $0.score == $1.score && $0.time == $1.time }
    }
}

/// Parses sentiment scores: header `ticker,time,score,source[,articles]` (any order, matched case-insensitively).
///
/// `time` is the publication instant, ISO-8601 with a zone; `score` is in [−1, 1] (negative bearish); `source`
/// names the model or feed; `articles` (optional, may be empty) is a whole number. A row that does not parse or
/// fails `SentimentScore.validate` is rejected with its line and reason; a second row for the same (ticker,
/// source, time) is dropped when identical and rejected when different. Only an empty file or an unknown header
/// throws.
public enum SentimentCSV {
    public static let columns = ["ticker", "time", "score", "source"]
    public static let optionalColumns = ["articles"]

    public static func parse(_ text: String, file: String) throws(CSVError) -> SentimentCSVResult {
        try parse(CSVReader(text: text), file: file)
    }

    public static func parse(contentsOf url: URL) throws(CSVError) -> SentimentCSVResult {
        try parse(CSVReader(contentsOf: url), file: url.path)
    }

    struct ScoreKey: Hashable {
        var ticker: String
        var source: String
        var timeMs: Int64
    }

    static func parse(_ reader: CSVReader, file: String) throws(CSVError) -> SentimentCSVResult {
        let (header, rows) = try csvHeaderAndRows(reader, file: file)
        guard header.matches(required: columns, optional: optionalColumns) else {
            throw CSVError(.unknownHeader, file: file, line: header.line,
                           "header '\(header.text)' is not the sentiment format '\((columns + optionalColumns).joined(separator: ","))' "
                           + "(see docs/data-formats.md)")
        }
        var scores = [(score: SentimentScore, time: Timestamp)]()
        var lineOf = [Int]()
        var seen = [ScoreKey: Int]()
        var rejected = [RejectedRow]()
        var identical = 0
        for row in rows {
            let score: SentimentScore, time: Timestamp
            do throws(CSVRowProblem) {
                let f = try CSVFields.make(row, header)
                time = try f.instant("time")
                let articles = try f.optionalWholeNumber("articles")
                score = SentimentScore(ticker: String(try f.required("ticker")), score: try f.double("score"),
                                       source: String(try f.required("source")), articles: articles.map { Int($0) })
                do throws(MessageError) { try score.validate(eventTime: time) } catch { throw CSVRowProblem(error.reason) }
            } catch {
                rejected.append(row.rejected(file, error.reason))
                continue
            }
            let key = ScoreKey(ticker: score.ticker, source: score.source, timeMs: time.ms)
            if let earlier = seen[key] {
                if scores[earlier].score == score {
                    identical += 1
                } else {
                    rejected.append(row.rejected(file, "another \(score.ticker) score from '\(score.source)' at \(time) with "
                                                 + "different values is on line \(lineOf[earlier]); that one is kept"))
                }
                continue
            }
            seen[key] = scores.count
            scores.append((score, time))
            lineOf.append(row.line)
        }
        scores.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.score.ticker != b.score.ticker { return a.score.ticker < b.score.ticker }
            return a.score.source < b.score.source
        }
        return SentimentCSVResult(scores: scores, rejected: rejected, identicalDuplicates: identical)
    }

    /// Writes scores in this format (header included); `parse` reads it back.
    public static func render(_ scores: [(score: SentimentScore, time: Timestamp)]) -> String {
        var out = CSVText.line(columns + optionalColumns)
        for (s, t) in scores {
            out += CSVText.line([s.ticker, t.iso8601, "\(s.score)", s.source, s.articles.map { "\($0)" } ?? ""])
        }
        return out
    }
}
