import OpsModel

/// The kill switches of seed 004 §2 as the dispatcher's gates name them: what a dashboard and a run summary show.
public enum KillSwitches {
    public static let gates = ["halt", "trading_hours", "daily_loss", "max_positions", "max_exposure", "cooldown", "max_trades_per_ticker"]
}

/// What `opsctl dashboard` shows, folded from the live topics one message at a time (pure: a message in, the view
/// updated): per account its equity, cash, buying power, tier, day P&L against the daily loss limit, each kill switch
/// as the latest decision saw it, the operator halt, open positions with marks, P&L and Greeks, portfolio Greeks;
/// the latest decisions with their failed gate; dead letters.
public struct DashboardState: Sendable {
    public struct Account: Sendable {
        public var id: String
        public var snapshot: AccountSnapshot?
        public var latestTime: Timestamp = .distantPast
        public var lastDecision: Decision?
        public var halt: (at: Timestamp, command: OperatorControl)?
        public var greeks: PortfolioGreeks?
        public var positions: [String: PositionEvent] = [:]
        public var fills = 0
        public var closedPnlCents: Cents = 0

        public var tier: String? { lastDecision?.sizing?.tier ?? lastDecision?.gates.first { $0.gate == "account" }?.limit }
        public var dailyLoss: GateResult? { lastDecision?.gates.first { $0.gate == "daily_loss" } }
        public var killSwitches: [GateResult] { KillSwitches.gates.compactMap { g in lastDecision?.gates.first { $0.gate == g } } }
        public var halted: Bool { halt?.command.action == .halt }
    }

    public private(set) var accounts: [String: Account] = [:]
    /// Newest first, at most `keep`.
    public private(set) var decisions: [(time: Timestamp, decision: Decision)] = []
    public private(set) var deadLetters: [(time: Timestamp, letter: DeadLetter)] = []
    public private(set) var fills = 0
    /// Bumped by every message that changed what is shown.
    public private(set) var version = 0
    public var keep = 20

    public init() {}

    public mutating func apply(_ e: AnyEnvelope) {
        switch e.payload {
        case let a as AccountSnapshot:
            update(a.accountId, e.eventTime) { if $0.snapshot.map({ a.seq >= $0.seq }) ?? true { $0.snapshot = a } }
        case let d as Decision:
            update(d.accountId, e.eventTime) { $0.lastDecision = d }
            decisions.insert((e.eventTime, d), at: 0)
            decisions = Array(decisions.prefix(keep))
        case let p as PositionEvent:
            update(p.accountId, e.eventTime) {
                $0.positions[p.positionId] = p.event == .closed ? nil : p
                if p.event == .closed { $0.closedPnlCents += p.realizedPnlCents ?? 0 }
            }
        case let f as Fill:
            fills += 1
            update(f.accountId, e.eventTime) { $0.fills += 1 }
        case let g as PortfolioGreeks:
            update(g.accountId, e.eventTime) { $0.greeks = g }
        case let c as OperatorControl:
            update(c.accountId, nil) { $0.halt = (e.eventTime, c) }
        case let d as DeadLetter:
            deadLetters.insert((e.eventTime, d), at: 0)
            deadLetters = Array(deadLetters.prefix(keep))
            version += 1
        default:
            return
        }
    }

    private mutating func update(_ account: String, _ t: Timestamp?, _ change: (inout Account) -> Void) {
        var a = accounts[account] ?? Account(id: account)
        if let t { a.latestTime = max(a.latestTime, t) }
        change(&a)
        accounts[account] = a
        version += 1
    }

    /// The topics it follows.
    public static let topics = [Topics.accounts, Topics.decisions, Topics.positions, Topics.fills, Topics.greeks, Topics.control, Topics.deadLetter]
}
