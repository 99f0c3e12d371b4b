import OpsModel
import Testing
@testable import DispatchCore

/// Seed 000 #18 in the dispatcher: the opening leg of a roll. The position-manager requests a roll's close
/// (`exit_requested`, exit_reason `roll`, a roll id); the dispatcher decides the opening leg at the next chain of
/// the underlying in the same New York session: the contract of the same right nearest the rolled position's |delta|
/// in the next swing expiration window, through the entry gates, sharing the roll id.
@Suite("DispatchCore: a roll's opening leg")
struct RollLegTests {
    typealias D = DispatchDesk
    static let day = D.day                          // Wednesday 2024-03-06
    static let rolled = "SPY240311C00500000"        // 5 days left

    /// With the defaults the swing window is [22, 45] DTE (above exits.time_exit_dte 21): 2024-03-28 is its
    /// earliest expiration. Every quote is liquid (mid $2.52) and carries its delta and vega.
    static let quotes = [
        D.quote(.call, 500, "2024-03-11", delta: 0.45, vega: 0.2),   // the rolled contract itself
        D.quote(.call, 505, "2024-03-15", delta: 0.45, vega: 0.2),   // 9 DTE: below the window
        D.quote(.call, 505, "2024-03-27", delta: 0.45, vega: 0.2),   // 21 DTE: time_exit_dte, below the window
        D.quote(.call, 495, "2024-03-28", delta: 0.62, vega: 0.3),
        D.quote(.call, 500, "2024-03-28", delta: 0.52, vega: 0.3),
        D.quote(.call, 505, "2024-03-28", delta: 0.44, vega: 0.3),   // nearest 0.45 in the window's first expiration
        D.quote(.call, 510, "2024-03-28", delta: 0.35, vega: 0.3),
        D.quote(.put, 505, "2024-03-28", delta: -0.45, vega: 0.3),   // the other right
        D.quote(.call, 505, "2024-04-05", delta: 0.45, vega: 0.3),   // 30 DTE: a later expiration in the window
        D.quote(.call, 505, "2024-04-26", delta: 0.45, vega: 0.3),   // 51 DTE: above the window
    ]
    static let chain = Fx.chain(500, at: Fx.ny(day, 10, 0), quotes)
    /// SPY's next chain after the roll is requested at 10:05: it decides the opening leg.
    static let next = Fx.chain(500, at: Fx.ny(day, 10, 10), quotes)

    static func position(_ event: PositionEvent.Kind, _ id: String = "p1", symbol: String = rolled, delta: Double? = 0.45,
                         rollId: String? = "r1", reason: String? = "roll") -> PositionEvent {
        var p = D.position(event, id, symbol: symbol, strategy: .swingTrade, quantity: 2, entry: 300, mark: 420,
                           openedAt: Fx.ny("2024-02-26", 10, 0))
        p.greeks = delta.map { PositionGreeks(iv: 0.15, delta: $0, gamma: 0.02, theta: -0.1, vega: 0.1, rho: 0.02, underlyingPrice: 500, years: 0.0137) }
        if event == .exitRequested { p.exitReason = reason; p.rollId = rollId; p.exitStep = 0 }
        return p
    }

    /// The position open, a BULL swing signal at 10:02 (skipped itself: SPY is held).
    static func desk(_ params: TradingParams = TradingParams(), chain: OptionChain = chain, signalAt: Timestamp = Fx.ny(day, 10, 2),
                     direction: Direction = .bull, symbol: String = rolled) throws -> D {
        var desk = D(params)
        try desk.ready(chain: chain)
        try desk.feed(Self.position(.marked, symbol: symbol), at: Fx.ny(day, 9, 50), id: "mark-0")
        let skipped = try desk.feed(D.signal("SPY", direction, strategy: .swingTrade), at: signalAt, id: "s1")
        #expect(skipped.orders.isEmpty && skipped.decision?.outcome == .skip)
        return desk
    }

    /// The roll requested at 10:05, which decides nothing itself; then `chain` (SPY's at 10:10), which decides the leg.
    static func roll(_ desk: inout D, _ request: PositionEvent = position(.exitRequested), then chain: OptionChain = next) throws -> D.Out {
        #expect(try desk.feed(request, at: Fx.ny(day, 10, 5), id: "x1").isEmpty, "a position event decides nothing")
        return try desk.chain(chain)
    }

