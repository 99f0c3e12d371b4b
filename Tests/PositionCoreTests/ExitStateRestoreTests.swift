import Testing
import OpsModel
@testable import PositionCore

/// The exit state the Phase 3–4 rules keep across days (the high-water mark, a partial exit taken, the entry's plan,
/// the recent signals) is derived from the topics, so a restore that re-reads them from the restore starts the core
/// names rebuilds it exactly.
@Suite("position-manager: Phase 3–4 exit state survives a restore")
struct ExitStateRestoreTests {
    static let p520 = "SPY240412C00520000", r505 = "SPY240318C00505000", s530 = "SPY240412C00530000"

    static func day(_ d: Int) -> (Int, Int) -> Timestamp { { h, m in Input.ny(2024, 3, d, h, m) } }

    /// What the broker's messages need of a position.
    static func view(_ clientOrderId: String, _ symbol: String, underlying: String = "SPY", quantity: Int) -> OpenPosition {
        let occ = OCCSymbol(symbol)!
        return OpenPosition(positionId: PositionManagerCore.positionId(entryClientOrderId: clientOrderId), accountId: Input.account,
                            symbol: symbol, underlying: underlying, assetClass: .option, right: occ.right, strike: occ.strike,
                            expiration: occ.expiration, strategy: .swingTrade, quantity: quantity, entryPriceCents: 1,
                            entryNotionalCents: 1, entryCostCents: 1, openedAt: Input.ny(2024, 3, 12, 9, 45), contract: symbol)
    }

    static func exitId(_ p: OpenPosition, _ t: Timestamp) -> String {
        PositionManagerCore.exitClientOrderId(positionId: p.positionId, at: t)
    }

    /// Four days (2024-03-12 … 15). `t` (2 × $2.50) makes its high of $3.40 on day 1 and trails out at
    /// ⌊340 × 0.8⌋ = $2.72 on day 3. `p` (4 × $2.00) sells 2 at the +50 % target on day 1, and the rest trails out
    /// at ⌊300 × 0.8⌋ = $2.40 on day 3, repriced once. `q` (QQQ, opened day 2) trails out on day 3. `r` opens on
    /// day 3 four days before its expiration and rolls on a BULL signal 28 minutes old. `s` opens on day 3 and is
    /// still open on day 4 (its stop loss is requested, not filled). Every entry has its decision (underlying
    /// price and ATR14 $0.50), so the underlying style has its levels.
    static func scenario() throws -> [AnyEnvelope] {
        let d1 = day(12), d2 = day(13), d3 = day(14), d4 = day(15)
        let t = view("t", K.swing, quantity: 2), p = view("p", p520, quantity: 4), pRest = view("p", p520, quantity: 2)
        let q = view("q", K.qqq, underlying: "QQQ", quantity: 1), r = view("r", r505, quantity: 2)
        func spy(_ at: Timestamp, _ price: Double, _ mids: [(String, Cents)]) throws -> AnyEnvelope { try Input.marks(at: at, price: price, mids) }
        func entry(_ at: Timestamp, _ id: String, _ symbol: String, underlying: String = "SPY", quantity: Int, cents: Cents,
                   price: Double = 500) throws -> [AnyEnvelope] {
            [try Input.decision(at: at.adding(ms: -60_000), clientOrderId: id, symbol: symbol, underlying: underlying, quantity: quantity,
                                limitCents: cents, underlyingPrice: price, atr14: 0.5),
             try Input.fill(at: at, clientOrderId: id, symbol: symbol, underlying: underlying, quantity: quantity, priceCents: cents)]
        }
        var inputs = [AnyEnvelope]()
        inputs += try entry(d1(9, 45), "t", K.swing, quantity: 2, cents: 250)
        inputs += try entry(d1(9, 46), "p", p520, quantity: 4, cents: 200)
        inputs.append(try spy(d1(10, 0), 501, [(K.swing, 300), (p520, 220)]))
        inputs.append(try spy(d1(11, 0), 502, [(K.swing, 340), (p520, 300)]))               // p: partial exit of 2
        inputs.append(try Input.orderEvent(at: d1(11, 0), .accepted, clientOrderId: exitId(p, d1(11, 0)), position: pRest))
        inputs.append(try Input.exitFill(at: d1(11, 1), position: p, clientOrderId: exitId(p, d1(11, 0)), quantity: 2, priceCents: 300))
        inputs.append(try Input.orderEvent(at: d1(11, 1), .filled, clientOrderId: exitId(p, d1(11, 0)), position: pRest))
        inputs.append(try spy(d1(15, 0), 501, [(K.swing, 300), (p520, 280)]))
        inputs.append(try spy(d2(10, 0), 500, [(K.swing, 290), (p520, 260)]))
        inputs += try entry(d2(10, 5), "q", K.qqq, underlying: "QQQ", quantity: 1, cents: 100, price: 440)
        inputs.append(try Input.marks(at: d2(10, 10), underlying: "QQQ", price: 440, [(K.qqq, 101)]))
        inputs.append(try spy(d2(11, 0), 505.5, [(K.swing, 280), (p520, 250)]))
        inputs.append(try spy(d3(10, 0), 500, [(K.swing, 275), (p520, 245)]))
        inputs.append(try Input.marks(at: d3(10, 0), underlying: "QQQ", price: 441, [(K.qqq, 125)]))
        inputs += try entry(d3(10, 1), "r", r505, quantity: 2, cents: 100)
        inputs.append(try Input.signal(at: d3(10, 2)))
        inputs.append(try spy(d3(10, 30), 497, [(K.swing, 272), (p520, 240), (r505, 110)]))  // t, p trail; r rolls
        for v in [t, pRest, r] {
            inputs.append(try Input.orderEvent(at: d3(10, 30), .accepted, clientOrderId: exitId(v, d3(10, 30)), position: v))
        }
        inputs.append(try Input.exitFill(at: d3(10, 31), position: t, clientOrderId: exitId(t, d3(10, 30)), priceCents: 272))
        inputs.append(try Input.exitFill(at: d3(10, 32), position: r, clientOrderId: exitId(r, d3(10, 30)), priceCents: 109))
        inputs.append(try spy(d3(10, 35), 497, [(p520, 238)]))                                 // p: reprice step 1
        inputs.append(try Input.exitFill(at: d3(10, 36), position: pRest, clientOrderId: exitId(pRest, d3(10, 35)), priceCents: 237))
        inputs.append(try Input.marks(at: d3(10, 40), underlying: "QQQ", price: 440, [(K.qqq, 100)]))   // q trails
        inputs.append(try Input.orderEvent(at: d3(10, 40), .accepted, clientOrderId: exitId(q, d3(10, 40)), position: q))
        inputs.append(try Input.exitFill(at: d3(10, 41), position: q, clientOrderId: exitId(q, d3(10, 40)), priceCents: 99))
        inputs += try entry(d3(15, 1), "s", s530, quantity: 1, cents: 300)
        inputs.append(try spy(d3(15, 30), 500, [(s530, 310)]))
        inputs.append(try spy(d4(10, 0), 501, [(s530, 320)]))
        inputs.append(try spy(d4(10, 30), 499, [(s530, 250)]))
        inputs.append(try spy(d4(11, 0), 499, [(s530, 200)]))                                 // s: stop loss
        return inputs
    }

