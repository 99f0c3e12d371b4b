import Foundation
import OpsModel
import TestSupport
import Testing
@testable import AlpacaCore

/// Hand-built records for the readiness items: one account, a few envelopes each.
enum RX {
    static let account = "paper-1"
    static let spy = "SPY240315C00510000"

    static func ny(_ day: String, _ h: Int, _ m: Int, _ s: Int = 0) -> Timestamp {
        NewYorkTime.utc(date: CivilDate(iso: day)!, hour: h, minute: m, second: s)
    }

    static func env<P: Payload>(_ p: P, _ t: Timestamp, _ id: String) -> AnyEnvelope {
        Envelope(id: id, eventTime: t, causationId: nil, source: "test", payload: p).erased()
    }

    static func decision(_ t: Timestamp, gates: [GateResult] = [], order: Bool = false, account: String = account) -> AnyEnvelope {
        let o = order ? OrderCommand(accountId: account, clientOrderId: "o-\(t.ms)", symbol: spy, underlying: "SPY", assetClass: .option,
                                     side: .buy, quantity: 1, limitPriceCents: 210, intent: .open, positionId: nil, strategy: .dayTrade, reason: "r") : nil
        let d = Decision(accountId: account, signalId: "s-\(t.ms)", ticker: "SPY", direction: .bull, strategy: .dayTrade, confidence: 0.8,
                         outcome: order ? .order : .skip, skipReason: order ? nil : gates.first { !$0.passed }?.gate ?? "contract", gates: gates,
                         contract: nil, sizing: nil, order: o, buyingPowerCents: 1_000_000, openPositions: 0, exposureCents: 0, dayRealizedPnlCents: 0)
        return env(d, t, "decision-\(t.ms)-\(gates.map(\.gate).joined())")
    }

    static func blocked(_ gate: String, _ t: Timestamp, detail: String = "blocked") -> AnyEnvelope {
        decision(t, gates: [GateResult(gate: gate, passed: false, detail: detail)])
    }

    static func fill(_ t: Timestamp, priceCents: Cents, side: OrderSide = .buy, symbol: String = spy, asset: AssetClass = .option,
                     settlement: Fill.Settlement? = nil, id: String? = nil) -> AnyEnvelope {
        let f = Fill(accountId: account, fillId: id ?? "f-\(t.ms)-\(priceCents)", clientOrderId: "o-\(t.ms)", symbol: symbol, underlying: "SPY",
                     assetClass: asset, side: side, quantity: 1, priceCents: priceCents, commissionCents: 65, feesCents: 3,
                     orderTime: t.adding(ms: -60_000), quoteTime: t, quoteBid: 0, quoteAsk: 0, intent: side == .buy ? .open : .close,
                     positionId: nil, strategy: .dayTrade, settlement: settlement)
        return env(f, t, f.fillId)
    }

    static func chain(_ t: Timestamp, bid: Double, ask: Double, symbol: String = spy) -> AnyEnvelope {
        let occ = OCCSymbol(symbol)!
        let q = OptionQuote(symbol: symbol, right: occ.right, strike: occ.strike, expiration: occ.expiration, bid: bid, ask: ask,
                            volume: 1000, openInterest: 1000)
        return env(OptionChain(underlying: "SPY", underlyingPrice: 510, asOf: t, contracts: [q]), t, "chain-\(t.ms)-\(symbol)")
    }

    static func position(_ id: String, _ event: PositionEvent.Kind, pnl: Cents? = nil, _ t: Timestamp) -> AnyEnvelope {
        let p = PositionEvent(event: event, positionId: id, accountId: account, symbol: spy, underlying: "SPY", strategy: .dayTrade,
                              quantity: 1, entryPriceCents: 210, entryCostCents: 21_068, openedAt: t, expiration: nil,
                              exitPriceCents: pnl == nil ? nil : 300, realizedPnlCents: pnl, closedAt: pnl == nil ? nil : t)
        return env(p, t, "pos-\(id)-\(event.rawValue)")
    }

    static func orderEvent(_ id: String, _ status: OrderEvent.Status, _ t: Timestamp, reason: String = "ok") -> AnyEnvelope {
        let e = OrderEvent(accountId: account, clientOrderId: id, status: status, symbol: spy, side: .sell, quantity: 1,
                           filledQuantity: status == .filled ? 1 : 0, fillPriceCents: nil, intent: .close, positionId: "p1", reason: reason)
        return env(e, t, "oe-\(id)-\(status.rawValue)")
    }

