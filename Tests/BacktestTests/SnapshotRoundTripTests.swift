import Foundation
import OpsModel
import OpsRuntime
import Pipeline
import Testing

/// Issue 9 snapshots: a core restored from its own snapshot behaves exactly as the one that wrote it. Every stateful
/// core here is replaced, after every third input it handles, by a fresh copy restored from a snapshot of its state;
/// the run's outputs must not change by a byte.
@Suite("Snapshot round trips")
struct SnapshotRoundTripTests {
    /// Runs `base`, swapping it after each input for a reset copy given `base`'s snapshot.
    struct RoundTrip: StreamCore {
        var base: AnyStreamCore
        /// Round trips after every `every`-th input (a dispatcher's state holds every underlying's chain).
        var every = 3
        var handled = 0
        var trips = 0
        var serviceName: String { base.serviceName }
        var inputTopics: [String] { base.inputTopics }
        var outputTopics: [String] { base.outputTopics }
        var outputCauses: [String: [String: Int64]] { base.outputCauses }
        var lookahead: Lookahead? { base.lookahead }
        func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp { base.restoreStart(topic: topic, after: lastProcessed) }
        mutating func reset() { base.reset() }

        mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
            let out = try base.handle(message, from: topic)
            handled += 1
            guard handled % every == 0 else { return out }
            do {
                guard let state = try base.snapshotState() else { return out }
                var fresh = base
                fresh.reset()
                try fresh.restoreState(state)
                base = fresh
                trips += 1
            } catch {
                Issue.record("\(serviceName): snapshot round trip failed: \(error)")
            }
            return out
        }
    }

    static func run(_ settings: [String], roundTrips: Bool) throws -> InProcessPipeline {
        var spec = MarketSourceSpec()
        spec.synthetic = 42
        spec.sessions = 2
        var cores = try Backtest.cores(settings: settings)
        if roundTrips { cores = cores.map { RoundTrip(base: AnyStreamCore($0)) } }
        var bt = Backtest(source: try spec.load(), cores: cores)
        bt.options.collect = Set(Topics.recorded).subtracting(Topics.marketSource)
        bt.options.record = true
        bt.options.producedAt = Timestamp(ms: 0)
        return try bt.run()
    }

    @Test("dispatcher, broker-gateway and position-manager restored from a snapshot every third input change no output (options, scale-in, a small account)",
          arguments: [("{}", "100000"), (#"{"sizing":{"scale_in":true}}"#, "100000"), ("{}", "5000")])
    func restoredCoresChangeNothing(_ params: String, _ accountSize: String) throws {
        let set = try LookaheadPromiseTests.settings(params: params, accountSize: accountSize) + ServiceGraph.simulatedBrokerSettings
        let plain = try Self.run(set, roundTrips: false)
        let tripped = try Self.run(set, roundTrips: true)
        #expect((plain.collected[Topics.fills]?.count ?? 0) > 0, "the run trades, so the state has positions and orders to carry")
        #expect(!plain.recorded.isEmpty)
        for topic in plain.recorded.keys.sorted() {
            #expect(tripped.recorded[topic]?.map(\.bytes) == plain.recorded[topic]?.map(\.bytes), "\(topic): the same bytes")
        }
        var trips = [String: Int]()
        for (name, core) in tripped.coresForInspection { trips[name] = (core as? RoundTrip)?.trips ?? 0 }
        for name in [ServiceGraph.dispatcher.name, ServiceGraph.brokerGateway.name, ServiceGraph.positionManager.name] {
            #expect((trips[name] ?? 0) > 100, "\(name) was restored from a snapshot every third input: \(trips[name] ?? 0)")
        }
    }

    @Test("several accounts side by side: each account's state goes into the snapshot and comes back (no output changes)")
    func severalAccounts() throws {
        let set = ServiceGraph.accountServices.map { "\($0.name):\(ServiceGraph.accountsKey.name)=tiny=1000,large=100000" } + ServiceGraph.simulatedBrokerSettings
        let plain = try Self.run(set, roundTrips: false)
        let tripped = try Self.run(set, roundTrips: true)
        let accounts = Set((plain.collected[Topics.fills] ?? []).compactMap { ($0.payload as? Fill)?.accountId })
        #expect(accounts == ["tiny", "large"], "both accounts trade")
        for topic in plain.recorded.keys.sorted() {
            #expect(tripped.recorded[topic]?.map(\.bytes) == plain.recorded[topic]?.map(\.bytes), "\(topic): the same bytes")
        }
    }
}
