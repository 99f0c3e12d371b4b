import Testing
@testable import DispatchCore
import OpsModel

/// The dispatcher's lookahead (issue 9) and its account check.
@Suite("Dispatcher lookahead and account check")
struct DispatchLookaheadTests {
    @Test func flatPromisesOnlySignalsAndOnlyWhenEnabled() throws {
        var off = DispatchDesk()
        try off.ready()
        #expect(off.core.lookahead == nil, "off by default: an Alpaca account can report positions nobody here ordered")

        var desk = DispatchDesk()
        desk.core = DispatchCore(params: TradingParams(), lookahead: true)
        try desk.ready()
        let flat = try #require(desk.core.lookahead)
        #expect(flat.causes == [Topics.decisions: [Topics.signals: 0], Topics.orders: [Topics.signals: 0]])
        #expect(flat.resumesAt == nil)

        let out = try desk.feed(DispatchDesk.signal(), at: Fx.ny(DispatchDesk.day, 10, 0), id: "sig-1")
        #expect(out.order != nil, "\(out.decisions.first?.skipReason ?? "")")
        #expect(desk.core.lookahead == nil, "an entry order out: its fill opens a position that chains can add to")
        try desk.feed(DispatchDesk.position(.opened), at: Fx.ny(DispatchDesk.day, 10, 1), id: "pos-1")
        #expect(desk.core.lookahead == nil)
    }

    /// The broker's order events and snapshots answer orders: nothing comes on them before the earliest order out (its
    /// own from when it is sent, an exit from its `exit_requested`, each until its final order event), nor — with none
    /// out — before an order made later.
    @Test func theBrokersTopicsAreVouchedForUpToTheEarliestOrderOut() throws {
        var off = DispatchDesk()
        try off.ready()
        #expect(off.core.quietInputs == nil, "off by default: an Alpaca account is answered by what nobody here ordered")
        var desk = DispatchDesk()
        desk.core = DispatchCore(params: TradingParams(), lookahead: true)
        #expect(desk.core.quietInputs == nil, "no snapshot yet: the broker's first one comes with its first input")
        try desk.ready()
        let quiet = try #require(desk.core.quietInputs)
        let makers: [String: Int64] = [Topics.signals: 0, Topics.chains: 0, Topics.positions: 0]
        #expect(quiet.enders == [Topics.orderEvents: makers, Topics.accounts: makers] && quiet.until.isEmpty)
        func until() -> Timestamp? {
            let u = desk.core.quietInputs?.until ?? [:]
            #expect(u[Topics.orderEvents] == u[Topics.accounts])
            return u[Topics.orderEvents]
        }

        let order = try #require(try desk.feed(DispatchDesk.signal(), at: Fx.ny(DispatchDesk.day, 10, 0), id: "sig-1").order)
        #expect(until() == Fx.ny(DispatchDesk.day, 10, 0), "an entry out: answered from its time on")
        func event(_ status: OrderEvent.Status, _ c: OrderCommand, filled: Int, intent: OrderIntent = .open, position: String? = nil) -> OrderEvent {
            OrderEvent(accountId: c.accountId, clientOrderId: c.clientOrderId, status: status, symbol: c.symbol, side: c.side, quantity: c.quantity,
                       filledQuantity: filled, fillPriceCents: nil, intent: intent, positionId: position, reason: status.rawValue)
        }
        try desk.feed(event(.accepted, order, filled: 0), at: Fx.ny(DispatchDesk.day, 10, 0), id: "ev-1")
        try desk.feed(event(.partiallyFilled, order, filled: 1), at: Fx.ny(DispatchDesk.day, 10, 1), id: "ev-2")
        #expect(until() == Fx.ny(DispatchDesk.day, 10, 0), "partly filled: the rest may still fill")
        try desk.feed(event(.filled, order, filled: order.quantity), at: Fx.ny(DispatchDesk.day, 10, 2), id: "ev-3")
        #expect(until() == nil, "filled in full: nothing out")
        try desk.feed(DispatchDesk.position(.opened), at: Fx.ny(DispatchDesk.day, 10, 2), id: "pos-1")
        let expiry = MarketCalendar.close(of: CivilDate(year: 2024, month: 3, day: 8))
        #expect(until() == expiry, "a held option settles at its expiry close")

        var exit = DispatchDesk.position(.exitRequested)
        exit.exitStep = 0
        try desk.feed(exit, at: Fx.ny(DispatchDesk.day, 11, 0), id: "pos-2")
        #expect(until() == Fx.ny(DispatchDesk.day, 11, 0), "the position-manager's sell is out")
        var noBid = DispatchDesk.position(.exitRequested)
        noBid.exitStep = nil
        try desk.feed(noBid, at: Fx.ny(DispatchDesk.day, 11, 5), id: "pos-3")
        let sell = OrderCommand(accountId: "sim-1", clientOrderId: "exit-1", symbol: exit.symbol, underlying: "SPY", assetClass: .option,
                                side: .sell, quantity: 2, limitPriceCents: 200, intent: .close, positionId: exit.positionId, strategy: .dayTrade, reason: "test")
        try desk.feed(event(.cancelled, sell, filled: 0, intent: .close, position: exit.positionId), at: Fx.ny(DispatchDesk.day, 15, 59), id: "ev-4")
        #expect(until() == expiry, "the one sell sent is answered (a request without a bid sent none)")
    }

    @Test func aBrokerReportingAnotherAccountIsNamedInEverySkip() throws {
        var desk = DispatchDesk()
        try desk.chain(DispatchCoreStateTests.chain)
        var other = DispatchCoreStateTests.account(cash: 1_000_000, seq: 1)
        other.accountId = "paper-7"
        try desk.feed(other, at: Fx.ny(DispatchDesk.day, 9, 0), id: "acct-other")
        let d = try #require(try desk.feed(DispatchDesk.signal(), at: Fx.ny(DispatchDesk.day, 10, 0), id: "sig-1").decision)
        let gate = try #require(DispatchDesk.gate(d, "account"))
        #expect(!gate.passed)
        #expect(gate.detail.contains("which reports paper-7") && gate.detail.contains("same account.account_id"), "\(gate.detail)")
    }
}
