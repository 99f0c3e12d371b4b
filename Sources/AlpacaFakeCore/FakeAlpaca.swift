import MarketData
import OpsModel

/// An HTTP request as the fake sees it.
public struct FakeRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [(String, String)]
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(method: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method.uppercased(); self.path = path; self.query = query; self.headers = headers; self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public func param(_ name: String) -> String? {
        query.first { $0.0 == name }.map { $0.1 }
    }
}

/// What the fake answers, and what the server process must do besides.
public struct FakeReply: Sendable {
    public var status: Int
    public var headers: [(String, String)] = []
    /// nil: no body (204).
    public var body: JSON?
    /// Never answer (the order was accepted; the client is left to time out).
    public var hold = false
    /// Trade updates to send on the trade_updates streams, in order.
    public var updates: [TradeUpdate] = []
    /// Close every websocket connection now.
    public var dropStreams = false
    /// The request as logged (for --request-log), nil for control requests.
    public var logEntry: JSON?

    public init(status: Int, body: JSON?) { self.status = status; self.body = body }
}

public struct FakeAlpacaConfig: Sendable {
    /// When both are nil any non-empty key pair is accepted.
    public var keyID: String?
    public var secretKey: String?
    /// Requests per minute per key; 0 = no limit.
    public var rateLimit: Int
    public var cashCents: Cents
    public var seed: UInt64
    public var tickers: [SyntheticTicker]
    public var clock: LiveClock
    /// Limits at or through the mid fill (see `FakeExchange.fillAtMid`).
    public var fillAtMid: Bool

    public init(keyID: String? = nil, secretKey: String? = nil, rateLimit: Int = 200, cashCents: Cents = 10_000_000,
                seed: UInt64 = 42, tickers: [SyntheticTicker] = SyntheticTicker.defaults, clock: LiveClock = .wall, fillAtMid: Bool = false) {
        self.keyID = keyID; self.secretKey = secretKey; self.rateLimit = rateLimit; self.cashCents = cashCents
        self.seed = seed; self.tickers = tickers; self.clock = clock; self.fillAtMid = fillAtMid
    }
}

/// The whole fake Alpaca as a pure state machine: requests in (with the wall time they arrived), replies out;
/// `tick` moves the market. The server process only carries bytes and time.
public struct FakeAlpaca: Sendable {
    public let config: FakeAlpacaConfig
    public var exchange: FakeExchange
    public var limiter: RateLimiter
    public var faults = FakeFaults()
    /// Every API request so far (GET /control/requests).
    public var requests: [JSON] = []
    /// Bars are pushed on the data streams once they have ended; this is the last end time pushed.
    var barsPushedUpTo: Timestamp?

    public init(config: FakeAlpacaConfig) {
        self.config = config
        self.exchange = FakeExchange(market: FakeMarket(seed: config.seed, tickers: config.tickers), cashCents: config.cashCents)
        self.exchange.fillAtMid = config.fillAtMid
        self.limiter = RateLimiter(limit: config.rateLimit)
    }

    public func now(wallMs: Int64) -> Timestamp { config.clock.now(wallMs: wallMs) }

    /// Whether a key pair may use the API (and the streams).
    public func authorized(keyID: String?, secret: String?) -> Bool {
        guard let keyID, let secret, !keyID.isEmpty, !secret.isEmpty else { return false }
        if config.keyID == nil && config.secretKey == nil { return true }
        return (config.keyID == nil || keyID == config.keyID) && (config.secretKey == nil || secret == config.secretKey)
    }

    public mutating func handle(_ r: FakeRequest, wallMs: Int64) -> FakeReply {
        let now = self.now(wallMs: wallMs)
        if r.path.hasPrefix("/control/") { return control(r, now: now, wallMs: wallMs) }
        var reply = api(r, now: now, wallMs: wallMs)
        let entry = Self.logEntry(r, status: reply.status, now: now)
        requests.append(entry)
        reply.logEntry = entry
        return reply
    }

    mutating func api(_ r: FakeRequest, now: Timestamp, wallMs: Int64) -> FakeReply {
        let key = r.header("APCA-API-KEY-ID")
        guard authorized(keyID: key, secret: r.header("APCA-API-SECRET-KEY")) else {
            var reply = FakeReply(status: 401, body: Wire.error(40110000, "request is not authorized"))
            reply.headers = Self.rateHeaders(limit: limiter.limit, remaining: limiter.limit, reset: (wallMs + 60_000) / 1000)
            return reply
        }
        if faults.rateBurst > 0 {
            faults.rateBurst -= 1
            var reply = FakeReply(status: 429, body: Wire.error(42900000, "rate limit exceeded"))
            reply.headers = Self.rateHeaders(limit: max(limiter.limit, 1), remaining: 0, reset: (wallMs + 999) / 1000 + 1)
            return reply
        }
        let d = limiter.admit(key: key ?? "", wallMs: wallMs)
        var reply = d.allowed ? route(r, now: now) : FakeReply(status: 429, body: Wire.error(42900000, "rate limit exceeded"))
        reply.headers += Self.rateHeaders(limit: d.limit, remaining: d.remaining, reset: d.reset)
        return reply
    }

    static func rateHeaders(limit: Int, remaining: Int, reset: Int64) -> [(String, String)] {
        [("X-RateLimit-Limit", String(limit)), ("X-RateLimit-Remaining", String(remaining)), ("X-RateLimit-Reset", String(reset))]
    }

    /// Method, path, query, headers without the secret's value, body, status, time (clock time).
    static func logEntry(_ r: FakeRequest, status: Int, now: Timestamp) -> JSON {
        let headers = r.headers.map { (k, v) in (k, JSON.string(k.lowercased() == "apca-api-secret-key" ? "[redacted]" : v)) }
        let body: JSON = r.body.isEmpty ? .null : (JSON.parse(r.body) ?? .string(String(decoding: r.body, as: UTF8.self)))
        return .obj([("method", .string(r.method)), ("path", .string(r.path)),
                     ("query", .obj(r.query.map { ($0.0, JSON.string($0.1)) })), ("headers", .obj(headers)),
                     ("body", body), ("status", .int(Int64(status))), ("time", .string(Wire.micros(now)))])
    }

    /// Everything time does: expiries, fills, settlements; and the bars that have ended since the last tick.
    public mutating func tick(wallMs: Int64) -> (updates: [TradeUpdate], bars: [Bar]) {
        let now = self.now(wallMs: wallMs)
        let updates = exchange.tick(at: now)
        let from = barsPushedUpTo ?? now
        let bars = exchange.market.barsEnded(after: from, upTo: now)
        barsPushedUpTo = now
        return (updates, bars)
    }

    static func notFound() -> FakeReply { FakeReply(status: 404, body: Wire.error(40410000, "endpoint not found")) }
}
