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
