import Foundation

/// A payload that belongs to one account: what the trading topics carry, keyed by it.
public protocol AccountScoped {
    var accountId: String { get }
}

extension OrderCommand: AccountScoped {}
extension Decision: AccountScoped {}
extension OrderEvent: AccountScoped {}
extension Fill: AccountScoped {}
extension AccountSnapshot: AccountScoped {}
extension PositionEvent: AccountScoped {}
extension PortfolioGreeks: AccountScoped {}
extension OperatorControl: AccountScoped {}

/// The accounts a run trades side by side (seed 000: "test with various account sizes"), as `ID=DOLLARS,…`.
public struct AccountList: Sendable, Equatable {
    public struct Account: Sendable, Equatable {
        public var id: String
        public var startingCashCents: Cents
    }
    public var accounts: [Account]

    /// Parses `tiny=1000,small=5000`; the error says what is wrong and what to write instead.
    public init(parsing text: String) throws(MessageError) {
        var out = [Account]()
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw .invalid("expected ID=DOLLARS (letters, digits, - and _ in the id), e.g. tiny=1000,large=100000; got '\(item)'")
            }
            guard let cents = Money.cents(dollars: parts[1]), cents > 0 else {
                throw .invalid("account '\(parts[0])' needs a starting cash in dollars > 0, e.g. \(parts[0])=5000; got '\(parts[1])'")
            }
            guard !out.contains(where: { $0.id == parts[0] }) else { throw .invalid("account '\(parts[0])' is listed twice") }
            out.append(Account(id: parts[0], startingCashCents: cents))
        }
        guard !out.isEmpty else { throw .invalid("no accounts: expected ID=DOLLARS,…, e.g. tiny=1000,large=100000") }
        accounts = out
    }

    /// The accounts replica `index` of `count` owns (invariant 7: one owner per account): every `count`-th from
    /// `index`, so replicas split the list evenly and the split is the same in every process.
    public func owned(by share: AccountShare) -> [Account] {
        accounts.enumerated().filter { $0.offset % share.count == share.index }.map(\.element)
    }
}

/// Which of several replicas of an account-owning service this one is (`I/N`). Kafka's group assignment cannot split
/// accounts (the signals and chains every account needs are keyed by ticker), so each replica reads every partition in
/// its own consumer group and owns the accounts of its share; its watermarks name the share, so a consumer waits for
/// every replica's promise before it trusts one.
public struct AccountShare: Sendable, Equatable {
    public var index: Int
    public var count: Int
    public static let whole = AccountShare(index: 0, count: 1)

    public init(index: Int, count: Int) { self.index = index; self.count = count }

    public init(parsing text: String) throws(MessageError) {
        let p = text.split(separator: "/").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard p.count == 2, let i = p[0], let n = p[1], n >= 1, (0..<n).contains(i) else {
            throw .invalid("expected I/N with 0 ≤ I < N, e.g. 0/2 for the first of two replicas; got '\(text)'")
        }
        index = i; count = n
    }

    public var description: String { "\(index)/\(count)" }

    /// The consumer group of a replica: the service's own name when it runs alone.
    public func groupId(service: String) -> String { count == 1 ? service : "\(service).accounts-\(index)-of-\(count)" }

    /// Ends the coverage topic of a share: `dispatcher#accounts`.
    public static let coverageSuffix = "#accounts"

    /// The service a consumer group belongs to (the inverse of `groupId`; any other group is its own name).
    public static func service(ofGroup group: String) -> String {
        group.range(of: ".accounts-").map { String(group[..<$0.lowerBound]) } ?? group
    }

    /// The coverage its watermarks add (nil alone: the service's name says it all).
    public func coverage(service: String) -> Watermark.Coverage? {
        count == 1 ? nil : Watermark.Coverage(topic: service + Self.coverageSuffix, partitions: [Int32(index)], of: Int32(count))
    }
}