    @Test("the opening leg: the nearest |delta| in the next swing window's earliest expiration, sharing the roll id")
    func opensTheNextContract() throws {
        var desk = try Self.desk()
        let out = try Self.roll(&desk)
        let d = try #require(out.decision)
        let o = try #require(out.order, "\(d.skipReason ?? "") \(d.gates.filter { !$0.passed })")
        #expect(d.kind == "roll" && d.route == "roll" && d.rollId == "r1" && d.positionId == "p1" && d.outcome == .order)
        #expect(d.signalId == "s1", "the gates read the recent signal")
        #expect(o.rollId == "r1" && o.intent == .open && o.side == .buy && o.positionId == nil)
        #expect(o.symbol == "SPY240328C00505000" && o.quantity == 2 && o.limitPriceCents == 252 && o.strategy == .swingTrade)
        let c = try #require(d.contract)
        #expect(c.dte == 22 && c.delta == 0.44)
        #expect(c.dte > TradingParams().exits.timeExitDte && c.dte <= TradingParams().contractSelection.swingTradeDte[1])
        #expect(d.gates.allSatisfy { $0.passed })
        #expect(d.sizing?.rationale.contains("Roll of p1: 2 contracts (wanted 2, cap 10)") == true)
    }

    @Test("the leg is decided at the chain's time, caused by and named after the chain and the roll id")
    func namedByTheChain() throws {
        var desk = try Self.desk()
        let out = try Self.roll(&desk)
        let chainId = D.chainId(Self.next)
        let o = try #require(out.order)
        #expect(o.clientOrderId == DeterministicID.make("ord", parts: [chainId, "sim-1", "r1"]))
        #expect(out.envelopes.count == 2)
        #expect(out.envelopes.allSatisfy { $0.eventTime == Self.next.asOf && $0.causationId == chainId })
        #expect(out.envelopes.first { $0.payload is Decision }?.id == DeterministicID.make("decision", parts: [chainId, "sim-1", "r1"]))
        #expect(out.envelopes.first { $0.payload is OrderCommand }?.id == o.clientOrderId)
    }

    @Test("a roll requested at a chain's own time waits for the next chain; another underlying's chain does not decide it")
    func waitsForItsUnderlyingsNextChain() throws {
        var desk = try Self.desk()
        let same = Fx.chain(500, at: Fx.ny(Self.day, 10, 5), Self.quotes)
        #expect(try desk.chain(same).isEmpty)
        #expect(try desk.feed(Self.position(.exitRequested), at: same.asOf, id: "x1").isEmpty)
        let qqq = Fx.chain(430, at: Fx.ny(Self.day, 10, 8), [Fx.quote(.call, 430, "2024-03-28", root: "QQQ")], underlying: "QQQ")
        #expect(try desk.chain(qqq).isEmpty)
        let out = try desk.chain(Self.next)
        #expect(out.decision?.rollId == "r1" && out.order?.symbol == "SPY240328C00505000")
    }

    @Test("a roll requested in one session is dropped at the next session's first chain")
    func yesterdaysRollIsDropped() throws {
        var desk = try Self.desk()
        #expect(try desk.feed(Self.position(.exitRequested), at: Fx.ny(Self.day, 15, 58), id: "x1").isEmpty)
        let tomorrow = "2024-03-07"
        #expect(try desk.chain(Fx.chain(500, at: Fx.ny(tomorrow, 9, 35), Self.quotes)).isEmpty)
        #expect(try desk.chain(Fx.chain(500, at: Fx.ny(tomorrow, 10, 0), Self.quotes)).isEmpty, "dropped, not still pending")
        // A roll requested today is decided at today's next chain.
        try desk.feed(Self.position(.exitRequested, rollId: "r2"), at: Fx.ny(tomorrow, 10, 1), id: "x2")
        let out = try desk.chain(Fx.chain(500, at: Fx.ny(tomorrow, 10, 5), Self.quotes))
        #expect(out.decisions.map(\.rollId) == ["r2"])
    }

    @Test("a roll requested late in the session is still decided at that session's next chain (refused by the hours)")
    func lateRollSameSession() throws {
        var desk = try Self.desk()
        #expect(try desk.feed(Self.position(.exitRequested), at: Fx.ny(Self.day, 15, 50), id: "x1").isEmpty)
        let d = try #require(try desk.chain(Fx.chain(500, at: Fx.ny(Self.day, 15, 55), Self.quotes)).decision)
        #expect(d.rollId == "r1" && d.skipReason == "trading_hours" && d.order == nil)
    }