    static func order(_ id: String, _ t: Timestamp, replaces: String? = nil) -> AnyEnvelope {
        let o = OrderCommand(accountId: account, clientOrderId: id, symbol: spy, underlying: "SPY", assetClass: .option, side: .sell,
                             quantity: 1, limitPriceCents: 200, intent: .close, positionId: "p1", strategy: .dayTrade, reason: "exit",
                             replacesClientOrderId: replaces)
        return env(o, t, id)
    }

    static func deadLetter(service: String, key: String?, _ t: Timestamp) -> AnyEnvelope {
        let d = DeadLetter(topic: Topics.orders, partition: 0, offset: 7, key: key.map { Array($0.utf8) }, original: Array("{}".utf8),
                           error: MessageError(.malformed, "bad"), service: service)
        return env(d, t, "dl-\(service)-\(t.ms)")
    }

    static func record(_ e: [AnyEnvelope]) -> ReadinessRecord { ReadinessRecord(accountId: account, envelopes: e) }

    /// Five trading days of a profitable account with clean fills: every activity item passes.
    static var goodWeek: [AnyEnvelope] {
        let days = ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"]
        return days.enumerated().flatMap { i, day -> [AnyEnvelope] in
            let t = ny(day, 10, 0)
            return [chain(t, bid: 2.00, ask: 2.20), decision(t.adding(ms: 1), order: true), fill(t.adding(ms: 30_000), priceCents: 210),
                    position("p\(i)", .opened, t.adding(ms: 30_000)), position("p\(i)", .closed, pnl: 500, ny(day, 11, 0))]
        }
    }
}

@Suite("Live readiness: the guardrails on configuration")
struct ReadinessGuardrailTests {
    @Test func theSeedDefaultsPassBoth() {
        let items = LiveReadiness.guardrails(params: TradingParams())
        #expect(items.map(\.name) == ["option_gates", "kill_switches"])
        #expect(items.allSatisfy { $0.passed }, "\(items.map(\.line))")
        #expect(items[0].detail.contains("spread ≤ 10.0%") && items[0].detail.contains("IV percentile ≤ 80"))
        #expect(items[1].detail.contains("daily loss ≤ $500.00") && items[1].value == "6" && items[1].limit == "6")
    }

    typealias Change = @Sendable (inout TradingParams) -> Void
    static let offOrUnbounded: [(String, String, Change)] = [
        ("option_gates", "spread", { $0.liquidityThresholds.maxSpreadPct = .infinity }),
        ("option_gates", "spread", { $0.liquidityThresholds.maxSpreadPct = 150 }),
        ("option_gates", "premium", { $0.liquidityThresholds.minPremium = 0 }),
        ("option_gates", "open_interest", { $0.liquidityThresholds.minOpenInterest = 0 }),
        ("option_gates", "volume", { $0.liquidityThresholds.minVolume = 0 }),
        ("option_gates", "iv_percentile", { $0.liquidityThresholds.maxIvPercentile = nil }),
        ("option_gates", "iv_percentile", { $0.liquidityThresholds.maxIvPercentile = 100 }),
        ("kill_switches", "daily_loss", { $0.risk.maxDailyLoss = .infinity }),
        ("kill_switches", "max_positions", { $0.risk.maxOpenPositions = .max }),
        ("kill_switches", "max_exposure", { $0.risk.maxNotionalExposure = .nan }),
        ("kill_switches", "trading_hours", { $0.risk.blockOpenMinutes = 0 }),
        ("kill_switches", "trading_hours", { $0.risk.blockCloseMinutes = 0 }),
        ("kill_switches", "cooldown", { $0.risk.tickerCooldownMinutes = 0 }),
        ("kill_switches", "max_trades_per_ticker", { $0.risk.maxTradesPerTickerPerDay = .max }),
    ]

