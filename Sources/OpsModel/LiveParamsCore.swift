/// A core whose trading parameters can change while it runs (`ops.params.v1`).
public protocol TradingParamsCore: StreamCore {
    /// The account whose changes apply besides those for every account (nil: a service for every account).
    var paramsAccount: String? { get }
    /// Uses `params` from the next input on (whatever the core derives from them is derived again).
    mutating func reconfigure(_ params: TradingParams)
}

/// Runs a core with live parameter changes: `ops.params.v1` ranks first among its inputs, so a change in force from
/// an event time applies before every other input of that time, in every service alike, and a replay or a restore
/// (which re-reads the whole topic) applies it at the same point. Every decision carries the `params_version` it
/// was made under. A change that does not validate over the parameters in force is dead-lettered; nothing changes.
public struct LiveParamsCore<Core: TradingParamsCore>: StreamCore {
    public private(set) var core: Core
    public private(set) var live: LiveParams

    public init(_ core: Core, configured: TradingParams) {
        self.core = core
        live = LiveParams(configured)
    }

    public var serviceName: String { core.serviceName }
    public var inputTopics: [String] { [Topics.params] + core.inputTopics }
    public var outputTopics: [String] { core.outputTopics }
    /// A change causes nothing by itself: what it changes shows at the inputs after it.
    public var outputCauses: [String: [String: Int64]] { core.outputCauses }
    public var lookahead: Lookahead? { core.lookahead }
    /// A change makes no order by itself, so it ends no quiet.
    public var quietInputs: QuietInputs? { core.quietInputs }

    public mutating func handle(_ message: AnyEnvelope, from topic: String) throws(MessageError) -> [Emit] {
        if let change = message.payload as? ParamsChange {
            if try live.apply(change, account: core.paramsAccount) { core.reconfigure(live.current) }
            return []
        }
        var out = try core.handle(message, from: topic)
        for i in out.indices {
            guard var d = out[i].envelope.payload as? Decision else { continue }
            d.paramsVersion = live.version
            out[i].envelope.payload = d
        }
        return out
    }

    public func restoreStart(topic: String, after lastProcessed: Timestamp) -> Timestamp {
        topic == Topics.params ? .distantPast : core.restoreStart(topic: topic, after: lastProcessed)
    }

    public mutating func reset() {
        live.reset()
        core.reconfigure(live.configured)
        core.reset()
    }

    /// The parameters in force go with the core's state; the configured ones too, so a restart with another
    /// trading_params.json rebuilds from the topics (applying every change over the new file) instead.
    struct Saved: Codable {
        var configured: TradingParams
        var current: TradingParams
        var version: Int64
        var core: String
    }

    public func snapshotState() throws -> String? {
        guard let inner = try core.snapshotState() else { return nil }
        return try SnapshotCoding.encode(Saved(configured: live.configured, current: live.current, version: live.version, core: inner))
    }

    public mutating func restoreState(_ state: String) throws {
        let s = try SnapshotCoding.decode(Saved.self, state)
        guard s.configured == live.configured else {
            throw SnapshotMismatch("the configured trading parameters differ from the snapshot's (a new trading_params.json)")
        }
        live.restore(current: s.current, version: s.version)
        core.reconfigure(live.current)
        try core.restoreState(s.core)
    }
}
