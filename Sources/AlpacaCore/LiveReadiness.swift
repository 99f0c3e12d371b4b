import OpsModel

/// One line of seed 004's "Ready for Live Options If" list, made measurable: its verdict and its numbers.
public struct ReadinessItem: Codable, Sendable, Equatable {
    /// `option_gates`, `kill_switches`, `kill_switches_exercised`, `paper_sessions`, `net_pnl`, `fill_quality`,
    /// `execution_errors`.
    public var name: String
    public var passed: Bool
    /// The human line: what was measured, against what, and on a failure what is missing.
    public var detail: String
    /// The measured number and what it is held against, as text (`6`, `≥ 5`).
    public var value: String?
    public var limit: String?

    public init(name: String, passed: Bool, detail: String, value: String? = nil, limit: String? = nil) {
        self.name = name; self.passed = passed; self.detail = detail; self.value = value; self.limit = limit
    }

    /// `✓ name  detail` or `✗ name  detail`.
    public var line: String { "\(passed ? "✓" : "✗") \(name)  \(detail)" }
}

/// Every item's verdict for one account; ready only when every item passes.
public struct ReadinessReport: Codable, Sendable, Equatable {
    public var accountId: String
    public var items: [ReadinessItem]

    public init(accountId: String, items: [ReadinessItem]) { self.accountId = accountId; self.items = items }

    /// An empty report proves nothing, so it is not a pass.
    public var passed: Bool { !items.isEmpty && items.allSatisfy(\.passed) }
    public var failedItems: [String] { items.filter { !$0.passed }.map(\.name) }
    /// The process exit status of `opsctl readiness`: 0 ready, 1 not ready (2, a usage error, is the command's own).
    public var exitStatus: Int32 { passed ? 0 : 1 }

    public var verdictLine: String {
        passed
            ? "READY for live options: account \(accountId) passes all \(items.count) items"
            : "NOT READY for live options: account \(accountId) fails \(failedItems.count) of \(items.count) items (\(failedItems.joined(separator: ", ")))"
    }

    /// One line per item, then the verdict.
    public var lines: [String] { items.map(\.line) + [verdictLine] }

    /// What a live start refused on this report says: the verdict and each failing item; nil when ready.
    public var refusal: String? {
        passed ? nil : ([verdictLine] + items.filter { !$0.passed }.map(\.line)).joined(separator: "\n")
    }
}

/// What `evaluate` may be told besides the parameters and the record.
public struct ReadinessOptions: Sendable, Equatable {
    /// New York trading dates with orders or fills needed (the seed's "1 week of paper trading").
    public var minSessions: Int = 5
    /// An order whose last event comes later than this after its session's close was left open past it.
    public var closeGraceMs: Int64 = 60_000
    /// Kill-switch gate → the DispatchCore tests that exercise it (`Suite/test`).
    public var coverage: [String: [String]] = KillSwitchCoverage.tests

    public init(minSessions: Int = 5) { self.minSessions = minSessions }
}

/// Seed 004's "Ready for Live Options If", evaluated on what an account did (paper): pure, no I/O, no clock — the
/// record's event times are the only time. `opsctl readiness` prints it; the broker-gateway calls `guardrails` and
/// `evaluate` before it lets `--broker alpaca-live` start.
///
/// The seed's fifth line, "User comfortable with risk", is not measurable: it is the gateway's
/// `--confirm-live I-UNDERSTAND-REAL-MONEY`.
public enum LiveReadiness {
    /// The topics `evaluate` reads; a caller loads these (a recording or the broker) into a `ReadinessRecord`.
    public static let topics = [Topics.decisions, Topics.orders, Topics.orderEvents, Topics.fills, Topics.positions,
                                Topics.accounts, Topics.chains, Topics.deadLetter]

    public static let itemNames = ["option_gates", "kill_switches", "kill_switches_exercised", "paper_sessions", "net_pnl",
                                   "fill_quality", "execution_errors"]

