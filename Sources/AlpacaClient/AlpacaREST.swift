import AlpacaCore
import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
@_exported import NIOHTTP1

/// Alpaca's key pair. Read only from the environment or an owner-only file, never a flag; never printed — its
/// description is redacted so no log line, error or metric can carry it.
public struct AlpacaCredentials: Sendable, CustomStringConvertible {
    public let keyId: String
    public let secret: String
    public init(keyId: String, secret: String) { self.keyId = keyId; self.secret = secret }
    public var description: String { "AlpacaCredentials(redacted)" }

    public static let keyIdVariable = "APCA_API_KEY_ID"
    public static let secretVariable = "APCA_API_SECRET_KEY"

    /// The secrets file (`APCA_API_KEY_ID=…` and `APCA_API_SECRET_KEY=…` lines) when given, else the environment.
    public static func load(secretsFile: String?, environment: [String: String]) throws -> AlpacaCredentials {
        var values = environment
        if let secretsFile {
            let attributes: [FileAttributeKey: Any]
            do { attributes = try FileManager.default.attributesOfItem(atPath: secretsFile) } catch {
                throw AlpacaStartError("config key 'alpaca_secrets_file': cannot read \(secretsFile)")
            }
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o777
            guard mode & 0o077 == 0 else {
                throw AlpacaStartError("config key 'alpaca_secrets_file': \(secretsFile) is readable by others (mode \(String(mode, radix: 8))); run chmod 600 \(secretsFile)")
            }
            guard let text = try? String(contentsOfFile: secretsFile, encoding: .utf8) else {
                throw AlpacaStartError("config key 'alpaca_secrets_file': cannot read \(secretsFile)")
            }
            values = [:]
            for line in text.split(whereSeparator: \.isNewline) {
                guard let eq = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
                values[line[..<eq].trimmingCharacters(in: .whitespaces)] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            }
        }
        guard let key = values[keyIdVariable], !key.isEmpty, let secret = values[secretVariable], !secret.isEmpty else {
            throw AlpacaStartError("Alpaca keys missing: export \(keyIdVariable) and \(secretVariable), or pass --alpaca-secrets-file FILE (mode 600) holding both")
        }
        return AlpacaCredentials(keyId: key, secret: secret)
    }
}

/// A start that cannot go on (missing keys, a refused live start): the message says what to do instead.
public struct AlpacaStartError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One HTTP exchange: a status and body, or no response (timeout, connection lost) and why.
public struct HTTPAnswer: Sendable {
    public var status: Int?
    public var body: [UInt8]
    public var transportError: String?
}

/// Alpaca's REST API (trading or market data) over AsyncHTTPClient, paced by the `RateLimiter` (200/min, `X-RateLimit-*`, 429s).
public actor AlpacaREST {
    let http: HTTPClient
    let baseURL: String
    let credentials: AlpacaCredentials
    let timeout: TimeAmount
    let logger: Logger
    var limiter: RateLimiter

    public init(baseURL: String, credentials: AlpacaCredentials, perMinute: Int, timeoutSeconds: Int, logger: Logger) {
        self.http = HTTPClient(eventLoopGroupProvider: .singleton)
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.credentials = credentials
        self.timeout = .seconds(Int64(timeoutSeconds))
        self.logger = logger
        self.limiter = RateLimiter(perMinute: perMinute, nowMs: Self.wallMs())
    }

    public static func wallMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    public func shutdown() async { try? await http.shutdown() }

    /// Sends one request after the limiter allows it. Never throws: a transport failure is an answer without status.
    public func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil) async -> HTTPAnswer {
        while true {
            let wait = limiter.acquire(nowMs: Self.wallMs())
            if wait == 0 { break }
            try? await Task.sleep(for: .milliseconds(wait))
        }
        var request = HTTPClientRequest(url: baseURL + path + Self.queryString(query))
        request.method = method
        request.headers.add(name: "APCA-API-KEY-ID", value: credentials.keyId)
        request.headers.add(name: "APCA-API-SECRET-KEY", value: credentials.secret)
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await http.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 32 << 20)
            let status = Int(response.status.code)
            Counter(label: "alpaca_requests_total", dimensions: [("method", "\(method)"), ("status", String(status))]).increment()
            limiter.observe(status: status, remaining: response.headers.first(name: "X-RateLimit-Remaining").flatMap { Int($0) },
                            resetUnixSeconds: response.headers.first(name: "X-RateLimit-Reset").flatMap { Int64($0) }, nowMs: Self.wallMs())
            return HTTPAnswer(status: status, body: Array(buffer: bytes), transportError: nil)
        } catch {
            Counter(label: "alpaca_requests_total", dimensions: [("method", "\(method)"), ("status", "none")]).increment()
            return HTTPAnswer(status: nil, body: [], transportError: "\(method) \(path): \(String(describing: error))")
        }
    }

    static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return "?" + query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(separator: "&")
    }

    /// A read (GET, DELETE) retried with backoff and jitter while the answer is transient (no response, 429, 5xx).
    public func retrying(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], maxAttempts: Int = 12) async -> HTTPAnswer {
        let backoff = Backoff()
        var answer = HTTPAnswer(status: nil, body: [], transportError: nil)
        for attempt in 0..<maxAttempts {
            answer = await send(method, path, query: query)
            guard Self.isTransient(answer) else { return answer }
            let delay = backoff.delayMs(attempt: attempt, unit: Double.random(in: 0..<1))
            logger.warning("Alpaca request failed, retrying", metadata: [
                "alpaca.path": .string(path), "http.status": .string(answer.status.map(String.init) ?? "none"),
                "error": .string(answer.transportError ?? ""), "retry.attempt": .stringConvertible(attempt + 1), "retry.delay_ms": .stringConvertible(delay),
            ])
            try? await Task.sleep(for: .milliseconds(delay))
        }
        return answer
    }

    public static func isTransient(_ a: HTTPAnswer) -> Bool {
        guard let s = a.status else { return true }
        return s == 429 || s == 408 || s >= 500
    }
}
