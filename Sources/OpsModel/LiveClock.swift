import Foundation

/// The clock of the live adapters (the Alpaca broker-gateway and market-feed, and the fake Alpaca): wall time, or a
/// simulated market time that starts at a chosen instant and runs `speed` times faster than the wall — so a paper
/// session against the fake Alpaca can open at 09:30 New York whenever the tests or a demo run, and every process
/// started with the same spec agrees on "now".
///
/// Spec (env `OPS_CLOCK`, flag `--clock`): `wall`, or `START[@ANCHOR][xSPEED]` — START an ISO-8601 instant with a
/// zone, ANCHOR the wall-clock epoch milliseconds at which the simulated clock reads START (default: when the spec is
/// parsed; `opsctl up` sets one anchor for all its children), SPEED a factor (default 1).
public struct LiveClock: Sendable, Equatable, CustomStringConvertible {
    public var start: Timestamp?
    public var anchorWallMs: Int64
    public var speed: Double

    public static let wall = LiveClock(start: nil, anchorWallMs: 0, speed: 1)

    public init(start: Timestamp?, anchorWallMs: Int64, speed: Double) {
        self.start = start; self.anchorWallMs = anchorWallMs; self.speed = speed
    }

    /// Parses a spec; `wallNowMs` anchors a spec without `@ANCHOR`.
    public init(spec: String, wallNowMs: Int64) throws(LiveClockError) {
        let text = spec.trimmingCharacters(in: .whitespaces)
        if text.isEmpty || text == "wall" { self = .wall; return }
        var rest = Substring(text)
        var speed = 1.0
        if let x = rest.lastIndex(of: "x") {
            guard let s = Double(rest[rest.index(after: x)...]), s > 0, s <= 10_000 else {
                throw LiveClockError("clock speed must be a number in (0, 10000] after 'x', e.g. 2024-03-05T09:30:00-05:00x10; got '\(spec)'")
            }
            speed = s
            rest = rest[..<x]
        }
        var anchor = wallNowMs
        if let at = rest.lastIndex(of: "@") {
            guard let a = Int64(rest[rest.index(after: at)...]) else {
                throw LiveClockError("clock anchor after '@' must be wall-clock epoch milliseconds; got '\(spec)'")
            }
            anchor = a
            rest = rest[..<at]
        }
        guard let start = Timestamp(iso8601: String(rest)) else {
            throw LiveClockError("clock start must be an ISO-8601 instant with a zone, e.g. 2024-03-05T09:30:00-05:00, or 'wall'; got '\(spec)'")
        }
        self.init(start: start, anchorWallMs: anchor, speed: speed)
    }

    /// The clock's reading at a wall-clock instant.
    public func now(wallMs: Int64) -> Timestamp {
        guard let start else { return Timestamp(ms: wallMs) }
        return start.adding(ms: Int64((Double(wallMs - anchorWallMs) * speed).rounded(.down)))
    }

    /// Wall milliseconds that pass while this clock advances `ms`.
    public func wallMs(forClockMs ms: Int64) -> Int64 { Int64((Double(ms) / speed).rounded(.up)) }

    /// A spec that reproduces this clock exactly in another process.
    public var description: String {
        guard let start else { return "wall" }
        return "\(start.iso8601)@\(anchorWallMs)x\(speed)"
    }
}

public struct LiveClockError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
