import OpsModel

/// One trade_updates websocket connection: authenticate, then listen.
public struct TradeStreamSession: Sendable {
    public private(set) var authorized = false
    public private(set) var listening = false

    public init() {}

    /// The replies to one client message, and whether to close after them.
    public mutating func receive(_ text: String, fake: FakeAlpaca) -> (replies: [JSON], close: Bool) {
        guard let m = JSON.parse(text), let action = m["action"]?.string else {
            return ([.obj(("stream", .string("listening")), ("data", .obj(("error", .string("invalid syntax")))))], false)
        }
        switch action {
        case "authenticate", "auth":
            let data = m["data"] ?? .obj()
            authorized = fake.authorized(keyID: data["key_id"]?.string, secret: data["secret_key"]?.string)
            let status = authorized ? "authorized" : "unauthorized"
            return ([.obj(("stream", .string("authorization")),
                          ("data", .obj(("action", .string("authenticate")), ("status", .string(status)))))], !authorized)
        case "listen":
            guard authorized else {
                return ([.obj(("stream", .string("authorization")),
                              ("data", .obj(("action", .string("listen")), ("status", .string("unauthorized")))))], true)
            }
            let streams = m["data"]?["streams"]?.array?.compactMap(\.string) ?? []
            listening = streams.contains("trade_updates")
            return ([.obj(("stream", .string("listening")), ("data", .obj(("streams", .array(streams.map(JSON.string))))))], false)
        default:
            return ([], false)
        }
    }
}

/// One stock market-data websocket connection (/v2/iex, /v2/sip): auth, then bar subscriptions.
public struct BarStreamSession: Sendable {
    public private(set) var authenticated = false
    public private(set) var bars: Set<String> = []
    var trades: [String] = []
    var quotes: [String] = []

    public init() {}

    public static let connected: JSON = .array([.obj(("T", .string("success")), ("msg", .string("connected")))])
    public static let connectionLimit: JSON = .array([.obj(("T", .string("error")), ("code", .int(406)), ("msg", .string("connection limit exceeded")))])

    public mutating func receive(_ text: String, fake: FakeAlpaca) -> (replies: [JSON], close: Bool) {
        guard let m = JSON.parse(text), let action = m["action"]?.string else {
            return ([Self.error(400, "invalid syntax")], false)
        }
        switch action {
        case "auth":
            guard fake.authorized(keyID: m["key"]?.string, secret: m["secret"]?.string) else {
                return ([Self.error(402, "auth failed")], true)
            }
            authenticated = true
            return ([.array([.obj(("T", .string("success")), ("msg", .string("authenticated")))])], false)
        case "subscribe", "unsubscribe":
            guard authenticated else { return ([Self.error(401, "not authenticated")], false) }
            let add = action == "subscribe"
            let requested = m["bars"]?.array?.compactMap(\.string) ?? []
            bars = add ? bars.union(requested) : bars.subtracting(requested)
            func update(_ list: inout [String], _ key: String) {
                let r = m[key]?.array?.compactMap(\.string) ?? []
                list = add ? list + r.filter { !list.contains($0) } : list.filter { !r.contains($0) }
            }
            update(&trades, "trades")
            update(&quotes, "quotes")
            return ([.array([.obj(("T", .string("subscription")), ("trades", .array(trades.map(JSON.string))),
                                  ("quotes", .array(quotes.map(JSON.string))),
                                  ("bars", .array(bars.sorted().map(JSON.string))))])], false)
        default:
            return ([Self.error(400, "invalid syntax")], false)
        }
    }

    /// The bars of this connection's subscriptions, one message.
    public func message(for bars: [Bar]) -> JSON? {
        let mine = bars.filter { self.bars.contains($0.ticker) || self.bars.contains("*") }
        guard authenticated, !mine.isEmpty else { return nil }
        return .array(mine.map { b in
            .obj([("T", .string("b")), ("S", .string(b.ticker)), ("o", .number(b.open)), ("h", .number(b.high)),
                  ("l", .number(b.low)), ("c", .number(b.close)), ("v", .int(b.volume)), ("t", .string(Wire.utc(b.start))),
                  ("n", .int(b.trades ?? 0)), ("vw", .number(b.vwap ?? b.close))])
        })
    }

    static func error(_ code: Int64, _ msg: String) -> JSON {
        .array([.obj(("T", .string("error")), ("code", .int(code)), ("msg", .string(msg)))])
    }
}
