import ArgumentParser
import Foundation
import Hummingbird
import Kafka
import Logging
import NIOCore
import OpsModel
import OpsRuntime
import RunAnalysis
import Synchronization

/// `opsctl dashboard`: a web page that follows the live topics (accounts, decisions, positions, fills, Greeks,
/// control, dead letters) and pushes every change to the browser as a server-sent event; halt/resume per account
/// with a token from the environment. Binds to 127.0.0.1 unless told otherwise.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve a live web dashboard of the pipeline's topics (equity, kill switches, positions with Greeks, decisions, dead letters; halt/resume).",
        discussion: """
        Open http://127.0.0.1:8080/ (the page needs no reload: updates arrive as server-sent events on /events; /state.json \
        has the figures for machines). Halt and resume publish on \(Topics.control) like `opsctl halt`, and need the token \
        in OPS_DASHBOARD_TOKEN (typed into the page); without it the buttons are not shown. --bind 0.0.0.0 serves other hosts.
        """)

    @OptionGroup var connection: KafkaConnection
    @Option(help: "Port to serve on (0: any free port, printed).") var port: Int = 8080
    @Option(help: "Address to bind (default loopback only).") var bind: String = "127.0.0.1"

    func run() async throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port takes 0–65535; got \(port)") }
        LogSetup.bootstrap(level: "warning")
        let token = ProcessInfo.processInfo.environment["OPS_DASHBOARD_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let client = try connection.client(id: "opsctl-dashboard")
        let hub = DashboardHub(controlsEnabled: token != nil)
        let logger = Logger(service: "dashboard")
        let follower = Thread { DashboardHub.follow(client: client, hub: hub, logger: logger) }
        follower.start()
        let bindHost = bind
        let app = Application(router: Self.router(hub: hub, client: client, token: token, logger: logger),
                              configuration: .init(address: .hostname(bind, port: port), serverName: "ops-dashboard"),
                              onServerRunning: { channel in
                                  let bound = channel.localAddress?.port ?? 0
                                  let line = "dashboard listening on http://\(bindHost):\(bound)/" + (token == nil ? " (halt/resume off: OPS_DASHBOARD_TOKEN is not set)" : "")
                                  FileHandle.standardOutput.write(Data((line + "\n").utf8))
                                  // The listener closes when shutdown begins: end the event streams so open pages do
                                  // not hold the shutdown.
                                  channel.closeFuture.whenComplete { _ in hub.finish() }
                              }, logger: logger)
        try await app.runService()
    }

    static func router(hub: DashboardHub, client: KafkaClientConfig, token: String?, logger: Logger) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: hub.page())))
        }
        router.get("/state.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: hub.json())))
        }
        router.get("/events") { _, _ in
            let stream = hub.subscribe()
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: .init { writer in
                for await html in stream {
                    let event = html.split(separator: "\n", omittingEmptySubsequences: false).map { "data: \($0)" }.joined(separator: "\n") + "\n\n"
                    try await writer.write(ByteBuffer(string: event))
                }
                try await writer.finish(nil)
            })
        }
        router.post("/control") { request, context -> Response in
            guard let token else { return text(.forbidden, "halt/resume are off: start the dashboard with OPS_DASHBOARD_TOKEN set") }
            guard let auth = request.headers[.authorization], DashboardHub.same(auth, "Bearer \(token)") else {
                return text(.unauthorized, "wrong or missing token (Authorization: Bearer <OPS_DASHBOARD_TOKEN>)")
            }
            var request = request
            let body = try await request.collectBody(upTo: 64 << 10)
            guard let obj = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: String],
                  let account = obj["account"], let action = obj["action"].flatMap(OperatorControl.Action.init(rawValue:)) else {
                return text(.badRequest, "expected {\"account\":\"sim-1\",\"action\":\"halt\"|\"resume\"}")
            }
            guard let t = hub.latestTime(account) else { return text(.notFound, "unknown account '\(account)'; known: \(hub.accountIds.joined(separator: ", "))") }
            let command = OperatorControl(accountId: account, action: action, reason: obj["reason"] ?? "\(action.rawValue) from the dashboard",
                                          flatten: false, requestedBy: "dashboard@\(ProcessInfo.processInfo.hostName)")
            let line = try await runOnDedicatedThread(name: "control") { () throws -> String in
                let producer = try KafkaProducer(config: KafkaProducerConfig(client: client), logger: logger)
                defer { producer.close() }
                _ = try producer.send([try ControlTarget.record(command, at: t)])
                return "\(action.rawValue) \(account) at \(t.iso8601)"
            }
            logger.notice("operator control from the dashboard", metadata: ["command": "\(line)"])
            return text(.ok, line)
        }
        return router
    }

    static func text(_ status: HTTPResponse.Status, _ s: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: s)))
    }
}

