import Foundation
import OpsModel

/// The trading REST routes.
extension FakeAlpaca {
    mutating func route(_ r: FakeRequest, now: Timestamp) -> FakeReply {
        exchange.market.advance(to: now)
        let parts = r.path.split(separator: "/").map(String.init)
        let p = parts + Array(repeating: "", count: 4)
        switch (r.method, parts.count, p[0], p[1], p[2], p[3]) {
        case ("POST", 2, "v2", "orders", _, _): return postOrder(r, now: now)
        case ("GET", 2, "v2", "orders", _, _): return listOrders(r, now: now)
        case ("DELETE", 2, "v2", "orders", _, _): return cancelAll(now: now)
        case ("GET", 2, "v2", "orders:by_client_order_id", _, _):
            let id = r.param("client_order_id") ?? ""
            guard let o = exchange.orders.first(where: { $0.clientOrderID == id }) else {
                return FakeReply(status: 404, body: Wire.error(40410000, "order not found for \(id)"))
            }
            return FakeReply(status: 200, body: o.json)
        case ("GET", 3, "v2", "orders", let id, _):
            guard let o = exchange.orders.first(where: { $0.id == id }) else {
                return FakeReply(status: 404, body: Wire.error(40410000, "order not found for \(id)"))
            }
            return FakeReply(status: 200, body: o.json)
        case ("DELETE", 3, "v2", "orders", let id, _):
            switch exchange.cancel(id: id, at: now) {
            case .failure(let f): return FakeReply(status: f.status, body: f.body)
            case .success(let u):
                var reply = FakeReply(status: 204, body: nil)
                reply.updates = [u]
                return reply
            }
        case ("GET", 2, "v2", "positions", _, _):
            return FakeReply(status: 200, body: .array(sortedPositions().map { positionJSON($0, now: now) }))
        case ("DELETE", 2, "v2", "positions", _, _): return closeAll(now: now)
        case ("GET", 3, "v2", "positions", let symbol, _):
            guard let p = exchange.positions[symbol] else { return FakeReply(status: 404, body: Wire.error(40410000, "position does not exist")) }
            return FakeReply(status: 200, body: positionJSON(p, now: now))
        case ("DELETE", 3, "v2", "positions", let symbol, _):
            return reply(exchange.closePosition(symbol, qty: r.param("qty").flatMap { Int64($0) }, at: now))
        case ("GET", 2, "v2", "account", _, _): return FakeReply(status: 200, body: accountJSON(now: now))
        case ("GET", 3, "v2", "account", "activities", _): return activities(r, types: r.param("activity_types"))
        case ("GET", 4, "v2", "account", "activities", let type): return activities(r, types: type)
        case ("GET", 2, "v2", "clock", _, _): return FakeReply(status: 200, body: Self.clockJSON(now))
        case ("GET", 2, "v2", "calendar", _, _): return calendar(r, now: now)
        case ("GET", 3, "v2", "options", "contracts", _): return contracts(r, now: now)
        case ("GET", 4, "v2", "options", "contracts", let symbol):
            guard let c = exchange.market.contracts(at: now)[symbol] else {
                return FakeReply(status: 404, body: Wire.error(40410000, "option contract not found"))
            }
            return FakeReply(status: 200, body: contractJSON(c.quote, time: c.time))
        case ("GET", 3, "v2", "stocks", "bars", _): return stockBars(r, now: now)
        case ("GET", 4, "v1beta1", "options", "snapshots", let underlying): return snapshots(r, underlying: underlying, now: now)
        default: return Self.notFound()
        }
    }

    mutating func postOrder(_ r: FakeRequest, now: Timestamp) -> FakeReply {
        let timeout = faults.timeoutAfterAccept > 0
        if timeout { faults.timeoutAfterAccept -= 1 }
        let statusFault = timeout ? nil : faults.takeStatus()
        guard let body = JSON.parse(r.body), case .object = body else {
            return FakeReply(status: 400, body: Wire.error(40010000, "request body format is invalid"))
        }
        if let f = statusFault, !f.accept { return FakeReply(status: f.status, body: FakeFaults.body(status: f.status)) }
        var out = reply(exchange.submit(body, at: now))
        if timeout { out.hold = true }
        if let f = statusFault {
            out.status = f.status
            out.body = FakeFaults.body(status: f.status)
        }
        return out
    }

