import Foundation
import OpsModel
import Testing
import MarketData

private func ts(_ s: String) -> Timestamp { Timestamp(iso8601: s)! }

@Suite("BarCSV inline")
struct BarCSVTests {
    @Test("generic: several tickers, sorted by start then ticker, optional columns")
    func generic() throws {
        let text = """
            ticker,start,open,high,low,close,volume,vwap,trades
            SPY,2024-02-20T14:31:00Z,500.1,500.5,500.0,500.2,1200,500.25,40
            QQQ,2024-02-20 09:30:00-05:00,430,431,429.5,430.5,800.0,,
            SPY,2024-02-20T14:30:00Z,500,500.2,499.9,500.1,1000,,7
            """
        let r = try BarCSV.parse(text, file: "mixed.csv", ticker: nil)
        #expect(r.format == .generic)
        #expect(r.rejected.isEmpty)
        #expect(r.bars.map(\.ticker) == ["QQQ", "SPY", "SPY"])
        #expect(r.bars.map(\.start) == [ts("2024-02-20T14:30:00Z"), ts("2024-02-20T14:30:00Z"), ts("2024-02-20T14:31:00Z")])
        let qqq = r.bars[0]
        #expect(qqq.volume == 800 && qqq.vwap == nil && qqq.trades == nil)
        #expect(qqq.end == ts("2024-02-20T14:31:00Z"))
        #expect(r.bars[2].vwap == 500.25 && r.bars[2].trades == 40)
        #expect(r.bars[1].trades == 7)
    }

    @Test("generic: header columns in any order, without the optional ones")
    func genericMinimal() throws {
        let text = "start,ticker,volume,open,high,low,close\n2024-02-20T14:30:00Z,IWM,5,200,201,199,200.5\n"
        let r = try BarCSV.parse(text, file: "x.csv", ticker: nil)
        #expect(r.format == .generic)
        #expect(r.bars.count == 1 && r.bars[0].ticker == "IWM" && r.bars[0].close == 200.5)
    }

    @Test("generic round trip")
    func roundTrip() throws {
        let bars = [
            Bar(ticker: "SPY", start: ts("2024-03-11T13:30:00Z"), open: 510.48, high: 510.94, low: 510.36, close: 510.895,
                volume: 639_648, vwap: 510.6404, trades: 9674),
            Bar(ticker: "BRK.B", start: ts("2024-03-11T13:30:00Z"), open: 0.1, high: 0.30000000000000004, low: 1e-05,
                close: 0.2, volume: 0),
            Bar(ticker: "SPY", start: ts("2024-03-11T13:31:00Z"), open: 1, high: 1, low: 1, close: 1, volume: 1, trades: 0),
        ]
        let text = BarCSV.renderGeneric(bars)
        let r = try BarCSV.parse(text, file: "roundtrip.csv", ticker: nil)
        #expect(r.rejected.isEmpty)
        #expect(r.bars == bars.sorted { ($0.start, $0.ticker) < ($1.start, $1.ticker) })
    }

    @Test("bad rows are rejected with their line and a reason; good rows still come through")
    func badRows() throws {
        let text = """
            ticker,start,open,high,low,close,volume
            SPY,2024-02-20T14:30:00Z,500,501,499,500.5,100
            SPY,2024-02-20T14:31:00Z,abc,501,499,500.5,100
            SPY,2024-02-20T14:32:00Z,500,498,499,500.5,100
            SPY,2024-02-20T14:33:00Z,500,501,499,500.5
            SPY,2024-02-20 09:34:00,500,501,499,500.5,100
            SPY,2024-02-20T14:35:00Z,500,501,499,500.5,12.5
            SPY,2024-02-20T14:36:30Z,500,501,499,500.5,100
            SPY,2024-02-20T14:37:00Z,500,501,499,-1,100
            SPY,2024-02-20T14:38:00Z,500,501,499,500.5,-3
            spy,2024-02-20T14:39:00Z,500,501,499,500.5,1
            SPY,2024-02-20T14:40:00Z,nan,501,499,500.5,1
            ,2024-02-20T14:41:00Z,500,501,499,500.5,1
            SPY,2024-02-20T14:42:00Z,500,501,499,500.5,1
            """
        let r = try BarCSV.parse(text, file: "bad.csv", ticker: nil)
        #expect(r.bars.map(\.start) == [ts("2024-02-20T14:30:00Z"), ts("2024-02-20T14:42:00Z")])
        let byLine = Dictionary(uniqueKeysWithValues: r.rejected.map { ($0.line, $0) })
        #expect(r.rejected.map(\.line) == Array(3...13))
        #expect(byLine[3]?.reason.contains("open: 'abc' is not a number") == true)
        #expect(byLine[4]?.reason.contains("high 498.0 < low 499.0") == true)
        #expect(byLine[5]?.reason.contains("expected 7 fields") == true)
        #expect(byLine[6]?.reason.contains("no zone") == true)
        #expect(byLine[7]?.reason.contains("not a whole number") == true)
        #expect(byLine[8]?.reason.contains("not on a whole minute") == true)
        #expect(byLine[9]?.reason.contains("close") == true)
        #expect(byLine[10]?.reason.contains("negative volume") == true)
        #expect(byLine[11]?.reason.contains("not a valid symbol") == true)
        #expect(byLine[12]?.reason.contains("not a finite number") == true)
        #expect(byLine[13]?.reason.contains("--ticker") == true)
        #expect(byLine[3]?.raw == "SPY,2024-02-20T14:31:00Z,abc,501,499,500.5,100")
        #expect(byLine[3]?.file == "bad.csv")
        #expect(r.rejected.allSatisfy { !$0.reason.isEmpty })
    }

