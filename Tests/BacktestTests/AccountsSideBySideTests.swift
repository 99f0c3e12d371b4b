import Foundation
import MarketData
import OpsModel
import OpsRuntime
import Pipeline
import Testing

/// Issue 10: several simulated accounts trade the same signals side by side, each with its own dispatcher, broker and
/// position-manager state, and none of them changes what another does.
@Suite("Several accounts side by side")
struct AccountsSideBySideTests {
    static let tradingTopics = [Topics.decisions, Topics.orders, Topics.orderEvents, Topics.fills, Topics.accounts, Topics.positions, Topics.greeks]

    /// A 3-session synthetic backtest's trading topics, each message as its bytes, by account.
    static func run(_ settings: [String]) throws -> [String: [String: [String]]] {
        var spec = MarketSourceSpec()
        spec.synthetic = 42
        spec.sessions = 3
        var bt = Backtest(source: try spec.load(), cores: try Backtest.cores(settings: settings + ServiceGraph.simulatedBrokerSettings))
        bt.options.collect = Set(tradingTopics)
        let collected = try bt.run().collected
        var out = [String: [String: [String]]]()
        for topic in tradingTopics {
            for e in collected[topic] ?? [] {
                guard let scoped = e.payload as? AccountScoped else { continue }
                var copy = e
                copy.producedAt = nil
                out[scoped.accountId, default: [:]][topic, default: []].append(String(decoding: try copy.encoded(), as: UTF8.self))
            }
        }
        return out
    }

    static func accounts(_ list: String) -> [String] {
        ServiceGraph.accountServices.map { "\($0.name):\(ServiceGraph.accountsKey.name)=\(list)" }
    }

    static let together = Result { try run(accounts("tiny=1000,small=5000,large=100000")) }

    @Test("each account's messages are byte for byte those of the same account run alone")
    func eachAsAlone() throws {
        let together = try Self.together.get()
        #expect(Set(together.keys) == ["tiny", "small", "large"])
        for (id, size) in [("tiny", "1000"), ("small", "5000"), ("large", "100000")] {
            let alone = try Self.run(Self.accounts("\(id)=\(size)"))
            #expect(Set(alone.keys) == [id])
            for topic in Self.tradingTopics {
                let a = alone[id]?[topic] ?? [], b = together[id]?[topic] ?? []
                #expect(a == b, "\(id) on \(topic): \(a.count) alone, \(b.count) side by side")
            }
        }
    }

    @Test("the sizes trade differently: each account sized by its own tier and cash")
    func sizesDiffer() throws {
        let together = try Self.together.get()
        func tiers(_ id: String) -> Set<String> {
            Set((together[id]?[Topics.decisions] ?? []).compactMap { line in
                let d = try? EnvelopeDecoder(accepting: [Decision.self]).decode(Array(line.utf8)).payload as? Decision
                return d?.sizing?.tier
            })
        }
        let large = together["large"]?[Topics.orders]?.count ?? 0
        #expect(large > 0, "the large account placed orders")
        #expect(tiers("tiny") != tiers("large"), "tiny \(tiers("tiny")), large \(tiers("large"))")
        let firstEquity = { (id: String) in together[id]?[Topics.accounts]?.first ?? "" }
        #expect(firstEquity("tiny").contains("\"cash_cents\":100000"), "\(firstEquity("tiny"))")
        #expect(firstEquity("large").contains("\"cash_cents\":10000000"), "\(firstEquity("large"))")
    }

    @Test("with one account listed, the accounts wrapper is transparent: the same bytes as the plain service (ids and all)")
    func oneAccountTransparent() throws {
        let plain = try Self.run(["broker-gateway:account_size=25000"])
        let wrapped = try Self.run(Self.accounts("sim-1=25000"))
        #expect(plain == wrapped)
        #expect((plain["sim-1"]?[Topics.decisions]?.count ?? 0) > 0)
    }

    @Test("replicas share out the accounts: each account has one owner, the split is even and the same everywhere")
    func shares() throws {
        let list = try AccountList(parsing: "tiny=1000,small=5000,medium=25000,large=100000")
        let owners = (0..<3).map { i in list.owned(by: AccountShare(index: i, count: 3)).map(\.id) }
        #expect(owners == [["tiny", "large"], ["small"], ["medium"]])
        #expect(AccountShare(index: 1, count: 2).groupId(service: "dispatcher") == "dispatcher.accounts-1-of-2")
        #expect(AccountShare.whole.groupId(service: "dispatcher") == "dispatcher")
        #expect(throws: MessageError.self) { try AccountList(parsing: "tiny=1000,tiny=5000") }
        #expect(throws: MessageError.self) { try AccountList(parsing: "tiny=-5") }
        #expect(throws: MessageError.self) { try AccountShare(parsing: "2/2") }
    }

    /// Records what it is handed.
    struct Probe: StreamCore {
        var serviceName: String { "probe" }
        var inputTopics: [String] { [Topics.control, Topics.sentiment] }
        var outputTopics: [String] { [] }
        var seen: [String] = []
        mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
            seen.append((message.payload as? OperatorControl)?.accountId ?? "market")
            return []
        }
        func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp { .distantPast }
        mutating func reset() { seen = [] }
    }

    @Test("routing: an account's messages to its core, another replica's to none, a stranger's to the first, market data to all")
    func routing() throws {
        var core = AccountsCore(accounts: ["a", "c"], cores: [Probe(), Probe()], share: AccountShare(index: 0, count: 2), elsewhere: ["b"])
        let t = Timestamp(iso8601: "2024-03-12T14:00:00Z")!
        func control(_ account: String) -> AnyEnvelope {
            let c = OperatorControl(accountId: account, action: .halt, reason: "test", flatten: false, requestedBy: "test")
            return Envelope(id: c.id(at: t), eventTime: t, causationId: nil, source: "test", payload: c).erased()
        }
        for account in ["c", "b", "zz", "a"] { _ = try core.handle(control(account), from: Topics.control) }
        let sentiment = SentimentScore(ticker: "SPY", score: 0.1, source: "test")
        _ = try core.handle(Envelope(id: sentiment.id(at: t), eventTime: t, causationId: nil, source: "test", payload: sentiment).erased(), from: Topics.sentiment)
        #expect(core.cores[0].seen == ["zz", "a", "market"])
        #expect(core.cores[1].seen == ["c", "market"])
        #expect(core.accountShare.coverage(service: core.serviceName) == Watermark.Coverage(topic: "probe#accounts", partitions: [0], of: 2))
    }

    @Test("bad account config fails at startup naming the key")
    func badConfig() {
        for (settings, key) in [(["accounts=tiny=abc"], "accounts"), (["accounts=a=1000", "account_replica=0/3"], "account_replica"),
                                (["account_replica=1/2"], "account_replica")] {
            #expect {
                _ = try ServiceGraph.dispatcher.core(settings: settings)
            } throws: { error in
                "\(error)".contains("'\(key)'")
            }
        }
    }
}
