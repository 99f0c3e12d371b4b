import OpsModel

/// Keeps the adapter under Alpaca's 200 requests a minute: a token bucket refilled continuously, corrected by
/// what every response says (`X-RateLimit-Remaining`, `X-RateLimit-Reset`), and closed until the reset after a 429.
/// Pure: times are passed in (milliseconds of any monotonic clock that agrees with the reset's unix seconds).
public struct RateLimiter: Sendable, Equatable {
    public let perMinute: Int
    var tokens: Double
    var lastRefillMs: Int64
    /// No request before this instant (a 429, or the server's count ran out).
    var closedUntilMs: Int64 = 0

    public init(perMinute: Int = 200, nowMs: Int64) {
        precondition(perMinute > 0)
        self.perMinute = perMinute
        self.tokens = Double(perMinute)
        self.lastRefillMs = nowMs
    }

    mutating func refill(_ nowMs: Int64) {
        guard nowMs > lastRefillMs else { return }
        tokens = min(Double(perMinute), tokens + Double(nowMs - lastRefillMs) * Double(perMinute) / 60_000)
        lastRefillMs = nowMs
    }

    /// Takes a token when one is free (returns 0), else how many milliseconds to wait before asking again.
    public mutating func acquire(nowMs: Int64) -> Int64 {
        refill(nowMs)
        if nowMs < closedUntilMs { return closedUntilMs - nowMs }
        if tokens >= 1 { tokens -= 1; return 0 }
        return Int64(((1 - tokens) * 60_000 / Double(perMinute)).rounded(.up))
    }

    /// What a response said about the account's budget.
    public mutating func observe(status: Int, remaining: Int?, resetUnixSeconds: Int64?, nowMs: Int64) {
        refill(nowMs)
        let resetMs = resetUnixSeconds.map { $0 * 1000 }
        if let remaining { tokens = min(tokens, Double(max(0, remaining))) }
        if status == 429 || remaining == 0 {
            // Without a reset header, a second is Alpaca's own granularity.
            closedUntilMs = max(closedUntilMs, max(resetMs ?? 0, nowMs + 1000))
            tokens = 0
        }
    }
}

/// Exponential backoff with full jitter (AWS's "exponential backoff and jitter"): attempt n waits a uniform draw
/// in [0, min(cap, base × 2ⁿ)], so many clients retrying together spread out. `unit` is a draw in [0, 1).
public struct Backoff: Sendable, Equatable {
    public var baseMs: Int64
    public var capMs: Int64
    public init(baseMs: Int64 = 250, capMs: Int64 = 30_000) { self.baseMs = baseMs; self.capMs = capMs }

    public func delayMs(attempt: Int, unit: Double) -> Int64 {
        let ceiling = min(capMs, baseMs << Int64(min(max(attempt, 0), 20)))
        return Int64(Double(ceiling) * min(max(unit, 0), 0.999_999))
    }
}
