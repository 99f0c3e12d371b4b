import Foundation
import Testing

/// The shared market-data directory: `<package root>/../shared/data` (the package root is the nearest directory
/// above this file that holds `Package.swift`), else `$OPS_SHARED_DATA`. nil when neither exists, and the tests
/// that need real data are then skipped.
func sharedDataURL(filePath: String = #filePath) -> URL? {
    let fm = FileManager.default
    var dir = URL(fileURLWithPath: filePath).deletingLastPathComponent()
    while dir.pathComponents.count > 1 {
        if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            let data = dir.appendingPathComponent("../shared/data").standardizedFileURL
            if fm.fileExists(atPath: data.path) { return data }
            break
        }
        dir = dir.deletingLastPathComponent()
    }
    if let env = ProcessInfo.processInfo.environment["OPS_SHARED_DATA"], !env.isEmpty {
        let data = URL(fileURLWithPath: env, isDirectory: true)
        if fm.fileExists(atPath: data.path) { return data }
    }
    return nil
}

enum CSVSharedData {
    static let skipMessage: Comment = "shared market data not found at <package root>/../shared/data; set OPS_SHARED_DATA to run these tests"
    static var available: Bool { sharedDataURL() != nil }

    /// A file under the shared data directory and its text.
    static func text(_ relativePath: String) throws -> (url: URL, text: String) {
        let root = try #require(sharedDataURL(), "shared data directory not found")
        let url = root.appendingPathComponent(relativePath)
        return (url, try String(contentsOf: url, encoding: .utf8))
    }

    /// Non-empty lines of a text (CRLF and LF alike).
    static func lineCount(_ text: String) -> Int {
        text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).count
    }

    static let alphaVantageFiles = ["AAPL", "MSFT", "QQQ", "SPY", "TSLA"].map {
        "bars/\($0)_1min_2019-02-11_2019-02-15_alphavantage_ET.csv"
    }
}

@Suite("shared data location")
struct SharedDataLocationCSVTests {
    @Test("sharedDataURL walks up to Package.swift and falls back to OPS_SHARED_DATA")
    func location() {
        if let url = sharedDataURL() {
            #expect(FileManager.default.fileExists(atPath: url.appendingPathComponent("bars").path))
        } else {
            #expect(ProcessInfo.processInfo.environment["OPS_SHARED_DATA"].map { !FileManager.default.fileExists(atPath: $0) } ?? true)
        }
    }
}
