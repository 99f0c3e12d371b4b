import Foundation
import Testing
import MarketData

@Suite("CSVReader")
struct ReaderCSVTests {
    @Test("plain rows get 1-based line numbers and the trailing empty line yields nothing")
    func plain() {
        let rows = CSVReader(text: "a,b,c\n1,2,3\n").rows
        #expect(rows.map(\.fields) == [["a", "b", "c"], ["1", "2", "3"]])
        #expect(rows.map(\.line) == [1, 2])
        #expect(rows[1].raw == "1,2,3")
        #expect(rows.allSatisfy { $0.problem == nil })
    }

    @Test("quoted fields, escaped quotes, separators and line breaks inside quotes")
    func quoted() {
        let text = "name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\n\"multi\nline\",x\nlast,\"\"\n"
        let rows = CSVReader(text: text).rows
        #expect(rows.count == 4)
        #expect(rows[1].fields == ["Smith, J", "said \"hi\""])
        #expect(rows[2].fields == ["multi\nline", "x"])
        #expect(rows[2].line == 3)
        #expect(rows[3].line == 5)
        #expect(rows[3].fields == ["last", ""])
        #expect(rows[2].raw == "\"multi\nline\",x")
    }

    @Test("CRLF, lone CR, BOM, blank lines and a missing final line break")
    func lineEndings() {
        let text = "\u{FEFF}h1,h2\r\n1,2\r\n\r\n3,4\r5,6"
        let rows = CSVReader(text: text).rows
        #expect(rows.map(\.fields) == [["h1", "h2"], ["1", "2"], ["3", "4"], ["5", "6"]])
        #expect(rows.map(\.line) == [1, 2, 4, 5])
        #expect(rows[0].raw == "h1,h2")
    }

    @Test("empty fields and empty input")
    func empties() {
        #expect(CSVReader(text: "").rows.isEmpty)
        #expect(CSVReader(text: "\n\n").rows.isEmpty)
        #expect(CSVReader(text: ",,\n").rows.map(\.fields) == [["", "", ""]])
    }

    @Test("malformed records are yielded with a problem, not thrown")
    func malformed() {
        let rows = CSVReader(text: "a,b\n\"x\"y,2\n3,\"open\n4,5\n").rows
        #expect(rows.count == 3)
        #expect(rows[1].problem?.contains("after the closing quote") == true)
        #expect(rows[2].line == 3)
        #expect(rows[2].problem?.contains("never closed") == true)
        #expect(rows[2].problem?.contains("line 3") == true)
    }

    @Test("a quote inside an unquoted field is literal")
    func strayQuote() {
        let rows = CSVReader(text: "5'11\",x\n").rows
        #expect(rows[0].fields == ["5'11\"", "x"])
        #expect(rows[0].problem == nil)
    }

    @Test("reads a file URL")
    func file() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reader-csv-\(UInt64.random(in: 0...UInt64.max)).csv")
        try Data("a,b\r\n1,2\r\n".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let rows = try CSVReader(contentsOf: url).rows
        #expect(rows.map(\.fields) == [["a", "b"], ["1", "2"]])
        #expect(throws: CSVError.self) { try CSVReader(contentsOf: url.appendingPathExtension("missing")) }
    }
}
