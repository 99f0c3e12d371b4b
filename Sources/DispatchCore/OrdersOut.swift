import OpsModel

/// The account's orders the broker may still answer, as the dispatcher can know them: its own (entries, scale-in
/// adds, roll legs) from when it sends them, and the position-manager's exits from their `exit_requested` events (one
/// per sell sent, at the sell's time, with its reprice step), each until its final order event (filled in full,
/// cancelled or rejected; a replaced sell is cancelled). The broker's order events and account snapshots answer these
/// or an order made later (`quietInputs`).
struct OrdersOut: Codable, Equatable, Sendable {
    /// Own orders by client id, with their time.
    var own: [String: Timestamp] = [:]
    /// Exit sells not yet answered, per position id: how many, and since when.
    var exits: [String: Exits] = [:]

    struct Exits: Codable, Equatable, Sendable {
        var count: Int
        var since: Timestamp
    }

    /// The time of the earliest order out (nil: none).
    var earliest: Timestamp? { (Array(own.values) + exits.values.map(\.since)).min() }

    mutating func sent(_ out: [Emit]) {
        for e in out where e.topic == Topics.orders {
            if let o = e.envelope.payload as? OrderCommand { own[o.clientOrderId] = e.envelope.eventTime }
        }
    }

    mutating func requested(_ p: PositionEvent, at t: Timestamp) {
        guard p.event == .exitRequested, p.exitStep != nil else { return }
        exits[p.positionId] = Exits(count: (exits[p.positionId]?.count ?? 0) + 1, since: exits[p.positionId]?.since ?? t)
    }

    mutating func answered(_ e: OrderEvent) {
        let final = e.status == .cancelled || e.status == .rejected || (e.status == .filled && e.filledQuantity >= e.quantity)
        guard final else { return }
        if own.removeValue(forKey: e.clientOrderId) != nil { return }
        guard e.intent == .close, let id = e.positionId, let out = exits[id] else { return }
        exits[id] = out.count > 1 ? Exits(count: out.count - 1, since: out.since) : nil
    }
}

extension DispatchCore {
    /// Once the account's first snapshot is in hand, an order event or a snapshot answers an order out (so none comes
    /// before the earliest of them) or one made later — its own at a signal or a chain, an exit the position-manager
    /// announces in `positions` at the sell's time — or, from the expiry close of an option held, a settlement. So the
    /// dispatcher does not wait a round trip through the broker at every chain. Only with the simulated broker (as
    /// `lookahead`).
    public var quietInputs: QuietInputs? {
        guard lookaheadEnabled, account != nil else { return nil }
        let expiry = openPositions.values.compactMap { p in p.expiration.map(MarketCalendar.close(of:)) }.min()
        return QuietInputs(name: "orders-answered", enders: Self.orderAnswers,
                           until: QuietInputs.until([expiry, ordersOut.earliest].compactMap { $0 }.min(), on: Self.orderAnswers.keys))
    }

    /// What makes an order this account's broker answers, at the order's time: its own decisions (signals, chains)
    /// and the position-manager's exits (announced in positions).
    static let orderAnswers: [String: [String: Int64]] = {
        let makers = outputCausesDeclared[Topics.orders]!.merging([Topics.positions: 0]) { min($0, $1) }
        return [Topics.orderEvents: makers, Topics.accounts: makers]
    }()
}
