import Foundation
import OpsModel

/// Alpaca's wire contract (`../shared/docs/ALPACA.md`, the official `trading-api.json`) as Codable values. Numbers
/// travel as strings; decoding also takes JSON numbers (alpaca-py's fixtures carry both) and tolerates every field
/// Alpaca may add or remove (`daytrade_count`, `pattern_day_trader` went away on 2026-07-06).
public enum Alpaca {}

/// A decimal that Alpaca sends as a string ("1.25") or, in older bodies, a JSON number.
public struct WireDecimal: Codable, Sendable, Equatable, CustomStringConvertible {
    public var value: Decimal
    public init(_ value: Decimal) { self.value = value }
    public init?(_ text: String) {
        guard let d = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), !d.isNaN else { return nil }
        value = d
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            guard let d = WireDecimal(s) else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a decimal: \(s)") }
            self = d
        } else if let i = try? c.decode(Int64.self) {
            value = Decimal(i)
        } else {
            // A JSON float: through its shortest text so 1.25 stays exactly 1.25.
            let d = try c.decode(Double.self)
            value = Decimal(string: "\(d)") ?? Decimal(d)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    public var description: String { NSDecimalNumber(decimal: value).stringValue }

    /// Exact cents, or nil when the amount has fractions of a cent.
    public var exactCents: Cents? {
        var v = value * 100, r = Decimal()
        NSDecimalRound(&r, &v, 0, .plain)
        return r == v ? Cents(truncating: r as NSDecimalNumber) : nil
    }

    /// Cents rounded half away from zero (account balances carry sub-cent digits: "262113.632").
    public var roundedCents: Cents {
        var v = value * 100, r = Decimal()
        NSDecimalRound(&r, &v, 0, .plain)
        return Cents(truncating: r as NSDecimalNumber)
    }

    /// A whole quantity, nil when fractional.
    public var whole: Int? {
        var v = value, r = Decimal()
        NSDecimalRound(&r, &v, 0, .plain)
        return r == v ? Int(truncating: r as NSDecimalNumber) : nil
    }

    /// Cents as Alpaca's price text: "1.25", "12", "0.05".
    public static func price(cents: Cents) -> String {
        let sign = cents < 0 ? "-" : ""
        let a = cents.magnitude
        let frac = a % 100
        return frac == 0 ? "\(sign)\(a / 100)" : "\(sign)\(a / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}

extension Alpaca {
    /// `POST /v2/orders` body: a single-leg option or stock order.
    public struct OrderRequest: Codable, Sendable, Equatable {
        public var symbol: String
        public var qty: String
        public var side: String
        public var type: String
        public var timeInForce: String
        public var limitPrice: String?
        public var clientOrderId: String
        public var positionIntent: String

        enum CodingKeys: String, CodingKey {
            case symbol, qty, side, type
            case timeInForce = "time_in_force", limitPrice = "limit_price", clientOrderId = "client_order_id"
            case positionIntent = "position_intent"
        }
    }

    /// An order as Alpaca reports it (REST responses and trade updates).
    public struct Order: Codable, Sendable, Equatable {
        public var id: String
        public var clientOrderId: String
        public var symbol: String
        public var assetClass: String?
        public var qty: WireDecimal?
        public var filledQty: WireDecimal?
        public var filledAvgPrice: WireDecimal?
        public var type: String?
        public var side: String
        public var timeInForce: String?
        public var limitPrice: WireDecimal?
        public var status: String
        public var positionIntent: String?
        public var createdAt: String?
        public var updatedAt: String?
        public var submittedAt: String?
        public var filledAt: String?
        public var canceledAt: String?
        public var expiredAt: String?
        public var failedAt: String?

        enum CodingKeys: String, CodingKey {
            case id, symbol, qty, type, side, status
            case clientOrderId = "client_order_id", assetClass = "asset_class", filledQty = "filled_qty"
            case filledAvgPrice = "filled_avg_price", timeInForce = "time_in_force", limitPrice = "limit_price"
            case positionIntent = "position_intent", createdAt = "created_at", updatedAt = "updated_at"
            case submittedAt = "submitted_at", filledAt = "filled_at", canceledAt = "canceled_at"
            case expiredAt = "expired_at", failedAt = "failed_at"
        }

        /// Contracts (or shares) filled so far.
        public var filled: Int { filledQty?.whole ?? 0 }

        /// Alpaca's statuses that end an order: nothing more can fill.
        public static let terminalStatuses: Set<String> = ["filled", "canceled", "expired", "rejected", "replaced", "done_for_day", "stopped", "suspended"]
        public var isTerminal: Bool { Self.terminalStatuses.contains(status) }
    }

    /// One message of the `trade_updates` stream.
    public struct TradeUpdate: Codable, Sendable, Equatable {
        public var event: String
        public var executionId: String?
        public var order: Order
        public var timestamp: String?
        public var price: WireDecimal?
        public var qty: WireDecimal?
        public var positionQty: WireDecimal?

        enum CodingKeys: String, CodingKey {
            case event, order, timestamp, price, qty
            case executionId = "execution_id", positionQty = "position_qty"
        }
    }

    /// `GET /v2/account`.
    public struct Account: Codable, Sendable, Equatable {
        public var id: String
        public var status: String?
        public var currency: String?
        public var cash: WireDecimal
        public var buyingPower: WireDecimal?
        public var optionsBuyingPower: WireDecimal?
        public var equity: WireDecimal?
        public var lastEquity: WireDecimal?
        public var portfolioValue: WireDecimal?
        public var longMarketValue: WireDecimal?
        public var shortMarketValue: WireDecimal?
        public var optionsTradingLevel: WireDecimal?
        public var tradingBlocked: Bool?
        public var accountBlocked: Bool?
        /// Removed by Alpaca on 2026-07-06; optional so neither presence nor absence breaks decoding.
        public var daytradeCount: Int?
        public var patternDayTrader: Bool?

        enum CodingKeys: String, CodingKey {
            case id, status, currency, cash, equity
            case buyingPower = "buying_power", optionsBuyingPower = "options_buying_power", lastEquity = "last_equity"
            case portfolioValue = "portfolio_value", longMarketValue = "long_market_value"
            case shortMarketValue = "short_market_value", optionsTradingLevel = "options_trading_level"
            case tradingBlocked = "trading_blocked", accountBlocked = "account_blocked"
            case daytradeCount = "daytrade_count", patternDayTrader = "pattern_day_trader"
        }
    }

    /// `GET /v2/positions` element.
    public struct Position: Codable, Sendable, Equatable {
        public var symbol: String
        public var assetClass: String?
        public var qty: WireDecimal
        public var avgEntryPrice: WireDecimal?
        public var side: String?
        public var marketValue: WireDecimal?
        public var costBasis: WireDecimal?
        public var currentPrice: WireDecimal?

        enum CodingKeys: String, CodingKey {
            case symbol, qty, side
            case assetClass = "asset_class", avgEntryPrice = "avg_entry_price", marketValue = "market_value"
            case costBasis = "cost_basis", currentPrice = "current_price"
        }
    }

    /// `GET /v2/account/activities` element: option expiry (OPEXP), exercise (OPEXC), assignment (OPASN), trades.
    public struct Activity: Codable, Sendable, Equatable {
        public var id: String
        public var activityType: String
        public var date: String?
        public var transactionTime: String?
        public var symbol: String?
        public var qty: WireDecimal?
        public var price: WireDecimal?
        public var side: String?

        enum CodingKeys: String, CodingKey {
            case id, date, symbol, qty, price, side
            case activityType = "activity_type", transactionTime = "transaction_time"
        }
    }

    /// Alpaca's error body: `{"code":40310000,"message":"insufficient buying power"}`.
    public struct ErrorBody: Codable, Sendable, Equatable {
        public var code: Int?
        public var message: String
    }

    /// `GET /v2/clock`.
    public struct Clock: Codable, Sendable, Equatable {
        public var timestamp: String
        public var isOpen: Bool
        public var nextOpen: String?
        public var nextClose: String?
        enum CodingKeys: String, CodingKey { case timestamp, isOpen = "is_open", nextOpen = "next_open", nextClose = "next_close" }
    }

    /// `GET /v2/calendar` element.
    public struct CalendarDay: Codable, Sendable, Equatable {
        public var date: String
        public var open: String
        public var close: String
    }

    /// The JSON coders of the wire: snake_case keys are spelled out in CodingKeys, so plain coders suffice.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Sequence<UInt8>) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(bytes))
    }

    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try e.encode(value))
    }
}

extension Alpaca {
    /// Alpaca's timestamps ("2021-03-16T18:38:01.942282Z", "2024-03-05T10:31:00-05:00"): fractions beyond
    /// milliseconds are dropped.
    public static func timestamp(_ text: String?) -> Timestamp? {
        guard var t = text, !t.isEmpty else { return nil }
        if let dot = t.firstIndex(of: ".") {
            var end = t.index(after: dot)
            while end < t.endIndex, t[end].isNumber { end = t.index(after: end) }
            let digits = t[t.index(after: dot)..<end]
            t = String(t[..<dot]) + (digits.isEmpty ? "" : "." + String(digits.prefix(3)).padding(toLength: 3, withPad: "0", startingAt: 0)) + String(t[end...])
        }
        return Timestamp(iso8601: t)
    }
}
