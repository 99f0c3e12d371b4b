import Foundation
import OpsModel

/// What `ImpliedVolatilityCSV.parse` found in one file.
public struct ImpliedVolatilityCSVResult: Sendable, Equatable {
    /// Valid daily values, ascending by (date, ticker).
    public var days: [DailyImpliedVolatility]
    /// Rows that failed parsing or `DailyImpliedVolatility.validate`, or conflict with an earlier row, in line order.
    public var rejected: [RejectedRow]
    /// Rows dropped because an identical value (same ticker, date and IV) was already read.
    public var identicalDuplicates: Int

    public init(days: [DailyImpliedVolatility], rejected: [RejectedRow], identicalDuplicates: Int = 0) {
        self.days = days; self.rejected = rejected; self.identicalDuplicates = identicalDuplicates
    }

    public var events: [MarketEvent] { days.map(MarketEvent.ivDaily) }
}

/// Parses a daily ATM implied-volatility history (`market-feed --iv-history FILE`): header `ticker,date,atm_iv` (any
/// order, matched case-insensitively). `date` is the New York trading date (`YYYY-MM-DD`, an NYSE trading day);
/// `atm_iv` a fraction (0.18 = 18 %) in (0, 10]. A row that does not parse or fails validation is rejected with its
/// line and reason; a second row for the same (ticker, date) is dropped when identical and rejected when different.
/// Only an empty file or an unknown header throws.
public enum ImpliedVolatilityCSV {
    public static let columns = ["ticker", "date", "atm_iv"]

    public static func parse(_ text: String, file: String) throws(CSVError) -> ImpliedVolatilityCSVResult {
        try parse(CSVReader(text: text), file: file)
    }

    public static func parse(contentsOf url: URL) throws(CSVError) -> ImpliedVolatilityCSVResult {
        try parse(CSVReader(contentsOf: url), file: url.path)
    }

    struct DayKey: Hashable {
        var ticker: String
        var date: CivilDate
    }

    static func parse(_ reader: CSVReader, file: String) throws(CSVError) -> ImpliedVolatilityCSVResult {
        let (header, rows) = try csvHeaderAndRows(reader, file: file)
        guard header.matches(required: columns) else {
            throw CSVError(.unknownHeader, file: file, line: header.line,
                           "header '\(header.text)' is not the IV history format '\(columns.joined(separator: ","))' (see docs/data-formats.md)")
        }
        var days = [DailyImpliedVolatility]()
        var lineOf = [DayKey: Int]()
        var index = [DayKey: Int]()
        var rejected = [RejectedRow]()
        var identical = 0
        for row in rows {
            let day: DailyImpliedVolatility
            do throws(CSVRowProblem) {
                let f = try CSVFields.make(row, header)
                day = DailyImpliedVolatility(ticker: String(try f.required("ticker")), date: try CSVFields.date(try f.required("date"), "date"),
                                             atmIv: try f.double("atm_iv"))
                do throws(MessageError) { try day.validate(eventTime: day.eventTime) } catch { throw CSVRowProblem(error.reason) }
            } catch {
                rejected.append(row.rejected(file, error.reason))
                continue
            }
            let key = DayKey(ticker: day.ticker, date: day.date)
            if let earlier = index[key] {
                if days[earlier] == day {
                    identical += 1
                } else {
                    rejected.append(row.rejected(file, "another \(day.ticker) value for \(day.date) with a different atm_iv is on line "
                                                 + "\(lineOf[key]!); that one is kept"))
                }
                continue
            }
            index[key] = days.count
            lineOf[key] = row.line
            days.append(day)
        }
        days.sort { ($0.date, $0.ticker) < ($1.date, $1.ticker) }
        return ImpliedVolatilityCSVResult(days: days, rejected: rejected, identicalDuplicates: identical)
    }

    /// Writes daily values in this format (header included); `parse` reads it back.
    public static func render(_ days: [DailyImpliedVolatility]) -> String {
        var out = CSVText.line(columns)
        for d in days { out += CSVText.line([d.ticker, d.date.iso, "\(d.atmIv)"]) }
        return out
    }
}