    func reply(_ result: Result<(order: FakeOrder, updates: [TradeUpdate]), FakeRefusal>) -> FakeReply {
        switch result {
        case .failure(let f): return FakeReply(status: f.status, body: f.body)
        case .success(let s):
            var out = FakeReply(status: 200, body: s.order.json)
            out.updates = s.updates
            return out
        }
    }

    func listOrders(_ r: FakeRequest, now: Timestamp) -> FakeReply {
        let status = r.param("status") ?? "open"
        let limit = min(500, max(1, r.param("limit").flatMap { Int($0) } ?? 50))
        let after = r.param("after").flatMap(Self.time), until = r.param("until").flatMap(Self.time)
        let symbols = r.param("symbols").map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
        let asc = r.param("direction") == "asc"
        var list = exchange.orders.filter { o in
            (status == "all" || (status == "open") == o.isOpen)
                && after.map { o.submittedAt > $0 } ?? true && until.map { o.submittedAt < $0 } ?? true
                && symbols.map { $0.contains(o.symbol) } ?? true
        }
        list.sort { asc ? $0.submittedAt < $1.submittedAt : $0.submittedAt > $1.submittedAt }
        return FakeReply(status: 200, body: .array(list.prefix(limit).map(\.json)))
    }

    /// A time parameter: RFC 3339 or a date (New York midnight).
    static func time(_ text: String) -> Timestamp? {
        if let t = Timestamp(iso8601: text) { return t }
        return CivilDate(iso: text).map { NewYorkTime.utc(date: $0, hour: 0, minute: 0) }
    }

    mutating func cancelAll(now: Timestamp) -> FakeReply {
        var items = [JSON](), updates = [TradeUpdate]()
        for o in exchange.orders where o.isOpen {
            if case .success(let u) = exchange.cancel(id: o.id, at: now) {
                updates.append(u)
                items.append(.obj(("id", .string(o.id)), ("status", .int(200)), ("body", u.order.json)))
            }
        }
        var out = FakeReply(status: 207, body: .array(items))
        out.updates = updates
        return out
    }

    mutating func closeAll(now: Timestamp) -> FakeReply {
        var items = [JSON](), updates = [TradeUpdate]()
        for p in sortedPositions() {
            let one = reply(exchange.closePosition(p.symbol, qty: nil, at: now))
            updates += one.updates
            items.append(.obj(("symbol", .string(p.symbol)), ("status", .int(Int64(one.status))), ("body", one.body ?? .null)))
        }
        var out = FakeReply(status: 207, body: .array(items))
        out.updates = updates
        return out
    }

    func sortedPositions() -> [FakePosition] { exchange.positions.values.sorted { $0.symbol < $1.symbol } }

