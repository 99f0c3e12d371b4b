import Testing
import OpsModel
@testable import PositionCore

/// Seed 000 Phases 3–4 exit rules as tables of mark sequences: each fires at its boundary and not a cent (or a day)
/// short of it. All with the issue-7 defaults (`TradingParams()`) unless a case says otherwise.
enum PhaseThree {
    static let pid = PositionManagerCore.positionId(entryClientOrderId: "entry-1")
    static let put = "SPY240412P00490000"

    static func params(_ change: (inout TradingParams) -> Void = { _ in }) -> TradingParams {
        var p = TradingParams()
        change(&p)
        return p
    }

    /// Opens `entry-1` (commission $1.30, fees $0.06), optionally after its decision, then feeds one chain per mark
    /// (five minutes apart from `first`, the underlying at `price`); returns each chain's outputs.
    static func run(_ params: TradingParams, symbol: String = K.swing, quantity: Int = 2, entry: Cents = 250,
                    strategy: TradeStrategy = .swingTrade, opened: Timestamp = Input.ny(2024, 3, 12, 10, 0),
                    decision: AnyEnvelope? = nil, first: Timestamp? = nil, marks: [Cents], price: Double = 500,
                    harness: inout Harness) throws -> [[Emit]] {
        harness = Harness(params: params)
        if let decision { try harness.feed(decision) }
        try harness.feed(Input.fill(at: opened, clientOrderId: "entry-1", symbol: symbol, quantity: quantity, priceCents: entry,
                                    strategy: strategy))
        let start = first ?? opened.adding(ms: 5 * 60_000)
        return try marks.enumerated().map { i, m in
            try harness.feed(Input.marks(at: start.adding(ms: Int64(i) * 5 * 60_000), price: price, [(symbol, m)]))
        }
    }

    /// The rule of the exit a chain's outputs started (nil: none), checking that an exit is one sell with its event.
    static func exitRule(_ out: [Emit]) -> String? {
        guard let order = out.orders.first else {
            let onlyMarks = out.kinds.allSatisfy { $0 == .marked }
            #expect(onlyMarks)
            return nil
        }
        #expect(out.orders.count == 1 && order.side == .sell && order.intent == .close && order.positionId == pid)
        let requested = out.positionEvents.filter { $0.event == .exitRequested }
        #expect(requested.count == 1 && requested.first?.exitStep == 0)
        return requested.first?.exitReason
    }
}

@Suite("position-manager: Phase 3–4 exit rules at their boundaries")
struct ExitRuleTableTests {
    // MARK: premium style

    @Test("premium stop_loss fires at ⌊entry × (1 − 0.30)⌋ and not a cent above",
          arguments: [(250, 175, true), (250, 176, false), (255, 178, true), (255, 179, false), (333, 233, true), (333, 234, false)] as [(Cents, Cents, Bool)])
    func premiumStop(entry: Cents, mark: Cents, fires: Bool) throws {
        var h = Harness()
        let out = try PhaseThree.run(PhaseThree.params(), entry: entry, marks: [mark], harness: &h)
        #expect(PhaseThree.exitRule(out[0]) == (fires ? "stop_loss" : nil))
        let opened = try #require(h.outputs.positionEvents.first)
        #expect(opened.stopCents == ExitRule.stopLossThresholdCents(entryCents: entry, fraction: 0.30) && opened.stopBasis == "premium")
        if fires {
            let reason = try #require(out[0].orders.first?.reason)
            #expect(reason.hasPrefix("stop_loss: mark \(Money.dollars(mark)) ≤ \(Money.dollars(mark)) (entry \(Money.dollars(entry)) − 30%)"))
            #expect(out[0].orders.first?.quantity == 2)
        }
    }

    @Test("profit_target fires at ⌈entry × 1.50⌉ and not a cent below (partial exits off)",
          arguments: [(250, 375, true), (250, 374, false), (255, 383, true), (255, 382, false)] as [(Cents, Cents, Bool)])
    func premiumTarget(entry: Cents, mark: Cents, fires: Bool) throws {
        var h = Harness()
        let out = try PhaseThree.run(PhaseThree.params { $0.exits.partialExit = false }, entry: entry, marks: [mark], harness: &h)
        #expect(PhaseThree.exitRule(out[0]) == (fires ? "profit_target" : nil))
        #expect(h.outputs.positionEvents.first?.targetCents == ExitRule.profitTargetThresholdCents(entryCents: entry, fraction: 0.50))
        if fires {
            #expect(out[0].orders.first?.quantity == 2)
            #expect(out[0].orders.first?.reason.hasPrefix("profit_target: mark \(Money.dollars(mark)) ≥ \(Money.dollars(mark)) (entry \(Money.dollars(entry)) + 50%)") == true)
        }
    }