    @Test(arguments: offOrUnbounded)
    func aGateOffOrUnboundedFailsItsItemByName(item: String, gate: String, change: Change) throws {
        var p = TradingParams()
        change(&p)
        let items = LiveReadiness.guardrails(params: p)
        let failed = try #require(items.first { $0.name == item })
        #expect(!failed.passed)
        #expect(failed.detail.hasPrefix("1 off or unbounded: \(gate) ("), "\(failed.detail)")
        #expect(items.filter { $0.name != item }.allSatisfy { $0.passed }, "only the changed item fails")
    }

    @Test func theOptionalIvRankIsReportedNotRequired() {
        var p = TradingParams()
        #expect(LiveReadiness.guardrails(params: p)[0].detail.contains("iv_rank off"))
        p.liquidityThresholds.maxIvRank = 70
        #expect(LiveReadiness.guardrails(params: p)[0].detail.contains("iv_rank ≤ 70.0"))
    }
}

@Suite("Live readiness: kill switches exercised, and the coverage table against the code")
struct ReadinessKillSwitchTests {
    @Test func withTheTableEverySwitchIsCoveredWithoutARecord() {
        let item = ReadinessActivity.killSwitchesExercised(RX.record([]), coverage: KillSwitchCoverage.tests)
        #expect(item.passed && item.value == "7" && item.detail.contains("seen blocking: none"))
    }

    @Test func withoutTheTableOnlyWhatTheRecordShowsBlockingCounts() {
        let t = RX.ny("2024-03-04", 10, 0)
        let some = RX.record([RX.blocked("daily_loss", t), RX.blocked("daily_loss", t.adding(ms: 60_000)), RX.blocked("cooldown", t)])
        let item = ReadinessActivity.killSwitchesExercised(some, coverage: [:])
        #expect(!item.passed && item.value == "2")
        #expect(item.detail.contains("daily_loss 2×") && item.detail.contains("cooldown 1×"))
        #expect(item.detail.contains("neither seen nor tested: halt, trading_hours, max_positions, max_trades_per_ticker, max_exposure"))

        let all = RX.record(KillSwitchCoverage.gates.enumerated().map { RX.blocked($1, t.adding(ms: Int64($0))) })
        #expect(ReadinessActivity.killSwitchesExercised(all, coverage: [:]).passed)
    }

    @Test func aGateNotEvaluatedForWantOfAnAccountDidNotBlock() {
        let t = RX.ny("2024-03-04", 10, 0)
        let r = RX.record([RX.blocked("daily_loss", t, detail: "not evaluated: needs an account")])
        #expect(ReadinessActivity.blocks(r).isEmpty)
    }

    /// The gate names `KillSwitches` can emit, read from its source (AlpacaCore does not link DispatchCore).
    static func killSwitchGatesInCode() throws -> Set<String> {
        let url = TestPaths.packageRoot.appendingPathComponent("Sources/DispatchCore/KillSwitches.swift")
        let text = try String(contentsOf: url, encoding: .utf8)
        let regex = try Regex(#"gate:\s*"([a-z_]+)""#)
        return Set(text.matches(of: regex).compactMap { $0.output[1].substring.map(String.init) })
    }

    @Test func everyKillSwitchDispatchCoreEmitsIsInTheTable() throws {
        let inCode = try Self.killSwitchGatesInCode()
        #expect(inCode.count >= 7, "found \(inCode.sorted())")
        #expect(inCode == Set(KillSwitchCoverage.gates))
        for gate in inCode { #expect(!(KillSwitchCoverage.tests[gate] ?? []).isEmpty, "\(gate) has no test in the table") }
        #expect(Set(KillSwitchCoverage.tests.keys) == inCode)
    }

    @Test(arguments: KillSwitchCoverage.tests.values.flatMap { $0 })
    func everyTestNamedInTheTableExists(_ name: String) throws {
        let parts = name.split(separator: "/").map(String.init)
        try #require(parts.count == 2, "\(name) is not Suite/test")
        let dir = TestPaths.packageRoot.appendingPathComponent("Tests/DispatchCoreTests")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".swift") }
        let holder = try files.map { try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }
            .first { $0.contains("struct \(parts[0]) {") || $0.contains("struct \(parts[0]):") }
        let text = try #require(holder, "no suite \(parts[0]) in Tests/DispatchCoreTests")
        #expect(text.contains("func \(parts[1])("), "\(parts[0]) has no test \(parts[1])")
    }
}

