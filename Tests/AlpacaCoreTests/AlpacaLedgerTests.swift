import Foundation
import OpsModel
import Testing
@testable import AlpacaCore

/// Order commands and Alpaca answers for the ledger's tests.
enum Fixture {
    static let account = "paper-1"
    static let t0 = Timestamp(iso8601: "2024-03-05T15:00:00Z")!
    static func at(_ seconds: Int64) -> Timestamp { t0.adding(ms: seconds * 1000) }

    static func command(_ id: String = "entry-1", qty: Int = 2, limit: Cents = 125, side: OrderSide = .buy, intent: OrderIntent = .open,
                        symbol: String = "SPY240315C00510000", replaces: String? = nil) -> Envelope<OrderCommand> {
        let c = OrderCommand(accountId: account, clientOrderId: id, symbol: symbol, underlying: "SPY", assetClass: .option, side: side,
                             quantity: qty, limitPriceCents: limit, intent: intent, positionId: "pos-\(id)", strategy: .dayTrade,
                             reason: "test", replacesClientOrderId: replaces)
        return Envelope(id: "cmd-\(id)", eventTime: t0, causationId: nil, source: "dispatcher", payload: c)
    }

    static func order(_ clientId: String = "entry-1", status: String, qty: Int = 2, filled: Int = 0, avg: String? = nil,
                      symbol: String = "SPY240315C00510000") -> Alpaca.Order {
        Alpaca.Order(id: "alp-\(clientId)", clientOrderId: clientId, symbol: symbol, assetClass: "us_option", qty: WireDecimal("\(qty)"),
                     filledQty: WireDecimal("\(filled)"), filledAvgPrice: avg.flatMap(WireDecimal.init), type: "limit", side: "buy",
                     timeInForce: "day", limitPrice: WireDecimal("1.25"), status: status, positionIntent: "buy_to_open",
                     createdAt: nil, updatedAt: nil, submittedAt: "2024-03-05T15:00:01Z", filledAt: nil, canceledAt: nil, expiredAt: nil, failedAt: nil)
    }

    static func update(_ event: String, _ order: Alpaca.Order, execution: String? = nil, price: String? = nil, qty: String? = nil) -> Alpaca.TradeUpdate {
        Alpaca.TradeUpdate(event: event, executionId: execution, order: order, timestamp: nil, price: price.flatMap(WireDecimal.init),
                           qty: qty.flatMap(WireDecimal.init), positionQty: nil)
    }

    static func ledger() -> AlpacaLedger { AlpacaLedger(accountId: account, params: TradingParams()) }
}

extension AlpacaLedger.Step {
    var fills: [Fill] { emits.compactMap { $0.envelope.payload as? Fill } }
    var events: [OrderEvent] { emits.compactMap { $0.envelope.payload as? OrderEvent } }
    var submits: [Alpaca.OrderRequest] { actions.compactMap { if case .submit(let r) = $0 { r } else { nil } } }
    var lookups: [String] { actions.compactMap { if case .lookup(let id) = $0 { id } else { nil } } }
}

