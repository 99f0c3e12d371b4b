import Foundation
import Testing
import OpsModel

@Suite("Payload validation")
struct PayloadValidationTests {
    static func expectInvalid<P: Payload>(_ p: P, at t: Timestamp, _ fragment: String,
                                          sourceLocation: SourceLocation = #_sourceLocation) {
        guard let e = Fx.validationError(p, at: t) else {
            Issue.record("accepted \(p)", sourceLocation: sourceLocation)
            return
        }
        #expect(e.kind == .invalid, sourceLocation: sourceLocation)
        #expect(e.reason.contains(fragment), "reason '\(e.reason)' lacks '\(fragment)'", sourceLocation: sourceLocation)
    }

    static func expectValid<P: Payload>(_ p: P, at t: Timestamp, sourceLocation: SourceLocation = #_sourceLocation) {
        if let e = Fx.validationError(p, at: t) { Issue.record("refused: \(e)", sourceLocation: sourceLocation) }
    }

    // MARK: Bar

    @Test("bar edges that are valid: flat bar, zero volume, no vwap/trades, every interval")
    func barValidEdges() {
        Self.expectValid(Fx.bar(), at: Fx.end)
        Self.expectValid(Fx.bar(open: 500, high: 500, low: 500, close: 500), at: Fx.end)
        Self.expectValid(Fx.bar(open: 500, high: 501, low: 499, close: 501), at: Fx.end) // close at the high
        Self.expectValid(Fx.bar(open: 499, high: 501, low: 499, close: 500), at: Fx.end) // open at the low
        Self.expectValid(Fx.bar(volume: 0), at: Fx.end)
        Self.expectValid(Fx.bar(volume: 0, vwap: nil, trades: 0), at: Fx.end)
        Self.expectValid(Fx.bar(open: 0.0001, high: 0.0001, low: 0.0001, close: 0.0001), at: Fx.end)
        for iv in BarInterval.allCases {
            let b = Fx.bar(interval: iv)
            #expect(b.end == Fx.start + Minutes(iv.minutes))
            #expect(b.interval == iv.rawValue)
            Self.expectValid(b, at: b.end)
        }
        #expect(BarInterval.allCases.map(\.minutes) == [1, 5, 15, 30, 60])
        #expect(Fx.bar().partitionKey == "SPY")
    }

    @Test("bar refusals")
    func barInvalid() {
        Self.expectInvalid(Fx.bar(high: 499, low: 499.5), at: Fx.end, "high 499.0 < low 499.5")
        Self.expectInvalid(Fx.bar(close: 501.5), at: Fx.end, "high")
        Self.expectInvalid(Fx.bar(open: 499), at: Fx.end, "low")
        Self.expectInvalid(Fx.bar(open: .nan), at: Fx.end, "open is not a finite number")
        Self.expectInvalid(Fx.bar(high: .infinity), at: Fx.end, "high is not a finite number")
        Self.expectInvalid(Fx.bar(open: 0, low: 0), at: Fx.end, "open 0.0 must be > 0")
        Self.expectInvalid(Fx.bar(volume: -1), at: Fx.end, "negative volume -1")
        Self.expectInvalid(Fx.bar(vwap: 0), at: Fx.end, "vwap")
        Self.expectInvalid(Fx.bar(vwap: .nan), at: Fx.end, "vwap")
        Self.expectInvalid(Fx.bar(trades: -1), at: Fx.end, "negative trades")
        Self.expectInvalid(Fx.bar(), at: Fx.start, "event_time")
        var wrongEnd = Fx.bar(interval: .m5)
        wrongEnd.end = Fx.start + Minutes(1)
        Self.expectInvalid(wrongEnd, at: wrongEnd.end, "is not start")
        var unknown = Fx.bar()
        unknown.interval = "7m"
        Self.expectInvalid(unknown, at: Fx.end, "unknown interval '7m'")
        unknown.interval = "1M"
        Self.expectInvalid(unknown, at: Fx.end, "unknown interval '1M'")
    }

    @Test("ticker syntax", arguments: ["SPY", "A", "BRK.B", "BF/B", "BRK-B", "ABCDEFGHIJ", "X1"])
    func validTickers(_ ticker: String) {
        Self.expectValid(Fx.bar(ticker: ticker), at: Fx.end)
    }