/// Several accounts traded side by side by one service: each account its own core (state, kill switches, live
/// parameters), every core fed the same market data and signals in the same order, and each trading message routed
/// to the core of its account. The outputs are each core's own, so an account trades exactly as it would alone.
public struct AccountsCore<Core: StreamCore>: StreamCore {
    public let accounts: [String]
    public private(set) var cores: [Core]
    public let accountShare: AccountShare
    /// The accounts the other replicas own: their messages are theirs, not strangers'.
    public let elsewhere: Set<String>
    private let index: [String: Int]

    public init(accounts: [String], cores: [Core], share: AccountShare = .whole, elsewhere: Set<String> = []) {
        precondition(!cores.isEmpty && accounts.count == cores.count, "one core per account, at least one")
        self.accounts = accounts
        self.cores = cores
        accountShare = share
        self.elsewhere = elsewhere
        index = Dictionary(uniqueKeysWithValues: accounts.enumerated().map { ($0.element, $0.offset) })
    }

    public var serviceName: String { cores[0].serviceName }
    public var inputTopics: [String] { cores[0].inputTopics }
    public var outputTopics: [String] { cores[0].outputTopics }
    public var outputCauses: [String: [String: Int64]] { cores[0].outputCauses }

    /// A message of an account held here goes to its core, one of an account another replica owns is left to it,
    /// and one of an account held nowhere goes to the first core, which treats a stranger as a one-account service
    /// always has (the broker rejects an order naming an unknown account, the dispatcher notes the account it does not
    /// know); everything else goes to every core.
    public mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
        if let scoped = message.payload as? AccountScoped {
            if let i = index[scoped.accountId] { return try cores[i].handle(message, from: topic) }
            return elsewhere.contains(scoped.accountId) ? [] : try cores[0].handle(message, from: topic)
        }
        // One account refusing what the others took (a parameter change valid over one account's parameters only)
        // must change no account: the input is dead-lettered as a whole.
        let before = cores
        var out = [Emit]()
        do {
            for i in cores.indices { out += try cores[i].handle(message, from: topic) }
        } catch {
            cores = before
            throw error
        }
        return out
    }

    /// What every account rules out: nil as soon as one promises nothing beyond its declared causes.
    public var lookahead: Lookahead? {
        var causes = [String: [String: Int64]]()
        var names = [String]()
        var resumesAt: Timestamp?
        for core in cores {
            guard let l = core.lookahead else { return nil }
            names.append(l.name)
            for (output, inputs) in l.causes {
                for (input, delay) in inputs { causes[output, default: [:]][input] = min(causes[output]?[input] ?? delay, delay) }
            }
            if let r = l.resumesAt { resumesAt = min(resumesAt ?? r, r) }
        }
        return Lookahead(name: names.joined(separator: "+"), causes: causes, resumesAt: resumesAt)
    }

    /// What every account's state vouches for together. None while another replica owns accounts: their messages come
    /// on the same topics at any time (and are left to it), so nothing here can vouch for a topic.
    public var quietInputs: QuietInputs? {
        guard elsewhere.isEmpty, var q = cores[0].quietInputs else { return nil }
        for core in cores.dropFirst() {
            guard let other = core.quietInputs else { return nil }
            q = q.merged(with: other)
        }
        return q.enders.isEmpty ? nil : q
    }

    public func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp {
        cores.map { $0.restoreStart(topic: topic, after: lastProcessed) }.min()!
    }

    public mutating func reset() { for i in cores.indices { cores[i].reset() } }

    struct Saved: Codable {
        var accounts: [String]
        var states: [String]
    }

    public func snapshotState() throws -> String? {
        var states = [String]()
        for core in cores {
            guard let s = try core.snapshotState() else { return nil }
            states.append(s)
        }
        return try SnapshotCoding.encode(Saved(accounts: accounts, states: states))
    }

    public mutating func restoreState(_ state: String) throws {
        let s = try SnapshotCoding.decode(Saved.self, state)
        guard s.accounts == accounts else {
            throw SnapshotMismatch("the snapshot holds accounts \(s.accounts.joined(separator: ",")); configured: \(accounts.joined(separator: ","))")
        }
        for i in cores.indices { try cores[i].restoreState(s.states[i]) }
    }
}
