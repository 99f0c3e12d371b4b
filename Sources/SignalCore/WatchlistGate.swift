import Foundation
import OpsModel

/// The signal-engine's view of the watchlist-engine's latest list (seed 004 §5): only its selected tickers may
/// signal; while none has been published (a run's first session until its first list), every ticker may. The
/// verdict is the `watchlist` rule of every signal (contribution 0) and the last part of its reason.
struct WatchlistGate: Sendable {
    /// The latest list: its boundary, selected tickers in rank order, and size.
    private(set) var asOf: Timestamp?
    private(set) var tickers: [String] = []
    private(set) var size = 0

    /// A later list replaces the current one; an older one (a copy from another partition) changes nothing.
    mutating func update(_ list: Watchlist) {
        if let asOf, list.asOf < asOf { return }
        asOf = list.asOf
        tickers = list.tickers
        size = list.size
    }

    func admits(_ ticker: String) -> Bool { asOf == nil || tickers.contains(ticker) }

    func rule(for ticker: String) -> RuleScore {
        RuleScore(rule: "watchlist", passed: admits(ticker), contribution: 0, detail: detail(for: ticker))
    }

    func detail(for ticker: String) -> String {
        guard let asOf else { return "no watchlist published yet: every ticker is eligible" }
        let when = "the watchlist as of \(Self.newYork(asOf))"
        if let i = tickers.firstIndex(of: ticker) { return "\(ticker) is #\(i + 1) of the top \(size) in \(when)" }
        return "\(ticker) is not in the top \(size) of \(when)"
    }

    /// `watchlist: …` for the reason line.
    func summary(for ticker: String) -> String {
        guard asOf != nil else { return "watchlist: none published yet, every ticker eligible" }
        let i = tickers.firstIndex(of: ticker)
        return "watchlist: " + (i.map { "#\($0 + 1) of top \(size)" } ?? "not in top \(size)") + " as of \(Self.newYork(asOf!))"
    }

    /// `2024-03-04 10:00 New York`.
    static func newYork(_ t: Timestamp) -> String {
        let local = NewYorkTime.local(t)
        let hour = local.secondOfDay / 3600, minute = local.secondOfDay / 60 % 60
        return "\(local.date.iso) \(hour < 10 ? "0" : "")\(hour):\(minute < 10 ? "0" : "")\(minute) New York"
    }
}