@Suite("Alpaca ledger: each client order id reaches Alpaca once")
struct ExactlyOnceTests {
    @Test("a new command is submitted with its deterministic client id, limit on the tick, day, position intent")
    func submitsOnce() throws {
        var l = Fixture.ledger()
        let step = l.command(Fixture.command(), at: Fixture.at(1))
        let r = try #require(step.submits.first)
        #expect(r == Alpaca.OrderRequest(symbol: "SPY240315C00510000", qty: "2", side: "buy", type: "limit", timeInForce: "day",
                                         limitPrice: "1.25", clientOrderId: "entry-1", positionIntent: "buy_to_open"))
        #expect(l.command(Fixture.command(), at: Fixture.at(2)).actions.isEmpty, "the same command again is not resubmitted")
    }

    @Test("an ambiguous answer (timeout, 5xx, 429, duplicate id) leads to a look-up, never a second POST", arguments: [
        SubmitOutcome.ambiguous("timed out"), .ambiguous("HTTP 503"), .ambiguous("HTTP 429 rate limited"), .knownClientId,
    ])
    func ambiguousLooksUp(outcome: SubmitOutcome) {
        var l = Fixture.ledger()
        _ = l.command(Fixture.command(), at: Fixture.at(1))
        let step = l.submitted("entry-1", outcome, at: Fixture.at(2))
        #expect(step.submits.isEmpty)
        #expect(step.lookups == ["entry-1"])
        #expect(l.submission(of: "entry-1") == .uncertain)
    }

    @Test("a look-up that finds the order adopts it; one that finds nothing submits (once)")
    func lookupDecides() {
        var found = Fixture.ledger()
        _ = found.command(Fixture.command(), at: Fixture.at(1))
        _ = found.submitted("entry-1", .ambiguous("timed out"), at: Fixture.at(2))
        let adopted = found.lookedUp("entry-1", Fixture.order(status: "new"), at: Fixture.at(3))
        #expect(adopted.submits.isEmpty)
        #expect(adopted.events.map(\.status) == [.accepted])

        var missing = Fixture.ledger()
        _ = missing.command(Fixture.command(), at: Fixture.at(1))
        _ = missing.submitted("entry-1", .ambiguous("connection reset"), at: Fixture.at(2))
        let resubmit = missing.lookedUp("entry-1", nil, at: Fixture.at(3))
        #expect(resubmit.submits.map(\.clientOrderId) == ["entry-1"])
        #expect(missing.submission(of: "entry-1") == .submitting)
    }

    @Test("a refusal is a rejected order event with Alpaca's message; nothing is retried")
    func refusal() {
        var l = Fixture.ledger()
        _ = l.command(Fixture.command(), at: Fixture.at(1))
        let step = l.submitted("entry-1", .refused(status: 403, code: 40310000, message: "insufficient buying power"), at: Fixture.at(2))
        #expect(step.actions.isEmpty)
        #expect(step.events.map(\.status) == [.rejected])
        #expect(step.events.first?.reason.contains("insufficient buying power") == true)
    }

    @Test("an entry older than execution.entry_ttl_minutes when it arrives is not submitted")
    func staleEntry() {
        var l = Fixture.ledger()
        let step = l.command(Fixture.command(), at: Fixture.at(6 * 60))
        #expect(step.submits.isEmpty)
        #expect(step.events.map(\.status) == [.rejected])
    }

    @Test("after a restore, every order the topics do not show as ended is looked up before anything is sent")
    func restoreLooksUpFirst() {
        var l = Fixture.ledger()
        l.restore(command: Fixture.command("a"))
        l.restore(command: Fixture.command("b"))
        l.restore(event: OrderEvent(accountId: Fixture.account, clientOrderId: "b", status: .filled, symbol: "SPY240315C00510000", side: .buy,
                                    quantity: 2, filledQuantity: 2, fillPriceCents: 125, intent: .open, positionId: nil, reason: ""))
        #expect(l.restoreLookups() == [.lookup(clientOrderId: "a")])
        #expect(l.submission(of: "a") == .uncertain)
    }
}

@Suite("Alpaca ledger: trade updates, listings and look-ups become fills once")
struct FillTranslationTests {
    func accepted() -> AlpacaLedger {
        var l = Fixture.ledger()
        _ = l.command(Fixture.command(), at: Fixture.at(1))
        _ = l.submitted("entry-1", .accepted(Fixture.order(status: "accepted")), at: Fixture.at(2))
        return l
    }

    @Test("partial fill then fill: two fills of 1 at each execution's price, events partially_filled then filled")
    func partialThenFull() {
        var l = accepted()
        let a = l.tradeUpdate(Fixture.update("partial_fill", Fixture.order(status: "partially_filled", filled: 1, avg: "1.2"), execution: "x1", price: "1.2", qty: "1"), at: Fixture.at(3))
        let b = l.tradeUpdate(Fixture.update("fill", Fixture.order(status: "filled", filled: 2, avg: "1.22"), execution: "x2", price: "1.24", qty: "1"), at: Fixture.at(4))
        #expect(a.fills.map(\.quantity) == [1] && a.fills.map(\.priceCents) == [120])
        #expect(b.fills.map(\.quantity) == [1] && b.fills.map(\.priceCents) == [124])
        #expect(a.events.map(\.status) == [.partiallyFilled] && b.events.map(\.status) == [.filled])
        #expect(b.fills.first?.positionId == "pos-entry-1" && b.fills.first?.strategy == .dayTrade)
        #expect(l.isTerminal("entry-1"))
        #expect(a.emits.allSatisfy { $0.envelope.eventTime == Fixture.at(3) }, "stamped with the receive time")
    }

    @Test("the same execution seen again (a replayed update, a listing, a look-up) publishes nothing")
    func deduplicated() {
        var l = accepted()
        let u = Fixture.update("fill", Fixture.order(status: "filled", filled: 2, avg: "1.25"), execution: "x1", price: "1.25", qty: "2")
        #expect(l.tradeUpdate(u, at: Fixture.at(3)).fills.count == 1)
        #expect(l.tradeUpdate(u, at: Fixture.at(4)).emits.isEmpty)
        #expect(l.listed([Fixture.order(status: "filled", filled: 2, avg: "1.25")], at: Fixture.at(5)).emits.isEmpty)
        #expect(l.lookedUp("entry-1", Fixture.order(status: "filled", filled: 2, avg: "1.25"), at: Fixture.at(6)).emits.isEmpty)
    }