    /// Every output of every input, the portfolio Greeks included.
    static func run(_ inputs: some Sequence<AnyEnvelope>, core: inout PositionManagerCore) throws -> [[Emit]] {
        try inputs.map { try core.handle($0, from: Input.topic(of: $0)) }
    }

    static let underlyingStyle: TradingParams = {
        var p = TradingParams()
        p.exits.style = "underlying"
        return p
    }()

    @Test("the scenario does what it says (premium style)")
    func shape() throws {
        var core = PositionManagerCore(params: TradingParams())
        let out = try Self.run(Self.scenario(), core: &core).flatMap { $0 }
        func pid(_ c: String) -> String { PositionManagerCore.positionId(entryClientOrderId: c) }
        let events = out.positionEvents
        let closed = events.filter { $0.event == .closed }
        #expect(closed.map(\.positionId) == ["t", "r", "p", "q"].map(pid))
        #expect(closed.map(\.exitReason) == ["trailing_stop", "roll", "trailing_stop", "trailing_stop"])
        let rollId = DeterministicID.make("roll", pid("r"), Input.ny(2024, 3, 14, 10, 30).iso8601)
        #expect(closed[1].rollId == rollId)
        let tOrder = try #require(out.orders.first { $0.positionId == pid("t") })
        #expect(tOrder.reason.hasPrefix("trailing_stop: mark $2.72 ≤ $2.72 (high $3.40 − 20%; armed at $3.13 (entry + 25%))"))
        let pOrders = out.orders.filter { $0.positionId == pid("p") }
        #expect(pOrders.map(\.quantity) == [2, 2, 2])
        #expect(pOrders[1].reason.hasPrefix("trailing_stop: mark $2.40 ≤ $2.40 (high $3.00 − 20%; after the partial exit)"))
        let partials = events.filter { $0.exitReason == "partial_exit" && $0.event == .marked }
        #expect(partials.map(\.remainingQuantity) == [2])
        let pPnl: Cents = (300 * 200 - 136) + (237 * 200 - 136) - (200 * 400 + 136)
        #expect(closed[2].realizedPnlCents == pPnl)
        #expect(core.openPositions.map(\.positionId) == [pid("s")])
        #expect(out.orders.last?.positionId == pid("s") && events.last?.exitReason == "stop_loss")
        #expect(out.contains { $0.topic == Topics.greeks })
    }

