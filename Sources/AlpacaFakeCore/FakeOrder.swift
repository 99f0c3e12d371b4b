import Foundation
import OpsModel

public enum OrderSide: String, Sendable { case buy, sell }
public enum OrderKind: String, Sendable { case market, limit }

/// One order at the fake Alpaca, with the fields Alpaca reports.
public struct FakeOrder: Sendable, Equatable {
    public var id: String
    public var clientOrderID: String
    public var symbol: String
    public var isOption: Bool
    public var qty: Int64
    public var filledQty: Int64 = 0
    /// Sum of price × qty over the fills, in cents (for the average price).
    public var filledCents: Cents = 0
    public var side: OrderSide
    public var kind: OrderKind
    public var timeInForce: String
    public var limitCents: Cents?
    public var positionIntent: String?
    public var status: String
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var submittedAt: Timestamp
    public var filledAt: Timestamp?
    public var expiredAt: Timestamp?
    public var canceledAt: Timestamp?
    public var failedAt: Timestamp?
    /// The close of the session the order lives in (a day order expires then).
    public var expiresAt: Timestamp

    public var remaining: Int64 { qty - filledQty }
    public var multiplier: Int64 { isOption ? 100 : 1 }

    static let openStatuses: Set<String> = ["new", "accepted", "partially_filled", "pending_new", "pending_cancel", "pending_replace", "accepted_for_bidding", "held"]
    public var isOpen: Bool { Self.openStatuses.contains(status) }

    public var assetID: String { Wire.uuid("asset:" + symbol) }

    public var json: JSON {
        let avg: JSON = filledQty > 0 ? .string(Wire.decimal(Decimal(filledCents) / Decimal(filledQty) / 100)) : .null
        return .obj([
            ("id", .string(id)), ("client_order_id", .string(clientOrderID)),
            ("created_at", .string(Wire.micros(createdAt))), ("updated_at", .string(Wire.micros(updatedAt))),
            ("submitted_at", .string(Wire.micros(submittedAt))),
            ("filled_at", .str(filledAt.map(Wire.micros))), ("expired_at", .str(expiredAt.map(Wire.micros))),
            ("canceled_at", .str(canceledAt.map(Wire.micros))), ("failed_at", .str(failedAt.map(Wire.micros))),
            ("replaced_at", .null), ("replaced_by", .null), ("replaces", .null),
            ("asset_id", .string(assetID)), ("symbol", .string(symbol)),
            ("asset_class", .string(isOption ? "us_option" : "us_equity")), ("notional", .null),
            ("qty", .string(String(qty))), ("filled_qty", .string(String(filledQty))), ("filled_avg_price", avg),
            ("order_class", .string("simple")), ("order_type", .string(kind.rawValue)), ("type", .string(kind.rawValue)),
            ("side", .string(side.rawValue)), ("time_in_force", .string(timeInForce)),
            ("limit_price", .str(limitCents.map(Wire.price))), ("stop_price", .null),
            ("status", .string(status)), ("extended_hours", .bool(false)), ("legs", .null),
            ("trail_percent", .null), ("trail_price", .null), ("hwm", .null),
            ("position_intent", .str(positionIntent)),
        ])
    }
}

/// A held position. `qty` is signed (short below zero); `costCents` is what was paid (negative: received) for it.
public struct FakePosition: Sendable, Equatable {
    public var symbol: String
    public var isOption: Bool
    public var qty: Int64
    public var costCents: Cents

    public var multiplier: Int64 { isOption ? 100 : 1 }
    public var avgEntry: Decimal { qty == 0 ? 0 : Decimal(costCents) / Decimal(qty) / Decimal(multiplier) / 100 }
}

/// An account activity (option expiry, exercise, assignment, their stock trades, fills).
public struct FakeActivity: Sendable, Equatable {
    public var id: String
    public var type: String
    public var time: Timestamp
    public var symbol: String
    public var qty: Int64
    public var priceCents: Cents
    public var side: String
    public var netCents: Cents
    public var groupID: String
    public var orderID: String?

    public var json: JSON {
        let date = NewYorkTime.date(of: time).iso
        if type == "FILL" {
            return .obj([
                ("id", .string(id)), ("activity_type", .string("FILL")), ("transaction_time", .string(Wire.micros(time))),
                ("type", .string("fill")), ("price", .string(Wire.price(priceCents))), ("qty", .string(String(qty))),
                ("side", .string(side)), ("symbol", .string(symbol)), ("order_id", .str(orderID)),
                ("cum_qty", .string(String(qty))), ("leaves_qty", .string("0")), ("order_status", .string("filled")),
            ])
        }
        return .obj([
            ("id", .string(id)), ("activity_type", .string(type)), ("activity_sub_type", .null),
            ("date", .string(date)), ("system_date", .string(date)), ("created_at", .string(Wire.micros(time))),
            ("net_amount", .string(Wire.money(netCents))), ("description", .string(Self.describe(type))),
            ("symbol", .string(symbol)), ("qty", .string(String(qty))), ("price", .string(Wire.price(priceCents))),
            ("side", .string(side)), ("status", .string("executed")), ("group_id", .string(groupID)), ("currency", .string("USD")),
        ])
    }

    static func describe(_ type: String) -> String {
        switch type {
        case "OPEXP": "Option Expiry"
        case "OPEXC": "Option Exercise"
        case "OPASN": "Option Assignment"
        default: "Option Trade"
        }
    }
}