    @Test("a fill missed while the stream was down comes from the listing, at the price implied by the average")
    func missedFillFromListing() {
        var l = accepted()
        _ = l.tradeUpdate(Fixture.update("partial_fill", Fixture.order(status: "partially_filled", filled: 1, avg: "1.20"), execution: "x1", price: "1.20", qty: "1"), at: Fixture.at(3))
        let listed = l.listed([Fixture.order(status: "filled", filled: 2, avg: "1.225")], at: Fixture.at(9))
        #expect(listed.fills.map(\.quantity) == [1])
        #expect(listed.fills.map(\.priceCents) == [125], "2 × 1.225 − 1.20 = 1.25")
        #expect(listed.events.map(\.status) == [.filled])
    }

    @Test("fill ids depend on the order and its cumulative quantity, so every path names a fill alike")
    func fillIdsAgree() {
        var viaStream = accepted(), viaListing = accepted()
        let a = viaStream.tradeUpdate(Fixture.update("fill", Fixture.order(status: "filled", filled: 2, avg: "1.25"), execution: "x1", price: "1.25", qty: "2"), at: Fixture.at(3))
        let b = viaListing.listed([Fixture.order(status: "filled", filled: 2, avg: "1.25")], at: Fixture.at(3))
        #expect(a.fills.map(\.fillId) == b.fills.map(\.fillId))
        #expect(a.fills == b.fills)
    }

    @Test("restored fills are not published again when Alpaca reports them")
    func restoredFillsCount() {
        var l = Fixture.ledger()
        l.restore(command: Fixture.command())
        var first = accepted()
        let published = first.tradeUpdate(Fixture.update("partial_fill", Fixture.order(status: "partially_filled", filled: 1, avg: "1.2"), execution: "x1", price: "1.2", qty: "1"), at: Fixture.at(3))
        for f in published.fills { l.restore(fill: f) }
        for e in published.events { l.restore(event: e) }
        let after = l.lookedUp("entry-1", Fixture.order(status: "filled", filled: 2, avg: "1.225"), at: Fixture.at(10))
        #expect(after.fills.map(\.quantity) == [1])
        #expect(after.fills.map(\.priceCents) == [125])
    }

    @Test("canceled or expired at Alpaca ends the order as cancelled with what filled")
    func cancelled() {
        var l = accepted()
        let step = l.tradeUpdate(Fixture.update("expired", Fixture.order(status: "expired", filled: 0)), at: Fixture.at(3))
        #expect(step.events.map(\.status) == [.cancelled])
        #expect(l.isTerminal("entry-1"))
    }

    @Test("a replacement of an order that has already filled is refused, never sent (Alpaca would refuse the quantity)")
    func replacementAfterTheFill() {
        var l = Fixture.ledger()
        _ = l.command(Fixture.command("exit-1", side: .sell, intent: .close), at: Fixture.at(1))
        _ = l.submitted("exit-1", .accepted(Fixture.order("exit-1", status: "filled", filled: 2, avg: "1.25")), at: Fixture.at(2))
        let replace = l.command(Fixture.command("exit-2", limit: 110, side: .sell, intent: .close, replaces: "exit-1"), at: Fixture.at(3))
        #expect(replace.submits.isEmpty && replace.actions.isEmpty)
        #expect(replace.events.map(\.status) == [.rejected])
    }

    @Test("a replacement whose old order fills while it waits for the cancel is refused")
    func replacementLosesTheRace() {
        var l = Fixture.ledger()
        _ = l.command(Fixture.command("exit-1", side: .sell, intent: .close), at: Fixture.at(1))
        _ = l.submitted("exit-1", .accepted(Fixture.order("exit-1", status: "new")), at: Fixture.at(2))
        _ = l.command(Fixture.command("exit-2", limit: 110, side: .sell, intent: .close, replaces: "exit-1"), at: Fixture.at(3))
        let filled = l.tradeUpdate(Fixture.update("fill", Fixture.order("exit-1", status: "filled", filled: 2, avg: "1.25"), execution: "x", price: "1.25", qty: "2"), at: Fixture.at(4))
        #expect(filled.submits.isEmpty)
        #expect(filled.events.filter { $0.clientOrderId == "exit-2" }.map(\.status) == [.rejected])
    }

    @Test("a replacement cancels the old order first and is sent once the old one has ended")
    func replacement() {
        var l = Fixture.ledger()
        _ = l.command(Fixture.command("exit-1", side: .sell, intent: .close), at: Fixture.at(1))
        _ = l.submitted("exit-1", .accepted(Fixture.order("exit-1", status: "new")), at: Fixture.at(2))
        let replace = l.command(Fixture.command("exit-2", limit: 110, side: .sell, intent: .close, replaces: "exit-1"), at: Fixture.at(3))
        #expect(replace.actions == [.cancel(alpacaId: "alp-exit-1", clientOrderId: "exit-1")])
        let cancelled = l.tradeUpdate(Fixture.update("canceled", Fixture.order("exit-1", status: "canceled")), at: Fixture.at(4))
        #expect(cancelled.events.map(\.status) == [.cancelled])
        #expect(cancelled.submits.map(\.clientOrderId) == ["exit-2"])
        #expect(cancelled.submits.first?.limitPrice == "1.10")
    }
}

