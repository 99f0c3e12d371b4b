import OpsModel

/// What a `POST /v2/orders` told us, for exactly-once submission: only a definitive answer ends the attempt.
/// A timeout, a 5xx, a 429 or a dropped connection may still have placed the order (Alpaca-API #270), and a
/// "client_order_id must be unique" means it did — both are settled by looking the client id up, never by
/// submitting again blindly.
public enum SubmitOutcome: Equatable, Sendable {
    /// Alpaca took the order; its state so far.
    case accepted(Alpaca.Order)
    /// Alpaca refused it (4xx other than a duplicate id): the order does not exist there.
    case refused(status: Int, code: Int?, message: String)
    /// Alpaca already knows this client order id.
    case knownClientId
    /// It may or may not have landed: look it up before anything else.
    case ambiguous(String)

    /// Classifies an HTTP exchange; `status` nil means no response (timeout, connection lost) with `transportError`.
    public static func classify(status: Int?, body: [UInt8], transportError: String? = nil) -> SubmitOutcome {
        guard let status else { return .ambiguous(transportError ?? "no response") }
        let error = try? Alpaca.decode(Alpaca.ErrorBody.self, from: body)
        if let error, isDuplicateClientId(error.message) { return .knownClientId }
        switch status {
        case 200..<300:
            guard let order = try? Alpaca.decode(Alpaca.Order.self, from: body) else {
                return .ambiguous("HTTP \(status) with a body that is not an order")
            }
            return .accepted(order)
        case 429: return .ambiguous("HTTP 429 rate limited")
        case 408, 500...: return .ambiguous("HTTP \(status)\(error.map { ": \($0.message)" } ?? "")")
        default:
            return .refused(status: status, code: error?.code, message: error?.message ?? String(decoding: body.prefix(300), as: UTF8.self))
        }
    }

    public static func isDuplicateClientId(_ message: String) -> Bool {
        message.lowercased().contains("client_order_id must be unique")
    }
}
