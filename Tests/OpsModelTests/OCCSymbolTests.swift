import Testing
import OpsModel

@Suite("OCCSymbol")
struct OCCSymbolTests {
    @Test("compact and 21-character padded forms parse to the same contract")
    func compactAndPadded() throws {
        let compact = try #require(OCCSymbol("SPY240320C00510000"))
        let padded = try #require(OCCSymbol("SPY   240320C00510000"))
        #expect(compact == padded)
        #expect(compact.root == "SPY")
        #expect(compact.expiration == CivilDate(year: 2024, month: 3, day: 20))
        #expect(compact.right == .call)
        #expect(compact.strike == 510.0)
        #expect(compact.description == "SPY240320C00510000")
        #expect(padded.description == "SPY240320C00510000")
        #expect("SPY   240320C00510000".utf8.count == 21)
    }

    @Test("strike is thousandths of a dollar", arguments: [
        ("SPY240320C00510000", 510.0), ("F240621P00002500", 2.5), ("AAPL240621C00172500", 172.5),
        ("BRKB240621C00412125", 412.125), ("X240621P00000001", 0.001), ("NVDA240621C99999999", 99_999.999),
        ("SPXW240621P05300000", 5300.0),
    ])
    func strikes(_ text: String, _ strike: Double) throws {
        let s = try #require(OCCSymbol(text))
        #expect(s.strike == strike)
        #expect(s.description == text)
    }

    @Test("puts, one- and six-letter roots, padded roots of every length")
    func rootsAndRights() throws {
        let put = try #require(OCCSymbol("QQQ241231P00400000"))
        #expect(put.right == .put)
        #expect(put.expiration == CivilDate(year: 2024, month: 12, day: 31))
        #expect(OCCSymbol("F240621C00012000")?.root == "F")
        #expect(OCCSymbol("GOOGLX240621C00012000")?.root == "GOOGLX")
        for root in ["F", "GE", "SPY", "AAPL", "SPXW", "GOOGLX"] {
            let padded = root + String(repeating: " ", count: 6 - root.count) + "250117P00150000"
            #expect(OCCSymbol(padded)?.root == root, "\(padded)")
            #expect(OCCSymbol(padded)?.description == root + "250117P00150000")
        }
        #expect(OCCSymbol("SPY240229C00510000")?.expiration == CivilDate(year: 2024, month: 2, day: 29))
    }

    @Test("description round trip from fields")
    func descriptionRoundTrip() {
        var rng = SplitMix64(seed: 7)
        let roots = ["A", "SPY", "QQQ", "IWM", "AAPL", "SPXW", "GOOGLX"]
        for _ in 0..<2_000 {
            let day = CivilDate(year: 2000, month: 1, day: 1).adding(days: Int.random(in: 0..<36_500, using: &rng))
            let strike = Double(Int.random(in: 1...99_999_999, using: &rng)) / 1000
            let s = OCCSymbol(root: roots.randomElement(using: &rng)!, expiration: day,
                              right: Bool.random(using: &rng) ? .call : .put, strike: strike)
            #expect(s.description.utf8.count == s.root.utf8.count + 15)
            let back = OCCSymbol(s.description)
            #expect(back == s, "\(s.description)")
            if back != s { return }
        }
    }

    @Test("rejects bad dates, letters, lengths and roots", arguments: [
        "SPY230229C00510000", // 2023-02-29
        "SPY240230C00510000", // Feb 30
        "SPY241320C00510000", // month 13
        "SPY240020C00510000", // month 0
        "SPY240300C00510000", // day 0
        "SPY240431C00510000", // April 31
        "SPY240320X00510000", // right X
        "SPY240320c00510000", // lower-case right
        "SPY24032AC00510000", // letter in the date
        "SPY240320C0051000A", // letter in the strike
        "SPY240320C-0510000", // sign in the strike
        "SPY240320C0051000", // strike one digit short
        "SPY240320C005100000", // strike one digit long (reads the C as a date digit)
        "240320C00510000", // no root (15 chars)
        "      240320C00510000", // blank root
        "TOOLONG240320C00510000", // 7-letter root, 22 chars
        "SPY    240320C00510000", // 22 chars
        "", "SPY", "SPY 2024-03-20 C 510",
    ])
    func rejects(_ text: String) {
        #expect(OCCSymbol(text) == nil, "\(text)")
    }
}
