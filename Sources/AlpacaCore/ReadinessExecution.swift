import Foundation
import OpsModel

/// Item 7: no execution problems. Three kinds, each counted by reason:
/// - an order the broker rejected (the dispatcher's gates never reach the broker: they are skips, not orders),
///   except a repricing that lost the race to the fill of the order it replaced;
/// - an order left open past its session: its last event (filled, cancelled, rejected) later than the close of
///   the New York session it was placed in (plus a grace for the broker's own report of the close), or none by
///   then while the record goes on;
/// - a dead letter from the broker-gateway for this account (or for no account).
enum ReadinessExecution {
    static func executionErrors(_ r: ReadinessRecord, closeGraceMs: Int64) -> ReadinessItem {
        let rejected = rejections(r)
        let late = openPastSession(r, closeGraceMs: closeGraceMs)
        let example = firstLateOrder(r, closeGraceMs: closeGraceMs).map { "; e.g. \($0)" } ?? ""
        let dead = gatewayDeadLetters(r)
        let n = rejected.values.reduce(0, +) + late.values.reduce(0, +) + dead.values.reduce(0, +)
        func counts(_ d: [String: Int]) -> String {
            d.isEmpty ? "0" : "\(d.values.reduce(0, +)) (" + d.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
        }
        let orders = Set(r.orders.map(\.payload.clientOrderId)).union(r.orderEvents.map(\.payload.clientOrderId)).count
        let detail = "\(orders) orders: broker rejections \(counts(rejected)); open past their session \(counts(late)); broker-gateway dead letters \(counts(dead))\(example)"
        return ReadinessItem(name: "execution_errors", passed: n == 0, detail: detail, value: "\(n)", limit: "0")
    }

    /// Rejections by reason (its text up to the first colon, which is where the numbers start).
    static func rejections(_ r: ReadinessRecord) -> [String: Int] {
        let replaces = Dictionary(r.orders.compactMap { o in o.payload.replacesClientOrderId.map { (o.payload.clientOrderId, $0) } },
                                  uniquingKeysWith: { a, _ in a })
        let filled = Set(r.orderEvents.filter { $0.payload.status == .filled }.map(\.payload.clientOrderId))
        var out = [String: Int]()
        for e in r.orderEvents where e.payload.status == .rejected {
            if let old = replaces[e.payload.clientOrderId], filled.contains(old) { continue }
            out[category(e.payload.reason), default: 0] += 1
        }
        return out
    }

    static func category(_ reason: String) -> String {
        let head = reason.split(separator: ":", maxSplits: 1).first.map(String.init) ?? reason
        let trimmed = head.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? "no reason given" : String(trimmed.prefix(60))
    }

    /// An order's life as the record shows it: when it was placed, and its first terminal event.
    struct OrderLife {
        var id: String
        var placed: Timestamp
        var ended: Envelope<OrderEvent>?
    }

    static func lives(_ r: ReadinessRecord) -> [OrderLife] {
        var placed = [String: Timestamp]()
        var ended = [String: Envelope<OrderEvent>]()
        for o in r.orders { placed[o.payload.clientOrderId] = min(placed[o.payload.clientOrderId] ?? o.eventTime, o.eventTime) }
        for e in r.orderEvents {
            let id = e.payload.clientOrderId
            placed[id] = min(placed[id] ?? e.eventTime, e.eventTime)
            if [.filled, .cancelled, .rejected].contains(e.payload.status), ended[id] == nil { ended[id] = e }
        }
        return placed.map { OrderLife(id: $0.key, placed: $0.value, ended: ended[$0.key]) }.sorted { ($0.placed, $0.id) < ($1.placed, $1.id) }
    }

    /// Why an order outlived its session: `still working at the close` (it ended after it), `never filled or
    /// cancelled` (no end, and the record goes on past the close); nil when it did not.
    static func pastSession(_ o: OrderLife, recordEnd: Timestamp, closeGraceMs: Int64) -> String? {
        let deadline = MarketCalendar.close(of: NewYorkTime.date(of: o.placed)).adding(ms: closeGraceMs)
        if let done = o.ended { return done.eventTime > deadline ? "still working at the close" : nil }
        return recordEnd > deadline ? "never filled or cancelled" : nil
    }

    static func openPastSession(_ r: ReadinessRecord, closeGraceMs: Int64) -> [String: Int] {
        let end = r.end ?? .distantPast
        var out = [String: Int]()
        for o in lives(r) { if let why = pastSession(o, recordEnd: end, closeGraceMs: closeGraceMs) { out[why, default: 0] += 1 } }
        return out
    }

    /// The first order that outlived its session, in words, so the operator can look it up.
    static func firstLateOrder(_ r: ReadinessRecord, closeGraceMs: Int64) -> String? {
        let end = r.end ?? .distantPast
        guard let o = lives(r).first(where: { pastSession($0, recordEnd: end, closeGraceMs: closeGraceMs) != nil }) else { return nil }
        let how = o.ended.map { "\($0.payload.status.rawValue) at \($0.eventTime.iso8601) (\($0.payload.reason))" } ?? "still open"
        return "\(o.id) placed \(o.placed.iso8601), \(how)"
    }

    /// The broker-gateway's dead letters that concern this account (keyed by it, or by nothing), by topic and kind.
    static func gatewayDeadLetters(_ r: ReadinessRecord) -> [String: Int] {
        var out = [String: Int]()
        for d in r.deadLetters where d.payload.service == "broker-gateway" && (d.payload.key == nil || d.payload.key == r.accountId) {
            out["\(d.payload.topic) \(d.payload.errorKind)", default: 0] += 1
        }
        return out
    }
}
