import Foundation
import OpsModel

/// Deterministic pseudo-random numbers (SplitMix64), so "random" round trips are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Sample payloads and helpers shared by the OpsModel tests.
enum Fx {
    static func ts(_ text: String) -> Timestamp {
        guard let t = Timestamp(iso8601: text) else { fatalError("bad fixture time \(text)") }
        return t
    }

    /// 2024-02-20 09:30 New York, the start of a regular session minute.
    static let start = ts("2024-02-20T14:30:00Z")
    static let end = ts("2024-02-20T14:31:00Z")
    static let expiry = CivilDate(year: 2024, month: 3, day: 20)

    static func bar(ticker: String = "SPY", interval: BarInterval = .m1, start: Timestamp = start,
                    open: Double = 500.1, high: Double = 501, low: Double = 499.5, close: Double = 500.25,
                    volume: Int64 = 1234, vwap: Double? = nil, trades: Int64? = nil) -> Bar {
        Bar(ticker: ticker, interval: interval, start: start, open: open, high: high, low: low, close: close,
            volume: volume, vwap: vwap, trades: trades)
    }

    static func quote(_ symbol: String = "SPY240320C00510000", right: OptionRight = .call, strike: Double = 510,
                      bid: Double = 1.25, ask: Double = 1.30, iv: Double? = 0.14, delta: Double? = 0.31) -> OptionQuote {
        OptionQuote(symbol: symbol, right: right, strike: strike, expiration: expiry, bid: bid, ask: ask, last: 1.27,
                    volume: 1500, openInterest: 20_000, iv: iv, delta: delta, gamma: 0.02, theta: -0.15, vega: 0.3)
    }

    static func chain(contracts: [OptionQuote]? = nil) -> OptionChain {
        OptionChain(underlying: "SPY", underlyingPrice: 500.25, asOf: end, contracts: contracts ?? [
            quote(),
            quote("SPY240320P00490000", right: .put, strike: 490, bid: 0.8, ask: 0.85, iv: 0.16, delta: -0.22),
            OptionQuote(symbol: "SPY240320C00002500", right: .call, strike: 2.5, expiration: expiry, bid: 0, ask: 0,
                        volume: 0, openInterest: 0),
        ])
    }

    static func sentiment(score: Double = 0.42, articles: Int? = 7) -> SentimentScore {
        SentimentScore(ticker: "SPY", score: score, source: "newswire", articles: articles)
    }

    /// A feature vector in warm-up: every statistic null except ret_1m.
    static func warmupFeatures() -> FeatureVector {
        FeatureVector(ticker: "SPY", interval: "1m", sessionDate: CivilDate(year: 2024, month: 2, day: 20),
                      sessionBarIndex: 0, gapMinutes: nil, bar: bar(), sma20: nil, distanceSma20: nil, sma20Slope: nil,
                      slopeLookback: 5, volumeRatio: nil, close5mAgo: nil, close15mAgo: nil, ret1m: 0.1, ret5m: nil,
                      ret15m: nil, atr14: nil)
    }

    static func fullFeatures() -> FeatureVector {
        FeatureVector(ticker: "SPY", interval: "1m", sessionDate: CivilDate(year: 2024, month: 2, day: 20),
                      sessionBarIndex: 42, gapMinutes: 0, bar: bar(vwap: 500.2, trades: 311), sma20: 499.8,
                      distanceSma20: 0.0009, sma20Slope: -0.00012, slopeLookback: 5, volumeRatio: 1.7,
                      close5mAgo: 499.1, close15mAgo: 498.75, ret1m: 0.0003, ret5m: -0.0021, ret15m: 0.0115,
                      atr14: 0.83, sentimentScore: -0.25, sentimentTime: ts("2024-02-20T14:29:00Z"), atmIv: 0.145,
                      chainTime: ts("2024-02-20T14:30:00Z"), ivPercentile: 62.5, ivRank: 48.75)
    }

    static func deadLetter(original: [UInt8] = Array("{\"type\":\"bar\"".utf8), offset: Int64 = 42) -> DeadLetter {
        DeadLetter(topic: Topics.bars, partition: 3, offset: offset, key: Array("SPY".utf8), original: original,
                   error: MessageError(.malformed, "envelope: not valid JSON"), service: "feature-computer")
    }

    static func watermark() -> Watermark {
        Watermark(producer: "market-feed", covers: [.init(topic: "source:synthetic", partitions: [0], of: 1),
                                                   .init(topic: Topics.bars, partitions: [0, 1, 3], of: 4)])
    }

    static func envelope<P: Payload>(_ payload: P, at time: Timestamp = end, id: String = "msg-1",
                                     causation: String? = nil, producedAt: Timestamp? = nil) -> Envelope<P> {
        Envelope(id: id, eventTime: time, causationId: causation, source: "unit-test", payload: payload, producedAt: producedAt)
    }

    /// Decodes on a topic and returns the refusal, or nil when the bytes were accepted.
    static func refusal(_ topic: String, _ bytes: [UInt8]) -> MessageError? {
        do {
            _ = try Topics.decoder(for: topic).decode(bytes)
            return nil
        } catch {
            return error
        }
    }