    @Test("ticker syntax refusals", arguments: ["", "spy", "Spy", "1SPY", ".SPY", "ABCDEFGHIJK", "SP Y", "SPY\n", "SP\u{C9}"])
    func invalidTickers(_ ticker: String) {
        Self.expectInvalid(Fx.bar(ticker: ticker), at: Fx.end, "ticker")
    }

    // MARK: OptionChain and quotes

    @Test("a valid chain, an empty chain, quotes with zero bid and ask")
    func chainValid() {
        Self.expectValid(Fx.chain(), at: Fx.end)
        Self.expectValid(Fx.chain(contracts: []), at: Fx.end)
        Self.expectValid(Fx.chain(contracts: [Fx.quote(bid: 1.3, ask: 1.3)]), at: Fx.end)
        Self.expectValid(Fx.chain(contracts: [Fx.quote(bid: 0, ask: 0.05)]), at: Fx.end)
        Self.expectValid(Fx.chain(contracts: [Fx.quote(strike: 510.0004)]), at: Fx.end) // within OCC's 1/1000
        Self.expectValid(Fx.chain(contracts: [Fx.quote(delta: 1), Fx.quote("SPY240320P00510000", right: .put, delta: -1)]), at: Fx.end)
        #expect(Fx.quote(bid: 1.2, ask: 1.3).mid == 1.25)
        #expect(Fx.chain().partitionKey == "SPY")
    }

    @Test("duplicate contracts are refused")
    func chainDuplicates() {
        Self.expectInvalid(Fx.chain(contracts: [Fx.quote(), Fx.quote("SPY240320P00490000", right: .put, strike: 490), Fx.quote(bid: 1.0)]),
                           at: Fx.end, "contract 'SPY240320C00510000' appears twice")
    }

    /// Found while writing these tests: duplicates were detected on the symbol text, so the compact and the padded
    /// spelling of one contract were both accepted in one snapshot.
    @Test("the same contract spelled compact and padded is a duplicate")
    func chainDuplicateSpellings() {
        let padded = "SPY   240320C00510000"
        Self.expectValid(Fx.chain(contracts: [Fx.quote(padded)]), at: Fx.end)
        Self.expectInvalid(Fx.chain(contracts: [Fx.quote(), Fx.quote(padded, bid: 1.0)]), at: Fx.end,
                           "contract '\(padded)' appears twice")
    }

    @Test("chain and quote refusals name the contract")
    func chainInvalid() {
        Self.expectInvalid(Fx.chain(contracts: [Fx.quote(bid: 1.4, ask: 1.3)]), at: Fx.end, "'SPY240320C00510000': bid 1.4 > ask 1.3")
        Self.expectInvalid(Fx.chain(contracts: [Fx.quote(bid: 0.1, ask: 0)]), at: Fx.end, "with no ask")
        Self.expectInvalid(Fx.chain(contracts: [Fx.quote(bid: -0.1)]), at: Fx.end, "negative bid")
        Self.expectInvalid(Fx.chain(contracts: [Fx.quote(ask: .nan)]), at: Fx.end, "SPY240320C00510000 ask is not a finite number")
        Self.expectInvalid(Fx.chain(contracts: [Fx.quote(iv: -0.1)]), at: Fx.end, "negative iv")
        Self.expectInvalid(Fx.chain(contracts: [Fx.quote(delta: 1.5)]), at: Fx.end, "|delta| 1.5 > 1")
        Self.expectInvalid(Fx.chain(contracts: [Fx.quote(delta: .nan)]), at: Fx.end, "delta is not a finite number")
        Self.expectInvalid(Fx.chain(contracts: [Fx.quote(strike: 510.001)]), at: Fx.end, "disagrees")
        Self.expectInvalid(Fx.chain(contracts: [Fx.quote(right: .put)]), at: Fx.end, "disagrees")
        var q = Fx.quote()
        q.openInterest = -1
        Self.expectInvalid(Fx.chain(contracts: [q]), at: Fx.end, "negative open interest")
        q = Fx.quote()
        q.volume = -1
        Self.expectInvalid(Fx.chain(contracts: [q]), at: Fx.end, "negative volume")
        var c = Fx.chain()
        c.underlyingPrice = 0
        Self.expectInvalid(c, at: Fx.end, "underlying_price 0.0 must be > 0")
        c = Fx.chain()
        c.underlying = "spy"
        Self.expectInvalid(c, at: Fx.end, "ticker 'spy'")
        Self.expectInvalid(Fx.chain(), at: Fx.end.adding(ms: -1), "as_of")
    }

