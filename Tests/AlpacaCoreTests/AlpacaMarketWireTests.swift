import Foundation
import OpsModel
import TestSupport
import Testing
@testable import AlpacaCore

@Suite("Alpaca market data: bars, chains, lateness, calendar")
struct AlpacaMarketWireTests {
    @Test("real bars, snapshots and contracts bodies become our Bar and OptionChain", .enabled(if: TestPaths.hasSharedData))
    func realBodies() throws {
        let bars = try Alpaca.decode(Alpaca.BarsPage.self, from: try AlpacaWireTests.body("stocks_bars_v2.json"))
        let first = try #require(bars.bars?["AAPL"]?.first)
        let bar = try #require(Alpaca.bar(ticker: "AAPL", first))
        #expect(bar.start == Timestamp(iso8601: "2022-02-01T05:00:00Z") && bar.close == 174.61 && bar.volume == 85_998_033)
        #expect(bars.nextPageToken != nil, "pagination is read")
        let page = try Alpaca.decode(Alpaca.SnapshotsPage.self, from: try AlpacaWireTests.body("options_chain_snapshots_v1beta1.json"))
        let contracts = try Alpaca.decode(Alpaca.ContractsPage.self, from: try AlpacaWireTests.body("trading_options_contracts_v2.json"))
        let oi = Dictionary(uniqueKeysWithValues: (contracts.optionContracts ?? []).map { ($0.symbol, Int64($0.openInterest?.whole ?? -1)) })
        #expect(oi["AAPL231103C00170000"] == 0)
        let chain = Alpaca.chain(underlying: "AAPL", price: 170, at: Fixture.t0, snapshots: page.snapshots ?? [:], openInterest: ["AAPL240503P00155000": 812])
        let q = try #require(chain.contracts.first { $0.symbol == "AAPL240503P00155000" })
        #expect(q.bid == 0.32 && q.ask == 0.35 && q.right == .put && q.strike == 155 && q.openInterest == 812 && q.delta != nil && q.iv != nil)
        #expect(chain.contracts.allSatisfy { $0.bid <= $0.ask && $0.ask > 0 })
    }

    @Test("a stream bar message is a bar; control messages are not")
    func streamMessages() throws {
        let json = #"[{"T":"success","msg":"authenticated"},{"T":"b","S":"SPY","o":510.1,"h":510.5,"l":509.9,"c":510.2,"v":12034,"t":"2024-03-05T15:31:00Z","n":120,"vw":510.2}]"#
        let list = try Alpaca.decode([Alpaca.StreamMessage].self, from: Array(json.utf8))
        #expect(list[0].bar == nil)
        let (ticker, wire) = try #require(list[1].bar)
        let bar = try #require(Alpaca.bar(ticker: ticker, wire))
        #expect(bar.end == Timestamp(iso8601: "2024-03-05T15:32:00Z"), "bar-start stamps; our event time is the bar's end")
        #expect(Alpaca.bar(ticker: "SPY", Alpaca.WireBar(t: "2024-03-05T15:31:00Z", o: 1, h: 0.5, l: 1, c: 1, v: 1)) == nil, "high below low")
    }

    @Test("the watermark trails the clock by the lateness, only forwards; what ends before it is late")
    func lateness() {
        var w = LiveWatermark(latenessMs: 5_000)
        #expect(w.advance(now: Fixture.at(60)) == Fixture.at(55))
        #expect(w.advance(now: Fixture.at(58)) == nil, "never backwards")
        #expect(w.admits(Fixture.at(55)) && !w.admits(Fixture.at(54)))
    }

    @Test("Alpaca's calendar against the built-in one: agreement is silent, an early close or a missing day is named")
    func calendar() {
        let day = { (d: String, o: String, c: String) in Alpaca.CalendarDay(date: d, open: o, close: c) }
        let from = CivilDate(iso: "2024-03-04")!, to = CivilDate(iso: "2024-03-06")!
        #expect(CalendarCheck.differences(alpaca: [day("2024-03-04", "09:30", "16:00"), day("2024-03-05", "09:30", "16:00"), day("2024-03-06", "09:30", "16:00")], from: from, to: to).isEmpty)
        let diff = CalendarCheck.differences(alpaca: [day("2024-03-04", "09:30", "13:00"), day("2024-03-06", "09:30", "16:00")], from: from, to: to)
        #expect(diff.count == 2 && diff[0].contains("13:00") && diff[1].contains("2024-03-05"))
        #expect(CalendarCheck.session(day("2024-03-05", "09:30", "16:00"))?.open == Timestamp(iso8601: "2024-03-05T14:30:00Z"))
    }
}
