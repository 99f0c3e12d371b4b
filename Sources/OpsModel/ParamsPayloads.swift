import Foundation

/// A change of trading parameters without a redeploy (seed 004 §6, the SSM idea), on `ops.params.v1`: dotted keys of
/// trading_params.json with their new values, in force from the envelope's event time for one account (or every
/// account), in every service that reads trading parameters. Validated by `opsctl params set` before it is published
/// and again by each service, which refuses (dead-letters) a change that does not validate: nothing changes then.
public struct ParamsChange: Payload {
    public static let messageType = "params_change"
    public static let version = 1

    /// Nil: every account.
    @Nullable public var accountId: String?
    /// The change's number on the topic (1, 2, …): decisions carry the latest their account's parameters include.
    public var paramsVersion: Int64
    /// Dotted key → the value as JSON text (`250`, `true`, `"small"`).
    public var changes: [String: String]
    public var reason: String
    /// Who asked (user@host), for the audit trail.
    public var requestedBy: String

    enum CodingKeys: String, CodingKey {
        case changes, reason
        case accountId = "account_id", paramsVersion = "params_version", requestedBy = "requested_by"
    }

    public init(accountId: String?, paramsVersion: Int64, changes: [String: String], reason: String, requestedBy: String) {
        self.accountId = accountId; self.paramsVersion = paramsVersion; self.changes = changes; self.reason = reason; self.requestedBy = requestedBy
    }

    /// Every account's changes share one key so they stay in order on one partition.
    public var partitionKey: String { accountId ?? Self.everyAccount }
    public static let everyAccount = "*"

    /// Keys no change may touch: they name the account a service runs for.
    public static let fixedKeys: Set<String> = ["account.account_id"]

    public func validate(eventTime: Timestamp) throws(MessageError) {
        if let a = accountId, a.isEmpty || a == Self.everyAccount { throw .invalid("account_id must name an account (null: every account)") }
        guard paramsVersion > 0 else { throw .invalid("params_version must be ≥ 1, got \(paramsVersion)") }
        guard !changes.isEmpty else { throw .invalid("a params change changes nothing") }
        for key in changes.keys.sorted() {
            guard !key.isEmpty, !key.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
                throw .invalid("'\(key)' is not a dotted key of trading_params.json")
            }
            if Self.fixedKeys.contains(key) { throw .invalid("'\(key)' cannot change while the services run") }
        }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw .invalid("a params change needs a reason") }
    }

    public func id(at t: Timestamp) -> String { DeterministicID.make("params", partitionKey, String(paramsVersion), t.iso8601) }
}

/// A service's trading parameters as changed live: the configured ones with every change for its account (or for
/// every account) applied in the order the changes take effect.
public struct LiveParams: Sendable {
    public let configured: TradingParams
    public private(set) var current: TradingParams
    /// The `params_version` of the latest change applied (0: as configured).
    public private(set) var version: Int64 = 0

    public init(_ configured: TradingParams) {
        self.configured = configured
        current = configured
    }

    /// Applies a change meant for `account` (nil: the service serves every account, so only changes for every account
    /// apply). Returns whether it applied; a change that does not validate over the current parameters throws and
    /// changes nothing.
    public mutating func apply(_ change: ParamsChange, account: String?) throws(MessageError) -> Bool {
        if let target = change.accountId, target != account { return false }
        do {
            current = try current.applying(change.changes, origin: "params change \(change.paramsVersion)")
        } catch {
            throw .invalid(error.description)
        }
        version = max(version, change.paramsVersion)
        return true
    }

    public mutating func reset() {
        current = configured
        version = 0
    }

    /// The parameters in force and their version as a snapshot holds them.
    public mutating func restore(current: TradingParams, version: Int64) {
        self.current = current
        self.version = version
    }
}

extension TradingParams {
    /// These parameters with each dotted key set to its value (JSON text; anything that is not JSON is taken as a
    /// string), validated as a trading_params.json would be: an unknown key or a bad value fails naming the key.
    public func applying(_ changes: [String: String], origin: String) throws(LoadError) -> TradingParams {
        var partial = [String: Any]()
        for (key, text) in changes {
            let value: Any = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text
            partial = Self.setting(partial, path: key.split(separator: ".").map(String.init)[...], to: value)
        }
        let base: [String: Any]
        do {
            base = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as! [String: Any]
        } catch { throw LoadError("cannot encode the current parameters: \(error)") }
        return try Self.load(merging: partial, over: base, origin: origin)
    }

    /// `dict` with the value at a dotted path set (intermediate objects created).
    public static func setting(_ dict: [String: Any], path: ArraySlice<String>, to value: Any) -> [String: Any] {
        var d = dict
        guard let head = path.first else { return d }
        if path.count == 1 { d[head] = value; return d }
        d[head] = setting(d[head] as? [String: Any] ?? [:], path: path.dropFirst(), to: value)
        return d
    }
}