    // MARK: Sentiment and features

    @Test("sentiment bounds")
    func sentiment() {
        Self.expectValid(Fx.sentiment(score: 1), at: Fx.end)
        Self.expectValid(Fx.sentiment(score: -1), at: Fx.end)
        Self.expectValid(Fx.sentiment(score: 0, articles: 0), at: Fx.end)
        Self.expectInvalid(Fx.sentiment(score: 1.5), at: Fx.end, "score 1.5 outside [-1, 1]")
        Self.expectInvalid(Fx.sentiment(score: .nan), at: Fx.end, "score is not a finite number")
        Self.expectInvalid(Fx.sentiment(articles: -1), at: Fx.end, "negative articles")
        Self.expectInvalid(SentimentScore(ticker: "SPY", score: 0, source: ""), at: Fx.end, "empty sentiment source")
        #expect(Fx.sentiment().id(at: Fx.end) != Fx.sentiment().id(at: Fx.end + Minutes(1)))
    }

    @Test("feature vectors validate their bar and refuse non-finite statistics")
    func features() {
        Self.expectValid(Fx.warmupFeatures(), at: Fx.end)
        Self.expectValid(Fx.fullFeatures(), at: Fx.end)
        Self.expectInvalid(Fx.fullFeatures(), at: Fx.start, "event_time")
        var f = Fx.fullFeatures()
        f.sma20 = .nan
        Self.expectInvalid(f, at: Fx.end, "sma20 is not a finite number")
        f = Fx.fullFeatures()
        f.atmIv = -.infinity
        Self.expectInvalid(f, at: Fx.end, "atm_iv")
        f = Fx.fullFeatures()
        f.bar = Fx.bar(volume: -1)
        Self.expectInvalid(f, at: Fx.end, "negative volume")
        f = Fx.fullFeatures()
        f.ivPercentile = 100.5
        Self.expectInvalid(f, at: Fx.end, "iv_percentile 100.5 outside [0, 100]")
        f = Fx.fullFeatures()
        f.ivRank = -1
        Self.expectInvalid(f, at: Fx.end, "iv_rank")
    }

    // MARK: Watermark

