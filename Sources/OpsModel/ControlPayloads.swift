import Foundation

/// An operator's command to an account's trading (seed 004 §2 "emergency stop"), on `ops.control.v1`.
///
/// `halt`: the account takes no new entries from the command's event time on (exits go on); with `flatten` the
/// position-manager also exits every open position of the account at its next quote. `resume` lifts a halt from
/// its event time. A halt is topic state: every service that honours it re-reads the control topic from the
/// beginning on restart, so it survives restarts.
public struct OperatorControl: Payload {
    public static let messageType = "control"
    public static let version = 1

    public enum Action: String, Codable, Sendable { case halt, resume }

    public var accountId: String
    public var action: Action
    public var reason: String
    public var flatten: Bool
    /// Who asked (user@host), for the audit trail.
    public var requestedBy: String

    enum CodingKeys: String, CodingKey {
        case action, reason, flatten
        case accountId = "account_id", requestedBy = "requested_by"
    }

    public init(accountId: String, action: Action, reason: String, flatten: Bool, requestedBy: String) {
        self.accountId = accountId; self.action = action; self.reason = reason; self.flatten = flatten; self.requestedBy = requestedBy
    }

    public var partitionKey: String { accountId }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        guard !accountId.isEmpty else { throw .invalid("empty account_id") }
        if action == .halt, reason.trimmingCharacters(in: .whitespaces).isEmpty { throw .invalid("a halt needs a reason") }
        if action == .resume, flatten { throw .invalid("flatten goes with halt, not resume") }
    }

    public func id(at t: Timestamp) -> String { DeterministicID.make("control", accountId, action.rawValue, t.iso8601, reason) }
}

/// An account's operator halt as of some event time: what the dispatcher and the position-manager keep.
public struct HaltState: Sendable, Equatable {
    public var since: Timestamp
    public var reason: String
    public var flatten: Bool
    public var requestedBy: String

    /// The halt in force at `t` given an account's control commands (in any order): the latest command at or
    /// before `t` decides; nil when it is a resume or there is none. Ties at one instant: halt wins (the safe side).
    public static func inForce(at t: Timestamp, commands: [(Timestamp, OperatorControl)]) -> HaltState? {
        var latest: (Timestamp, OperatorControl)?
        for (time, c) in commands where time <= t {
            guard let l = latest else { latest = (time, c); continue }
            if time > l.0 || (time == l.0 && c.action == .halt) { latest = (time, c) }
        }
        guard let (time, c) = latest, c.action == .halt else { return nil }
        return HaltState(since: time, reason: c.reason, flatten: c.flatten, requestedBy: c.requestedBy)
    }
}
