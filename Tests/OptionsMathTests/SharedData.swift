import Foundation
import TestSupport

func oracleURL(_ name: String) -> URL { TestPaths.shared("oracles").appendingPathComponent(name) }

func oracleExists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: oracleURL(name).path) }

/// Rows of a comma-separated oracle file: `#` lines are comments, the first other line is the header.
func readOracle(_ name: String) throws -> [[String: String]] {
    let text = try String(contentsOf: oracleURL(name), encoding: .utf8)
    let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") }
    guard let header = lines.first?.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) else { return [] }
    return lines.dropFirst().map { line in
        let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var row = [String: String]()
        for (i, h) in header.enumerated() where i < cells.count { row[h] = cells[i] }
        return row
    }
}
