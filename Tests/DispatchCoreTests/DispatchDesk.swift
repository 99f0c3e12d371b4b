import Foundation
import OpsModel
import Testing
@testable import DispatchCore

/// A dispatcher fed message by message the way the runtime feeds it (each payload on its own topic), for the
/// issue-7 tests: position events that arm adds and rolls, the chains that decide them, portfolio Greeks, closed
/// trades for Kelly.
struct DispatchDesk {
    static let day = "2024-03-06"
    var core: DispatchCore

    init(_ params: TradingParams = TradingParams()) { core = DispatchCore(params: params) }

    /// What one input made the dispatcher publish.
    struct Out {
        var decisions: [Decision] = []
        var orders: [OrderCommand] = []
        var envelopes: [AnyEnvelope] = []
        var isEmpty: Bool { envelopes.isEmpty }
        /// The single decision, when there is exactly one.
        var decision: Decision? { decisions.count == 1 ? decisions[0] : nil }
        var order: OrderCommand? { orders.count == 1 ? orders[0] : nil }
    }

    static func topic(of payload: any Payload) -> String {
        switch payload {
        case is OptionChain: Topics.chains
        case is AccountSnapshot: Topics.accounts
        case is PositionEvent: Topics.positions
        case is PortfolioGreeks: Topics.greeks
        case is OperatorControl: Topics.control
        case is OrderEvent: Topics.orderEvents
        default: Topics.signals
        }
    }

    @discardableResult
    mutating func feed<P: Payload>(_ p: P, at t: Timestamp, id: String) throws -> Out {
        let emits = try core.handle(DispatchCoreStateTests.env(p, at: t, id: id), from: Self.topic(of: p))
        var out = Out()
        for e in emits {
            out.envelopes.append(e.envelope)
            if e.topic == Topics.decisions, let d = e.envelope.payload as? Decision { out.decisions.append(d) }
            if e.topic == Topics.orders, let o = e.envelope.payload as? OrderCommand { out.orders.append(o) }
        }
        return out
    }

    /// A chain as of its own time and an account snapshot, the state every decision needs.
    mutating func ready(cash: Cents = 10_000_000, chain: OptionChain = DispatchCoreStateTests.chain) throws {
        try self.chain(chain)
        try feed(DispatchCoreStateTests.account(cash: cash, seq: 1), at: Fx.ny(Self.day, 9, 0), id: "acct-1")
    }

    /// A chain at its own time, as the runtime delivers it: scale-in adds and rolls' opening legs hang on it.
    @discardableResult
    mutating func chain(_ c: OptionChain) throws -> Out { try feed(c, at: c.asOf, id: Self.chainId(c)) }

    /// The envelope id `chain(_:)` gives a chain: what names the decisions it causes.
    static func chainId(_ c: OptionChain) -> String { "chain-\(c.underlying)-\(c.asOf.ms)" }

    // MARK: - Fixtures

    static func signal(_ ticker: String = "SPY", _ direction: Direction = .bull, strategy: TradeStrategy = .dayTrade,
                       confidence: Double = 0.8, volumeRatio: Double = 2.5, price: Double = 500, atr14: Double? = nil) -> Signal {
        var s = Signal(ticker: ticker, direction: direction, instrument: direction == .bull ? .call : .put, strategy: strategy,
                       confidence: confidence, volumeRatio: volumeRatio, price: price, featuresId: "f", rules: [], reason: "test")
        s.atr14 = atr14
        return s
    }

    /// A position event on an option (OCC symbol) or a ticker (stock).
    static func position(_ event: PositionEvent.Kind, _ id: String = "p1", symbol: String = "SPY240308C00500000",
                         strategy: TradeStrategy = .dayTrade, quantity: Int = 2, entry: Cents = 251, mark: Cents? = nil,
                         openedAt: Timestamp = Fx.ny(day, 9, 40), account: String = "sim-1") -> PositionEvent {
        let occ = OCCSymbol(symbol)
        var p = PositionEvent(event: event, positionId: id, accountId: account, symbol: symbol, underlying: occ?.root ?? symbol,
                              strategy: strategy, quantity: quantity, entryPriceCents: entry,
                              entryCostCents: entry * (occ == nil ? 1 : 100) * Cents(quantity), openedAt: openedAt,
                              expiration: occ?.expiration, markPriceCents: mark,
                              unrealizedPnlCents: mark.map { ($0 - entry) * (occ == nil ? 1 : 100) * Cents(quantity) })
        p.assetClass = occ == nil ? .equity : .option
        p.direction = occ.map { $0.right == .call ? .bull : .bear } ?? .bull
        return p
    }