@Suite("Live readiness: sessions and net P&L")
struct ReadinessActivityTests {
    @Test func sessionsAreNewYorkTradingDatesWithOrdersOrFills() {
        let r = RX.record([
            RX.decision(RX.ny("2024-03-04", 9, 40), order: true),
            RX.fill(RX.ny("2024-03-05", 9, 31), priceCents: 210), RX.fill(RX.ny("2024-03-05", 15, 59), priceCents: 210),  // one date
            RX.decision(RX.ny("2024-03-06", 10, 0), gates: [GateResult(gate: "cooldown", passed: false, detail: "x")]),  // a skip
            RX.fill(RX.ny("2024-03-07", 16, 0), priceCents: 0, side: .sell, settlement: .expiredWorthless),  // not trading
            RX.fill(RX.ny("2024-03-08", 11, 0), priceCents: 210),
        ])
        #expect(ReadinessActivity.tradingDates(r).map(\.iso) == ["2024-03-04", "2024-03-05", "2024-03-08"])
        let item = ReadinessActivity.paperSessions(r, minimum: 3)
        #expect(item.passed && item.value == "3" && item.detail.contains("2024-03-04 … 2024-03-08"))
        #expect(!ReadinessActivity.paperSessions(r, minimum: 4).passed)
    }

    @Test func fiveSessionsPassTheDefault() {
        #expect(ReadinessActivity.paperSessions(RX.record(RX.goodWeek), minimum: ReadinessOptions().minSessions).passed)
    }

    @Test(arguments: [([1000, -400], true, "$6.00", "2 closed trade(s), 1 won (win rate 50%)"),
                      ([-100], false, "-$1.00", "1 closed trade(s), 0 won"),
                      ([0, 0], false, "$0.00", "2 closed trade(s)"),
                      ([], false, "$0.00", "no closed positions")] as [([Cents], Bool, String, String)])
    func netPnlMustBePositive(pnls: [Cents], passes: Bool, total: String, words: String) {
        let t = RX.ny("2024-03-04", 11, 0)
        let r = RX.record(pnls.enumerated().map { RX.position("p\($0)", .closed, pnl: $1, t) } + [RX.position("open", .opened, t)])
        let item = ReadinessActivity.netPnl(r)
        #expect(item.passed == passes && item.value == total)
        #expect(item.detail.contains(words), "\(item.detail)")
        #expect(item.detail.contains("1 still open"))
    }

    @Test func aRepeatedCloseCountsOnce() {
        let t = RX.ny("2024-03-04", 11, 0)
        let close = RX.position("p1", .closed, pnl: 700, t)
        let item = ReadinessActivity.netPnl(RX.record([close, close]))
        #expect(item.value == "$7.00" && item.detail.contains("over 1 closed trade(s)"))
    }
}

@Suite("Live readiness: fill quality against the quote mid")
struct ReadinessFillTests {
    static let t = RX.ny("2024-03-04", 10, 0)
    let ticks = TradingParams().execution.ticks

