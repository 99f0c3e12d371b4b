import OpsModel

/// The control API (no auth; tests only): faults, scripted quotes, forced expiry, state, the request log, reset.
extension FakeAlpaca {
    mutating func control(_ r: FakeRequest, now: Timestamp, wallMs: Int64) -> FakeReply {
        exchange.market.advance(to: now)
        let body = JSON.parse(r.body) ?? .obj()
        switch (r.method, r.path) {
        case ("POST", "/control/fault"): return fault(body, now: now)
        case ("POST", "/control/quote"):
            guard let symbol = body["symbol"]?.string, let bid = Self.dollars(body["bid"]), let ask = Self.dollars(body["ask"]) else {
                return FakeReply(status: 400, body: Wire.error(40010000, "need symbol, bid, ask"))
            }
            exchange.scripted[symbol] = FakeQuote(bid: bid, ask: ask, time: now)
            var out = FakeReply(status: 200, body: .obj(("symbol", .string(symbol)), ("bid", .string(Wire.money(bid))), ("ask", .string(Wire.money(ask)))))
            out.updates = exchange.match(at: now)
            return out
        case ("POST", "/control/expire"):
            let settled = exchange.forceExpire(symbol: body["symbol"]?.string, underlyingCents: Self.dollars(body["underlying_price"]), at: now)
            return FakeReply(status: 200, body: .obj(("settled", .array(settled.map(JSON.string)))))
        case ("GET", "/control/requests"): return FakeReply(status: 200, body: .array(requests))
        case ("GET", "/control/state"): return FakeReply(status: 200, body: stateJSON(now: now))
        case ("POST", "/control/reset"):
            self = FakeAlpaca(config: config, market: exchange.market)
            return FakeReply(status: 200, body: .obj(("reset", .bool(true))))
        default: return Self.notFound()
        }
    }

    init(config: FakeAlpacaConfig, market: FakeMarket) {
        self.init(config: config)
        exchange.market = market
    }

    /// A price in dollars given as a number or a string, in cents.
    static func dollars(_ v: JSON?) -> Cents? {
        guard let v else { return nil }
        if let d = v.double { return FakeExchange.cents(d) }
        return v.string.flatMap { Money.cents(dollars: $0) }
    }

    mutating func fault(_ body: JSON, now: Timestamp) -> FakeReply {
        let count = Int(body["count"]?.int ?? 1)
        var out = FakeReply(status: 200, body: .obj(("armed", body)))
        switch body["kind"]?.string {
        case "drop_stream": out.dropStreams = true
        case "timeout_after_accept": faults.timeoutAfterAccept = count
        case "status":
            let status = Int(body["status"]?.int ?? 500)
            faults.statusFault = (status, count, body["accept"]?.bool ?? false)
        case "rate_burst": faults.rateBurst = count
        case "partial_fills":
            let q = body["max_qty"]?.int ?? 0
            exchange.partialMaxQty = q > 0 ? q : nil
        case "hold_fills":
            exchange.holdFills = body["on"]?.bool ?? true
            if !exchange.holdFills { out.updates = exchange.match(at: now) }
        default: return FakeReply(status: 400, body: Wire.error(40010000, "unknown fault kind"))
        }
        return out
    }

    func stateJSON(now: Timestamp) -> JSON {
        .obj([("orders", .array(exchange.orders.map(\.json))),
              ("positions", .array(sortedPositions().map { positionJSON($0, now: now) })),
              ("cash", .string(Wire.money(exchange.cash))), ("equity", .string(Wire.money(exchange.equity(at: now)))),
              ("realized_pl", .string(Wire.money(exchange.realizedPL))),
              ("activities", .array(exchange.activities.map(\.json))), ("now", .string(Wire.micros(now)))])
    }
}