    @Test("watermark coverage validation")
    func watermark() {
        Self.expectValid(Fx.watermark(), at: Fx.end)
        Self.expectValid(Watermark(producer: "p", covers: [.init(topic: Topics.bars, partitions: [0, 1, 2, 3], of: 4)]), at: Fx.end)
        Self.expectInvalid(Watermark(producer: "p", covers: [.init(topic: Topics.bars, partitions: [4], of: 4)]), at: Fx.end,
                           "watermark coverage of market.bars.v1 has partitions outside 0..<4")
        Self.expectInvalid(Watermark(producer: "p", covers: [.init(topic: Topics.bars, partitions: [-1], of: 4)]), at: Fx.end, "outside")
        Self.expectInvalid(Watermark(producer: "p", covers: [.init(topic: Topics.bars, partitions: [0], of: 0)]), at: Fx.end, "outside 0..<0")
        Self.expectInvalid(Watermark(producer: "p", covers: [.init(topic: "a", partitions: [0], of: 1),
                                                             .init(topic: "b", partitions: [0, 2], of: 2)]), at: Fx.end, "coverage of b")
        Self.expectInvalid(Watermark(producer: "p", covers: []), at: Fx.end, "covers nothing")
        Self.expectInvalid(Watermark(producer: "", covers: Fx.watermark().covers), at: Fx.end, "without producer")
        #expect(Watermark.id(producer: "p", topic: "t", partition: 0, time: Fx.end)
            != Watermark.id(producer: "p", topic: "t", partition: 1, time: Fx.end))
    }

    // MARK: DeadLetter

    @Test("a dead letter preserves the original bytes as base64 and as text")
    func deadLetterText() throws {
        let original = Array("{\"type\":\"bar\",\"x\":\"caf\u{e9}\\n\"\u{0}".utf8)
        let d = Fx.deadLetter(original: original)
        #expect(Base64.decode(d.originalBase64) == original)
        #expect(d.originalText.map { Array($0.utf8) } == original)
        #expect(d.key == "SPY")
        #expect(d.topic == Topics.bars && d.partition == 3 && d.offset == 42)
        #expect(d.errorKind == "malformed")
        #expect(d.reason == "envelope: not valid JSON")
        #expect(d.service == "feature-computer")
        #expect(d.partitionKey == "market.bars.v1/3")
        Self.expectValid(d, at: Fx.end)
        // Through the wire and back, byte for byte.
        let back = try Topics.decoder(for: Topics.deadLetter).decode(Fx.envelope(d).encoded()).typed(DeadLetter.self)?.payload
        #expect(back == d)
        #expect(back.flatMap { Base64.decode($0.originalBase64) } == original)
    }

    @Test("a dead letter of bytes that are not UTF-8 keeps them in base64 only")
    func deadLetterBinary() throws {
        let original: [UInt8] = [0xff, 0xfe, 0x00, 0x7b, 0xc3]
        let d = DeadLetter(topic: Topics.chains, partition: 0, offset: 7, key: nil, original: original,
                           error: MessageError(.malformed, "x"), service: "s")
        #expect(d.originalText == nil)
        #expect(d.key == nil)
        #expect(Base64.decode(d.originalBase64) == original)
        #expect(d.originalBase64 == "//4Ae8M=")
        let text = String(decoding: try Fx.envelope(d).encoded(), as: UTF8.self)
        #expect(text.contains("\"original_text\":null"))
        #expect(text.contains("\"key\":null"))
        #expect(text.contains("\"original_base64\":\"//4Ae8M=\"")) // slashes are not escaped
        let empty = DeadLetter(topic: Topics.chains, partition: 0, offset: 7, key: [], original: [],
                               error: MessageError(.late, "x"), service: "s")
        #expect(empty.originalBase64 == "" && empty.originalText == "" && empty.key == "")
        Self.expectValid(empty, at: Fx.end)
    }

    @Test("a dead letter's id depends on service, topic, partition and offset only")
    func deadLetterID() {
        let a = Fx.deadLetter()
        #expect(a.id == Fx.deadLetter().id)
        #expect(a.id == Fx.deadLetter(original: [1, 2, 3]).id) // the same refusal of the same input
        #expect(a.id.hasPrefix("dlq-") && a.id.count == 4 + 24)
        #expect(a.id != Fx.deadLetter(offset: 43).id)
        var other = a
        other.service = "market-feed"
        #expect(other.id != a.id)
        other = a
        other.partition = 2
        #expect(other.id != a.id)
        other = a
        other.topic = Topics.chains
        #expect(other.id != a.id)
    }

    @Test("dead letter validation: every error kind is accepted, others and bad base64 are not")
    func deadLetterValidation() {
        for kind in MessageError.Kind.allCases {
            Self.expectValid(DeadLetter(topic: "t", partition: 0, offset: 0, key: nil, original: [1], error: MessageError(kind, "r"),
                                        service: "s"), at: Fx.end)
        }
        var d = Fx.deadLetter()
        d.errorKind = "MALFORMED"
        Self.expectInvalid(d, at: Fx.end, "unknown error_kind MALFORMED")
        for bad in ["abc", "!!!!", "Zg==Zm9v", "===="] {
            d = Fx.deadLetter()
            d.originalBase64 = bad
            Self.expectInvalid(d, at: Fx.end, "original_base64 is not base64")
        }
    }

    @Test("MessageError: kinds, description, equality")
    func messageError() {
        #expect(MessageError.Kind.allCases.map(\.rawValue) == ["malformed", "unknown_type", "unknown_version", "invalid", "conflict", "late"])
        #expect(MessageError.invalid("x") == MessageError(.invalid, "x"))
        #expect(MessageError(.late, "behind").description == "late: behind")
        #expect(MessageError(.late, "a") != MessageError(.late, "b"))
    }
}
