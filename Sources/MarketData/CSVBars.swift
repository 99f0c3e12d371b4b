import Foundation
import OpsModel

/// The bar CSV layouts `BarCSV` reads, detected from the header (column names are matched trimmed and
/// case-insensitively, in any order).
public enum BarCSVFormat: String, Sendable, CaseIterable {
    /// `datetime,open,high,low,close,volume,vwap,transactions`: ISO-8601 times with the New York offset
    /// (`2024-02-20 04:00:00-05:00`), BAR-START stamps, volume possibly written as an integral float (`3952.0`),
    /// extended hours included. `vwap` and `transactions` may be empty.
    case twentyFour
    /// `datetime,open,high,low,close,volume` (Alpha Vantage intraday; `timestamp` is accepted for `datetime`):
    /// naive New York wall-clock times, BAR-END stamps (`2019-02-15 16:00:00` is the bar 15:59–16:00), usually
    /// newest first. 1-minute bars.
    case alphaVantage
    /// The pipeline's own layout, `ticker,start,open,high,low,close,volume[,vwap][,trades]`: one row per
    /// 1-minute bar, `start` an ISO-8601 instant WITH a zone (`2024-02-20T14:30:00Z` or
    /// `2024-02-20 09:30:00-05:00`), BAR-START stamps, any number of tickers in one file, rows in any order.
    /// `volume` and `trades` are whole numbers (`3952` or `3952.0`); `vwap` and `trades` may be empty.
    case generic
}

/// What `BarCSV.parse` found in one file.
public struct BarCSVResult: Sendable, Equatable {
    public var format: BarCSVFormat
    /// Valid bars, ascending by start (then ticker); one bar per (ticker, start).
    public var bars: [Bar]
    /// Rows that failed parsing or `Bar.validate`, or that conflict with an earlier row, in line order.
    public var rejected: [RejectedRow]
    /// Rows dropped because an identical bar (same ticker, start and values) was already read.
    public var identicalDuplicates: Int

    public init(format: BarCSVFormat, bars: [Bar], rejected: [RejectedRow], identicalDuplicates: Int = 0) {
        self.format = format; self.bars = bars; self.rejected = rejected; self.identicalDuplicates = identicalDuplicates
    }

    /// The bars as market events, in canonical order.
    public var events: [MarketEvent] { bars.map(MarketEvent.bar) }
}

/// Parses 1-minute OHLCV bar files in the formats of `BarCSVFormat`.
///
/// Rows are independent: a row that does not parse, or whose bar fails `Bar.validate` (high < low, a price ≤ 0,
/// a negative volume, …), or whose start is not on a whole minute, goes to `rejected` with its line, text and a
/// reason, and the rest of the file is still read. A second row for the same (ticker, start) is dropped when
/// it is identical to the first, and rejected (the first one is kept) when it differs. Only problems with the
/// file as a whole throw a `CSVError`: an empty file, an unknown header, or a ticker that cannot be determined.
///
/// The ticker is the `ticker` argument when given; else, in the generic format, the row's `ticker` column;
/// else the file name's first `_`-separated token when it is a valid symbol (`SPY_1min_2024.csv` → `SPY`).
/// A generic row whose `ticker` column disagrees with the argument is rejected, not relabelled.
public enum BarCSV {
    public static let twentyFourColumns = ["datetime", "open", "high", "low", "close", "volume", "vwap", "transactions"]
    public static let alphaVantageColumns = ["datetime", "open", "high", "low", "close", "volume"]
    public static let genericColumns = ["ticker", "start", "open", "high", "low", "close", "volume"]
    public static let genericOptionalColumns = ["vwap", "trades"]

    /// The format a header (column names) describes, or nil.
    public static func detectFormat(header: [String]) -> BarCSVFormat? {
        detect(CSVHeader(CSVRow(line: 1, fields: header, raw: header.joined(separator: ","))))
    }

    static func detect(_ h: CSVHeader) -> BarCSVFormat? {
        if h.matches(required: genericColumns, optional: genericOptionalColumns) { return .generic }
        if h.matches(required: twentyFourColumns) { return .twentyFour }
        if h.matches(required: alphaVantageColumns) { return .alphaVantage }
        let av = alphaVantageColumns.map { $0 == "datetime" ? "timestamp" : $0 }
        if h.matches(required: av) { return .alphaVantage }
        return nil
    }