    /// The items that depend on configuration alone (option gates, kill switches): enough to refuse a live start.
    public static func guardrails(params: TradingParams) -> [ReadinessItem] {
        [ReadinessGuardrails.optionGates(params), ReadinessGuardrails.killSwitches(params)]
    }

    /// Every item, in the seed's order.
    public static func evaluate(params: TradingParams, record: ReadinessRecord, options: ReadinessOptions = ReadinessOptions()) -> ReadinessReport {
        let items = guardrails(params: params) + [
            ReadinessActivity.killSwitchesExercised(record, coverage: options.coverage),
            ReadinessActivity.paperSessions(record, minimum: options.minSessions),
            ReadinessActivity.netPnl(record),
            ReadinessFills.fillQuality(record, ticks: params.execution.ticks),
            ReadinessExecution.executionErrors(record, closeGraceMs: options.closeGraceMs),
        ]
        return ReadinessReport(accountId: record.accountId, items: items)
    }
}

/// One account's messages from `LiveReadiness.topics`, each kind in event-time order, repeats (same type and id,
/// as a re-read or a restarted service produces) kept once. Chains and the dead letters are not per account and
/// are kept whole.
public struct ReadinessRecord: Sendable {
    public let accountId: String
    public private(set) var decisions: [Envelope<Decision>] = []
    public private(set) var orders: [Envelope<OrderCommand>] = []
    public private(set) var orderEvents: [Envelope<OrderEvent>] = []
    public private(set) var fills: [Envelope<Fill>] = []
    public private(set) var positions: [Envelope<PositionEvent>] = []
    public private(set) var accounts: [Envelope<AccountSnapshot>] = []
    public private(set) var chains: [Envelope<OptionChain>] = []
    public private(set) var deadLetters: [Envelope<DeadLetter>] = []

    public init(accountId: String, envelopes: some Sequence<AnyEnvelope>) {
        self.accountId = accountId
        var seen = Set<String>()
        for e in envelopes where seen.insert("\(e.type)/\(e.id)").inserted { add(e) }
        sortByEventTime()
    }

    /// The last event time of anything in the record: how far it reaches.
    public var end: Timestamp? {
        let ends: [Timestamp?] = [decisions.last?.eventTime, orders.last?.eventTime, orderEvents.last?.eventTime, fills.last?.eventTime,
                                  positions.last?.eventTime, accounts.last?.eventTime, chains.last?.eventTime, deadLetters.last?.eventTime]
        return ends.compactMap { $0 }.max()
    }

    private mutating func add(_ e: AnyEnvelope) {
        if let x = e.typed(Decision.self), x.payload.accountId == accountId { decisions.append(x) }
        else if let x = e.typed(OrderCommand.self), x.payload.accountId == accountId { orders.append(x) }
        else if let x = e.typed(OrderEvent.self), x.payload.accountId == accountId { orderEvents.append(x) }
        else if let x = e.typed(Fill.self), x.payload.accountId == accountId { fills.append(x) }
        else if let x = e.typed(PositionEvent.self), x.payload.accountId == accountId { positions.append(x) }
        else if let x = e.typed(AccountSnapshot.self), x.payload.accountId == accountId { accounts.append(x) }
        else if let x = e.typed(OptionChain.self) { chains.append(x) }
        else if let x = e.typed(DeadLetter.self) { deadLetters.append(x) }
    }

    private mutating func sortByEventTime() {
        func order<P: Payload>(_ a: Envelope<P>, _ b: Envelope<P>) -> Bool { a.eventTime != b.eventTime ? a.eventTime < b.eventTime : a.id < b.id }
        decisions.sort(by: order); orders.sort(by: order); orderEvents.sort(by: order); fills.sort(by: order)
        positions.sort(by: order); accounts.sort(by: order); chains.sort(by: order); deadLetters.sort(by: order)
    }
}
