import OpsModel

/// One change of an order, as the trade_updates stream tells it.
public struct TradeUpdate: Sendable, Equatable {
    public var event: String
    public var order: FakeOrder
    public var time: Timestamp
    public var executionID: String?
    public var priceCents: Cents?
    public var qty: Int64?
    public var positionQty: Int64?

    public var json: JSON {
        var data: [(String, JSON)] = [("event", .string(event))]
        if let executionID { data.append(("execution_id", .string(executionID))) }
        data.append(("order", order.json))
        data.append(("timestamp", .string(Wire.micros(time))))
        if let priceCents { data.append(("price", .string(Wire.price(priceCents)))) }
        if let qty { data.append(("qty", .string(String(qty)))) }
        if let positionQty { data.append(("position_qty", .string(String(positionQty)))) }
        return .obj(("stream", .string("trade_updates")), ("data", .obj(data)))
    }
}

/// A refusal: the HTTP status and Alpaca's error body.
public struct FakeRefusal: Error, Sendable, Equatable {
    public var status: Int
    public var body: JSON
    public init(_ status: Int, _ code: Int64, _ message: String, extra: [(String, JSON)] = []) {
        self.status = status
        self.body = Wire.error(code, message, extra: extra)
    }
}