    /// Bid 2.00 / ask 2.20: mid 2.10, half spread 10¢, SPY's tick 1¢, so within 11¢ of the mid.
    @Test(arguments: [(221, OrderSide.buy, true), (222, .buy, false), (199, .sell, true), (198, .sell, false), (210, .buy, true)] as [(Cents, OrderSide, Bool)])
    func withinHalfTheSpreadPlusATick(price: Cents, side: OrderSide, within: Bool) {
        let r = RX.record([RX.chain(Self.t, bid: 2.00, ask: 2.20), RX.fill(Self.t.adding(ms: 1000), priceCents: price, side: side)])
        let item = ReadinessFills.fillQuality(r, ticks: ticks)
        #expect(item.passed == within && item.value == (within ? "1/1" : "0/1"), "\(item.detail)")
        if !within { #expect(item.detail.contains("outside e.g. \(side.rawValue) \(RX.spy)")) }
    }

    @Test func slippageIsAgainstTheTraderPerSide() throws {
        let r = RX.record([RX.chain(Self.t, bid: 2.00, ask: 2.20), RX.fill(Self.t.adding(ms: 1000), priceCents: 215),
                           RX.fill(Self.t.adding(ms: 2000), priceCents: 203, side: .sell)])
        let item = ReadinessFills.fillQuality(r, ticks: ticks)
        #expect(item.passed && item.detail.contains("worst 7.0¢, mean 6.0¢"), "\(item.detail)")
    }

    @Test func theQuoteIsTheLatestChainAtOrBeforeTheFillThatQuotesTheContract() {
        let other = "SPY240315P00500000"
        let r = RX.record([
            RX.chain(Self.t, bid: 2.00, ask: 2.20),
            RX.chain(Self.t.adding(ms: 20_000), bid: 9.00, ask: 9.20, symbol: other),   // later, but another contract
            RX.chain(Self.t.adding(ms: 60_000), bid: 3.00, ask: 3.20),                   // after the fill
            RX.fill(Self.t.adding(ms: 30_000), priceCents: 212),
        ])
        #expect(ReadinessFills.fillQuality(r, ticks: ticks).passed)
    }

    @Test func aFillWithoutAQuoteCannotBeVerified() {
        let r = RX.record([RX.fill(Self.t, priceCents: 210), RX.chain(Self.t.adding(ms: 1000), bid: 2.00, ask: 2.20)])
        let item = ReadinessFills.fillQuality(r, ticks: ticks)
        #expect(!item.passed && item.value == "0/1" && item.detail.contains("1 without a quote of their contract"))
    }

    @Test func noOptionFillsIsNothingToJudge() {
        let r = RX.record([RX.fill(Self.t, priceCents: 51_000, symbol: "SPY", asset: .equity)])
        let item = ReadinessFills.fillQuality(r, ticks: ticks)
        #expect(!item.passed && item.detail.hasPrefix("no option fills to judge") && item.detail.contains("1 stock fill(s) not judged"))
    }
}

@Suite("Live readiness: execution errors")
struct ReadinessExecutionTests {
    static let day = "2024-03-04"
    static func at(_ h: Int, _ m: Int) -> Timestamp { RX.ny(day, h, m) }
    let grace = ReadinessOptions().closeGraceMs

    @Test func aCleanRecordPasses() {
        let r = RX.record([RX.order("a", Self.at(10, 0)), RX.orderEvent("a", .accepted, Self.at(10, 0)), RX.orderEvent("a", .filled, Self.at(10, 1)),
                           RX.deadLetter(service: "dispatcher", key: RX.account, Self.at(10, 2)),
                           RX.deadLetter(service: "broker-gateway", key: "another-account", Self.at(10, 3))])
        let item = ReadinessExecution.executionErrors(r, closeGraceMs: grace)
        #expect(item.passed && item.value == "0" && item.detail.hasPrefix("1 orders:"), "\(item.detail)")
    }

    @Test func brokerRejectionsAreCountedByReason() {
        let r = RX.record([RX.orderEvent("a", .rejected, Self.at(10, 0), reason: "insufficient buying power: need $500.00, have $10.00"),
                           RX.orderEvent("b", .rejected, Self.at(10, 5), reason: "insufficient buying power: need $600.00, have $10.00")])
        let item = ReadinessExecution.executionErrors(r, closeGraceMs: grace)
        #expect(!item.passed && item.value == "2")
        #expect(item.detail.contains("broker rejections 2 (insufficient buying power 2)"), "\(item.detail)")
    }

    @Test func aRepricingThatLostTheRaceToAFillIsNoError() {
        let r = RX.record([RX.order("a", Self.at(10, 0)), RX.orderEvent("a", .filled, Self.at(10, 1)),
                           RX.order("b", Self.at(10, 1), replaces: "a"),
                           RX.orderEvent("b", .rejected, Self.at(10, 1), reason: "replaces a, which is not open at the broker")])
        #expect(ReadinessExecution.executionErrors(r, closeGraceMs: grace).passed)
        // …but a replacement of an order that had not filled is a real rejection.
        let r2 = RX.record([RX.order("a", Self.at(10, 0)), RX.order("b", Self.at(10, 1), replaces: "a"),
                            RX.orderEvent("b", .rejected, Self.at(10, 1), reason: "a replacement must keep the contract")])
        #expect(!ReadinessExecution.executionErrors(r2, closeGraceMs: grace).passed)
    }