    @Test("without the position's Greeks the swing target delta (0.50) is matched")
    func defaultTargetDelta() throws {
        var desk = try Self.desk()
        let out = try Self.roll(&desk, Self.position(.exitRequested, delta: nil))
        #expect(out.order?.symbol == "SPY240328C00500000")
    }

    @Test("a put is rolled into a put, by |delta|")
    func putRoll() throws {
        let puts = [
            D.quote(.put, 495, "2024-03-28", delta: -0.35, vega: 0.3), D.quote(.put, 500, "2024-03-28", delta: -0.47, vega: 0.3),
            D.quote(.put, 505, "2024-03-28", delta: -0.56, vega: 0.3), D.quote(.call, 500, "2024-03-28", delta: 0.45, vega: 0.3),
        ]
        var desk = try Self.desk(chain: Fx.chain(500, at: Fx.ny(Self.day, 10, 0), puts), direction: .bear, symbol: "SPY240311P00500000")
        let out = try Self.roll(&desk, Self.position(.exitRequested, symbol: "SPY240311P00500000", delta: -0.45),
                                then: Fx.chain(500, at: Fx.ny(Self.day, 10, 10), puts))
        #expect(out.order?.symbol == "SPY240328P00500000")
        #expect(out.decision?.direction == .bear)
    }

    @Test("the same roll id again decides nothing, before or after its leg; another roll id is another roll")
    func decidedOncePerRollId() throws {
        var desk = try Self.desk()
        var repriced = Self.position(.exitRequested)
        repriced.exitStep = 1
        #expect(try desk.feed(Self.position(.exitRequested), at: Fx.ny(Self.day, 10, 5), id: "x1").isEmpty)
        #expect(try desk.feed(repriced, at: Fx.ny(Self.day, 10, 6), id: "x2").isEmpty)
        #expect(try desk.chain(Self.next).orders.count == 1)
        repriced.exitStep = 2
        try desk.feed(repriced, at: Fx.ny(Self.day, 10, 11), id: "x3")
        #expect(try desk.chain(Fx.chain(500, at: Fx.ny(Self.day, 10, 15), Self.quotes)).isEmpty)
        try desk.feed(Self.position(.exitRequested, "p9", rollId: "r2"), at: Fx.ny(Self.day, 10, 16), id: "x4")
        let other = try desk.chain(Fx.chain(500, at: Fx.ny(Self.day, 10, 20), Self.quotes))
        #expect(other.decisions.map(\.rollId) == ["r2"])
    }

    @Test("an exit that is not a roll, or a roll without an id, opens nothing",
          arguments: [("time_exit", "r1"), ("profit_target", nil), ("roll", nil)] as [(String, String?)])
    func notARoll(reason: String, rollId: String?) throws {
        var desk = try Self.desk()
        #expect(try Self.roll(&desk, Self.position(.exitRequested, rollId: rollId, reason: reason)).isEmpty)
    }

    @Test("no contract of the next window passes the option gates: a skip, no opening order (only the close happens)")
    func nothingPassesTheGates() throws {
        let wide = [
            D.quote(.call, 505, "2024-03-15", delta: 0.45, vega: 0.2),                          // liquid but 9 DTE
            D.quote(.call, 500, "2024-03-28", delta: 0.52, vega: 0.3, bid: 2.00, ask: 2.60),   // spreads of 26%
            D.quote(.call, 505, "2024-03-28", delta: 0.44, vega: 0.3, bid: 1.50, ask: 2.00),
            D.quote(.call, 505, "2024-04-05", delta: 0.45, vega: 0.3, bid: 2.00, ask: 2.60),
        ]
        var desk = try Self.desk(chain: Fx.chain(500, at: Fx.ny(Self.day, 10, 0), wide))
        let out = try Self.roll(&desk, then: Fx.chain(500, at: Fx.ny(Self.day, 10, 10), wide))
        let d = try #require(out.decision)
        #expect(out.orders.isEmpty && d.order == nil)
        #expect(d.outcome == .skip && d.skipReason == "contract" && d.kind == "roll" && d.rollId == "r1")
        #expect(D.gate(d, "chain")?.passed == true)
        #expect(D.gate(d, "contract")?.detail.contains("no contract passes the option gates (3 refused)") == true)
    }

    @Test("a chain delivered more than max_chain_age_minutes after its as-of is stale: a skip at chain")
    func staleChain() throws {
        var desk = try Self.desk()
        #expect(try desk.feed(Self.position(.exitRequested), at: Fx.ny(Self.day, 10, 5), id: "x1").isEmpty)
        let late = Fx.chain(500, at: Fx.ny(Self.day, 9, 54), Self.quotes)
        let out = try desk.feed(late, at: Fx.ny(Self.day, 10, 10), id: "late")
        #expect(out.orders.isEmpty && out.decision?.skipReason == "chain" && out.decision?.rollId == "r1")
    }