@Suite("Alpaca reconciliation and account snapshots")
struct ReconciliationTests {
    @Test("a contract Alpaca holds that the topics do not is adopted as a swing position")
    func adopts() throws {
        var l = Fixture.ledger()
        let p = Alpaca.Position(symbol: "SPY240315C00510000", assetClass: "us_option", qty: WireDecimal("3")!, avgEntryPrice: WireDecimal("2.15"),
                                side: "long", marketValue: nil, costBasis: nil, currentPrice: nil)
        let step = l.reconcile(positions: [p], activities: [], at: Fixture.at(1))
        let f = try #require(step.fills.first)
        #expect(f.quantity == 3 && f.priceCents == 215 && f.side == .buy && f.intent == .open && f.underlying == "SPY" && f.strategy == .swingTrade)
        #expect(step.warnings.count == 1)
        #expect(l.reconcile(positions: [p], activities: [], at: Fixture.at(2)).emits.isEmpty, "adopted once")
    }

    @Test("a contract the topics hold that expired at Alpaca (OPEXP) is closed as expired worthless")
    func expiry() throws {
        var l = Fixture.ledger()
        _ = l.command(Fixture.command(), at: Fixture.at(1))
        _ = l.submitted("entry-1", .accepted(Fixture.order(status: "filled", filled: 2, avg: "1.25")), at: Fixture.at(2))
        #expect(l.heldQuantities == ["SPY240315C00510000": 2])
        let opexp = Alpaca.Activity(id: "act-1", activityType: "OPEXP", date: "2024-03-15", transactionTime: nil, symbol: "SPY240315C00510000",
                                    qty: WireDecimal("2"), price: WireDecimal("0"), side: nil)
        let step = l.reconcile(positions: [], activities: [opexp], at: Fixture.at(3))
        let f = try #require(step.fills.first)
        #expect(f.quantity == 2 && f.priceCents == 0 && f.settlement == .expiredWorthless && f.positionId == "pos-entry-1")
        #expect(l.heldQuantities.isEmpty)
    }

    @Test("account strings become exact cents; daytrade_count and pattern_day_trader may be absent")
    func account() throws {
        let json = #"{"id":"a1","status":"ACTIVE","cash":"-23140.2","buying_power":"262113.632","options_buying_power":"1000.005","equity":"103820.56"}"#
        let a = try Alpaca.decode(Alpaca.Account.self, from: Array(json.utf8))
        var l = Fixture.ledger()
        let s = try #require(l.account(a, at: Fixture.at(1)).emits.first?.envelope.payload as? AccountSnapshot)
        #expect(s.cashCents == -2_314_020 && s.buyingPowerCents == 100_001 && s.equityCents == 10_382_056 && s.seq == 1)
        l.restore(snapshot: AccountSnapshot(accountId: Fixture.account, seq: 41, cashCents: 0, reservedCents: 0, buyingPowerCents: 0,
                                            positionsValueCents: 0, equityCents: 0, realizedPnlCents: 0, commissionsCents: 0, openOrders: 0))
        #expect((l.account(a, at: Fixture.at(2)).emits.first?.envelope.payload as? AccountSnapshot)?.seq == 42, "sequence continues after a restart")
    }
}

@Suite("Alpaca reconciliation waits for working orders")
struct ReconciliationRaceTests {
    @Test("a contract with an order still working is not adopted or closed: its fills may be on their way")
    func workingOrdersWait() {
        var l = Fixture.ledger()
        _ = l.command(Fixture.command(), at: Fixture.at(1))
        _ = l.submitted("entry-1", .accepted(Fixture.order(status: "partially_filled", filled: 1, avg: "1.25")), at: Fixture.at(2))
        let p = Alpaca.Position(symbol: "SPY240315C00510000", assetClass: "us_option", qty: WireDecimal("2")!, avgEntryPrice: WireDecimal("1.25"),
                                side: "long", marketValue: nil, costBasis: nil, currentPrice: nil)
        #expect(l.reconcile(positions: [p], activities: [], at: Fixture.at(3)).emits.isEmpty)
        _ = l.tradeUpdate(Fixture.update("fill", Fixture.order(status: "filled", filled: 2, avg: "1.25"), execution: "x2", price: "1.25", qty: "1"), at: Fixture.at(4))
        #expect(l.reconcile(positions: [p], activities: [], at: Fixture.at(5)).emits.isEmpty, "once filled, the topics agree with Alpaca")
    }
}
