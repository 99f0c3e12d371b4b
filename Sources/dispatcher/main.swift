import ArgumentParser
import Pipeline
import Foundation
import Logging
import OpsModel
import OpsRuntime

/// dispatcher: signals → decisions (order or skip, every gate's result) and order commands.
@main
struct Dispatcher: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatcher",
        abstract: "Sizes and gates every signal (seed 000 Phase 1: account tiers, liquidity, DTE windows) into an order or a skip.",
        discussion: """
        Reads \(Topics.signals), \(Topics.chains), \(Topics.positions), \(Topics.accounts), \(Topics.orderEvents); writes \
        \(Topics.decisions) and \(Topics.orders). Every threshold is in config/trading_params.json (--set trading_params=PATH).
        """)

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceGraph.dispatcher.main(options: options, observer: { emit, logger in
            guard let d = emit.envelope.payload as? Decision else { return }
            if let sizing = d.sizing, d.outcome == .order {
                logger.info("\(sizing.rationale)", metadata: ["pipeline.ticker": .string(d.ticker), "order.client_id": .string(d.order?.clientOrderId ?? "")])
            } else {
                logger.info("skip \(d.ticker) \(d.direction.rawValue): \(d.skipReason ?? "?") — \(d.gates.first { !$0.passed }?.detail ?? "")",
                            metadata: ["pipeline.ticker": .string(d.ticker)])
            }
        })
    }
}