    @Test("max_positions does not count the rolled position (max_open_positions 1, it open)")
    func maxPositionsIgnoresTheRolledPosition() throws {
        var p = TradingParams()
        p.risk.maxOpenPositions = 1
        var desk = try Self.desk(p)
        let out = try Self.roll(&desk)
        let d = try #require(out.decision)
        #expect(out.order != nil && D.gate(d, "max_positions")?.passed == true && D.gate(d, "max_positions")?.value == "0")
        #expect(d.openPositions == 1)
    }

    /// The close leg usually fills within the chain interval: by the next chain the rolled position is closed and no
    /// longer among the open ones. With another position (QQQ) open and max_open_positions 1, the leg would be a
    /// second position.
    @Test("max_positions and max_exposure after the rolled position closed: only what is still open counts")
    func maxPositionsAfterTheCloseFilled() throws {
        var p = TradingParams()
        p.risk.maxOpenPositions = 1
        var desk = try Self.desk(p)
        try desk.feed(D.position(.opened, "q1", symbol: "QQQ240328C00430000"), at: Fx.ny(Self.day, 9, 55), id: "o-q1")
        #expect(try desk.feed(Self.position(.exitRequested), at: Fx.ny(Self.day, 10, 5), id: "x1").isEmpty)
        var closed = Self.position(.closed)
        closed.exitPriceCents = 420; closed.realizedPnlCents = 24_000; closed.closedAt = Fx.ny(Self.day, 10, 6)
        try desk.feed(closed, at: Fx.ny(Self.day, 10, 6), id: "c1")
        let d = try #require(try desk.chain(Self.next).decision)
        #expect(d.openPositions == 1 && d.exposureCents == 50_200, "q1: $2.51 × 100 × 2")
        #expect(D.gate(d, "max_positions")?.value == "1")
        #expect(d.skipReason == "max_positions" && d.order == nil)
        #expect(D.gate(d, "max_exposure")?.value == "1006.00", "q1's $502 + the leg's 2 × $252")
    }

    @Test("one_position_per_ticker does not count the rolled position, but does count another in the ticker")
    func onePositionPerTicker() throws {
        var desk = try Self.desk()
        let g = try #require(try Self.roll(&desk).decision.flatMap { D.gate($0, "one_position_per_ticker") })
        #expect(g.passed && g.detail.contains("besides p1"))

        var crowded = try Self.desk()
        try crowded.feed(D.position(.opened, "p2", symbol: "SPY240308C00500000"), at: Fx.ny(Self.day, 9, 55), id: "o2")
        let d = try #require(try Self.roll(&crowded).decision)
        #expect(d.skipReason == "one_position_per_ticker" && d.order == nil)
    }

    /// roll.signal_minutes = 30, measured from the roll request at 10:05 (not the 10:10 chain): a BULL signal at 09:35
    /// is recent, one at 09:34 is not; without one the stand-in's confidence 0 fails the tier and the chain is the cause.
    @Test("the roll needs a same-direction signal within roll.signal_minutes of its request",
          arguments: [(Fx.ny(day, 9, 35), true), (Fx.ny(day, 9, 34), false)])
    func recentSignal(at t: Timestamp, opens: Bool) throws {
        var desk = try Self.desk(chain: Fx.chain(500, at: Fx.ny(Self.day, 9, 30), Self.quotes), signalAt: t)
        let d = try #require(try Self.roll(&desk).decision)
        #expect((d.order != nil) == opens)
        #expect(d.signalId == (opens ? "s1" : D.chainId(Self.next)))
        if !opens { #expect(d.skipReason == "tier_min_confidence") }
    }

    @Test("a BEAR signal is no reason to roll a call")
    func oppositeSignalDoesNotCount() throws {
        var desk = try Self.desk(direction: .bear)
        let d = try #require(try Self.roll(&desk).decision)
        #expect(d.order == nil && d.skipReason == "tier_min_confidence")
    }

    @Test("a roll's decision conforms to the decision schema")
    func rollDecisionMatchesSchema() throws {
        var desk = try Self.desk()
        let d = try #require(try Self.roll(&desk).decision)
        #expect(DecisionSchema.violations(d).isEmpty, "\(DecisionSchema.violations(d))")
    }
}