    @Test("the underlying style keeps the entry plans: t and p stop on the underlying at $497.00 on day 3")
    func shapeUnderlying() throws {
        var core = PositionManagerCore(params: Self.underlyingStyle)
        let out = try Self.run(Self.scenario(), core: &core).flatMap { $0 }
        let day3 = out.filter { $0.envelope.eventTime == Input.ny(2024, 3, 14, 10, 30) }.orders
        #expect(day3.count == 3)
        let stops = day3.filter { $0.reason.hasPrefix("stop_loss: underlying $497.00 ≤ $497.50 (entry $500.00 − 5.0 × ATR14 $0.50)") }
        #expect(stops.count == 3)
    }

    static func params(style: String) -> TradingParams { style == "underlying" ? underlyingStyle : TradingParams() }

    @Test("a restore from the starts the live core names at every cut gives byte-identical outputs",
          arguments: ["premium", "underlying"])
    func restoreAtEveryCut(style: String) throws {
        let params = Self.params(style: style)
        let inputs = try Self.scenario()
        var original = PositionManagerCore(params: params)
        let expected = try Self.run(inputs, core: &original)
        var checked = 0, greeksChecked = 0
        var greeksDiffer = [String]()
        for cut in inputs.indices {
            var live = PositionManagerCore(params: params)
            _ = try Self.run(inputs[0...cut], core: &live)
            // Per input topic, the restore start after the last input of it the live core committed.
            var starts = [String: Timestamp]()
            for topic in live.inputTopics {
                let last = inputs[0...cut].last { Input.topic(of: $0) == topic }
                starts[topic] = last.map { live.restoreStart(topic: topic, after: $0.eventTime) } ?? .distantPast
            }
            #expect(starts[Topics.fills] == .distantPast && starts[Topics.orderEvents] == .distantPast)
            var restored = PositionManagerCore(params: params)
            for (i, input) in inputs.enumerated() {
                let topic = Input.topic(of: input)
                if input.eventTime < starts[topic]! { continue }
                let out = try restored.handle(input, from: topic)
                guard i > cut else { continue }
                let positionsAndOrders = { (o: [Emit]) in o.filter { $0.topic != Topics.greeks } }
                #expect(try positionsAndOrders(out).encoded() == positionsAndOrders(expected[i]).encoded(), "cut after input \(cut), input \(i)")
                checked += 1
                let greeks = { (o: [Emit]) in o.filter { $0.topic == Topics.greeks } }
                #expect(greeks(out).map(\.envelope.id) == greeks(expected[i]).map(\.envelope.id))
                if try greeks(out).encoded() != greeks(expected[i]).encoded() { greeksDiffer.append("cut \(cut), input \(i)") }
                greeksChecked += greeks(out).count
            }
        }
        #expect(checked == inputs.count * (inputs.count - 1) / 2)
        #expect(greeksChecked > 100)
        #expect(greeksDiffer.isEmpty, "portfolio Greeks bytes differ at \(greeksDiffer.prefix(5))")
    }

    @Test("the live core's restore start goes back to the oldest open position's opening day")
    func restoreStartFollowsOldestPosition() throws {
        let inputs = try Self.scenario()
        var live = PositionManagerCore(params: TradingParams())
        // Up to day 3's first chain: t and p (day 1) and q (day 2) are open.
        let cut = try #require(inputs.firstIndex { $0.eventTime == Input.ny(2024, 3, 14, 10, 0) })
        _ = try Self.run(inputs[0...cut], core: &live)
        let midnight12 = NewYorkTime.utc(date: CivilDate(year: 2024, month: 3, day: 12), hour: 0, minute: 0)
        let after = Input.ny(2024, 3, 14, 10, 0)
        #expect(live.restoreStart(topic: Topics.chains, after: after) == midnight12)
        #expect(live.restoreStart(topic: Topics.decisions, after: after) == midnight12)
        #expect(live.restoreStart(topic: Topics.signals, after: after) == midnight12.adding(ms: -30 * 60_000))
        // Day 4: only s (opened day 3) is open.
        var later = PositionManagerCore(params: TradingParams())
        _ = try Self.run(inputs, core: &later)
        let midnight14 = NewYorkTime.utc(date: CivilDate(year: 2024, month: 3, day: 14), hour: 0, minute: 0)
        #expect(later.restoreStart(topic: Topics.bars, after: Input.ny(2024, 3, 15, 11, 0)) == midnight14)
    }
}