/// The dashboard's state and its subscribers, shared by the topic follower (a thread) and the HTTP handlers.
final class DashboardHub: Sendable {
    struct Inner {
        var state = DashboardState()
        var seen = Set<String>()
        var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]
        var lastSent = Date()
        var finished = false
    }
    let inner = Mutex(Inner())
    let controlsEnabled: Bool

    init(controlsEnabled: Bool) { self.controlsEnabled = controlsEnabled }

    func apply(_ batch: [AnyEnvelope]) {
        inner.withLock { i in
            let before = i.state.version
            for e in batch where i.seen.insert(e.id).inserted { i.state.apply(e) }
            guard i.state.version != before else { return }
            send(&i)
        }
    }

    private func send(_ i: inout Inner) {
        let html = DashboardView.live(i.state, controlsEnabled: controlsEnabled)
        for c in i.subscribers.values { c.yield(html) }
        i.lastSent = Date()
    }

    /// Resends the page part after 15 s without a change: a browser that went away is noticed (the write fails) and
    /// its stream ended, and proxies see traffic.
    func heartbeat() {
        inner.withLock { i in if Date().timeIntervalSince(i.lastSent) > 15 { send(&i) } }
    }

    /// Ends every event stream (the server is shutting down).
    func finish() {
        inner.withLock { i in
            i.finished = true
            for c in i.subscribers.values { c.finish() }
            i.subscribers = [:]
        }
    }

    /// The current live part at once, then each change; slow readers get only the newest.
    func subscribe() -> AsyncStream<String> {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1))
        continuation.onTermination = { [weak self] _ in _ = self?.inner.withLock { $0.subscribers.removeValue(forKey: id) } }
        inner.withLock { i in
            continuation.yield(DashboardView.live(i.state, controlsEnabled: controlsEnabled))
            if i.finished { continuation.finish() } else { i.subscribers[id] = continuation }
        }
        return stream
    }

    func page() -> String { inner.withLock { DashboardView.page($0.state, controlsEnabled: controlsEnabled) } }
    func latestTime(_ account: String) -> Timestamp? { inner.withLock { $0.state.accounts[account].flatMap { $0.latestTime == .distantPast ? nil : $0.latestTime } } }
    var accountIds: [String] { inner.withLock { $0.state.accounts.keys.sorted() } }

    func json() -> String {
        inner.withLock { i in
            let accounts: [[String: Any]] = i.state.accounts.values.sorted { $0.id < $1.id }.map { a in
                ["account": a.id, "halted": a.halted, "equity_cents": a.snapshot?.equityCents as Any, "cash_cents": a.snapshot?.cashCents as Any,
                 "open_positions": a.positions.keys.sorted(), "fills": a.fills, "tier": a.tier as Any]
            }
            let obj: [String: Any] = ["version": i.state.version, "fills": i.state.fills, "accounts": accounts, "dead_letters": i.state.deadLetters.count]
            return String(decoding: (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
        }
    }

    /// Constant-time comparison: the token is not given away by timing.
    static func same(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Reads every partition of the followed topics from the beginning (no group: a dashboard is a viewer), waiting
    /// for topics that do not exist yet, and applies what it reads in batches. Retries a failing broker forever.
    static func follow(client: KafkaClientConfig, hub: DashboardHub, logger: Logger) {
        while true {
            do {
                let consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupId: "opsctl-dashboard-\(getpid())"), logger: logger)
                defer { consumer.close() }
                var parts = [TopicPartitionOffset]()
                for topic in DashboardState.topics {
                    var n = try consumer.partitionCount(topic: topic)
                    while n == 0 {
                        logger.warning("waiting for topic \(topic) to exist")
                        Thread.sleep(forTimeInterval: 2)
                        n = try consumer.partitionCount(topic: topic)
                    }
                    parts += (0..<Int32(n)).map { TopicPartitionOffset(topic: topic, partition: $0, offset: KafkaOffset.beginning) }
                }
                try consumer.assign(parts)
                while true {
                    var batch = [AnyEnvelope]()
                    while batch.count < 1000, let m = try consumer.poll(timeoutMs: batch.isEmpty ? 500 : 0) {
                        if let e = try? Topics.decoder(for: m.topic).decode(m.value), !(e.payload is Watermark) { batch.append(e) }
                    }
                    if !batch.isEmpty { hub.apply(batch) }
                    hub.heartbeat()
                }
            } catch {
                logger.warning("dashboard follower: \(error); retrying in 2 s")
                Thread.sleep(forTimeInterval: 2)
            }
        }
    }
}