    @Test("duplicates: identical ones are dropped, conflicting ones rejected (the first is kept)")
    func duplicates() throws {
        let text = """
            ticker,start,open,high,low,close,volume
            SPY,2024-02-20T14:30:00Z,500,501,499,500.5,100
            SPY,2024-02-20T14:30:00Z,500,501,499,500.5,100
            SPY,2024-02-20T14:30:00Z,500,501,499,500.5,999
            QQQ,2024-02-20T14:30:00Z,500,501,499,500.5,100
            """
        let r = try BarCSV.parse(text, file: "dups.csv", ticker: nil)
        #expect(r.bars.count == 2)
        #expect(r.bars.first { $0.ticker == "SPY" }?.volume == 100)
        #expect(r.identicalDuplicates == 1)
        #expect(r.rejected.count == 1)
        #expect(r.rejected.first?.line == 4)
        #expect(r.rejected.first?.reason.contains("line 2") == true)
    }

    @Test("twentyFour: ET offsets, bar-start stamps, integral-float volume")
    func twentyFour() throws {
        let text = "datetime,open,high,low,close,volume,vwap,transactions\r\n"
            + "2024-03-08 15:59:00-05:00,510.0,510.2,509.9,510.1,3952.0,510.05,72\r\n"
            + "2024-03-11 09:30:00-04:00,510.48,510.94,510.36,510.895,639648.0,510.6404,9674\r\n"
            + "2024-03-11 09:31:00-04:00,510.48,510.94,510.36,510.895,1.5,510.6404,3\r\n"
        let r = try BarCSV.parse(text, file: "/data/bars/SPY_1min_x_ET.csv", ticker: nil)
        #expect(r.format == .twentyFour)
        #expect(r.bars.count == 2)
        #expect(r.bars[0].ticker == "SPY")
        #expect(r.bars[0].start == ts("2024-03-08T20:59:00Z"))
        #expect(r.bars[0].volume == 3952 && r.bars[0].vwap == 510.05 && r.bars[0].trades == 72)
        #expect(r.bars[1].start == ts("2024-03-11T13:30:00Z"))
        #expect(r.bars[1].end == ts("2024-03-11T13:31:00Z"))
        #expect(r.rejected.map(\.line) == [4])
        #expect(r.rejected.first?.reason.contains("volume: '1.5' is not a whole number") == true)
    }

    @Test("twentyFour: a time without offset is rejected")
    func twentyFourNaive() throws {
        let text = "datetime,open,high,low,close,volume,vwap,transactions\n2024-03-11 09:30:00,1,1,1,1,1,1,1\n"
        let r = try BarCSV.parse(text, file: "SPY.csv", ticker: nil)
        #expect(r.bars.isEmpty)
        #expect(r.rejected.first?.reason.contains("no UTC offset") == true)
    }

    @Test("alphaVantage: naive New York bar-END stamps, newest first, across the DST change")
    func alphaVantage() throws {
        let text = """
            timestamp,open,high,low,close,volume
            2024-03-11 09:31:00,11,12,10,11,300
            2024-03-08 16:00:00,11,12,10,11,200
            2024-03-08 09:31:00,10,11,9,10,100
            2024-03-08 09:32:00-05:00,10,11,9,10,100
            """
        let r = try BarCSV.parse(text, file: "x.csv", ticker: "AAPL")
        #expect(r.format == .alphaVantage)
        #expect(r.bars.map(\.start) == [ts("2024-03-08T14:30:00Z"), ts("2024-03-08T20:59:00Z"), ts("2024-03-11T13:30:00Z")])
        #expect(r.bars.map(\.end) == [ts("2024-03-08T14:31:00Z"), ts("2024-03-08T21:00:00Z"), ts("2024-03-11T13:31:00Z")])
        #expect(r.bars.allSatisfy { $0.ticker == "AAPL" })
        #expect(r.rejected.map(\.line) == [5])
        #expect(r.rejected.first?.reason.contains("naive New York") == true)
    }