    /// Entry $2.50: armed once the high reaches ⌈250 × 1.25⌉ = 313; then it fires at ⌊high × 0.80⌋.
    @Test("trailing_stop: not armed below entry × 1.25; armed, fires at ⌊high × 0.80⌋ and not a cent above",
          arguments: [
              ([312, 249], nil),            // high 312 is not armed: 249 would be ⌊312 × 0.8⌋
              ([312, 176], nil),                          // a fall to just above the stop does nothing
              ([312, 175], "stop_loss"),
              ([313, 250], "trailing_stop"),
              ([313, 251], nil),
              ([333, 266], "trailing_stop"),              // ⌊266.4⌋
              ([333, 267], nil),
              ([300, 340, 310, 272], "trailing_stop"),    // the high is 340 whatever came after
              ([300, 340, 310, 273], nil),
              ([374, 299], "trailing_stop"),              // ⌊299.2⌋
              ([374, 300], nil),
          ] as [([Cents], String?)])
    func trailing(marks: [Cents], expected: String?) throws {
        var h = Harness()
        let out = try PhaseThree.run(PhaseThree.params(), marks: marks, harness: &h)
        for o in out.dropLast() { #expect(PhaseThree.exitRule(o) == nil) }
        #expect(PhaseThree.exitRule(out.last!) == expected)
        let high = marks.max()!
        #expect(out.last!.positionEvents.last?.highWaterCents == high)
        #expect(h.core.position(PhaseThree.pid)?.highWaterCents == high)
        if expected == "trailing_stop" {
            let level = ExitRule.stopLossThresholdCents(entryCents: high, fraction: 0.20)
            #expect(out.last!.orders.first?.reason.hasPrefix(
                "trailing_stop: mark \(Money.dollars(marks.last!)) ≤ \(Money.dollars(level)) (high \(Money.dollars(high)) − 20%; armed at $3.13 (entry + 25%))") == true)
        }
    }

    @Test("the trailing stop off: a fall from a high far above entry does not exit")
    func trailingOff() throws {
        var h = Harness()
        let out = try PhaseThree.run(PhaseThree.params { $0.exits.trailingStop = false }, marks: [370, 200], harness: &h)
        #expect(out.map(PhaseThree.exitRule) == [nil, nil])
    }

    // MARK: underlying style

    /// Entry: the underlying at $500.00 with ATR14 $0.50: a call stops at 500 − 5 × 0.5 = $497.50 and targets
    /// 500 + 10 × 0.5 = $505.00; a put the other way round. The option's mark stays at its entry price.
    @Test("underlying style: stop and target on the underlying at entry ∓/± ATR multiples, sides by call/put",
          arguments: [
              (K.swing, 497.50, "stop_loss"), (K.swing, 497.51, nil), (K.swing, 505.00, "profit_target"), (K.swing, 504.99, nil),
              (PhaseThree.put, 502.50, "stop_loss"), (PhaseThree.put, 502.49, nil), (PhaseThree.put, 495.00, "profit_target"),
              (PhaseThree.put, 495.01, nil),
          ] as [(String, Double, String?)])
    func underlyingStyle(symbol: String, underlying: Double, expected: String?) throws {
        let params = PhaseThree.params { $0.exits.style = "underlying"; $0.exits.partialExit = false }
        let decision = try Input.decision(at: Input.ny(2024, 3, 12, 9, 59), clientOrderId: "entry-1", symbol: symbol,
                                          underlyingPrice: 500, atr14: 0.5)
        var h = Harness()
        let out = try PhaseThree.run(params, symbol: symbol, decision: decision, marks: [250], price: underlying, harness: &h)
        #expect(PhaseThree.exitRule(out[0]) == expected)
        let call = symbol == K.swing
        let opened = try #require(h.outputs.positionEvents.first)
        #expect(opened.stopBasis == "underlying" && opened.entryUnderlyingPrice == 500)
        #expect(opened.stopCents == (call ? 49_750 : 50_250) && opened.targetCents == (call ? 50_500 : 49_500))
        #expect(opened.direction == (call ? .bull : .bear))
        let p = try #require(h.core.position(PhaseThree.pid))
        #expect(p.atr14 == 0.5 && p.entryUnderlyingPrice == 500)
        if expected == "stop_loss" {
            let want = call ? "stop_loss: underlying $497.50 ≤ $497.50 (entry $500.00 − 5.0 × ATR14 $0.50)"
                : "stop_loss: underlying $502.50 ≥ $502.50 (entry $500.00 + 5.0 × ATR14 $0.50)"
            #expect(out[0].orders.first?.reason.hasPrefix(want) == true)
        }
        if expected == "profit_target" {
            let want = call ? "profit_target: underlying $505.00 ≥ $505.00 (entry $500.00 + 10.0 × ATR14 $0.50)"
                : "profit_target: underlying $495.00 ≤ $495.00 (entry $500.00 − 10.0 × ATR14 $0.50)"
            #expect(out[0].orders.first?.reason.hasPrefix(want) == true)
        }
    }

    @Test("underlying style: the premium stop does not apply when the entry has an ATR")
    func underlyingIgnoresPremiumStop() throws {
        let params = PhaseThree.params { $0.exits.style = "underlying" }
        let decision = try Input.decision(at: Input.ny(2024, 3, 12, 9, 59), clientOrderId: "entry-1", symbol: K.swing, atr14: 0.5)
        var h = Harness()
        // The premium halves (a premium stop would fire at $1.75), the underlying holds above $497.50.
        let out = try PhaseThree.run(params, decision: decision, marks: [125], price: 498, harness: &h)
        #expect(PhaseThree.exitRule(out[0]) == nil)
    }

    @Test("underlying style without ATR14 at entry (or without a decision) falls back to the premium rules and says so",
          arguments: [(true, 175, "stop_loss"), (true, 176, nil), (true, 375, "profit_target"), (false, 175, "stop_loss"),
                      (false, 374, nil)] as [(Bool, Cents, String?)])
    func underlyingFallback(withDecision: Bool, mark: Cents, expected: String?) throws {
        let params = PhaseThree.params { $0.exits.style = "underlying"; $0.exits.partialExit = false }
        let decision = withDecision
            ? try Input.decision(at: Input.ny(2024, 3, 12, 9, 59), clientOrderId: "entry-1", symbol: K.swing, underlyingPrice: 500, atr14: nil)
            : nil
        var h = Harness()
        // The underlying far below any ATR stop: it cannot be what fires.
        let out = try PhaseThree.run(params, decision: decision, marks: [mark], price: 400, harness: &h)
        #expect(PhaseThree.exitRule(out[0]) == expected)
        let opened = try #require(h.outputs.positionEvents.first)
        #expect(opened.stopBasis == "premium" && opened.stopCents == 175 && opened.targetCents == 375)
        #expect(opened.entryUnderlyingPrice == (withDecision ? 500 : nil))
        if expected != nil {
            #expect(out[0].orders.first?.reason.contains("(premium rule: no ATR14 or underlying price recorded at entry)") == true)
        }
    }

    // MARK: time rules

    /// K.swing expires Friday 2024-04-12: 22 days left on 03-21, 21 on 03-22.
    @Test("time_exit: a swing position with ≤ 21 days left exits, not at 22; a day trade keeps its close",
          arguments: [
              (.swingTrade, Input.ny(2024, 3, 12, 10, 0), Input.ny(2024, 3, 21, 15, 55), nil),
              (.swingTrade, Input.ny(2024, 3, 12, 10, 0), Input.ny(2024, 3, 22, 9, 30), "time_exit"),
              (.swingTrade, Input.ny(2024, 3, 22, 9, 45), Input.ny(2024, 3, 22, 9, 50), "time_exit"),
              (.swingTrade, Input.ny(2024, 3, 12, 10, 0), Input.ny(2024, 4, 9, 10, 0), "time_exit"),
              (.dayTrade, Input.ny(2024, 3, 22, 9, 45), Input.ny(2024, 3, 22, 15, 49, 59), nil),
              (.dayTrade, Input.ny(2024, 3, 22, 9, 45), Input.ny(2024, 3, 22, 15, 50), "day_trade_close"),
          ] as [(TradeStrategy, Timestamp, Timestamp, String?)])
    func timeExit(strategy: TradeStrategy, opened: Timestamp, at t: Timestamp, expected: String?) throws {
        var h = Harness()
        let out = try PhaseThree.run(PhaseThree.params(), strategy: strategy, opened: opened, first: t, marks: [250], harness: &h)
        #expect(PhaseThree.exitRule(out[0]) == expected)
        if expected == "time_exit" {
            let left = NewYorkTime.date(of: t).days(until: CivilDate(year: 2024, month: 4, day: 12))
            #expect(out[0].orders.first?.reason.hasPrefix("time_exit: \(left) days to expiration 2024-04-12 ≤ 21") == true)
        }
    }

    @Test("time_exit off (0): a swing position a week from expiration stays")
    func timeExitOff() throws {
        var h = Harness()
        let out = try PhaseThree.run(PhaseThree.params { $0.exits.timeExitDte = 0 }, first: Input.ny(2024, 4, 9, 10, 0), marks: [250], harness: &h)
        #expect(PhaseThree.exitRule(out[0]) == nil)
    }

    @Test("expiration still closes a day trade on its expiration day from 15:30, before the day-trade close")
    func expirationDayTrade() throws {
        var h = Harness()
        let opened = Input.ny(2024, 3, 15, 9, 45)
        let out = try PhaseThree.run(PhaseThree.params(), symbol: K.march15, strategy: .dayTrade, opened: opened,
                                     first: Input.ny(2024, 3, 15, 15, 25), marks: [250, 250, 250], harness: &h)
        // 15:25, 15:30, 15:35
        #expect(PhaseThree.exitRule(out[0]) == nil)
        #expect(PhaseThree.exitRule(out[1]) == "expiration")
        #expect(out[1].orders.first?.reason.hasPrefix("expiration: expires 2024-03-15, 15:30 New York ≥ 15:30 (16:00 − 30 min)") == true)
    }

    @Test("expiration still runs without a bid for a swing position (time_exit needs a bid to sell)")
    func expirationNoBid() throws {
        var h = Harness(params: PhaseThree.params())
        try h.feed(Input.fill(at: Input.ny(2024, 3, 15, 9, 45), clientOrderId: "entry-1", symbol: K.march15))
        #expect(try h.feed(Input.chain(at: Input.ny(2024, 3, 15, 15, 29), [(K.march15, 0, 0.10)])).kinds == [.marked])
        let out = try h.feed(Input.chain(at: Input.ny(2024, 3, 15, 15, 30), [(K.march15, 0, 0.10)]))
        #expect(out.kinds == [.exitRequested] && out.orders.isEmpty)
        #expect(out.positionEvents.first?.exitReason == "expiration")
        #expect(out.positionEvents.first?.detail?.contains("no bid: no sell can be placed") == true)
    }

    // MARK: roll

    struct RollCase: Sendable, CustomTestStringConvertible {
        var label: String
        var symbol = K.swing
        var strategy = TradeStrategy.swingTrade
        /// The chain's New York date (K.swing expires 2024-04-12).
        var day = 5
        var mark: Cents = 251
        /// The signal before the 10:30 chain: ticker, direction, minutes before; nil: none.
        var signal: (String, Direction, Int)? = ("SPY", .bull, 30)
        var rolls: Bool
        var testDescription: String { label }
    }

    /// The roll needs all four: swing, ≤ 7 days left, profitable after costs, a same-direction signal on the ticker
    /// within 30 minutes. Time exits off, so a case that does not roll does not exit at all.
    @Test("roll fires only when every condition holds", arguments: [
        RollCase(label: "swing, 7 days left, +$0.64, BULL signal 30 min ago", rolls: true),
        RollCase(label: "a put with a BEAR signal", symbol: PhaseThree.put, signal: ("SPY", .bear, 5), rolls: true),
        RollCase(label: "8 days left", day: 4, rolls: false),
        RollCase(label: "a day trade", strategy: .dayTrade, rolls: false),
        RollCase(label: "not profitable after costs (mark = entry)", mark: 250, rolls: false),
        RollCase(label: "no signal", signal: nil, rolls: false),
        RollCase(label: "signal 31 minutes old", signal: ("SPY", .bull, 31), rolls: false),
        RollCase(label: "signal in the other direction", signal: ("SPY", .bear, 5), rolls: false),
        RollCase(label: "a put with a BULL signal", symbol: PhaseThree.put, signal: ("SPY", .bull, 5), rolls: false),
        RollCase(label: "signal on another ticker", signal: ("QQQ", .bull, 5), rolls: false),
    ])
    func roll(_ c: RollCase) throws {
        var h = Harness(params: PhaseThree.params { $0.exits.timeExitDte = 0 })
        let chainAt = Input.ny(2024, 4, c.day, 10, 30)
        try h.feed(Input.fill(at: Input.ny(2024, 4, c.day, 9, 45), clientOrderId: "entry-1", symbol: c.symbol, strategy: c.strategy))
        if let s = c.signal {
            try h.feed(Input.signal(at: chainAt.adding(ms: -Int64(s.2) * 60_000), s.0, s.1))
        }
        let out = try h.feed(Input.marks(at: chainAt, [(c.symbol, c.mark)]))
        #expect(PhaseThree.exitRule(out) == (c.rolls ? "roll" : nil))
        #expect(out.orders.first?.rollId == (c.rolls ? DeterministicID.make("roll", PhaseThree.pid, chainAt.iso8601) : nil))
    }

    @Test("a roll's order, its exit_requested and reprices carry the roll id; the closed event repeats it")
    func rollIds() throws {
        var h = Harness(params: PhaseThree.params())   // time exits on: the roll comes first
        let p = try open(&h, at: Input.ny(2024, 4, 5, 9, 45))
        try h.feed(Input.signal(at: Input.ny(2024, 4, 5, 10, 20)))
        let t = Input.ny(2024, 4, 5, 10, 30)
        let out = try h.feed(Input.marks(at: t, [(K.swing, 260)]))
        let rollId = DeterministicID.make("roll", p.positionId, t.iso8601)
        let order = try #require(out.orders.first)
        #expect(order.rollId == rollId && order.quantity == 2 && order.limitPriceCents == 259)
        #expect(order.reason.hasPrefix("roll: 7 days to expiration ≤ 7, unrealized $18.64 > 0, BULL signal 10 min ago ≤ 30"))
        let requested = try #require(out.positionEvents.last)
        #expect(requested.event == .exitRequested && requested.exitReason == "roll" && requested.rollId == rollId)
        try h.feed(Input.orderEvent(at: t, .accepted, clientOrderId: order.clientOrderId, position: p))
        // Repriced at the next quote: same roll id.
        let t2 = Input.ny(2024, 4, 5, 10, 35)
        let again = try h.feed(Input.marks(at: t2, [(K.swing, 255)]))
        let second = try #require(again.orders.first)
        #expect(second.rollId == rollId && second.replacesClientOrderId == order.clientOrderId)
        #expect(again.positionEvents.last?.rollId == rollId && again.positionEvents.last?.exitStep == 1)
        let closed = try h.feed(Input.exitFill(at: Input.ny(2024, 4, 5, 10, 36), position: p, clientOrderId: second.clientOrderId, priceCents: 254))
        let e = try #require(closed.positionEvents.first)
        #expect(closed.kinds == [.closed] && e.exitReason == "roll" && e.rollId == rollId)
        let pnl: Cents = 254 * 200 - 136 - (250 * 200 + 136)
        #expect(e.realizedPnlCents == pnl)
    }

    @Test("without a recent signal the same position time-exits instead, with no roll id")
    func noRollTimeExit() throws {
        var h = Harness(params: PhaseThree.params())
        _ = try open(&h, at: Input.ny(2024, 4, 5, 9, 45))
        try h.feed(Input.signal(at: Input.ny(2024, 4, 5, 9, 59)))
        let out = try h.feed(Input.marks(at: Input.ny(2024, 4, 5, 10, 30), [(K.swing, 260)]))
        #expect(PhaseThree.exitRule(out) == "time_exit")
        #expect(out.orders.first?.rollId == nil && out.positionEvents.last?.rollId == nil)
    }

    @Test("roll off: no roll even when every condition holds")
    func rollOff() throws {
        var h = Harness(params: PhaseThree.params { $0.roll.enabled = false; $0.exits.timeExitDte = 0 })
        _ = try open(&h, at: Input.ny(2024, 4, 5, 9, 45))
        try h.feed(Input.signal(at: Input.ny(2024, 4, 5, 10, 20)))
        #expect(PhaseThree.exitRule(try h.feed(Input.marks(at: Input.ny(2024, 4, 5, 10, 30), [(K.swing, 260)]))) == nil)
    }
}
