/// Alpaca's request limit: `limit` requests per key in fixed 60-second windows of the WALL clock (a simulated
/// market clock must not make the limit faster or slower).
public struct RateLimiter: Sendable {
    public let limit: Int
    var windows: [String: (startMs: Int64, count: Int)] = [:]
    static let windowMs: Int64 = 60_000

    public init(limit: Int) { self.limit = limit }

    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        public var limit: Int
        public var remaining: Int
        /// Unix seconds when the window resets.
        public var reset: Int64
    }

    /// Counts a request of `key` at wall time `wallMs`. With limit 0 every request passes.
    public mutating func admit(key: String, wallMs: Int64) -> Decision {
        guard limit > 0 else {
            return Decision(allowed: true, limit: 0, remaining: 0, reset: (wallMs + Self.windowMs) / 1000)
        }
        var w = windows[key] ?? (wallMs, 0)
        if wallMs - w.startMs >= Self.windowMs { w = (wallMs, 0) }
        let allowed = w.count < limit
        if allowed { w.count += 1 }
        windows[key] = w
        let reset = (w.startMs + Self.windowMs + 999) / 1000
        return Decision(allowed: allowed, limit: limit, remaining: max(0, limit - w.count), reset: reset)
    }
}

/// Faults the control API arms; each is used up by the requests it hits.
public struct FakeFaults: Sendable, Equatable {
    /// POST /v2/orders accepted, then no answer.
    public var timeoutAfterAccept = 0
    /// POST /v2/orders answered with `status` (after accepting the order when `accept`).
    public var statusFault: (status: Int, count: Int, accept: Bool)?
    /// Any API request answered 429.
    public var rateBurst = 0

    public init() {}

    public static func == (a: FakeFaults, b: FakeFaults) -> Bool {
        a.timeoutAfterAccept == b.timeoutAfterAccept && a.rateBurst == b.rateBurst
            && a.statusFault?.status == b.statusFault?.status && a.statusFault?.count == b.statusFault?.count
            && a.statusFault?.accept == b.statusFault?.accept
    }

    /// Takes one use of the status fault, if armed.
    mutating func takeStatus() -> (status: Int, accept: Bool)? {
        guard var f = statusFault, f.count > 0 else { return nil }
        f.count -= 1
        statusFault = f.count > 0 ? f : nil
        return (f.status, f.accept)
    }

    static func body(status: Int) -> JSON {
        let message = switch status {
        case 500: "internal server error"
        case 502: "bad gateway"
        case 503: "service unavailable"
        case 504: "gateway timeout"
        default: "error"
        }
        return Wire.error(Int64(status) * 100_000, message)
    }
}
