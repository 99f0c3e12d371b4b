import Foundation
import MarketData
import OpsModel

/// POST /v2/orders: Alpaca's validation, in the order Alpaca reports it, then acceptance.
extension FakeExchange {
    static let intents: Set<String> = ["buy_to_open", "buy_to_close", "sell_to_open", "sell_to_close"]

    /// Validates and accepts an order. On success: the order as accepted (the POST's answer) and the trade
    /// updates that follow at once (`new`, perhaps a fill).
    public mutating func submit(_ body: JSON, at now: Timestamp) -> Result<(order: FakeOrder, updates: [TradeUpdate]), FakeRefusal> {
        market.advance(to: now)
        let order: FakeOrder
        switch validate(body, at: now) {
        case .failure(let r): return .failure(r)
        case .success(var o):
            o.id = nextID("order")
            order = o
        }
        orders.append(order)
        let i = orders.count - 1
        orders[i].status = "new"
        var updates = [TradeUpdate(event: "new", order: orders[i], time: now)]
        updates += match(at: now)
        return .success((order, updates))
    }

    func validate(_ body: JSON, at now: Timestamp) -> Result<FakeOrder, FakeRefusal> {
        func refuse(_ s: Int, _ c: Int64, _ m: String, _ extra: [(String, JSON)] = []) -> Result<FakeOrder, FakeRefusal> {
            .failure(FakeRefusal(s, c, m, extra: extra))
        }
        guard case .object = body else { return refuse(400, 40010000, "request body format is invalid") }
        guard let symbol = body["symbol"]?.string, !symbol.isEmpty else { return refuse(422, 40010001, "symbol is required") }
        let occ = OCCSymbol(symbol)
        guard let qty = Self.integer(body["qty"]) else { return refuse(422, 40010001, "qty must be integer") }
        guard qty > 0 else { return refuse(422, 40010001, "qty must be > 0") }
        guard let side = body["side"]?.string.flatMap(OrderSide.init(rawValue:)) else { return refuse(422, 40010001, "invalid side") }
        guard let kind = body["type"]?.string.flatMap(OrderKind.init(rawValue:)) else { return refuse(422, 40010001, "invalid order type") }
        let tif = body["time_in_force"]?.string ?? ""
        let allowed: Set<String> = occ != nil ? ["day"] : ["day", "gtc"]
        guard allowed.contains(tif) else { return refuse(422, 40010001, "invalid time_in_force") }
        var limit: Cents?
        if kind == .limit {
            guard let text = Self.text(body["limit_price"]) else { return refuse(422, 40010001, "limit_price is required for limit orders") }
            guard let d = Decimal(string: text), d > 0 else { return refuse(422, 40010001, "invalid limit_price") }
            guard let c = Wire.cents(text), onTick(c, symbol: symbol, occ: occ) else {
                return refuse(422, 42210000, "invalid limit_price \(text). sub-penny increment does not fulfill minimum pricing criteria")
            }
            limit = c
        }
        let clientID = body["client_order_id"]?.string ?? Wire.uuid("client:\(market.seed):\(orders.count):\(now.ms)")
        guard clientID.count <= 128 else { return refuse(422, 40010001, "client_order_id must be no more than 128 characters") }
        guard !orders.contains(where: { $0.clientOrderID == clientID }) else { return refuse(422, 40010001, "client_order_id must be unique") }
        let intent = body["position_intent"]?.string
        if let intent, !Self.intents.contains(intent) { return refuse(422, 40010001, "invalid position_intent") }
        guard isKnown(symbol, at: now) else { return refuse(422, 40010001, "asset \"\(symbol)\" not found") }
        let order = FakeOrder(id: "", clientOrderID: clientID, symbol: symbol, isOption: occ != nil, qty: qty,
                              side: side, kind: kind, timeInForce: tif, limitCents: limit, positionIntent: intent,
                              status: "accepted", createdAt: now, updatedAt: now, submittedAt: now,
                              expiresAt: Self.dayOrderClose(now))
        if let r = checkAvailability(order, at: now) { return .failure(r) }
        return .success(order)
    }

    /// Options: $0.01 below $3 and $0.05 from $3 in the penny program, $0.01 always for SPY/QQQ/IWM, $0.05/$0.10
    /// outside the program; stocks: $0.01.
    func onTick(_ cents: Cents, symbol: String, occ: OCCSymbol?) -> Bool {
        guard let occ else { return cents > 0 }
        // A root the synthetic universe does not know is taken to be in the penny program.
        let known = SyntheticTicker.universe.contains { $0.symbol == occ.root }
        let rule = known ? tickRule : TickRule(pennyProgram: [occ.root], pennyAllPrices: [])
        return rule.isValid(cents, underlying: occ.root)
    }

    /// Buying power for what opens, held quantity for what closes.
    func checkAvailability(_ o: FakeOrder, at now: Timestamp) -> FakeRefusal? {
        let held = positions[o.symbol]?.qty ?? 0
        let closing = o.positionIntent?.hasSuffix("_to_close") ?? ((o.side == .sell && held > 0) || (o.side == .buy && held < 0))
        if closing {
            let pendingSameSide = orders.filter { $0.isOpen && $0.symbol == o.symbol && $0.side == o.side }.reduce(0) { $0 + $1.remaining }
            let available = max(0, (o.side == .sell ? held : -held) - pendingSameSide)
            if o.qty > available {
                return FakeRefusal(403, 40310000, "insufficient qty available for order (requested: \(o.qty), available: \(available))")
            }
            return nil
        }
        guard o.side == .buy else { return nil }
        let px = o.limitCents ?? quote(o.symbol, at: now)?.ask ?? 0
        let cost = px * o.qty * o.multiplier
        let power = buyingPower(at: now)
        if cost > power {
            return FakeRefusal(403, 40310000, "insufficient buying power",
                               extra: [("buying_power", .string(Wire.money(power))), ("cost_basis", .string(Wire.money(cost)))])
        }
        return nil
    }

    /// A whole number given as a string ("2") or a JSON number (2).
    static func integer(_ v: JSON?) -> Int64? {
        switch v {
        case .string(let s)?: return Int64(s.trimmingCharacters(in: .whitespaces))
        case .int(let i)?: return i
        default: return nil
        }
    }

    static func text(_ v: JSON?) -> String? {
        switch v {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case .number(let d)?: return "\(d)"
        default: return nil
        }
    }

    // MARK: closing a position

    /// DELETE /v2/positions/{symbol}: a market order for the whole (or `qty`) position, on the closing side.
    public mutating func closePosition(_ symbol: String, qty: Int64?, at now: Timestamp) -> Result<(order: FakeOrder, updates: [TradeUpdate]), FakeRefusal> {
        guard let p = positions[symbol] else { return .failure(FakeRefusal(404, 40410000, "position does not exist")) }
        let n = qty ?? abs(p.qty)
        var body: [(String, JSON)] = [("symbol", .string(symbol)), ("qty", .string(String(n))),
                                      ("side", .string(p.qty > 0 ? "sell" : "buy")), ("type", .string("market")),
                                      ("time_in_force", .string("day"))]
        if p.isOption { body.append(("position_intent", .string(p.qty > 0 ? "sell_to_close" : "buy_to_close"))) }
        return submit(.obj(body), at: now)
    }
}
