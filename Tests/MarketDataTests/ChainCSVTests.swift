import Foundation
import OpsModel
import Testing
import MarketData

private func ts(_ s: String) -> Timestamp { Timestamp(iso8601: s)! }
private let header = ChainCSV.genericColumns.joined(separator: ",")

@Suite("ChainCSV inline")
struct ChainCSVTests {
    @Test("generic: rows grouped into one chain per (underlying, as_of), sorted by (as_of, underlying)")
    func grouping() throws {
        let text = header + "\n" + """
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315C00510000,call,510,2024-03-15,3.1,3.2,3.15,120,5000,0.14,0.55,0.05,-0.3,0.25
            AAPL,2024-03-11T13:59:00Z,172.2,AAPL240315P00170000,put,170,2024-03-15,0.8,0.85,,10,200,,,,,
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315P00510000,P,510,2024-03-15,2.5,2.6,,0,0,0.15,-0.45,0.05,-0.28,0.25
            SPY,2024-03-11T13:59:00Z,510.4,SPY240315C00510000,C,510,2024-03-15,3.0,3.1,,0,0,,,,,
            """
        let r = try ChainCSV.parse(text, file: "chains.csv")
        #expect(r.format == .generic)
        #expect(r.rejected.isEmpty)
        #expect(r.chains.map(\.underlying) == ["AAPL", "SPY", "SPY"])
        #expect(r.chains.map(\.asOf) == [ts("2024-03-11T13:59:00Z"), ts("2024-03-11T13:59:00Z"), ts("2024-03-11T14:00:00Z")])
        let spy = r.chains[2]
        #expect(spy.underlyingPrice == 510.5)
        #expect(spy.contracts.map(\.symbol) == ["SPY240315C00510000", "SPY240315P00510000"])
        let c = spy.contracts[0]
        #expect(c.right == .call && c.strike == 510 && c.expiration == CivilDate(year: 2024, month: 3, day: 15))
        #expect(c.bid == 3.1 && c.ask == 3.2 && c.last == 3.15 && c.volume == 120 && c.openInterest == 5000)
        #expect(c.iv == 0.14 && c.delta == 0.55 && c.gamma == 0.05 && c.theta == -0.3 && c.vega == 0.25)
        #expect(r.chains[0].contracts[0].last == nil && r.chains[0].contracts[0].iv == nil && r.chains[0].contracts[0].vega == nil)
        for chain in r.chains { try chain.validate(eventTime: chain.asOf) }
    }

    @Test("generic round trip")
    func roundTrip() throws {
        let chains = [
            OptionChain(underlying: "QQQ", underlyingPrice: 430.25, asOf: ts("2024-03-11T14:00:00Z"), contracts: [
                OptionQuote(symbol: "QQQ240315C00430000", right: .call, strike: 430, expiration: CivilDate(year: 2024, month: 3, day: 15),
                            bid: 2.1, ask: 2.15, last: 2.12, volume: 10, openInterest: 100, iv: 0.1812, delta: 0.51,
                            gamma: 0.04, theta: -0.2, vega: 0.21),
                OptionQuote(symbol: "QQQ240315P00427500", right: .put, strike: 427.5, expiration: CivilDate(year: 2024, month: 3, day: 15),
                            bid: 0, ask: 0.05, volume: 0, openInterest: 0),
            ]),
            OptionChain(underlying: "SPY", underlyingPrice: 510.0, asOf: ts("2024-03-11T14:01:00Z"), contracts: [
                OptionQuote(symbol: "SPY240315C00510000", right: .call, strike: 510, expiration: CivilDate(year: 2024, month: 3, day: 15),
                            bid: 3, ask: 3.1, volume: 1, openInterest: 2, iv: 0.3),
            ]),
        ]
        let text = ChainCSV.renderGeneric(chains)
        let r = try ChainCSV.parseGeneric(text, file: "rt.csv")
        #expect(r.rejected.isEmpty)
        #expect(r.chains == chains)
        #expect(try ChainCSV.parse(text, file: "rt.csv").chains == chains)
    }

    @Test("generic: bad rows are rejected with line and reason, not thrown")
    func badRows() throws {
        let text = header + "\n" + """
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315C00510000,call,510,2024-03-15,3.1,3.2,,1,1,,,,,
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315C00511000,call,511,2024-03-15,3.4,3.2,,1,1,,,,,
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315C00512000,call,512,2024-03-15,x,3.2,,1,1,,,,,
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315C00513000,call,513,2024-03-15,3.1,3.2,,1,1,,,,
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315C00514000,put,514,2024-03-15,3.1,3.2,,1,1,,,,,
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315C00510000,call,510,2024-03-15,3.1,3.2,,1,1,,,,,
            SPY,2024-03-11T14:00:00Z,511.0,SPY240315C00515000,call,515,2024-03-15,3.1,3.2,,1,1,,,,,
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315C00516000,call,516,2024-03-15,3.1,3.2,,1,1,-0.1,,,,
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315C00517000,call,517,2024-03-15,3.1,3.2,,1,1,,1.5,,,
            SPY,2024-03-11 10:00:00,510.5,SPY240315C00518000,call,518,2024-03-15,3.1,3.2,,1,1,,,,,
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315C00519000,straddle,519,2024-03-15,3.1,3.2,,1,1,,,,,
            SPY,2024-03-11T14:00:00Z,0,SPY240315C00520000,call,520,2024-03-15,3.1,3.2,,1,1,,,,,
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315C00521000,call,521,2024-03-15,3.1,3.2,,1.5,1,,,,,
            SPY,2024-03-11T14:00:00Z,510.5,SPY240315C00522000,call,522,2024-03-15,0.5,0,,1,1,,,,,
            """
        let r = try ChainCSV.parseGeneric(text, file: "bad.csv")
        #expect(r.chains.count == 1)
        #expect(r.chains[0].contracts.map(\.symbol) == ["SPY240315C00510000"])
        #expect(r.rejected.map(\.line) == Array(3...15))
        let reason = Dictionary(uniqueKeysWithValues: r.rejected.map { ($0.line, $0.reason) })
        #expect(reason[3]?.contains("bid 3.4 > ask 3.2") == true)
        #expect(reason[4]?.contains("bid: 'x' is not a number") == true)
        #expect(reason[5]?.contains("expected 17 fields") == true)
        #expect(reason[6]?.contains("disagrees with its fields") == true)
        #expect(reason[7]?.contains("already read on line 2") == true)
        #expect(reason[8]?.contains("differs from 510.5 on line 2") == true)
        #expect(reason[9]?.contains("negative iv") == true)
        #expect(reason[10]?.contains("|delta|") == true)
        #expect(reason[11]?.contains("no zone") == true)
        #expect(reason[12]?.contains("not call or put") == true)
        #expect(reason[13]?.contains("underlying_price 0.0 must be > 0") == true)
        #expect(reason[14]?.contains("not a whole number") == true)
        #expect(reason[15]?.contains("with no ask") == true)
    }

