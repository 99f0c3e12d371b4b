import AlpacaClient
import AlpacaCore
import Kafka
import Logging
import OpsModel
import OpsRuntime

/// Invariant 9: live trading is opt-in. `--broker alpaca-live` starts only with the exact confirmation phrase, with
/// every kill switch and option gate enabled at finite limits, and with a passing readiness report on what the
/// paper account did (seed 004's "Ready for Live Options If") — all checked before any request leaves, so a refused
/// start makes no request at all.
enum LiveGuard {
    static let phrase = "I-UNDERSTAND-REAL-MONEY"

    /// What the config alone decides: the phrase and the guardrails.
    static func check(params: TradingParams, confirmation: String?) throws(AlpacaStartError) {
        guard confirmation == phrase else {
            throw AlpacaStartError("--broker alpaca-live trades real money: add --confirm-live \(phrase) (or use --broker alpaca-paper)")
        }
        let off = LiveReadiness.guardrails(params: params).filter { !$0.passed }
        guard off.isEmpty else {
            throw AlpacaStartError("--broker alpaca-live needs every kill switch and option gate on with finite limits in trading_params.json:\n"
                                    + off.map { "  " + $0.line }.joined(separator: "\n"))
        }
    }

    /// The readiness report of the paper account (config `readiness_account`) from the topics on these brokers.
    static func checkReadiness(params: TradingParams, paperAccount: String?, client: KafkaClientConfig, logger: Logger) throws {
        guard let paperAccount, !paperAccount.isEmpty else {
            throw AlpacaStartError("--broker alpaca-live needs the paper account whose record shows it is ready: --set readiness_account=PAPER_ACCOUNT_ID")
        }
        var envelopes = [AnyEnvelope]()
        for topic in LiveReadiness.topics { envelopes += try TopicReader.envelopes(client: client, topic: topic, logger: logger) }
        let report = LiveReadiness.evaluate(params: params, record: ReadinessRecord(accountId: paperAccount, envelopes: envelopes))
        if let refusal = report.refusal { throw AlpacaStartError("not ready for live trading:\n" + refusal) }
        for line in report.lines { logger.notice("\(line)") }
    }
}