    func positionJSON(_ p: FakePosition, now: Timestamp) -> JSON {
        let m = p.multiplier
        let avgCents = p.qty == 0 ? 0 : p.costCents / (p.qty * m)
        let mark = exchange.markCents(p.symbol, at: now) ?? avgCents
        let value = mark * p.qty * m
        let lastDay: Cents = OCCSymbol(p.symbol) == nil ? exchange.market.lastDayClose(p.symbol, at: now).map { FakeExchange.cents($0.close) } ?? mark : mark
        let heldInOrders = exchange.orders.filter { $0.isOpen && $0.symbol == p.symbol && ($0.side == .sell) == (p.qty > 0) }.reduce(0) { $0 + $1.remaining }
        return .obj([
            ("asset_id", .string(Wire.uuid("asset:" + p.symbol))), ("symbol", .string(p.symbol)),
            ("exchange", .string(p.isOption ? "" : "ARCA")), ("asset_class", .string(p.isOption ? "us_option" : "us_equity")),
            ("asset_marginable", .bool(!p.isOption)),
            ("avg_entry_price", .string(Wire.decimal(p.avgEntry))), ("qty", .string(String(p.qty))),
            ("qty_available", .string(String(max(0, abs(p.qty) - heldInOrders) * (p.qty < 0 ? -1 : 1)))),
            ("side", .string(p.qty >= 0 ? "long" : "short")),
            ("market_value", .string(Wire.money(value))), ("cost_basis", .string(Wire.money(p.costCents))),
            ("unrealized_pl", .string(Wire.money(value - p.costCents))),
            ("unrealized_plpc", .string(Wire.ratio(value - p.costCents, abs(p.costCents)))),
            ("unrealized_intraday_pl", .string(Wire.money(value - p.costCents))),
            ("unrealized_intraday_plpc", .string(Wire.ratio(value - p.costCents, abs(p.costCents)))),
            ("current_price", .string(Wire.money(mark))), ("lastday_price", .string(Wire.money(lastDay))),
            ("change_today", .string(Wire.ratio(mark - lastDay, lastDay))),
        ])
    }

    func accountJSON(now: Timestamp) -> JSON {
        let cash = exchange.cash, equity = exchange.equity(at: now), power = exchange.buyingPower(at: now)
        let longValue = exchange.positions.values.filter { $0.qty > 0 }.reduce(0) { s, p in s + (exchange.markCents(p.symbol, at: now) ?? 0) * p.qty * p.multiplier }
        let shortValue = exchange.positions.values.filter { $0.qty < 0 }.reduce(0) { s, p in s + (exchange.markCents(p.symbol, at: now) ?? 0) * p.qty * p.multiplier }
        return .obj([
            ("id", .string(Wire.uuid("account:\(config.seed)"))), ("account_number", .string("PA3FAKE0042")),
            ("status", .string("ACTIVE")), ("crypto_status", .string("INACTIVE")), ("currency", .string("USD")),
            ("buying_power", .string(Wire.money(power))), ("regt_buying_power", .string(Wire.money(power))),
            ("daytrading_buying_power", .string("0.00")), ("non_marginable_buying_power", .string(Wire.money(power))),
            ("options_buying_power", .string(Wire.money(power))),
            ("cash", .string(Wire.money(cash))), ("accrued_fees", .string("0")),
            ("portfolio_value", .string(Wire.money(equity))), ("equity", .string(Wire.money(equity))),
            ("last_equity", .string(Wire.money(exchange.startingCash))),
            ("long_market_value", .string(Wire.money(longValue))), ("short_market_value", .string(Wire.money(shortValue))),
            ("initial_margin", .string("0.00")), ("maintenance_margin", .string("0.00")), ("last_maintenance_margin", .string("0.00")),
            ("sma", .string("0")), ("multiplier", .string("1")), ("shorting_enabled", .bool(false)),
            ("options_trading_level", .string("2")), ("options_approved_level", .string("2")),
            ("trading_blocked", .bool(false)), ("transfers_blocked", .bool(false)), ("account_blocked", .bool(false)),
            ("trade_suspended_by_user", .bool(false)), ("created_at", .string("2024-01-02T14:30:00.000000Z")),
        ])
    }

    func activities(_ r: FakeRequest, types: String?) -> FakeReply {
        let wanted = types.map { Set($0.split(separator: ",").map(String.init)) }
        let after = r.param("after").flatMap(Self.time), until = r.param("until").flatMap(Self.time)
        let date = r.param("date").flatMap { CivilDate(iso: $0) }
        var list = exchange.activities.filter { a in
            wanted.map { $0.contains(a.type) } ?? true && after.map { a.time > $0 } ?? true
                && until.map { a.time < $0 } ?? true && date.map { NewYorkTime.date(of: a.time) == $0 } ?? true
        }
        if r.param("direction") != "asc" { list.reverse() }
        let limit = min(100, max(1, r.param("page_size").flatMap { Int($0) } ?? 100))
        return FakeReply(status: 200, body: .array(list.prefix(limit).map(\.json)))
    }
}
