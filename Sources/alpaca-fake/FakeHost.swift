import AlpacaFakeCore
import Foundation
import MarketData
import NIOCore
import OpsModel

/// The fake's one piece of shared state: the pure FakeAlpaca, the open websocket connections and the requests held
/// by a timeout fault. Everything that changes the exchange goes through this actor, in arrival order.
actor FakeHost {
    enum StreamKind: String, Sendable { case trade, iex, sip }

    /// A frame to send on a websocket connection; `nil` text ends the connection.
    struct Frame: Sendable {
        var text: String
        var binary: Bool
    }

    struct Connection {
        var kind: StreamKind
        var continuation: AsyncStream<Frame>.Continuation
        var channel: any Channel
        var trade = TradeStreamSession()
        var bars = BarStreamSession()
    }

    var fake: FakeAlpaca
    let textFrames: Bool
    let requestLog: FileHandle?
    var connections: [Int: Connection] = [:]
    var holds: [Int: CheckedContinuation<Void, Never>] = [:]
    var nextID = 0
    var stopped = false

    init(fake: FakeAlpaca, textFrames: Bool, requestLog: FileHandle?) {
        self.fake = fake
        self.textFrames = textFrames
        self.requestLog = requestLog
    }

    static func wallMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    // MARK: HTTP

    func handle(_ request: FakeRequest) -> FakeReply {
        let reply = fake.handle(request, wallMs: Self.wallMs())
        if let entry = reply.logEntry, let requestLog {
            requestLog.write(Data((entry.encoded + "\n").utf8))
        }
        publish(reply.updates)
        if reply.dropStreams { dropAll() }
        return reply
    }

    /// Holds a request's answer until the client closes the connection, the server stops, or `seconds` pass.
    func hold(channel: any Channel, seconds: Int) async {
        guard !stopped else { return }
        nextID += 1
        let id = nextID
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            holds[id] = c
            channel.closeFuture.whenComplete { _ in Task { await self.release(id) } }
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                self.release(id)
            }
        }
    }

    func release(_ id: Int) { holds.removeValue(forKey: id)?.resume() }

    // MARK: time

    func tick() {
        let (updates, bars) = fake.tick(wallMs: Self.wallMs())
        publish(updates)
        guard !bars.isEmpty else { return }
        for (_, c) in connections where c.kind != .trade {
            if let m = c.bars.message(for: bars) { c.continuation.yield(Frame(text: m.encoded, binary: false)) }
        }
    }

    func publish(_ updates: [TradeUpdate]) {
        guard !updates.isEmpty else { return }
        for (_, c) in connections where c.kind == .trade && c.trade.listening {
            for u in updates { c.continuation.yield(Frame(text: u.json.encoded, binary: !textFrames)) }
        }
    }

    // MARK: websockets

    /// Registers a connection; nil (after telling the client why) when a data feed already has one.
    func open(_ kind: StreamKind, channel: any Channel) -> (id: Int, frames: AsyncStream<Frame>) {
        nextID += 1
        let id = nextID
        let (stream, continuation) = AsyncStream.makeStream(of: Frame.self)
        if stopped { continuation.finish(); return (id, stream) }
        if kind != .trade {
            if connections.values.contains(where: { $0.kind == kind }) {
                continuation.yield(Frame(text: BarStreamSession.connectionLimit.encoded, binary: false))
                continuation.finish()
                return (id, stream)
            }
            continuation.yield(Frame(text: BarStreamSession.connected.encoded, binary: false))
        }
        connections[id] = Connection(kind: kind, continuation: continuation, channel: channel)
        return (id, stream)
    }

    func receive(_ id: Int, text: String) {
        guard var c = connections[id] else { return }
        let (replies, close): ([JSON], Bool)
        if c.kind == .trade {
            (replies, close) = c.trade.receive(text, fake: fake)
        } else {
            (replies, close) = c.bars.receive(text, fake: fake)
        }
        connections[id] = c
        for r in replies { c.continuation.yield(Frame(text: r.encoded, binary: c.kind == .trade && !textFrames)) }
        if close { closeConnection(id) }
    }

    func closeConnection(_ id: Int) {
        connections.removeValue(forKey: id)?.continuation.finish()
    }

    /// Drops every websocket connection at once, without a close handshake, as a network failure would.
    func dropAll() {
        for (_, c) in connections {
            c.continuation.finish()
            c.channel.close(mode: .all, promise: nil)
        }
        connections.removeAll()
    }

    func stop() {
        stopped = true
        dropAll()
        for (_, c) in holds { c.resume() }
        holds.removeAll()
    }

    var isStopped: Bool { stopped }
}
