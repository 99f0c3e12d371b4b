import Foundation
import OpsModel
import Testing
import MarketData

private func ts(_ s: String) -> Timestamp { Timestamp(iso8601: s)! }

@Suite("real bar files", .enabled(if: CSVSharedData.available, CSVSharedData.skipMessage))
struct RealBarsCSVTests {
    @Test("SPY 2024 (twentyFour): counts, first bar, DST, volume/vwap, validity, order")
    func spy2024() throws {
        let (url, text) = try CSVSharedData.text("bars/SPY_1min_2024-02-20_2024-04-18_ET.csv")
        let r = try BarCSV.parse(text, file: url.lastPathComponent, ticker: nil)
        #expect(r.format == .twentyFour)
        let lines = CSVSharedData.lineCount(text)
        #expect(r.bars.count == lines - 1 - r.rejected.count)
        #expect(r.bars.count == 33_168)
        #expect(r.rejected.isEmpty, "\(r.rejected.prefix(5))")
        #expect(r.identicalDuplicates == 0)
        #expect(r.bars.allSatisfy { $0.ticker == "SPY" })

        let first = try #require(r.bars.first)
        #expect(first.start == ts("2024-02-20T09:00:00Z"))   // 04:00 EST
        #expect(first.end == ts("2024-02-20T09:01:00Z"))
        #expect(first.open == 498.33 && first.high == 498.42 && first.low == 498.3 && first.close == 498.39)
        #expect(first.volume == 3952 && first.vwap == 498.3398 && first.trades == 72)
        #expect(r.bars.last?.start == ts("2024-04-18T23:59:00Z"))   // 19:59 EDT

        // After the 2024-03-10 change to daylight time, 09:30 ET is 13:30Z (it was 14:30Z before).
        let open = try #require(r.bars.first { $0.start == ts("2024-03-11T13:30:00Z") })
        #expect(open.open == 510.48 && open.volume == 639_648 && open.vwap == 510.6404 && open.trades == 9674)
        #expect(NewYorkTime.minuteOfDay(open.start) == 9 * 60 + 30)
        let beforeChange = try #require(r.bars.first { $0.start == ts("2024-03-08T14:30:00Z") })
        #expect(NewYorkTime.minuteOfDay(beforeChange.start) == 9 * 60 + 30)

        for bar in r.bars { try bar.validate(eventTime: bar.end) }
        #expect(zip(r.bars, r.bars.dropFirst()).allSatisfy { $0.start < $1.start })

        // Every row's written offset agrees with the US DST rules at its instant.
        var mismatches = 0
        for row in CSVReader(text: text).rows.dropFirst() {
            let stamp = row.fields[0]
            let written = stamp.hasSuffix("-04:00") ? -4 * 3600 : -5 * 3600
            if NewYorkTime.offsetSeconds(at: Timestamp(iso8601: stamp)!) != written { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test("alphaVantage 2019 files: ascending, bar-END stamps, five files of ~1950 rows",
          arguments: zip(CSVSharedData.alphaVantageFiles, [1948, 1948, 1948, 1950, 1946]))
    func alphaVantage(path: String, expected: Int) throws {
        let (url, text) = try CSVSharedData.text(path)
        let r = try BarCSV.parse(text, file: url.path, ticker: nil)
        #expect(r.format == .alphaVantage)
        #expect(r.bars.count == CSVSharedData.lineCount(text) - 1 - r.rejected.count)
        #expect(r.bars.count == expected)
        #expect(r.rejected.isEmpty)
        let ticker = String(url.lastPathComponent.prefix { $0 != "_" })
        #expect(r.bars.allSatisfy { $0.ticker == ticker })
        #expect(zip(r.bars, r.bars.dropFirst()).allSatisfy { $0.start < $1.start })
        // The file's oldest row is stamped 2019-02-11 09:31:00 (bar end): the bar 09:30–09:31 ET.
        #expect(r.bars.first?.start == ts("2019-02-11T14:30:00Z"))
        // The newest, 2019-02-15 16:00:00, is the bar 15:59–16:00 ET = 20:59–21:00Z.
        #expect(r.bars.last?.start == ts("2019-02-15T20:59:00Z"))
        #expect(r.bars.last?.end == ts("2019-02-15T21:00:00Z"))
        for bar in r.bars { try bar.validate(eventTime: bar.end) }
        // Regular session only: every bar starts in [09:30, 16:00) ET.
        #expect(r.bars.allSatisfy { (570..<960).contains(NewYorkTime.minuteOfDay($0.start)) })
    }

    @Test("merging the five 2019 files keeps every bar, in canonical order")
    func merge() throws {
        var streams = [[MarketEvent]]()
        for path in CSVSharedData.alphaVantageFiles {
            let (url, text) = try CSVSharedData.text(path)
            streams.append(try BarCSV.parse(text, file: url.lastPathComponent, ticker: nil).events)
        }
        let merged = MarketEventMerge.merge(streams)
        #expect(merged.count == streams.reduce(0) { $0 + $1.count })
        #expect(merged.count == 9740)
        #expect(MarketEventMerge.isOrdered(merged))
        #expect(zip(merged, merged.dropFirst()).allSatisfy { MarketEvent.canonicalOrder($0, $1) })  // strict: no ties
        let ids = { (events: [MarketEvent]) -> [String] in
            events.map { if case .bar(let b) = $0 { return b.id } else { return "" } }.sorted()
        }
        #expect(ids(merged) == ids(streams.flatMap { $0 }))
        #expect(Set(merged.map(\.ticker)) == ["AAPL", "MSFT", "QQQ", "SPY", "TSLA"])
    }
}

@Suite("real option chain file", .enabled(if: CSVSharedData.available, CSVSharedData.skipMessage))
struct RealChainCSVTests {
    @Test("TDA flat SPY 2020-01-29: one valid snapshot of 462 contracts")
    func tdaFlat() throws {
        let (url, text) = try CSVSharedData.text("options/tda_SPY_chain_2020-01-29_flat.csv")
        let r = try ChainCSV.parseTDAFlat(text, file: url.lastPathComponent)
        #expect(r.format == .tdaFlat)
        #expect(try ChainCSV.parse(text, file: url.lastPathComponent) == r)
        #expect(r.rejected.isEmpty, "\(r.rejected.prefix(5))")
        let chain = try #require(r.chains.first)
        #expect(r.chains.count == 1)
        #expect(chain.contracts.count == CSVSharedData.lineCount(text) - 1 - r.rejected.count)
        #expect(chain.contracts.count == 462)
        #expect(chain.underlying == "SPY")
        #expect(chain.underlyingPrice == 326.22)
        #expect(chain.asOf == ts("2020-01-29T21:15:00Z"))   // latest quote 21:15:00.001, truncated
        try chain.validate(eventTime: chain.asOf)

        for c in chain.contracts {
            let occ = try #require(OCCSymbol(c.symbol))
            #expect(occ.root == "SPY" && occ.expiration == c.expiration && occ.right == c.right && abs(occ.strike - c.strike) < 1e-9)
            #expect(c.iv.map { $0 > 0 && $0 < 2 } ?? true)
            #expect(c.last.map { $0 > 0 } ?? true)
        }
        #expect(Set(chain.contracts.map(\.expiration)) == [CivilDate(year: 2020, month: 1, day: 29), CivilDate(year: 2020, month: 1, day: 31)])
        #expect(chain.contracts.filter { $0.right == .call }.count == 231)
        #expect(chain.contracts.filter { $0.last == nil }.count == 61)
        #expect(chain.contracts.filter { $0.iv == nil }.map(\.symbol) == ["SPY200131P00370000"])
        let first = chain.contracts[0]
        #expect(first.symbol == "SPY200129C00280000" && first.bid == 46.19 && first.ask == 46.9 && first.last == 42.65)
        #expect(first.openInterest == 252 && abs(first.iv! - 1.58556) < 1e-12 && first.vega == 0.012)
    }

    @Test("TDA flat: corrupted rows are rejected with line and reason, the rest kept")
    func tdaRejects() throws {
        let (url, text) = try CSVSharedData.text("options/tda_SPY_chain_2020-01-29_flat.csv")
        let extra = [
            "SPY200131C00400000,x,2020-01-31,call,400.0,2.0,1.0,0.0,1.5,0,0,10,0.1,0.0,0.0,0.1,0.0,1.5,2,2020-01-29T21:14:58.000000,,326.22,2.4",
            "SPY200131C00401000,x,2020-01-31,put,401.0,1.0,2.0,0.0,1.5,0,0,10,0.1,0.0,0.0,0.1,0.0,1.5,2,2020-01-29T21:14:58.000000,,326.22,2.4",
            "SPY200129C00280000,x,2020-01-29,call,280.0,46.19,46.9,42.65,46.55,0,252,158.556,0.97,0.003,-0.919,0.012,0.007,46.545,0,2020-01-29T21:14:58.018000,,326.22,2.42788",
            "SPY200131C00402000,x,2020-01-31,call,402.0,1.0,2.0",
        ]
        let lines = CSVSharedData.lineCount(text)
        let r = try ChainCSV.parse(text + extra.joined(separator: "\r\n") + "\r\n", file: url.lastPathComponent)
        #expect(r.chains.first?.contracts.count == 462)
        #expect(r.rejected.map(\.line) == Array((lines + 1)...(lines + 4)))
        #expect(r.rejected.allSatisfy { !$0.reason.isEmpty && !$0.raw.isEmpty })
        #expect(r.rejected[0].reason.contains("bid 2.0 > ask 1.0"))
        #expect(r.rejected[1].reason.contains("disagrees"))
        #expect(r.rejected[2].reason.contains("already read on line 2"))
        #expect(r.rejected[3].reason.contains("expected 23 fields"))
    }
}
