import Foundation
import Testing
import OpsModel

@Suite("Envelope encoding")
struct EnvelopeEncodingTests {
    static let envelopeKeys = ["type", "version", "id", "event_time", "causation_id", "source", "payload"]

    /// One sample envelope per payload type, with the event time its validation wants.
    static func samples(producedAt: Timestamp? = nil, causation: String? = nil) -> [(topic: String, envelope: AnyEnvelope)] {
        [
            (Topics.bars, Fx.envelope(Fx.bar(vwap: 500.2, trades: 17), causation: causation ?? "src-1", producedAt: producedAt).erased()),
            (Topics.bars, Fx.envelope(Fx.bar(), causation: causation, producedAt: producedAt).erased()),
            (Topics.chains, Fx.envelope(Fx.chain(), causation: causation, producedAt: producedAt).erased()),
            (Topics.sentiment, Fx.envelope(Fx.sentiment(), causation: causation, producedAt: producedAt).erased()),
            (Topics.sentiment, Fx.envelope(Fx.sentiment(score: -1, articles: nil), causation: causation, producedAt: producedAt).erased()),
            (Topics.features, Fx.envelope(Fx.warmupFeatures(), causation: causation, producedAt: producedAt).erased()),
            (Topics.features, Fx.envelope(Fx.fullFeatures(), causation: causation, producedAt: producedAt).erased()),
            (Topics.deadLetter, Fx.envelope(Fx.deadLetter(), causation: causation, producedAt: producedAt).erased()),
            (Topics.deadLetter, Fx.envelope(Fx.deadLetter(original: [0xff, 0x00, 0xfe]), causation: causation, producedAt: producedAt).erased()),
            (Topics.bars, Fx.envelope(Fx.watermark(), causation: causation, producedAt: producedAt).erased()),
        ]
    }

