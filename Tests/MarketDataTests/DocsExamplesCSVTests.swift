import Foundation
import Testing
import MarketData

/// `docs/data-formats.md` beside `Package.swift`, when present.
func dataFormatsDocURL(filePath: String = #filePath) -> URL? {
    var dir = URL(fileURLWithPath: filePath).deletingLastPathComponent()
    while dir.pathComponents.count > 1 {
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            let doc = dir.appendingPathComponent("docs/data-formats.md")
            return FileManager.default.fileExists(atPath: doc.path) ? doc : nil
        }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}

@Suite("docs/data-formats.md examples", .enabled(if: dataFormatsDocURL() != nil, "docs/data-formats.md not found beside Package.swift"))
struct DocsExamplesCSVTests {
    @Test("every CSV example in the doc parses without a rejected row")
    func examples() throws {
        let doc = try String(contentsOf: try #require(dataFormatsDocURL()), encoding: .utf8)
        let blocks = doc.components(separatedBy: "```").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        #expect(blocks.count == 7)
        for block in blocks {
            let text = block.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
            let header = CSVReader(text: text).rows[0].fields
            if BarCSV.detectFormat(header: header) != nil {
                let r = try BarCSV.parse(text, file: "doc.csv", ticker: header.contains("ticker") ? nil : "SPY")
                #expect(r.rejected.isEmpty && r.bars.count == 2, "\(r.rejected)")
            } else if ChainCSV.detectFormat(header: header) != nil {
                let r = try ChainCSV.parse(text, file: "doc.csv")
                #expect(r.rejected.isEmpty && r.chains.first?.contracts.count == 2, "\(r.rejected)")
            } else if header.map({ $0.lowercased() }).contains("atm_iv") {
                let r = try ImpliedVolatilityCSV.parse(text, file: "doc.csv")
                #expect(r.rejected.isEmpty && r.days.count == 3, "\(r.rejected)")
            } else {
                let r = try SentimentCSV.parse(text, file: "doc.csv")
                #expect(r.rejected.isEmpty && r.scores.count == 2, "\(r.rejected)")
            }
        }
    }
}
