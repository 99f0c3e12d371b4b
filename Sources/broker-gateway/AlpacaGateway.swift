import AlpacaClient
import AlpacaCore
import Foundation
import Kafka
import Logging
import Metrics
import NIOHTTP1
import OpsModel
import OpsRuntime

/// The broker-gateway on Alpaca: the I/O around `AlpacaLedger`. Order commands come from Kafka, answers from
/// Alpaca's REST API and trade_updates stream; everything the ledger emits is stamped with the receive time on
/// the live clock (never earlier than what was already published) and produced to the same topics the simulator
/// writes, followed by watermarks that follow that clock — so a live fill is never behind a watermark.
actor AlpacaGateway {
    var ledger: AlpacaLedger
    let rest: AlpacaREST
    let producer: KafkaProducer
    let clock: LiveClock
    let logger: Logger
    var partitions: [String: Int32] = [:]
    var lastStamp = Timestamp.distantPast
    var lastWatermark = Timestamp.distantPast
    var snapshotDue = false
    static let outputs = [Topics.orderEvents, Topics.fills, Topics.accounts]
    let submits = Counter(label: "alpaca_orders_submitted_total")
    let lookups = Counter(label: "alpaca_order_lookups_total")
    let updates = Counter(label: "alpaca_trade_updates_total")
    let fillsOut = Counter(label: "alpaca_fills_published_total")
    let warnings = Counter(label: "alpaca_reconciliation_warnings_total")

    init(ledger: AlpacaLedger, rest: AlpacaREST, producer: KafkaProducer, clock: LiveClock, logger: Logger) throws {
        self.ledger = ledger
        self.rest = rest
        self.producer = producer
        self.clock = clock
        self.logger = logger
        for t in Self.outputs { partitions[t] = Int32(try producer.partitionCount(topic: t)) }
    }

    /// Now on the live clock, never before a stamp already used.
    func now() -> Timestamp {
        let t = max(lastStamp, clock.now(wallMs: AlpacaREST.wallMs()))
        lastStamp = t
        return t
    }

    // MARK: inputs

    func command(_ env: Envelope<OrderCommand>) async {
        await run(ledger.command(env, at: now()))
    }

    func tradeUpdate(_ u: Alpaca.TradeUpdate) async {
        updates.increment()
        await run(ledger.tradeUpdate(u, at: now()))
        if snapshotDue { await snapshot() }
    }

    /// After every (re)connect of the stream: what happened while nobody listened.
    func catchUp() async {
        let since = (ledger.oldestOpenOrderTime ?? now()).adding(ms: -86_400_000)
        let query = [("status", "all"), ("limit", "500"), ("direction", "asc"), ("after", since.iso8601)]
        let answer = await rest.retrying(.GET, "/v2/orders", query: query)
        if answer.status == 200, let list = try? Alpaca.decode([Alpaca.Order].self, from: answer.body) {
            await run(ledger.listed(list, at: now()))
        } else {
            logger.error("listing orders after a reconnect failed", metadata: ["http.status": .string(answer.status.map(String.init) ?? "none")])
        }
        if snapshotDue { await snapshot() }
    }

    /// Startup: look up every order the topics leave open, list recent orders, then reconcile holdings.
    func reconcileAtStartup() async {
        await run(actions: ledger.restoreLookups())
        await catchUp()
        await reconcileHoldings()
        await snapshot()
    }

    /// Alpaca's positions and option activities (expiry, exercise, assignment) against the topics' holdings; at
    /// startup, after every reconnect of the stream, and every half hour (contracts expire after the close).
    func reconcileHoldings() async {
        let positions = await rest.retrying(.GET, "/v2/positions")
        let activities = await rest.retrying(.GET, "/v2/account/activities", query: [("activity_types", "OPEXP,OPEXC,OPASN")])
        guard positions.status == 200, let held = try? Alpaca.decode([Alpaca.Position].self, from: positions.body) else {
            logger.error("reading Alpaca positions failed: holdings not reconciled", metadata: ["http.status": .string(positions.status.map(String.init) ?? "none")])
            return
        }
        let acts = activities.status == 200 ? (try? Alpaca.decode([Alpaca.Activity].self, from: activities.body)) ?? [] : []
        await run(ledger.reconcile(positions: held, activities: acts, at: now()))
    }

    func snapshot() async {
        snapshotDue = false
        let answer = await rest.retrying(.GET, "/v2/account")
        guard answer.status == 200, let account = try? Alpaca.decode(Alpaca.Account.self, from: answer.body) else {
            logger.error("reading the Alpaca account failed", metadata: ["http.status": .string(answer.status.map(String.init) ?? "none")])
            return
        }
        await run(ledger.account(account, at: now()))
    }

    /// Every second: watermarks at the clock, and cancels for entries past their TTL.
    func tick() async {
        await run(actions: ledger.expiredEntries(at: now()))
        publishWatermarks(at: now())
    }

    /// The end of a bounded run: a final watermark at `t` (or now, if later); later stamps never fall behind it.
    func finish(after t: Timestamp) async {
        let w = max(t, now())
        lastStamp = w
        publishWatermarks(at: w)
    }

    // MARK: actions

    func run(_ step: AlpacaLedger.Step) async {
        for w in step.warnings { logger.warning("\(w)"); warnings.increment() }
        fillsOut.increment(by: step.emits.filter { $0.envelope.payload is Fill }.count)
        publish(step.emits)
        await run(actions: step.actions)
    }

    func run(actions: [AlpacaLedger.Action]) async {
        for action in actions {
            switch action {
            case .submit(let request): await submit(request)
            case .lookup(let id): await lookup(id)
            case .cancel(let alpacaId, let id): await cancel(alpacaId, id)
            }
        }
    }

    func submit(_ request: Alpaca.OrderRequest) async {
        let body = (try? Alpaca.encode(request)) ?? []
        submits.increment()
        let answer = await rest.send(.POST, "/v2/orders", body: body)
        let outcome = SubmitOutcome.classify(status: answer.status, body: answer.body, transportError: answer.transportError)
        logger.info("order submitted", metadata: ["order.client_id": .string(request.clientOrderId), "order.symbol": .string(request.symbol),
                                                  "http.status": .string(answer.status.map(String.init) ?? "none")])
        await run(ledger.submitted(request.clientOrderId, outcome, at: now()))
    }

    func lookup(_ clientOrderId: String) async {
        let backoff = Backoff()
        var attempt = 0
        while true {
            lookups.increment()
            let answer = await rest.retrying(.GET, "/v2/orders:by_client_order_id", query: [("client_order_id", clientOrderId)])
            if answer.status == 200, let order = try? Alpaca.decode(Alpaca.Order.self, from: answer.body) {
                return await run(ledger.lookedUp(clientOrderId, order, at: now()))
            }
            if answer.status == 404 { return await run(ledger.lookedUp(clientOrderId, nil, at: now())) }
            // Nothing is sent for this id until Alpaca has answered: keep asking, further apart.
            logger.warning("looking up an order failed, retrying", metadata: ["order.client_id": .string(clientOrderId),
                                                                            "http.status": .string(answer.status.map(String.init) ?? "none")])
            try? await Task.sleep(for: .milliseconds(backoff.delayMs(attempt: attempt, unit: Double.random(in: 0.5..<1))))
            attempt += 1
        }
    }

    func cancel(_ alpacaId: String, _ clientOrderId: String) async {
        let answer = await rest.retrying(.DELETE, "/v2/orders/\(alpacaId)")
        // 204: the `canceled` update follows on the stream. Anything else: ask what became of it.
        if answer.status != 204 && answer.status != 200 { await lookup(clientOrderId) }
    }

    // MARK: Kafka

    func publish(_ emits: [Emit]) {
        guard !emits.isEmpty else { return }
        var records = [ProducerRecord]()
        for e in emits {
            var env = e.envelope
            env.producedAt = Timestamp(ms: AlpacaREST.wallMs())
            guard let value = try? env.encoded() else { continue }
            records.append(ProducerRecord(topic: e.topic, key: Array(env.partitionKey.utf8), value: value, partition: nil))
            if e.envelope.payload is Fill { snapshotDue = true }
        }
        send(records)
        if let last = emits.map(\.envelope.eventTime).max() { publishWatermarks(at: last) }
    }

    func publishWatermarks(at t: Timestamp) {
        guard t > lastWatermark else { return }
        send(SourceWatermarks(producer: AlpacaLedger.source, partitions: partitions).records(at: t, topics: Self.outputs))
        lastWatermark = t
    }

    /// Transient broker faults are retried inside; only a fatal one is logged here.
    func send(_ records: [ProducerRecord]) {
        do { try producer.sendRetrying(records, logger: logger) } catch {
            logger.critical("producing to Kafka failed for good", metadata: ["kafka.error": .string("\(error)")])
        }
    }
}
