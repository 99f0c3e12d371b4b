import OpsModel
import Testing
@testable import DispatchCore

/// Seed 000 #19 in the dispatcher: the entry buys half of what its method sized; the other half is an add the
/// dispatcher decides at a chain of the underlying whose quote marks the position up `sizing.scale_in_trigger_pct`,
/// through every gate again, at most once per position and New York session.
@Suite("DispatchCore: scaling in")
struct ScaleInTests {
    typealias D = DispatchDesk
    static let day = D.day
    static let call = "SPY240308C00500000"

    static var scaling: TradingParams {
        var p = TradingParams()
        p.sizing.scaleIn = true
        return p
    }

    /// The scaled-in position p1 as the position-manager last published it: 2 contracts of the 500 call bought at
    /// `entry`, `pending` still to add, marked at `mark` (a chain's quote decides, not this).
    static func position(entry: Cents = 251, mark: Cents? = 260, pending: Int? = 3, id: String = "p1", account: String = "sim-1",
                         _ event: PositionEvent.Kind = .marked) -> PositionEvent {
        var p = D.position(event, id, symbol: call, quantity: 2, entry: entry, mark: mark, account: account)
        p.scaleInPending = pending
        return p
    }

    /// SPY's chain at `t` (the underlying at 500.2) quoting the 500 call ±2¢ around `mark`: its mid, the position's mark.
    static func chain(_ t: Timestamp, mark: Cents, price: Double = 500.2) -> OptionChain {
        let m = Double(mark) / 100
        return chain(t, call: Fx.quote(.call, 500, "2024-03-08", bid: m - 0.02, ask: m + 0.02), price: price)
    }

    /// SPY's chain at `t` with `call` as its 500 call, besides the seed chain's other quotes.
    static func chain(_ t: Timestamp, call: OptionQuote, price: Double = 500.2) -> OptionChain {
        Fx.chain(price, at: t, [call] + DispatchCoreStateTests.chain.contracts.dropFirst())
    }

    static func at(_ hour: Int, _ minute: Int, on day: String = day) -> Timestamp { Fx.ny(day, hour, minute) }

    /// A desk with the chain and the account ready and `position` published at 10:02; nothing is decided on it.
    static func desk(_ position: PositionEvent = ScaleInTests.position(), params: TradingParams = scaling, cash: Cents = 10_000_000,
                     chain: OptionChain = DispatchCoreStateTests.chain) throws -> D {
        var desk = D(params)
        try desk.ready(cash: cash, chain: chain)
        #expect(try desk.feed(position, at: at(10, 2), id: "m-\(position.positionId)").isEmpty, "a position event decides nothing")
        return desk
    }

    // MARK: - The entry's half