    static func refusal(_ topic: String, _ text: String) -> MessageError? { refusal(topic, Array(text.utf8)) }

    /// Runs a payload's own validation and returns the refusal, or nil when it passes.
    static func validationError<P: Payload>(_ p: P, at time: Timestamp) -> MessageError? {
        do {
            try p.validate(eventTime: time)
            return nil
        } catch {
            return error
        }
    }

    static func jsonObject(_ bytes: [UInt8]) throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw FixtureError("not a JSON object")
        }
        return o
    }

    /// Re-serialises an envelope after editing its JSON object (to build refused inputs from valid ones).
    static func edited<P: Payload>(_ envelope: Envelope<P>, _ edit: (inout [String: Any]) throws -> Void) throws -> [UInt8] {
        var o = try jsonObject(envelope.encoded())
        try edit(&o)
        return Array(try JSONSerialization.data(withJSONObject: o))
    }

    static func editedPayload<P: Payload>(_ envelope: Envelope<P>, _ edit: (inout [String: Any]) throws -> Void) throws -> [UInt8] {
        try edited(envelope) { o in
            guard var p = o["payload"] as? [String: Any] else { throw FixtureError("no payload object") }
            try edit(&p)
            o["payload"] = p
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A minimal order-preserving reader of JSON text (JSONSerialization forgets member order, which is what these
/// tests are about). Keys are returned raw, without unescaping; values as their raw bytes.
struct JSONScan {
    private let b: [UInt8]
    private var i = 0

    private init(_ bytes: [UInt8]) { b = bytes }

    /// The members of the JSON object `bytes`, in text order.
    static func members(_ bytes: [UInt8]) throws -> [(key: String, raw: [UInt8])] {
        var s = JSONScan(bytes)
        s.ws()
        try s.expect(UInt8(ascii: "{"))
        var out: [(key: String, raw: [UInt8])] = []
        s.ws()
        if s.peek == UInt8(ascii: "}") { return out }
        while true {
            s.ws()
            let key = try s.string()
            s.ws()
            try s.expect(UInt8(ascii: ":"))
            s.ws()
            let from = s.i
            try s.skipValue()
            out.append((key, Array(s.b[from..<s.i])))
            s.ws()
            if s.peek == UInt8(ascii: ",") { s.i += 1; continue }
            try s.expect(UInt8(ascii: "}"))
            return out
        }
    }

    static func keys(_ bytes: [UInt8]) throws -> [String] { try members(bytes).map(\.key) }

    static func member(_ key: String, of bytes: [UInt8]) throws -> [UInt8] {
        guard let m = try members(bytes).first(where: { $0.key == key }) else { throw FixtureError("no member \(key)") }
        return m.raw
    }

    /// The elements of the JSON array `bytes`, as raw bytes.
    static func elements(_ bytes: [UInt8]) throws -> [[UInt8]] {
        var s = JSONScan(bytes)
        s.ws()
        try s.expect(UInt8(ascii: "["))
        var out: [[UInt8]] = []
        s.ws()
        if s.peek == UInt8(ascii: "]") { return out }
        while true {
            s.ws()
            let from = s.i
            try s.skipValue()
            out.append(Array(s.b[from..<s.i]))
            s.ws()
            if s.peek == UInt8(ascii: ",") { s.i += 1; continue }
            try s.expect(UInt8(ascii: "]"))
            return out
        }
    }

    private var peek: UInt8? { i < b.count ? b[i] : nil }

    private mutating func ws() { while let c = peek, c == 32 || c == 9 || c == 10 || c == 13 { i += 1 } }

    private mutating func expect(_ c: UInt8) throws {
        guard peek == c else { throw FixtureError("expected \(Character(Unicode.Scalar(c))) at \(i)") }
        i += 1
    }

    private mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let from = i
        while let c = peek, c != UInt8(ascii: "\"") { i += c == UInt8(ascii: "\\") ? 2 : 1 }
        guard i < b.count else { throw FixtureError("unterminated string") }
        let s = String(decoding: b[from..<i], as: UTF8.self)
        i += 1
        return s
    }

    private mutating func skipValue() throws {
        guard let c = peek else { throw FixtureError("value expected at end") }
        switch c {
        case UInt8(ascii: "\""):
            _ = try string()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            repeat {
                guard let d = peek else { throw FixtureError("unterminated container") }
                if d == UInt8(ascii: "\"") { _ = try string(); continue }
                if d == UInt8(ascii: "{") || d == UInt8(ascii: "[") { depth += 1 }
                if d == UInt8(ascii: "}") || d == UInt8(ascii: "]") { depth -= 1 }
                i += 1
            } while depth > 0
        default:
            while let d = peek, d != UInt8(ascii: ","), d != UInt8(ascii: "}"), d != UInt8(ascii: "]"),
                  d != 32, d != 9, d != 10, d != 13 { i += 1 }
        }
    }
}