    /// A closed trade of the account with its realized P&L, closed at `closedAt`.
    static func closed(_ id: String, pnl: Cents, closedAt: Timestamp, account: String = "sim-1") -> PositionEvent {
        var p = position(.closed, id, openedAt: closedAt.adding(ms: -3_600_000), account: account)
        p.exitPriceCents = 251
        p.realizedPnlCents = pnl
        p.closedAt = closedAt
        return p
    }

    static func portfolio(dollarDelta: Double = 0, vega: Double = 0, account: String = "sim-1") -> PortfolioGreeks {
        PortfolioGreeks(accountId: account, delta: 0, gamma: 0, theta: 0, vega: vega, rho: 0, dollarDelta: dollarDelta, dollarGamma: 0,
                        positions: 1, unpriced: 0)
    }

    static func control(_ action: OperatorControl.Action, account: String = "sim-1") -> OperatorControl {
        OperatorControl(accountId: account, action: action, reason: "desk check", flatten: false, requestedBy: "ops@desk")
    }

    /// A liquid quote with the chain's own delta and vega (so the Greeks need no IV solve).
    static func quote(_ right: OptionRight, _ strike: Double, _ expiration: String, delta: Double?, vega: Double? = nil,
                      bid: Double = 2.50, ask: Double = 2.54) -> OptionQuote {
        var q = Fx.quote(right, strike, expiration, bid: bid, ask: ask)
        q.delta = delta
        q.vega = vega
        return q
    }

    static func gate(_ d: Decision, _ name: String) -> GateResult? { d.gates.first { $0.gate == name } }
}

/// The enumerations the decision schema (schemas/decision.v1.schema.json) allows, read from the file, so a decision
/// the dispatcher publishes can be held against what consumers validate.
enum DecisionSchema {
    static var payload: [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../schemas/decision.v1.schema.json")
        guard let data = try? Data(contentsOf: url), let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let props = root["properties"] as? [String: Any], let payload = props["payload"] as? [String: Any] else { return [:] }
        return payload
    }

    static func properties(_ schema: [String: Any]) -> [String: Any] {
        if let p = schema["properties"] as? [String: Any] { return p }
        for key in ["anyOf", "oneOf"] {
            for alt in schema[key] as? [[String: Any]] ?? [] { if let p = alt["properties"] as? [String: Any] { return p } }
        }
        return [:]
    }

    /// The allowed values of an enum property (null as NSNull), or nil when the schema has no such enum.
    static func allowed(_ path: [String]) -> [Any]? { node(path)?["enum"] as? [Any] }

    static func node(_ path: [String]) -> [String: Any]? {
        var node: [String: Any] = payload
        for key in path {
            guard let next = properties(node)[key] as? [String: Any] else { return nil }
            node = next
        }
        return node
    }

    /// Whether a number meets the property's `exclusiveMinimum` (true when the schema sets none).
    static func meetsExclusiveMinimum(_ path: [String], _ value: Double) -> Bool {
        guard let min = node(path)?["exclusiveMinimum"] as? Double else { return true }
        return value > min
    }

    static func allows(_ path: [String], _ value: String?) -> Bool {
        guard let values = allowed(path) else { return false }
        guard let value else { return values.contains { $0 is NSNull } }
        return values.contains { ($0 as? String) == value }
    }
}

extension DecisionSchema {
    /// What in a decision the schema refuses, among the fields issue 7 gave new values: `route`, `kind`,
    /// `sizing.method`, `sizing.risk_pct`.
    static func violations(_ d: Decision) -> [String] {
        var out = [String]()
        if !allows(["route"], d.route) { out.append("route \(d.route ?? "null")") }
        if !allows(["kind"], d.kind) { out.append("kind \(d.kind ?? "null")") }
        if let s = d.sizing {
            if !allows(["sizing", "method"], s.method) { out.append("sizing.method \(s.method ?? "null")") }
            if !meetsExclusiveMinimum(["sizing", "risk_pct"], s.riskPct) { out.append("sizing.risk_pct \(s.riskPct)") }
        }
        return out
    }
}
