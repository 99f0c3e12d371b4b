import Foundation
import Testing
import OpsModel

@Suite("EnvelopeDecoder")
struct EnvelopeDecoderTests {
    /// Decodes and expects a refusal of `kind` whose reason contains every one of `fragments`.
    @discardableResult
    static func expectRefused(_ topic: String, _ bytes: [UInt8], _ kind: MessageError.Kind, _ fragments: String...,
                              sourceLocation: SourceLocation = #_sourceLocation) -> MessageError? {
        guard let e = Fx.refusal(topic, bytes) else {
            Issue.record("accepted: \(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
            return nil
        }
        #expect(e.kind == kind, "\(e)", sourceLocation: sourceLocation)
        for f in fragments { #expect(e.reason.contains(f), "reason '\(e.reason)' lacks '\(f)'", sourceLocation: sourceLocation) }
        #expect(e.description == "\(e.kind.rawValue): \(e.reason)", sourceLocation: sourceLocation)
        return e
    }

    static func roundTrip<P: Payload>(_ topic: String, _ e: Envelope<P>, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let decoded = try Topics.decoder(for: topic).decode(e.encoded())
        #expect(decoded.type == P.messageType, sourceLocation: sourceLocation)
        #expect(decoded.version == P.version, sourceLocation: sourceLocation)
        #expect(decoded.typed(P.self) == e, sourceLocation: sourceLocation)
    }

    // MARK: accepted

    @Test("every payload type round-trips through its topic's decoder")
    func roundTrips() throws {
        let t = Fx.ts("2024-02-20T14:31:00.5Z")
        try Self.roundTrip(Topics.bars, Fx.envelope(Fx.bar()))
        try Self.roundTrip(Topics.bars, Fx.envelope(Fx.bar(interval: .h1, vwap: 500.123456789, trades: 0), at: Fx.start + Minutes(60),
                                                    causation: "c-1", producedAt: t))
        try Self.roundTrip(Topics.chains, Fx.envelope(Fx.chain()))
        try Self.roundTrip(Topics.chains, Fx.envelope(Fx.chain(contracts: [])))
        try Self.roundTrip(Topics.sentiment, Fx.envelope(Fx.sentiment(), at: t))
        try Self.roundTrip(Topics.sentiment, Fx.envelope(Fx.sentiment(score: -1, articles: nil), at: t))
        try Self.roundTrip(Topics.features, Fx.envelope(Fx.warmupFeatures()))
        try Self.roundTrip(Topics.features, Fx.envelope(Fx.fullFeatures(), causation: Fx.bar().id, producedAt: t))
        try Self.roundTrip(Topics.deadLetter, Fx.envelope(Fx.deadLetter()))
        try Self.roundTrip(Topics.deadLetter, Fx.envelope(Fx.deadLetter(original: [0xff, 0xfe, 0x00])))
        for topic in [Topics.bars, Topics.chains, Topics.sentiment, Topics.features] {
            try Self.roundTrip(topic, Fx.envelope(Fx.watermark(), at: t))
        }
    }

    @Test("doubles survive the round trip bit for bit")
    func doublesExact() throws {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<500 {
            let low = Double.random(in: 0.0001...10_000, using: &rng)
            let high = low * (1 + Double.random(in: 0...0.01, using: &rng))
            let bar = Fx.bar(open: low, high: high, low: low, close: high, vwap: (low + high) / 2)
            let back = try Topics.decoder(for: Topics.bars).decode(Fx.envelope(bar).encoded()).typed(Bar.self)?.payload
            #expect(back == bar)
            #expect(back?.high.bitPattern == high.bitPattern)
            if back != bar { return }
        }
    }

    @Test("absent optional fields read as nil: causation_id, produced_at and @Nullable payload fields")
    func absentOptionals() throws {
        let bytes = try Fx.edited(Fx.envelope(Fx.warmupFeatures(), causation: "c", producedAt: Fx.end)) { o in
            o["causation_id"] = nil
            o["produced_at"] = nil
            var p = o["payload"] as! [String: Any]
            for k in ["sma20", "atm_iv", "chain_time", "gap_minutes"] { p[k] = nil }
            var b = p["bar"] as! [String: Any]
            b["vwap"] = nil
            b["trades"] = nil
            p["bar"] = b
            o["payload"] = p
        }
        let e = try Topics.decoder(for: Topics.features).decode(bytes)
        #expect(e.causationId == nil)
        #expect(e.producedAt == nil)
        #expect(e.typed(FeatureVector.self)?.payload == Fx.warmupFeatures())
    }

    @Test("the decoder of a topic accepts exactly its payload types, plus watermarks where watermarked")
    func topicTypes() {
        #expect(Set(Topics.decoder(for: Topics.bars).accepted.keys) == ["bar", "watermark"])
        #expect(Set(Topics.decoder(for: Topics.chains).accepted.keys) == ["option_chain", "watermark"])
        #expect(Set(Topics.decoder(for: Topics.sentiment).accepted.keys) == ["sentiment", "watermark"])
        #expect(Set(Topics.decoder(for: Topics.features).accepted.keys) == ["features", "watermark"])
        #expect(Set(Topics.decoder(for: Topics.deadLetter).accepted.keys) == ["dead_letter"])
        #expect(Topics.decoder(for: "no.such.topic.v1").accepted.isEmpty)
        #expect(Set(Topics.all.map(\.name)).count == Topics.all.count)
        #expect(Topics.all.allSatisfy { $0.partitions > 0 && $0.name.hasSuffix(".v1") })
        #expect(Topics.spec(Topics.bars)?.partitions == 4)
        #expect(Topics.spec("nope") == nil)
    }

    // MARK: malformed

    @Test("bytes that are not JSON are malformed", arguments: [
        "", "hello", "nope{}", "<xml/>", "{'type':'bar'}", "null", "42", "\"bar\"", "[]", "[{}]",
    ])
    func notJSON(_ text: String) {
        Self.expectRefused(Topics.bars, Array(text.utf8), .malformed, "envelope")
    }

    @Test("invalid UTF-8 is malformed")
    func invalidUTF8() {
        Self.expectRefused(Topics.bars, [0xff, 0xfe, 0x7b, 0x7d], .malformed)
    }

    @Test("every truncation of a valid envelope is malformed")
    func truncated() throws {
        let bytes = try Fx.envelope(Fx.chain(), causation: "c", producedAt: Fx.end).encoded()
        for n in 0..<bytes.count {
            guard let e = Fx.refusal(Topics.chains, Array(bytes.prefix(n))) else {
                Issue.record("prefix of \(n) bytes accepted")
                return
            }
            #expect(e.kind == .malformed, "prefix \(n): \(e)")
        }
        #expect(Fx.refusal(Topics.chains, bytes) == nil)
    }

    @Test("a missing envelope field is malformed and named", arguments: ["type", "version", "id", "event_time", "source", "payload"])
    func missingEnvelopeField(_ field: String) throws {
        let bytes = try Fx.edited(Fx.envelope(Fx.bar())) { $0[field] = nil }
        Self.expectRefused(Topics.bars, bytes, .malformed, "missing field '\(field)'")
    }

    @Test("a missing payload field is malformed and named with its path",
          arguments: ["close", "end", "high", "interval", "low", "open", "start", "ticker", "volume"])
    func missingPayloadField(_ field: String) throws {
        let bytes = try Fx.editedPayload(Fx.envelope(Fx.bar())) { $0[field] = nil }
        Self.expectRefused(Topics.bars, bytes, .malformed, "bar payload", "missing field 'payload.\(field)'")
    }

    @Test("a missing field inside a chain contract is named with its index")
    func missingContractField() throws {
        let bytes = try Fx.editedPayload(Fx.envelope(Fx.chain())) { p in
            var cs = p["contracts"] as! [[String: Any]]
            cs[1]["bid"] = nil
            p["contracts"] = cs
        }
        Self.expectRefused(Topics.chains, bytes, .malformed, "missing field 'payload.contracts[1].bid'")
    }

    @Test("mistyped fields are malformed and named")
    func wrongTypes() throws {
        let e = Fx.envelope(Fx.bar())
        Self.expectRefused(Topics.bars, try Fx.editedPayload(e) { $0["volume"] = "1234" }, .malformed, "payload.volume")
        Self.expectRefused(Topics.bars, try Fx.editedPayload(e) { $0["open"] = "500.1" }, .malformed, "payload.open")
        // Foundation reports a number that does not fit its field (12.5 or 1e20 for an Int64) as "not valid JSON"
        // with no coding path, so the reason cannot name the field; the kind is still right.
        Self.expectRefused(Topics.bars, try Fx.editedPayload(e) { $0["volume"] = 12.5 }, .malformed, "bar payload")
        Self.expectRefused(Topics.bars, try Fx.editedPayload(e) { $0["volume"] = 1e20 }, .malformed, "bar payload")
        Self.expectRefused(Topics.bars, try Fx.editedPayload(e) { $0["ticker"] = NSNull() }, .malformed, "payload.ticker")
        Self.expectRefused(Topics.bars, try Fx.editedPayload(e) { $0["vwap"] = "x" }, .malformed, "payload.vwap")
        Self.expectRefused(Topics.bars, try Fx.editedPayload(e) { $0["start"] = "2024-02-20T14:30:00" }, .malformed, "payload.start")
        Self.expectRefused(Topics.bars, try Fx.edited(e) { $0["version"] = "1" }, .malformed, "version")
        Self.expectRefused(Topics.bars, try Fx.edited(e) { $0["event_time"] = 1_708_439_460_000 }, .malformed, "event_time")
        Self.expectRefused(Topics.bars, try Fx.edited(e) { $0["event_time"] = "2024-02-20 14:31" }, .malformed, "event_time")
        Self.expectRefused(Topics.bars, try Fx.edited(e) { $0["causation_id"] = 5 }, .malformed, "causation_id")
        Self.expectRefused(Topics.bars, try Fx.edited(e) { $0["payload"] = [1, 2] }, .malformed, "payload")
        Self.expectRefused(Topics.bars, try Fx.edited(e) { $0["type"] = ["bar"] }, .malformed, "type")
        let chain = Fx.envelope(Fx.chain())
        Self.expectRefused(Topics.chains, try Fx.editedPayload(chain) { p in
            var cs = p["contracts"] as! [[String: Any]]
            cs[0]["right"] = "straddle"
            p["contracts"] = cs
        }, .malformed, "payload.contracts[0].right")
        Self.expectRefused(Topics.chains, try Fx.editedPayload(chain) { p in
            var cs = p["contracts"] as! [[String: Any]]
            cs[2]["expiration"] = "2024-02-30"
            p["contracts"] = cs
        }, .malformed, "payload.contracts[2].expiration")
    }

    /// OptionQuote's decoder is written by hand (speed, `opsctl bench decode`); it keeps the synthesized rules.
    @Test("a quote's optional fields read as nil whether null or missing; a required one missing is named")
    func quoteOptionals() throws {
        let chain = Fx.envelope(Fx.chain())
        let optional = ["last", "iv", "delta", "gamma", "theta", "vega"]
        for missing in [false, true] {
            let bytes = try Fx.editedPayload(chain) { p in
                var cs = p["contracts"] as! [[String: Any]]
                for k in optional { cs[1][k] = missing ? nil : NSNull() }
                p["contracts"] = cs
            }
            let back = try #require(try Topics.decoder(for: Topics.chains).decode(bytes).typed(OptionChain.self)?.payload)
            var expected = Fx.chain()
            expected.contracts[1].last = nil; expected.contracts[1].iv = nil; expected.contracts[1].delta = nil
            expected.contracts[1].gamma = nil; expected.contracts[1].theta = nil; expected.contracts[1].vega = nil
            #expect(back == expected, "missing: \(missing)")
            #expect(back.contracts[0] == Fx.chain().contracts[0])
        }
        for required in ["symbol", "strike", "ask", "volume", "open_interest", "expiration", "right"] {
            Self.expectRefused(Topics.chains, try Fx.editedPayload(chain) { p in
                var cs = p["contracts"] as! [[String: Any]]
                cs[0][required] = nil
                p["contracts"] = cs
            }, .malformed, "option_chain payload", "payload.contracts[0].\(required)")
        }
    }

    /// One decoder per topic is shared by every consumer thread of a service.
    @Test("one topic decoder decodes from many threads at once, each result whole")
    func concurrentDecodes() async throws {
        let decoder = Topics.decoder(for: Topics.chains)
        let inputs = try (0..<64).map { i in
            var c = Fx.chain()
            c.underlyingPrice = 500 + Double(i)
            return (c, try Fx.envelope(c).encoded())
        }
        let matches = await withTaskGroup(of: Bool.self) { group in
            for (chain, bytes) in inputs + inputs + inputs {
                group.addTask { (try? decoder.decode(bytes).typed(OptionChain.self)?.payload) == chain }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(matches == inputs.count * 3)
    }

    @Test("an empty id or source is malformed")
    func emptyHeaderStrings() throws {
        let e = Fx.envelope(Fx.bar())
        Self.expectRefused(Topics.bars, try Fx.edited(e) { $0["id"] = "" }, .malformed, "empty id")
        Self.expectRefused(Topics.bars, try Fx.edited(e) { $0["source"] = "" }, .malformed, "empty source")
    }

    /// JSON has no NaN or infinity. A literal that overflows a Double (1e999) is refused by Foundation's
    /// JSONDecoder as "not representable", so it is `malformed` (not `invalid`), before validation runs.
    @Test("a number that overflows a Double (1e999) is refused as malformed")
    func hugeNumber() throws {
        let text = String(decoding: try Fx.envelope(Fx.bar()).encoded(), as: UTF8.self)
        for replacement in ["\"open\":1e999", "\"open\":-1e999"] {
            let bad = text.replacingOccurrences(of: "\"open\":500.1", with: replacement)
            #expect(bad != text)
            Self.expectRefused(Topics.bars, Array(bad.utf8), .malformed, "bar payload")
        }
        let huge = text.replacingOccurrences(of: "\"version\":1", with: "\"version\":1e999")
        Self.expectRefused(Topics.bars, Array(huge.utf8), .malformed, "envelope")
    }

    // MARK: type and version

    @Test("a type the topic does not carry is unknown_type, naming it and what is accepted")
    func unknownType() throws {
        Self.expectRefused(Topics.bars, try Fx.envelope(Fx.sentiment()).encoded(), .unknownType, "'sentiment'", "bar, watermark")
        Self.expectRefused(Topics.bars, try Fx.edited(Fx.envelope(Fx.bar())) { $0["type"] = "bogus" }, .unknownType, "'bogus'")
        Self.expectRefused(Topics.bars, try Fx.edited(Fx.envelope(Fx.bar())) { $0["type"] = "Bar" }, .unknownType, "'Bar'")
        Self.expectRefused(Topics.deadLetter, try Fx.envelope(Fx.watermark()).encoded(), .unknownType, "'watermark'")
        Self.expectRefused(Topics.features, try Fx.envelope(Fx.bar()).encoded(), .unknownType, "'bar'")
        Self.expectRefused("no.such.topic.v1", try Fx.envelope(Fx.bar()).encoded(), .unknownType)
        #expect(MessageError.Kind.unknownType.rawValue == "unknown_type")
    }

    @Test("a version this build does not read is unknown_version", arguments: [2, 0, -1, 100])
    func unknownVersion(_ version: Int) throws {
        let bytes = try Fx.edited(Fx.envelope(Fx.bar())) { $0["version"] = version }
        Self.expectRefused(Topics.bars, bytes, .unknownVersion, "bar version \(version)")
        let chain = try Fx.edited(Fx.envelope(Fx.chain())) { $0["version"] = version }
        Self.expectRefused(Topics.chains, chain, .unknownVersion, "option_chain version \(version)")
        #expect(MessageError.Kind.unknownVersion.rawValue == "unknown_version")
    }

    // MARK: invalid

    @Test("a non-positive price is invalid and named")
    func negativePrice() throws {
        let e = Fx.envelope(Fx.bar())
        Self.expectRefused(Topics.bars, try Fx.editedPayload(e) { $0["open"] = -1 }, .invalid, "open")
        Self.expectRefused(Topics.bars, try Fx.editedPayload(e) { $0["low"] = 0; $0["open"] = 0 }, .invalid, "open")
        Self.expectRefused(Topics.bars, try Fx.editedPayload(e) { $0["vwap"] = -3 }, .invalid, "vwap")
        Self.expectRefused(Topics.chains, try Fx.editedPayload(Fx.envelope(Fx.chain())) { $0["underlying_price"] = -500 },
                           .invalid, "underlying_price")
    }

    @Test("high below low is invalid")
    func highBelowLow() throws {
        let bytes = try Fx.editedPayload(Fx.envelope(Fx.bar())) { $0["high"] = 499 }
        Self.expectRefused(Topics.bars, bytes, .invalid, "high 499.0 < low 499.5")
    }

    @Test("bid above ask in one contract is invalid and names the contract")
    func bidAboveAsk() throws {
        let bytes = try Fx.editedPayload(Fx.envelope(Fx.chain())) { p in
            var cs = p["contracts"] as! [[String: Any]]
            cs[1]["bid"] = 0.9
            p["contracts"] = cs
        }
        Self.expectRefused(Topics.chains, bytes, .invalid, "SPY240320P00490000", "bid 0.9 > ask 0.85")
    }

    @Test("a contract whose symbol disagrees with its fields is invalid and named")
    func symbolDisagrees() throws {
        for (key, value) in [("strike", 500.0 as Any), ("right", "put"), ("expiration", "2024-03-21")] {
            let bytes = try Fx.editedPayload(Fx.envelope(Fx.chain())) { p in
                var cs = p["contracts"] as! [[String: Any]]
                cs[0][key] = value
                p["contracts"] = cs
            }
            Self.expectRefused(Topics.chains, bytes, .invalid, "SPY240320C00510000", "disagrees")
        }
        let wrongRoot = try Fx.editedPayload(Fx.envelope(Fx.chain())) { p in
            var cs = p["contracts"] as! [[String: Any]]
            cs[0]["symbol"] = "QQQ240320C00510000"
            p["contracts"] = cs
        }
        Self.expectRefused(Topics.chains, wrongRoot, .invalid, "QQQ240320C00510000", "disagrees")
        let notOCC = try Fx.editedPayload(Fx.envelope(Fx.chain())) { p in
            var cs = p["contracts"] as! [[String: Any]]
            cs[0]["symbol"] = "SPY 510 C"
            p["contracts"] = cs
        }
        Self.expectRefused(Topics.chains, notOCC, .invalid, "not an OCC option symbol")
    }

    @Test("negative volumes are invalid")
    func negativeVolume() throws {
        Self.expectRefused(Topics.bars, try Fx.editedPayload(Fx.envelope(Fx.bar())) { $0["volume"] = -1 }, .invalid, "negative volume")
        let chain = try Fx.editedPayload(Fx.envelope(Fx.chain())) { p in
            var cs = p["contracts"] as! [[String: Any]]
            cs[2]["open_interest"] = -5
            p["contracts"] = cs
        }
        Self.expectRefused(Topics.chains, chain, .invalid, "SPY240320C00002500", "open interest")
    }

    @Test("an unknown bar interval is invalid")
    func unknownInterval() throws {
        let bytes = try Fx.editedPayload(Fx.envelope(Fx.bar())) { $0["interval"] = "7m" }
        Self.expectRefused(Topics.bars, bytes, .invalid, "unknown interval '7m'")
    }

    @Test("event_time must equal the bar end, the chain's as_of and the feature bar's end")
    func eventTimeMismatch() throws {
        Self.expectRefused(Topics.bars, try Fx.envelope(Fx.bar(), at: Fx.start).encoded(), .invalid, "event_time", "bar end")
        Self.expectRefused(Topics.bars, try Fx.envelope(Fx.bar(), at: Fx.end.adding(ms: 1)).encoded(), .invalid, "event_time")
        Self.expectRefused(Topics.chains, try Fx.envelope(Fx.chain(), at: Fx.start).encoded(), .invalid, "as_of")
        Self.expectRefused(Topics.features, try Fx.envelope(Fx.fullFeatures(), at: Fx.start).encoded(), .invalid, "event_time")
    }

    @Test("a sentiment score outside [-1, 1] is invalid", arguments: [1.5, -1.0001, 2.0])
    func sentimentOutOfRange(_ score: Double) throws {
        let bytes = try Fx.editedPayload(Fx.envelope(Fx.sentiment())) { $0["score"] = score }
        Self.expectRefused(Topics.sentiment, bytes, .invalid, "score \(score) outside [-1, 1]")
    }

    @Test("invalid dead letters and watermarks are refused")
    func invalidDeadLetterAndWatermark() throws {
        let dl = Fx.envelope(Fx.deadLetter())
        Self.expectRefused(Topics.deadLetter, try Fx.editedPayload(dl) { $0["error_kind"] = "oops" }, .invalid, "error_kind")
        Self.expectRefused(Topics.deadLetter, try Fx.editedPayload(dl) { $0["original_base64"] = "!!!!" }, .invalid, "original_base64")
        let wm = try Fx.editedPayload(Fx.envelope(Fx.watermark())) { p in
            p["covers"] = [["topic": Topics.bars, "partitions": [4], "of": 4]]
        }
        Self.expectRefused(Topics.bars, wm, .invalid, "market.bars.v1", "0..<4")
    }

    @Test("validation failures never mask malformed input: a missing field wins over an invalid value")
    func malformedBeforeInvalid() throws {
        let bytes = try Fx.editedPayload(Fx.envelope(Fx.bar())) { $0["open"] = -1; $0["close"] = nil }
        Self.expectRefused(Topics.bars, bytes, .malformed, "payload.close")
    }
}