    @Test("format detection and whole-file errors")
    func detection() throws {
        #expect(ChainCSV.detectFormat(header: ChainCSV.genericColumns) == .generic)
        #expect(ChainCSV.detectFormat(header: ChainCSV.tdaColumns + ["mark", "rho"]) == .tdaFlat)
        #expect(ChainCSV.detectFormat(header: Array(ChainCSV.tdaColumns.dropLast())) == nil)
        let unknown = #expect(throws: CSVError.self) { try ChainCSV.parse("a,b\n", file: "c.csv") }
        #expect(unknown?.kind == .unknownHeader)
        #expect(unknown?.description.hasPrefix("c.csv:1:") == true)
        #expect(throws: CSVError.self) { try ChainCSV.parseTDAFlat(header + "\n", file: "c.csv") }
        #expect(throws: CSVError.self) { try ChainCSV.parseGeneric("occ_symbol\n", file: "c.csv") }
        #expect(throws: CSVError.self) { try ChainCSV.parse("", file: "c.csv") }
        #expect(try ChainCSV.parseGeneric(header + "\n", file: "c.csv").chains.isEmpty)
    }

    static let tdaHeader = "occ_symbol,tda_symbol,expiry,type,strike,bid,ask,last,mark,volume,open_interest,iv_pct,delta,gamma,theta,"
        + "vega,rho,theo_value,days_to_exp,quote_time_utc,trade_time_utc,underlying_price,interest_rate_pct"

    @Test("TDA flat: sentinels, percent iv, last 0, as_of truncated to the second, one snapshot")
    func tdaInline() throws {
        let text = Self.tdaHeader + "\r\n" + """
            SPY200131C00326000,SPY_013120C326,2020-01-31,call,326.0,1.5,1.52,1.51,1.51,10,100,15.252,0.524,0.088,-0.302,0.118,0.007,1.5,2,2020-01-29T21:14:58.018000,2020-01-29T21:10:00.000000,326.22,2.42788\r
            SPY200131P00326000,SPY_013120P326,2020-01-31,put,326.0,1.2,1.22,0.0,1.21,0,0,-999.0,NaN,-999,nan,,0.0,1.2,2,2020-01-29T21:15:00.999000,,326.22,2.42788\r
            SPY200131P00370000,SPY_013120P370,2020-01-31,put,370.0,43.38,43.58,42.04,43.48,10,0,0,-1.0,0.0,0.0,0.136,0.0,43.78,2,2020-01-29T21:14:59.450000,,326.22,2.42788\r
            SPY200131P00371000,SPY_013120P371,2020-01-31,put,371.0,43.38,43.58,42.04,43.48,10,0,abc,-1.0,0.0,0.0,0.136,0.0,43.78,2,2020-01-29T21:14:59.450000,,326.22,2.42788\r
            QQQ200131P00200000,QQQ_013120P200,2020-01-31,put,200.0,1,2,0,1.5,0,0,20,-0.1,0.0,0.0,0.1,0.0,1.5,2,2020-01-29T21:16:00.000000,,326.22,2.42788\r

            """
        let r = try ChainCSV.parse(text, file: "tda_SPY.csv")
        #expect(r.format == .tdaFlat)
        let chain = try #require(r.chains.first)
        #expect(r.chains.count == 1)
        #expect(chain.underlying == "SPY" && chain.underlyingPrice == 326.22)
        #expect(chain.asOf == ts("2020-01-29T21:15:00Z"))
        #expect(chain.contracts.count == 3)
        let call = chain.contracts[0], put = chain.contracts[1], deep = chain.contracts[2]
        #expect(abs(call.iv! - 0.15252) < 1e-12)
        #expect(call.vega == 0.118 && call.theta == -0.302 && call.last == 1.51)
        #expect(put.iv == nil && put.delta == nil && put.gamma == nil && put.theta == nil && put.vega == nil && put.last == nil)
        #expect(deep.iv == nil && deep.delta == -1.0)
        #expect(r.rejected.map(\.line) == [5, 6])
        #expect(r.rejected[0].reason.contains("iv_pct: 'abc' is not a number"))
        #expect(r.rejected[1].reason.contains("root 'QQQ'"))
        try chain.validate(eventTime: chain.asOf)
    }
}