    @Test func anOrderStillWorkingAtTheCloseIsLeftOpenPastItsSession() {
        let nextMorning = RX.ny("2024-03-05", 9, 30)
        let expired = RX.record([RX.order("a", Self.at(15, 50)), RX.orderEvent("a", .accepted, Self.at(15, 50)),
                                 RX.orderEvent("a", .cancelled, nextMorning, reason: "day order expired unfilled")])
        #expect(ReadinessExecution.openPastSession(expired, closeGraceMs: grace) == ["still working at the close": 1])
        let detail = ReadinessExecution.executionErrors(expired, closeGraceMs: grace).detail
        #expect(detail.contains("e.g. a placed \(Self.at(15, 50).iso8601), cancelled at \(nextMorning.iso8601) (day order expired unfilled)"), "\(detail)")

        let atTheClose = RX.record([RX.order("a", Self.at(15, 50)), RX.orderEvent("a", .filled, Self.at(16, 0).adding(ms: 500))])
        #expect(ReadinessExecution.openPastSession(atTheClose, closeGraceMs: grace).isEmpty, "the broker's report of a fill at the close")
    }

    @Test func anOrderThatNeverEndsCountsOnlyOnceTheRecordPassesTheClose() {
        let working = [RX.order("a", Self.at(15, 0)), RX.orderEvent("a", .accepted, Self.at(15, 0))]
        #expect(ReadinessExecution.openPastSession(RX.record(working + [RX.chain(Self.at(15, 30), bid: 1, ask: 1.1)]), closeGraceMs: grace).isEmpty)
        let later = RX.record(working + [RX.chain(RX.ny("2024-03-05", 9, 31), bid: 1, ask: 1.1)])
        #expect(ReadinessExecution.openPastSession(later, closeGraceMs: grace) == ["never filled or cancelled": 1])
        #expect(!ReadinessExecution.executionErrors(later, closeGraceMs: grace).passed)
    }

    @Test func theBrokerGatewaysDeadLettersCount() {
        let r = RX.record([RX.deadLetter(service: "broker-gateway", key: RX.account, Self.at(10, 0)),
                           RX.deadLetter(service: "broker-gateway", key: nil, Self.at(10, 1))])
        let item = ReadinessExecution.executionErrors(r, closeGraceMs: grace)
        #expect(!item.passed && item.detail.contains("broker-gateway dead letters 2 (\(Topics.orders) malformed 2)"), "\(item.detail)")
    }
}

@Suite("Live readiness: the report")
struct ReadinessReportTests {
    @Test func aGoodPaperWeekIsReady() {
        let report = LiveReadiness.evaluate(params: TradingParams(), record: RX.record(RX.goodWeek))
        #expect(report.items.map(\.name) == LiveReadiness.itemNames)
        #expect(report.passed && report.exitStatus == 0, "\(report.lines)")
        #expect(report.lines.last == "READY for live options: account paper-1 passes all 7 items")
        #expect(report.lines.dropLast().allSatisfy { $0.hasPrefix("✓ ") })
        #expect(report.refusal == nil)
    }

    @Test func oneFailingItemMakesItNotReady() {
        var p = TradingParams()
        p.risk.tickerCooldownMinutes = 0
        let report = LiveReadiness.evaluate(params: p, record: RX.record(Array(RX.goodWeek.dropLast(5))))
        #expect(!report.passed && report.exitStatus == 1)
        #expect(report.failedItems == ["kill_switches", "paper_sessions"])
        #expect(report.lines.contains { $0.hasPrefix("✗ paper_sessions  4 New York trading date(s)") })
        #expect(report.verdictLine == "NOT READY for live options: account paper-1 fails 2 of 7 items (kill_switches, paper_sessions)")
        #expect(report.refusal?.split(separator: "\n").count == 3)
    }

    @Test func anotherAccountsActivityIsNotThisOnes() {
        let other = RX.decision(RX.ny("2024-03-04", 10, 0), order: true, account: "someone-else")
        let r = RX.record([other])
        #expect(r.decisions.isEmpty)
        #expect(!LiveReadiness.evaluate(params: TradingParams(), record: r, options: ReadinessOptions(minSessions: 1)).passed)
    }

    @Test func anEmptyReportIsNotAPass() {
        #expect(!ReadinessReport(accountId: "a", items: []).passed)
        #expect(ReadinessReport(accountId: "a", items: []).exitStatus == 1)
    }
}