    /// The ticker a file name starts with (`…/SPY_1min_2024-02-20.csv` → `SPY`), when that is a valid symbol.
    public static func tickerFromFileName(_ file: String) -> String? {
        var name = Substring(file.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        if let dot = name.lastIndex(of: "."), dot != name.startIndex { name = name[..<dot] }
        guard let token = name.split(separator: "_", omittingEmptySubsequences: false).first else { return nil }
        let t = String(token)
        do throws(MessageError) { try Validate.ticker(t) } catch { return nil }
        return t
    }

    /// Parses a bar file's text. `file` names the file in errors and rejected rows and may supply the ticker.
    public static func parse(_ text: String, file: String, ticker: String?) throws(CSVError) -> BarCSVResult {
        try parse(CSVReader(text: text), file: file, ticker: ticker)
    }

    /// Reads and parses a bar file.
    public static func parse(contentsOf url: URL, ticker: String?) throws(CSVError) -> BarCSVResult {
        try parse(CSVReader(contentsOf: url), file: url.path, ticker: ticker)
    }

    static func parse(_ reader: CSVReader, file: String, ticker argument: String?) throws(CSVError) -> BarCSVResult {
        let (header, rows) = try csvHeaderAndRows(reader, file: file)
        guard let format = detect(header) else {
            throw CSVError(.unknownHeader, file: file, line: header.line,
                           "header '\(header.text)' is not a known bar format; expected "
                           + "'\(twentyFourColumns.joined(separator: ","))', "
                           + "'\(alphaVantageColumns.joined(separator: ","))' or "
                           + "'\((genericColumns + genericOptionalColumns).joined(separator: ","))' (see docs/data-formats.md)")
        }
        if let argument {
            do throws(MessageError) { try Validate.ticker(argument) } catch {
                throw CSVError(.invalidArgument, file: file, line: nil,
                               "--ticker '\(argument)' is not a valid symbol (1–10 of A–Z, 0–9, '.', '/', '-', starting with a letter)")
            }
        }
        let fileTicker = tickerFromFileName(file)
        var fixedTicker: String?
        if format != .generic {
            guard let t = argument ?? fileTicker else {
                throw CSVError(.noTicker, file: file, line: header.line,
                               "cannot determine the ticker: the \(format.rawValue) format has no ticker column and the file name "
                               + "does not start with one (like SPY_1min_….csv); pass --ticker SYMBOL")
            }
            fixedTicker = t
        }

        var bars = [Bar]()
        var lineOfBar = [Int]()
        var rejected = [RejectedRow]()
        var seen = [BarKey: Int]()
        var identical = 0
        bars.reserveCapacity(rows.count)
        lineOfBar.reserveCapacity(rows.count)

        for row in rows {
            let bar: Bar
            do throws(CSVRowProblem) {
                let f = try CSVFields.make(row, header)
                let t: String
                if let fixedTicker { t = fixedTicker } else { t = try rowTicker(f, argument: argument, fileTicker: fileTicker) }
                bar = try makeBar(f, format: format, ticker: t)
            } catch {
                rejected.append(row.rejected(file, error.reason))
                continue
            }
            let key = BarKey(ticker: bar.ticker, startMs: bar.start.ms)
            if let earlier = seen[key] {
                if bars[earlier] == bar {
                    identical += 1
                } else {
                    rejected.append(row.rejected(file, "another \(bar.ticker) bar starting \(bar.start) with different values "
                                                 + "is on line \(lineOfBar[earlier]); that one is kept"))
                }
                continue
            }
            seen[key] = bars.count
            bars.append(bar)
            lineOfBar.append(row.line)
        }
        bars.sort { $0.start != $1.start ? $0.start < $1.start : $0.ticker < $1.ticker }
        return BarCSVResult(format: format, bars: bars, rejected: rejected, identicalDuplicates: identical)
    }

    struct BarKey: Hashable {
        var ticker: String
        var startMs: Int64
    }

    static func rowTicker(_ f: CSVFields, argument: String?, fileTicker: String?) throws(CSVRowProblem) -> String {
        let column = f.text("ticker").map(String.init) ?? ""
        if let argument {
            if !column.isEmpty, column != argument {
                throw CSVRowProblem("ticker '\(column)' differs from --ticker \(argument)")
            }
            return argument
        }
        if !column.isEmpty { return column }
        if let fileTicker { return fileTicker }
        throw CSVRowProblem("ticker is empty and the file name gives none; fill the column or pass --ticker SYMBOL")
    }

    static func makeBar(_ f: CSVFields, format: BarCSVFormat, ticker: String) throws(CSVRowProblem) -> Bar {
        let start: Timestamp
        switch format {
        case .twentyFour:
            let t = try f.required("datetime")
            guard let ts = Timestamp(iso8601: String(t)) else {
                if LocalDateTime(parsing: String(t)) != nil {
                    throw CSVRowProblem("datetime '\(t)' has no UTC offset; this format writes bar-start times with the "
                                        + "New York offset, like 2024-02-20 04:00:00-05:00")
                }
                throw CSVRowProblem("datetime '\(t)' is not an ISO-8601 time with an offset")
            }
            start = ts
        case .alphaVantage:
            let name = f.header.index["datetime"] != nil ? "datetime" : "timestamp"
            let t = try f.required(name)
            guard let local = LocalDateTime(parsing: String(t)) else {
                if Timestamp(iso8601: String(t)) != nil {
                    throw CSVRowProblem("\(name) '\(t)' has a zone; this format writes naive New York times")
                }
                throw CSVRowProblem("\(name) '\(t)' is not a YYYY-MM-DD HH:MM:SS time")
            }
            // Bar-END stamp in New York wall-clock time.
            start = NewYorkTime.utc(local) - Minutes(1)
        case .generic:
            start = try f.instant("start")
        }
        guard start.ms % 60_000 == 0 else { throw CSVRowProblem("bar start \(start) is not on a whole minute") }

        let bar = Bar(
            ticker: ticker, interval: .m1, start: start,
            open: try f.double("open"), high: try f.double("high"), low: try f.double("low"), close: try f.double("close"),
            volume: try f.wholeNumber("volume"),
            vwap: try f.optionalDouble("vwap"),
            trades: try f.optionalWholeNumber(format == .twentyFour ? "transactions" : "trades"))
        do throws(MessageError) {
            try bar.validate(eventTime: bar.end)
        } catch {
            throw CSVRowProblem(error.reason)
        }
        return bar
    }

    /// Writes bars in the generic format (header included), in the given order; `parse` reads it back.
    public static func renderGeneric(_ bars: [Bar]) -> String {
        var out = CSVText.line(genericColumns + genericOptionalColumns)
        for b in bars {
            out += CSVText.line([b.ticker, b.start.iso8601, "\(b.open)", "\(b.high)", "\(b.low)", "\(b.close)",
                                 "\(b.volume)", CSVText.number(b.vwap), b.trades.map { "\($0)" } ?? ""])
        }
        return out
    }
}