    @Test("exact bytes of a bar envelope (pinned: a change here changes every message on the wire)")
    func goldenBar() throws {
        let plain = try Fx.envelope(Fx.bar()).encoded()
        #expect(String(decoding: plain, as: UTF8.self) == """
            {"type":"bar","version":1,"id":"msg-1","event_time":"2024-02-20T14:31:00Z","causation_id":null,\
            "source":"unit-test","payload":{"close":500.25,"end":"2024-02-20T14:31:00Z","high":501,"interval":"1m",\
            "low":499.5,"open":500.1,"start":"2024-02-20T14:30:00Z","ticker":"SPY","trades":null,"volume":1234,\
            "vwap":null}}
            """)
        let full = try Fx.envelope(Fx.bar(vwap: 500.2, trades: 17), causation: "src-1",
                                   producedAt: Fx.ts("2024-02-20T14:31:00.042Z")).encoded()
        #expect(String(decoding: full, as: UTF8.self) == """
            {"type":"bar","version":1,"id":"msg-1","event_time":"2024-02-20T14:31:00Z","causation_id":"src-1",\
            "source":"unit-test","payload":{"close":500.25,"end":"2024-02-20T14:31:00Z","high":501,"interval":"1m",\
            "low":499.5,"open":500.1,"start":"2024-02-20T14:30:00Z","ticker":"SPY","trades":17,"volume":1234,\
            "vwap":500.2},"produced_at":"2024-02-20T14:31:00.042Z"}
            """)
    }

    @Test("envelope fields are exactly type, version, id, event_time, causation_id, source, payload[, produced_at]")
    func fieldOrder() throws {
        for (_, e) in Self.samples() {
            #expect(try JSONScan.keys(e.encoded()) == Self.envelopeKeys, "\(e.type)")
        }
        for (_, e) in Self.samples(producedAt: Fx.ts("2024-02-20T14:31:02.5Z"), causation: "cause") {
            let bytes = try e.encoded()
            #expect(try JSONScan.keys(bytes) == Self.envelopeKeys + ["produced_at"], "\(e.type)")
            #expect(try JSONScan.member("produced_at", of: bytes) == Array("\"2024-02-20T14:31:02.500Z\"".utf8))
            #expect(try JSONScan.member("causation_id", of: bytes) == Array("\"cause\"".utf8))
            #expect(try JSONScan.member("version", of: bytes) == Array("1".utf8))
            #expect(try JSONScan.member("type", of: bytes) == Array("\"\(e.type)\"".utf8))
        }
    }

    /// Every object inside `raw` has its keys in byte order.
    static func assertSortedKeys(_ raw: [UInt8], path: String) throws {
        switch raw.first {
        case UInt8(ascii: "{"):
            let members = try JSONScan.members(raw)
            let keys = members.map { Array($0.key.utf8) }
            #expect(zip(keys, keys.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) },
                    "keys of \(path) not in byte order: \(members.map(\.key))")
            for m in members { try assertSortedKeys(m.raw, path: path + "." + m.key) }
        case UInt8(ascii: "["):
            for (i, e) in try JSONScan.elements(raw).enumerated() { try assertSortedKeys(e, path: path + "[\(i)]") }
        default:
            break
        }
    }

    @Test("payload keys are in byte order at every depth, for every payload type")
    func payloadKeysSorted() throws {
        for (_, e) in Self.samples() {
            try Self.assertSortedKeys(try JSONScan.member("payload", of: e.encoded()), path: e.type)
        }
    }

    @Test("payload schemas: the exact key sets (snake_case, nullable fields present)")
    func payloadKeySets() throws {
        func keys<P: Payload>(_ p: P, at t: Timestamp = Fx.end) throws -> [String] {
            try JSONScan.keys(JSONScan.member("payload", of: Fx.envelope(p, at: t).encoded()))
        }
        #expect(try keys(Fx.bar()) == ["close", "end", "high", "interval", "low", "open", "start", "ticker", "trades", "volume", "vwap"])
        #expect(try keys(Fx.sentiment(articles: nil)) == ["articles", "score", "source", "ticker"])
        #expect(try keys(Fx.chain()) == ["as_of", "contracts", "underlying", "underlying_price"])
        let chain = try JSONScan.member("payload", of: Fx.envelope(Fx.chain()).encoded())
        for c in try JSONScan.elements(JSONScan.member("contracts", of: chain)) {
            #expect(try JSONScan.keys(c) == ["ask", "bid", "delta", "expiration", "gamma", "iv", "last", "open_interest",
                                               "right", "strike", "symbol", "theta", "vega", "volume"])
        }
        #expect(try keys(Fx.warmupFeatures()) == [
            "atm_iv", "atr14", "bar", "chain_time", "close_15m_ago", "close_5m_ago", "distance_sma20", "gap_minutes",
            "interval", "iv_percentile", "iv_rank", "ret_15m", "ret_1m", "ret_5m", "sentiment_score", "sentiment_time", "session_bar_index",
            "session_date", "slope_lookback", "sma20", "sma20_slope", "ticker", "volume_ratio",
        ])
        #expect(try keys(Fx.deadLetter(original: [0xff])) == ["error_kind", "key", "offset", "original_base64", "original_text",
                                                             "partition", "reason", "service", "topic"])
        #expect(try keys(Fx.watermark()) == ["covers", "producer"])
    }

    @Test("nil @Nullable fields are written as explicit nulls")
    func explicitNulls() throws {
        let fv = try JSONScan.members(JSONScan.member("payload", of: Fx.envelope(Fx.warmupFeatures()).encoded()))
        let raw = Dictionary(uniqueKeysWithValues: fv.map { ($0.key, String(decoding: $0.raw, as: UTF8.self)) })
        for key in ["sma20", "distance_sma20", "sma20_slope", "volume_ratio", "close_5m_ago", "close_15m_ago", "ret_5m",
                    "ret_15m", "atr14", "sentiment_score", "sentiment_time", "atm_iv", "chain_time", "gap_minutes", "iv_percentile", "iv_rank"] {
            #expect(raw[key] == "null", "\(key)")
        }
        #expect(raw["ret_1m"] == "0.1")
        let text = String(decoding: try Fx.envelope(Fx.warmupFeatures()).encoded(), as: UTF8.self)
        #expect(text.contains("\"sma20\":null"))
        #expect(text.contains("\"vwap\":null}")) // last key of the nested bar
        let chainText = String(decoding: try Fx.envelope(Fx.chain()).encoded(), as: UTF8.self)
        #expect(chainText.contains("\"iv\":null"))
        #expect(chainText.contains("\"last\":null"))
        let sentimentText = String(decoding: try Fx.envelope(Fx.sentiment(articles: nil)).encoded(), as: UTF8.self)
        #expect(sentimentText.contains("\"articles\":null"))
        let full = String(decoding: try JSONScan.member("payload", of: Fx.envelope(Fx.fullFeatures()).encoded()), as: UTF8.self)
        #expect(!full.contains("null"))
        #expect(full.contains("\"sentiment_time\":\"2024-02-20T14:29:00Z\""))
        #expect(full.contains("\"session_date\":\"2024-02-20\""))
    }

    @Test("equal envelopes give identical bytes; decoding and re-encoding changes nothing")
    func deterministic() throws {
        let a = Self.samples(producedAt: Fx.ts("2024-02-20T14:31:00.001Z")), b = Self.samples(producedAt: Fx.ts("2024-02-20T14:31:00.001Z"))
        for ((topic, x), (_, y)) in zip(a, b) {
            let bytes = try x.encoded()
            #expect(try x.encoded() == bytes)
            #expect(try y.encoded() == bytes)
            let decoded = try Topics.decoder(for: topic).decode(bytes)
            #expect(try decoded.encoded() == bytes, "\(x.type)")
        }
        let typed = Fx.envelope(Fx.fullFeatures())
        #expect(try typed.encoded() == typed.erased().encoded())
    }

    @Test("withoutWallClock drops produced_at and nothing else")
    func withoutWallClock() throws {
        let e = Fx.envelope(Fx.bar(), producedAt: Fx.ts("2024-02-20T14:31:07Z")).erased()
        #expect(try e.withoutWallClock().encoded() == Fx.envelope(Fx.bar()).encoded())
        #expect(e.withoutWallClock().producedAt == nil)
        #expect(e.producedAt != nil)
    }

    static let nasty: [String] = [
        "quote\"inside", "back\\slash", "new\nline", "cr\rlf\r\n", "tab\there", "nul\u{0}byte", "bell\u{7}",
        "unit\u{1f}sep", "del\u{7f}", "slash/es", "caf\u{e9}", "emoji \u{1F4C8}", "line\u{2028}sep", "\\\"\\n",
        "\"", "\\", "", "{\"type\":\"x\"}", "\u{1}\u{2}\u{3}\u{8}\u{c}\u{b}\u{1b}",
    ]

    @Test("escaping of quotes, backslashes, newlines and control characters yields valid JSON with the same text")
    func escaping() throws {
        for s in Self.nasty {
            let e = Envelope(id: s + "-id", eventTime: Fx.end, causationId: s, source: "src " + s,
                             payload: SentimentScore(ticker: "SPY", score: 0.5, source: s.isEmpty ? "x" : s))
            let bytes = try e.encoded()
            let o = try Fx.jsonObject(bytes)
            #expect(o["id"] as? String == s + "-id")
            #expect(o["causation_id"] as? String == s)
            #expect(o["source"] as? String == "src " + s)
            #expect((o["payload"] as? [String: Any])?["source"] as? String == (s.isEmpty ? "x" : s))
            // No raw control character may appear in JSON text.
            #expect(!bytes.contains { $0 < 0x20 }, "\(s.debugDescription)")
            #expect(try JSONScan.keys(bytes) == Self.envelopeKeys)
        }
    }

    @Test("the hand-written string escaper's exact output")
    func escapeBytes() {
        func esc(_ s: String) -> String { String(decoding: JSONText.string(s), as: UTF8.self) }
        #expect(esc("a\"b") == #""a\"b""#)
        #expect(esc("a\\b") == #""a\\b""#)
        #expect(esc("a\nb\rc\td") == #""a\nb\rc\td""#)
        #expect(esc("\u{0}\u{1f}\u{8}\u{c}") == #""\u0000\u001f\u0008\u000c""#)
        #expect(esc("\u{7f}é/") == "\"\u{7f}é/\"")
        #expect(esc("") == "\"\"")
    }

    @Test("a payload that cannot be JSON (NaN) refuses to encode, as invalid")
    func nanDoesNotEncode() {
        let nan = #expect(throws: MessageError.self) { try Fx.envelope(Fx.bar(open: .nan)).encoded() }
        #expect(nan?.kind == .invalid)
        let inf = #expect(throws: MessageError.self) { try Fx.envelope(Fx.sentiment(score: .infinity)).encoded() }
        #expect(inf?.kind == .invalid)
    }

    @Test("typed() and erased() convert between the two envelope forms")
    func typedErased() throws {
        let e = Fx.envelope(Fx.chain(), causation: "c", producedAt: Fx.end)
        let any = e.erased()
        #expect(any.type == "option_chain" && e.type == "option_chain")
        #expect(any.version == 1 && e.version == 1)
        #expect(any.partitionKey == "SPY")
        #expect(any.typed(OptionChain.self) == e)
        #expect(any.typed(Bar.self) == nil)
        #expect(Fx.envelope(Fx.deadLetter()).erased().partitionKey == "market.bars.v1/3")
        #expect(Fx.envelope(Fx.watermark()).erased().partitionKey == "market-feed")
    }
}