    @Test("ticker: argument, else column, else file name; none → error naming --ticker")
    func ticker() throws {
        let av = "datetime,open,high,low,close,volume\n2019-02-15 16:00:00,1,1,1,1,1\n"
        #expect(try BarCSV.parse(av, file: "dir/MSFT_1min.csv", ticker: nil).bars.first?.ticker == "MSFT")
        #expect(try BarCSV.parse(av, file: "dir/MSFT_1min.csv", ticker: "QQQ").bars.first?.ticker == "QQQ")
        #expect(try BarCSV.parse(av, file: "BRK.B.csv", ticker: nil).bars.first?.ticker == "BRK.B")

        let error = #expect(throws: CSVError.self) { try BarCSV.parse(av, file: "/tmp/bars.csv", ticker: nil) }
        #expect(error?.kind == .noTicker)
        #expect(error?.description.contains("--ticker") == true)
        #expect(error?.description.hasPrefix("/tmp/bars.csv:1:") == true)

        let bad = #expect(throws: CSVError.self) { try BarCSV.parse(av, file: "x.csv", ticker: "spy") }
        #expect(bad?.kind == .invalidArgument)

        let generic = "ticker,start,open,high,low,close,volume\nSPY,2024-02-20T14:30:00Z,1,1,1,1,1\n,2024-02-20T14:31:00Z,1,1,1,1,1\n"
        let withArg = try BarCSV.parse(generic, file: "x.csv", ticker: "QQQ")
        #expect(withArg.bars.map(\.ticker) == ["QQQ"])
        #expect(withArg.rejected.first?.reason.contains("differs from --ticker QQQ") == true)
        let fromName = try BarCSV.parse(generic, file: "IWM_x.csv", ticker: nil)
        #expect(fromName.bars.map(\.ticker) == ["SPY", "IWM"])

        #expect(BarCSV.tickerFromFileName("/a/b/SPY_1min_2024-02-20_2024-04-18_ET.csv") == "SPY")
        #expect(BarCSV.tickerFromFileName("data.csv") == nil)
        #expect(BarCSV.tickerFromFileName("_SPY.csv") == nil)
    }

    @Test("format detection and whole-file errors")
    func detection() throws {
        #expect(BarCSV.detectFormat(header: BarCSV.twentyFourColumns) == .twentyFour)
        #expect(BarCSV.detectFormat(header: BarCSV.alphaVantageColumns) == .alphaVantage)
        #expect(BarCSV.detectFormat(header: [" Ticker", "START ", "open", "high", "low", "close", "volume", "trades"]) == .generic)
        #expect(BarCSV.detectFormat(header: ["ticker", "start", "open", "high", "low", "close", "volume", "vwpa"]) == nil)
        #expect(BarCSV.detectFormat(header: ["datetime", "open", "high", "low", "close"]) == nil)

        let unknown = #expect(throws: CSVError.self) { try BarCSV.parse("a,b\n1,2\n", file: "f.csv", ticker: "SPY") }
        #expect(unknown?.kind == .unknownHeader)
        #expect(unknown?.line == 1)
        let empty = #expect(throws: CSVError.self) { try BarCSV.parse("\n", file: "f.csv", ticker: "SPY") }
        #expect(empty?.kind == .empty)

        let headerOnly = try BarCSV.parse("\u{FEFF}datetime,open,high,low,close,volume\r\n", file: "f.csv", ticker: "SPY")
        #expect(headerOnly.bars.isEmpty && headerOnly.rejected.isEmpty && headerOnly.format == .alphaVantage)
    }

    @Test("a quoted field and an unterminated quote")
    func quoting() throws {
        let text = "ticker,start,open,high,low,close,volume\n\"SPY\",\"2024-02-20T14:30:00Z\",1,1,1,1,\"1\"\nSPY,\"2024-02-20T14:31:00Z,1,1,1,1,1\n"
        let r = try BarCSV.parse(text, file: "q.csv", ticker: nil)
        #expect(r.bars.count == 1)
        #expect(r.rejected.count == 1)
        #expect(r.rejected.first?.line == 3)
        #expect(r.rejected.first?.reason.contains("never closed") == true)
    }
}