    /// The chain's 500 call at $2.52 (large tier, day 1%): $130,000 → $1,300 → 5; $182,000 → 7; $30,000 → $300 → 1.
    @Test("the entry orders ⌊sized / 2⌋ and records the sized quantity; 1 is not split",
          arguments: [(Cents(13_000_000), 5, 2), (18_200_000, 7, 3), (3_000_000, 1, 1)])
    func entryBuysHalf(cash: Cents, sized: Int, ordered: Int) throws {
        var desk = D(Self.scaling)
        try desk.ready(cash: cash)
        let out = try desk.feed(D.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1")
        let d = try #require(out.decision)
        let o = try #require(out.order)
        let sz = try #require(d.sizing)
        #expect(d.outcome == .order && d.kind == "entry")
        #expect(o.quantity == ordered && sz.contracts == ordered)
        #expect(sz.totalCostCents == Cents(ordered) * 25_200, "the cost is the first half's")
        #expect(D.gate(d, "buying_power")?.value == Fmt.cents(Cents(ordered) * (25_200 + 68)), "buying power is checked for what is ordered now")
        if sized >= 2 {
            #expect(sz.sizedContracts == sized)
            #expect(sz.rationale.hasSuffix(", Scale-in: \(ordered) now, \(sized - ordered) more at the trigger"), "\(sz.rationale)")
        } else {
            #expect(sz.sizedContracts == nil)
            #expect(!sz.rationale.contains("Scale-in"))
        }
    }

    @Test("scale_in off (the default): the whole sized quantity, no sized_contracts")
    func offBuysAll() throws {
        var desk = D()
        try desk.ready(cash: 13_000_000)
        let out = try desk.feed(D.signal(), at: Fx.ny(Self.day, 10, 1), id: "s1")
        #expect(out.order?.quantity == 5)
        #expect(out.decision?.sizing?.sizedContracts == nil)
    }


    // MARK: - The trigger, at a chain

    /// Trigger = ⌈entry × 1.20⌉: $2.50 → $3.00 exactly; $2.51 → $3.012 → $3.02; $2.33 → $2.796 → $2.80. The position
    /// event's own mark (a dollar above the trigger) is not what decides: the chain's quote is.
    @Test("a chain marking the position one cent below ⌈entry × 1.20⌉ does nothing; the next one at it decides the add",
          arguments: [(Cents(250), Cents(300)), (251, 302), (233, 280)])
    func triggerBoundary(entry: Cents, trigger: Cents) throws {
        var desk = try Self.desk(Self.position(entry: entry, mark: trigger + 100))
        #expect(try desk.chain(Self.chain(Self.at(10, 5), mark: trigger - 1)).isEmpty)
        let at = try desk.chain(Self.chain(Self.at(10, 10), mark: trigger))
        let d = try #require(at.decision)
        #expect(d.kind == "scale_in" && d.positionId == "p1" && d.outcome == .order)
        #expect(at.order?.limitPriceCents == trigger, "priced at this chain's mid")
    }

    /// The mark is the mid to the nearest cent, as the position-manager takes it: (3.00 + 3.03) / 2 = 3.015 → $3.02
    /// reaches entry $2.51's trigger; (2.99 + 3.02) / 2 = 3.005 → $3.01 does not.
    @Test("the chain's mid is rounded to the nearest cent", arguments: [(3.00, 3.03, true), (2.99, 3.02, false)])
    func midToTheNearestCent(bid: Double, ask: Double, adds: Bool) throws {
        var desk = try Self.desk()
        let out = try desk.chain(Self.chain(Self.at(10, 5), call: Fx.quote(.call, 500, "2024-03-08", bid: bid, ask: ask)))
        #expect((out.decision?.kind == "scale_in") == adds)
        #expect(out.decisions.count == (adds ? 1 : 0))
    }

    @Test("the add: an opening order on the position for the pending quantity, decided at the chain's time and named by it")
    func theAddOrder() throws {
        var desk = try Self.desk()
        let chain = Self.chain(Self.at(10, 5), mark: 302)
        let out = try desk.chain(chain)
        let d = try #require(out.decision)
        let o = try #require(out.order)
        let chainId = D.chainId(chain)
        #expect(d.order == o && d.skipReason == nil)
        #expect(d.kind == "scale_in" && d.positionId == "p1" && d.signalId == chainId && d.direction == .bull)
        #expect(o.intent == .open && o.side == .buy && o.positionId == "p1")
        #expect(o.symbol == Self.call && o.quantity == 3 && o.limitPriceCents == 302, "the same contract, at this chain's mid")
        #expect(o.clientOrderId == DeterministicID.make("add", "p1", "2024-03-06"))
        #expect(o.rollId == nil && o.strategy == .dayTrade)
        let envelopes = out.envelopes
        #expect(envelopes.count == 2)
        #expect(envelopes.allSatisfy { $0.eventTime == chain.asOf && $0.causationId == chainId })
        #expect(envelopes.first { $0.payload is Decision }?.id == DeterministicID.make("decision", parts: [chainId, "sim-1", "p1"]))
        #expect(envelopes.first { $0.payload is OrderCommand }?.id == o.clientOrderId)
        #expect(d.gates.allSatisfy { $0.passed })
        #expect(d.gates.map(\.gate) == ["account", "halt", "trading_hours", "daily_loss", "max_positions", "tier_min_confidence",
                                        "tier_min_volume_ratio", "one_position_per_ticker", "scale_in_setup", "chain", "contract",
                                        "sizing", "max_exposure", "buying_power"])
        #expect(D.gate(d, "max_positions")?.value == "0", "the position added to is not one more")
        #expect(d.sizing?.contracts == 3 && d.sizing?.rationale.contains("Scale-in add to p1: 3 contracts (wanted 3, cap 10)") == true)
    }

    @Test("the add is capped by the tier's max_contracts", arguments: [(Cents(10_000_000), 12, 10), (1_500_000, 7, 5), (150_000, 3, 2)])
    func addCappedByTier(cash: Cents, pending: Int, ordered: Int) throws {
        var desk = try Self.desk(Self.position(pending: pending), cash: cash)
        let out = try desk.chain(Self.chain(Self.at(10, 5), mark: 302))
        let o = try #require(out.order, "\(out.decision?.skipReason ?? "")")
        #expect(o.quantity == ordered)
        #expect(out.decision?.sizing?.maxContracts == ordered)
    }

    @Test("the add is decided once per position and session; another position is its own add")
    func decidedOncePerSession() throws {
        var desk = try Self.desk()
        #expect(try desk.chain(Self.chain(Self.at(10, 5), mark: 302)).orders.count == 1)
        #expect(try desk.chain(Self.chain(Self.at(10, 10), mark: 310)).isEmpty)
        try desk.feed(Self.position(mark: 310), at: Self.at(10, 11), id: "m2")
        #expect(try desk.chain(Self.chain(Self.at(10, 15), mark: 302)).isEmpty)
        try desk.feed(Self.position(id: "p2"), at: Self.at(10, 16), id: "m-p2")
        let other = try desk.chain(Self.chain(Self.at(10, 20), mark: 302))
        #expect(other.decisions.map(\.positionId) == ["p2"])
        #expect(other.order?.clientOrderId == DeterministicID.make("add", "p2", "2024-03-06"))
    }

    @Test("several adds on one chain: a decision each, in position-id order, named by the chain and the position")
    func severalAddsOnOneChain() throws {
        var desk = try Self.desk(Self.position(id: "p2"))
        try desk.feed(Self.position(id: "p1"), at: Self.at(10, 3), id: "m-p1")
        let chain = Self.chain(Self.at(10, 5), mark: 302)
        let out = try desk.chain(chain)
        #expect(out.decisions.map(\.positionId) == ["p1", "p2"])
        #expect(out.orders.map(\.positionId) == ["p1", "p2"])
        let ids = out.envelopes.filter { $0.payload is Decision }.map(\.id)
        #expect(ids == ["p1", "p2"].map { DeterministicID.make("decision", parts: [D.chainId(chain), "sim-1", $0]) })
    }

    @Test("no add: scale_in off, nothing pending, another account's position, another underlying's chain")
    func noTrigger() throws {
        var off = try Self.desk(params: TradingParams())
        #expect(try off.chain(Self.chain(Self.at(10, 5), mark: 400)).isEmpty)

        var desk = try Self.desk(Self.position(pending: nil))
        #expect(try desk.chain(Self.chain(Self.at(10, 5), mark: 400)).isEmpty)
        try desk.feed(Self.position(pending: 0), at: Self.at(10, 6), id: "m2")
        #expect(try desk.chain(Self.chain(Self.at(10, 7), mark: 400)).isEmpty)
        try desk.feed(Self.position(id: "p9", account: "sim-2"), at: Self.at(10, 8), id: "m3")
        #expect(try desk.chain(Self.chain(Self.at(10, 9), mark: 400)).isEmpty)
        try desk.feed(Self.position(), at: Self.at(10, 10), id: "m4")
        let qqq = Fx.chain(430, at: Self.at(10, 11), [Fx.quote(.call, 430, "2024-03-08", bid: 4.00, ask: 4.04, root: "QQQ")], underlying: "QQQ")
        #expect(try desk.chain(qqq).isEmpty)
        // None of those used up the add.
        #expect(try desk.chain(Self.chain(Self.at(10, 12), mark: 302)).orders.count == 1)
    }

    @Test("the add needs no marked event: a position just opened is added to at the chain that reaches the trigger")
    func openedPositionIsAddedTo() throws {
        var desk = try Self.desk(Self.position(mark: nil, .opened))
        let out = try desk.chain(Self.chain(Self.at(10, 5), mark: 302))
        #expect(out.order?.positionId == "p1" && out.decision?.kind == "scale_in")
    }

    /// ScaleIn.mark: an option's mark is this chain's quote of its contract; without one there is no mark.
    @Test("an option position not quoted in the chain is not added to on its last published mark")
    func unquotedContractIsNoMark() throws {
        var desk = try Self.desk(Self.position(mark: 400))
        let other = Self.chain(Self.at(10, 5), call: Fx.quote(.call, 500, "2024-03-15", bid: 3.00, ask: 3.04))
        let unquoted = try desk.chain(other)
        // The add is still to come at a chain that quotes the contract (it was not used up).
        let quoted = try desk.chain(Self.chain(Self.at(10, 10), mark: 302))
        #expect(unquoted.decisions.count == 0, "skipped at \(unquoted.decision?.skipReason ?? "-")")
        #expect(quoted.orders.count == 1)
    }

    // MARK: - Refused: a skip naming the gate, no order

    @Test("an operator halt in force refuses the add")
    func haltRefuses() throws {
        var desk = try Self.desk()
        try desk.feed(D.control(.halt), at: Self.at(10, 3), id: "h1")
        let out = try desk.chain(Self.chain(Self.at(10, 5), mark: 302))
        let d = try #require(out.decision)
        #expect(out.orders.isEmpty && d.order == nil)
        #expect(d.outcome == .skip && d.skipReason == "halt" && d.kind == "scale_in" && d.halt?.contains("desk check") == true)
    }

    @Test("trading hours: a chain at 15:44 adds, one at 15:45 is refused", arguments: [(44, true), (45, false)])
    func tradingHours(minute: Int, passes: Bool) throws {
        var desk = try Self.desk(chain: Self.chain(Self.at(15, 40), mark: 260))
        let out = try desk.chain(Self.chain(Self.at(15, minute), mark: 302))
        let d = try #require(out.decision)
        #expect(d.kind == "scale_in" && (out.order != nil) == passes)
        #expect(d.skipReason == (passes ? nil : "trading_hours"))
    }

    @Test("a tripped daily loss refuses the add")
    func dailyLossRefuses() throws {
        var desk = try Self.desk()
        try desk.feed(D.closed("old", pnl: -60_000, closedAt: Self.at(9, 50)), at: Self.at(9, 50), id: "c-old")
        let out = try desk.chain(Self.chain(Self.at(10, 5), mark: 302))
        let d = try #require(out.decision)
        #expect(out.orders.isEmpty && d.skipReason == "daily_loss" && d.kind == "scale_in")
    }

    @Test("a refused add is not tried again that session, and is the next session (under that session's client id)")
    func refusedTriedAgainNextSession() throws {
        var desk = try Self.desk()
        try desk.feed(D.control(.halt), at: Self.at(10, 3), id: "h1")
        #expect(try desk.chain(Self.chain(Self.at(10, 5), mark: 302)).decision?.skipReason == "halt")
        try desk.feed(D.control(.resume), at: Self.at(10, 6), id: "h2")
        #expect(try desk.chain(Self.chain(Self.at(10, 10), mark: 305)).isEmpty)
        #expect(try desk.chain(Self.chain(Self.at(15, 55), mark: 305)).isEmpty)

        let tomorrow = Self.chain(Self.at(10, 0, on: "2024-03-07"), mark: 303)
        let out = try desk.chain(tomorrow)
        let d = try #require(out.decision)
        let o = try #require(out.order, "\(d.skipReason ?? "")")
        #expect(d.kind == "scale_in" && d.positionId == "p1" && d.signalId == D.chainId(tomorrow))
        #expect(o.clientOrderId == DeterministicID.make("add", "p1", "2024-03-07") && o.limitPriceCents == 303)
        #expect(try desk.chain(Self.chain(Self.at(10, 5, on: "2024-03-07"), mark: 303)).isEmpty, "once in that session too")
    }

    @Test("reset and replay decide the same adds")
    func replayIsDeterministic() throws {
        var desk = try Self.desk()
        let chains = [Self.chain(Self.at(10, 5), mark: 301), Self.chain(Self.at(10, 10), mark: 302), Self.chain(Self.at(10, 15), mark: 310)]
        let first = try chains.flatMap { try desk.chain($0).envelopes }.map { try $0.encoded() }
        #expect(first.count == 2)
        desk.core.reset()
        try desk.ready()
        try desk.feed(Self.position(), at: Self.at(10, 2), id: "m-p1")
        #expect(try chains.flatMap { try desk.chain($0).envelopes }.map { try $0.encoded() } == first)
    }

    // MARK: - The setup must still hold

    @Test("a signal the other way after the entry breaks the setup; one before the entry does not",
          arguments: [(Fx.ny(day, 9, 41), false), (Fx.ny(day, 9, 40), true), (Fx.ny(day, 9, 39), true)])
    func oppositeSignal(at t: Timestamp, holds: Bool) throws {
        var desk = try Self.desk(chain: Self.chain(Self.at(9, 30), mark: 260))
        try desk.feed(D.signal("SPY", .bear), at: t, id: "bear")
        let out = try desk.chain(Self.chain(Self.at(10, 5), mark: 302))
        let d = try #require(out.decision)
        let g = try #require(D.gate(d, "scale_in_setup"))
        #expect(g.passed == holds)
        #expect((out.order != nil) == holds)
        if !holds { #expect(d.skipReason == "scale_in_setup" && g.detail.contains("BEAR signal")) }
    }

    @Test("a signal in the same direction keeps the setup")
    func sameDirectionSignal() throws {
        var desk = try Self.desk()
        try desk.feed(D.signal("SPY", .bull), at: Self.at(10, 3), id: "bull")
        #expect(try desk.chain(Self.chain(Self.at(10, 5), mark: 302)).orders.count == 1)
    }

    /// The chain's underlying is at 500.2: a BULL position holds at or above its entry signal's price, a BEAR one at
    /// or below. Both the 500 call (mid $2.52) and the 500 put (mid $2.42) are up from $2.00 past the $2.40 trigger.
    @Test("the underlying back through the entry signal's price breaks the setup",
          arguments: [("SPY240308C00500000", 500.2, true), ("SPY240308C00500000", 500.21, false),
                      ("SPY240308P00500000", 500.2, true), ("SPY240308P00500000", 500.19, false)])
    func underlyingBackThroughEntry(symbol: String, entryUnderlying: Double, holds: Bool) throws {
        var p = D.position(.marked, "p1", symbol: symbol, quantity: 2, entry: 200, mark: 220)
        p.scaleInPending = 2
        p.entryUnderlyingPrice = entryUnderlying
        var desk = try Self.desk(p)
        let out = try desk.chain(Fx.chain(500.2, at: Self.at(10, 5), DispatchCoreStateTests.chain.contracts))
        let d = try #require(out.decision)
        let g = try #require(D.gate(d, "scale_in_setup"))
        #expect(g.passed == holds && g.value == "500.20" && g.limit == Fmt.fixed(entryUnderlying, 2))
        #expect(d.skipReason == (holds ? nil : "scale_in_setup"))
        #expect(d.direction == (symbol.contains("C") ? .bull : .bear))
        if holds { #expect(out.order?.symbol == symbol && out.order?.positionId == "p1") }
    }

    /// Shares have no quote in a chain: their mark is the position's latest `mark_price_cents` (trigger ⌈$500 ×
    /// 1.20⌉ = $600); the chain of the underlying decides, at its price.
    @Test("a stock position's add: its latest mark against the trigger, shares at the chain's underlying price, capped by max_shares",
          arguments: [(Cents(59_999), false), (60_000, true)])
    func stockAdd(mark: Cents, adds: Bool) throws {
        var params = Self.scaling
        params.risk.maxNotionalExposure = 1_000_000
        var p = D.position(.marked, "p1", symbol: "SPY", quantity: 300, entry: 50_000, mark: mark)
        p.scaleInPending = 700
        var desk = try Self.desk(p, params: params, cash: 50_000_000, chain: Fx.chain(600, at: Self.at(10, 0), DispatchCoreStateTests.chain.contracts))
        let out = try desk.chain(Fx.chain(600.5, at: Self.at(10, 5), DispatchCoreStateTests.chain.contracts))
        guard adds else { #expect(out.isEmpty); return }
        let o = try #require(out.order, "\(out.decision?.gates.filter { !$0.passed } ?? [])")
        #expect(o.assetClass == .equity && o.symbol == "SPY" && o.positionId == "p1" && o.intent == .open)
        #expect(o.limitPriceCents == 60_050 && o.quantity == 500, "large tier max_shares 500")
        #expect(out.decision?.sizing?.unit == "shares")
    }

    // MARK: - Other gates see the add as what it is

    @Test("the add's contract must still pass the option gates")
    func addThroughOptionGates() throws {
        var desk = try Self.desk()
        // Mid $3.02 reaches the trigger, but the spread is 19.9%.
        let wide = Self.chain(Self.at(10, 5), call: Fx.quote(.call, 500, "2024-03-08", bid: 2.72, ask: 3.32))
        let out = try desk.chain(wide)
        let d = try #require(out.decision)
        #expect(out.orders.isEmpty && d.skipReason == "contract" && D.gate(d, "contract")?.detail.contains("Spread") == true)
    }

    @Test("max_exposure counts the add on top of the open positions")
    func addThroughExposure() throws {
        var p = Self.scaling
        p.risk.maxNotionalExposure = 1_000   // the position is $502, the 3-contract add at $3.02 $906
        var desk = try Self.desk(params: p)
        let out = try desk.chain(Self.chain(Self.at(10, 5), mark: 302))
        let d = try #require(out.decision)
        #expect(out.orders.isEmpty && d.skipReason == "max_exposure" && D.gate(d, "max_exposure")?.value == "1408.00")
    }

    @Test("an add's decision conforms to the decision schema")
    func addDecisionMatchesSchema() throws {
        var desk = try Self.desk()
        let d = try #require(try desk.chain(Self.chain(Self.at(10, 5), mark: 302)).decision)
        #expect(DecisionSchema.violations(d).isEmpty, "\(DecisionSchema.violations(d))")
    }

    @Test("a pending add does not count as one more open position for the next entry")
    func pendingAddIsNotAPosition() throws {
        var p = Self.scaling
        p.risk.maxOpenPositions = 2
        var desk = try Self.desk(Self.position(mark: nil, .opened), params: p)
        #expect(try desk.chain(Self.chain(Self.at(10, 5), mark: 302)).orders.count == 1)
        let qqq = Fx.chain(430, at: Self.at(10, 5), [Fx.quote(.call, 430, "2024-03-08", root: "QQQ")], underlying: "QQQ")
        try desk.chain(qqq)
        let d = try #require(try desk.feed(D.signal("QQQ"), at: Self.at(10, 6), id: "s1").decision)
        let g = try #require(D.gate(d, "max_positions"))
        #expect(g.passed && g.value == "1", "one position (p1) is open; its add is not a second: \(g.detail)")
    }
}

extension ScaleInTests {
    @Test("a position with an exit requested today is not added to, even when its mark reaches the trigger")
    func exitingPositionIsNotAddedTo() throws {
        var desk = try Self.desk()
        var exiting = Self.position(mark: 302, .exitRequested)
        exiting.exitReason = "profit_target"
        #expect(try desk.feed(exiting, at: Self.at(10, 3), id: "x-p1").isEmpty)
        let out = try desk.chain(Self.chain(Self.at(10, 5), mark: 302))
        #expect(out.decisions.isEmpty && out.orders.isEmpty, "no add to a position being exited")
        // The next session the exit request of yesterday no longer blocks (a day-scoped record).
        var desk2 = try Self.desk()
        #expect(try desk2.feed(exiting, at: Self.at(10, 3), id: "x-p1").isEmpty)
        let next = try desk2.chain(Self.chain(Fx.ny("2024-03-07", 10, 5), mark: 302))
        #expect(next.decisions.count == 1, "the next session the add is decided")
    }
}
