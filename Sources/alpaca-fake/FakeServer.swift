import AlpacaFakeCore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import HTTPTypes
import NIOCore

/// The request context of both the HTTP routes and the websocket upgrades; it keeps the connection's channel so a
/// fault can drop it.
struct FakeContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<FakeContext>
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}

/// Every HTTP request goes to the pure FakeAlpaca through the host; this only translates bytes.
struct FakeResponder: HTTPResponder, HTTPResponderBuilder {
    let host: FakeHost
    let holdSeconds: Int

    func buildResponder() -> FakeResponder { self }

    func respond(to request: Request, context: FakeContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 4 << 20)
        let headers = request.headers.map { ($0.name.rawName, $0.value) }
        let fakeRequest = FakeRequest(method: request.method.rawValue, path: request.uri.path,
                                      query: Self.query(request.uri.query), headers: headers,
                                      body: Array(body.readableBytesView))
        let reply = await host.handle(fakeRequest)
        if reply.hold {
            await host.hold(channel: context.channel, seconds: holdSeconds)
            // Accepted, never answered: the connection goes away without a response.
            context.channel.close(mode: .all, promise: nil)
            throw HTTPError(.gatewayTimeout)
        }
        var fields = HTTPFields()
        for (k, v) in reply.headers { if let name = HTTPField.Name(k) { fields[name] = v } }
        guard let json = reply.body else { return Response(status: .init(code: reply.status), headers: fields) }
        fields[.contentType] = "application/json; charset=UTF-8"
        return Response(status: .init(code: reply.status), headers: fields,
                        body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }

    /// `a=1&b=x%3Ay` as pairs; '+' stays '+' (RFC 3339 offsets are often sent unescaped).
    static func query(_ text: String?) -> [(String, String)] {
        guard let text, !text.isEmpty else { return [] }
        return text.split(separator: "&").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
            let value = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
            return (key, value)
        }
    }
}

/// The websocket routes: /stream (trade_updates), /v2/iex and /v2/sip (stock bars).
func webSocketRouter(host: FakeHost) -> Router<FakeContext> {
    let router = Router(context: FakeContext.self)
    for (path, kind) in [("/stream", FakeHost.StreamKind.trade), ("/v2/iex", .iex), ("/v2/sip", .sip)] {
        router.ws(RouterPath(path)) { inbound, outbound, context in
            let (id, frames) = await host.open(kind, channel: context.requestContext.channel)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await f in frames {
                        var buffer = ByteBuffer()
                        buffer.writeString(f.text)
                        try await outbound.write(f.binary ? .binary(buffer) : .text(f.text))
                    }
                }
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        let text: String = switch message {
                        case .text(let s): s
                        case .binary(let b): String(buffer: b)
                        }
                        await host.receive(id, text: text)
                    }
                    await host.closeConnection(id)
                }
                try await group.next()
                group.cancelAll()
            }
            await host.closeConnection(id)
        }
    }
    return router
}
