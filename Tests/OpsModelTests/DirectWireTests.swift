import Foundation
import Testing
@testable import OpsModel

/// Bars, feature vectors and watermarks written and read without JSONEncoder and JSONDecoder (`DirectWire`): the bytes
/// written must be JSONEncoder's, byte for byte, and where the reader answers it must answer what JSONDecoder does.
@Suite("Minute messages read and written from their bytes")
struct DirectWireTests {
    static func viaJSONEncoder(_ p: any Payload) throws -> [UInt8] { try JSONText.encodePayload(p, direct: false) }

    @Test(arguments: [
        Watermark(producer: "market-feed", covers: [.init(topic: "source:synthetic", partitions: [0], of: 1)]),
        Watermark(producer: "position-manager", covers: [
            .init(topic: Topics.bars, partitions: [0, 1, 2, 3], of: 4), .init(topic: Topics.fills, partitions: [], of: 4),
            .init(topic: "odd \"name\"/with\\slashes\n", partitions: [2147483647], of: 2147483647),
        ]),
        Watermark(producer: "p\u{1}ü", covers: []),
        Watermark(producer: "slash/and ü", covers: [.init(topic: "t", partitions: [], of: 1)]),
    ])
    func watermarksAsJSONEncoderWritesThem(_ w: Watermark) throws {
        #expect(try JSONText.encodePayload(w) == (try Self.viaJSONEncoder(w)))
        let strings = [w.producer] + w.covers.map(\.topic)
        let plain = strings.allSatisfy { $0.utf8.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") } }
        #expect((DirectWire.encode(w) != nil) == plain, "the writer declines only what JSONEncoder escapes")
    }

    static let oddTickers = ["SPY", "BRK/B", "ÜBER", "A\"B", "A\\B", "A\u{7}B", "A\u{1F}B", "", "12345678901234567890", "A\u{7F}B", "A\u{2028}B", "📈"]

    /// A Double from every corner: prices, integers, tiny and huge magnitudes, random bit patterns, signed zeros.
    static func anyDouble(_ rng: inout SplitMix64) -> Double {
        switch rng.next() % 8 {
        case 0: return Double(rng.next() % 100_000) / 100
        case 1: return Double(Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64))
        case 2: return Double(rng.next() % 1000) * pow(10, Double(Int(rng.next() % 40) - 20))
        case 3:
            let v = Double(bitPattern: rng.next())
            return v.isFinite ? v : 1.5
        case 4: return [0.0, -0.0, 1e-7, 1e16, 9007199254740991, 0.1 + 0.2, .leastNonzeroMagnitude, .greatestFiniteMagnitude][Int(rng.next() % 8)]
        default: return Double(rng.next() % 10_000_000) / 10_000 * (rng.next() % 2 == 0 ? 1 : -1)
        }
    }

    static func maybe<T>(_ rng: inout SplitMix64, _ v: T) -> T? { rng.next() % 4 == 0 ? nil : v }

    static func randomBar(_ rng: inout SplitMix64) -> Bar {
        let start = Timestamp(ms: Int64(rng.next() % 4_000_000_000_000))
        let ticker = rng.next() % 5 == 0 ? oddTickers[Int(rng.next() % UInt64(oddTickers.count))] : "T\(rng.next() % 100)"
        var b = Bar(ticker: ticker, start: start, open: anyDouble(&rng), high: anyDouble(&rng), low: anyDouble(&rng), close: anyDouble(&rng),
                    volume: Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64), vwap: maybe(&rng, anyDouble(&rng)),
                    trades: maybe(&rng, Int64(rng.next() % 100_000)))
        if rng.next() % 10 == 0 { b.interval = ["5m", "1d", "x/y", "q\""][Int(rng.next() % 4)] }
        return b
    }

    static func randomFeatures(_ rng: inout SplitMix64) -> FeatureVector {
        let bar = randomBar(&rng)
        func d(_ rng: inout SplitMix64) -> Double? { maybe(&rng, anyDouble(&rng)) }
        func t(_ rng: inout SplitMix64) -> Timestamp? { maybe(&rng, Timestamp(ms: Int64(rng.next() % 4_000_000_000_000))) }
        return FeatureVector(
            ticker: bar.ticker, interval: bar.interval, sessionDate: CivilDate(year: 1990 + Int(rng.next() % 60), month: 1 + Int(rng.next() % 12), day: 1 + Int(rng.next() % 28)),
            sessionBarIndex: Int(rng.next() % 1000), gapMinutes: maybe(&rng, Int(rng.next() % 5000) - 10), bar: bar,
            sma20: d(&rng), distanceSma20: d(&rng), sma20Slope: d(&rng), slopeLookback: Int(rng.next() % 30), volumeRatio: d(&rng),
            close5mAgo: d(&rng), close15mAgo: d(&rng), ret1m: d(&rng), ret5m: d(&rng), ret15m: d(&rng), atr14: d(&rng),
            sentimentScore: d(&rng), sentimentTime: t(&rng), atmIv: d(&rng), chainTime: t(&rng), ivPercentile: d(&rng), ivRank: d(&rng))
    }

    /// Reads `bytes` as `P` directly and through JSONDecoder; each reading re-encoded by JSONEncoder (every bit of
    /// every number), or nil where that reader gave nothing.
    static func readings<P: DirectlyRead>(_: P.Type, _ bytes: [UInt8]) -> (direct: [UInt8]?, reference: [UInt8]?) {
        var r = JSONBytesReader(bytes)
        let direct = P.readJSON(&r).flatMap { r.atEnd() ? $0 : nil }
        let reference = try? JSONDecoder().decode(P.self, from: Data(bytes))
        return (direct.flatMap { try? viaJSONEncoder($0) }, reference.flatMap { try? viaJSONEncoder($0) })
    }

    @Test("5,000 random bars and 5,000 random feature vectors: JSONEncoder's bytes, read back as JSONDecoder reads them")
    func randomMessagesRoundTrip() throws {
        var rng = SplitMix64(seed: 2026_12_04)
        var written = 0, read = 0
        for i in 0..<10_000 {
            let p: any Payload = i % 2 == 0 ? Self.randomBar(&rng) : Self.randomFeatures(&rng)
            let reference = try Self.viaJSONEncoder(p)
            let bytes = try JSONText.encodePayload(p)
            #expect(bytes == reference, "\(String(decoding: reference, as: UTF8.self))")
            if DirectWire.encode(p) != nil { written += 1 }
            let (direct, decoded) = p is Bar ? Self.readings(Bar.self, reference) : Self.readings(FeatureVector.self, reference)
            #expect(decoded == reference, "JSONDecoder reads back what JSONEncoder wrote")
            if let direct {
                read += 1
                #expect(direct == reference, "\(String(decoding: reference, as: UTF8.self))")
            }
            if bytes != reference || (direct != nil && direct != reference) { break }
        }
        #expect(written > 8_000, "the writer writes almost all of them (\(written)); it declines only strings JSONEncoder escapes")
        #expect(read == written, "the reader reads everything the writer writes (\(read) of \(written))")
    }

    static let bar = #"{"close":501.5,"end":"2024-03-04T15:01:00Z","high":502,"interval":"1m","low":500.25,"open":501,"start":"2024-03-04T15:00:00Z","ticker":"SPY","trades":12,"volume":3456,"vwap":null}"#
    static let features = #"{"atm_iv":0.18,"atr14":1.25,"bar":\#(bar),"chain_time":"2024-03-04T15:00:00Z","close_15m_ago":null,"close_5m_ago":500.5,"distance_sma20":0.0031,"gap_minutes":null,"interval":"1m","iv_percentile":55.5,"iv_rank":40,"ret_15m":null,"ret_1m":-0.0002,"ret_5m":0.0019,"sentiment_score":null,"sentiment_time":null,"session_bar_index":31,"session_date":"2024-03-04","slope_lookback":5,"sma20":500,"sma20_slope":0.01,"ticker":"SPY","volume_ratio":1.1}"#

    static let variants: [(String, String, Bool)] = [
        ("bar as written", bar, true),
        ("features as written", features, true),
        ("whitespace", " " + features.replacingOccurrences(of: "\":", with: "\" :\n").replacingOccurrences(of: ",\"", with: " ,\t\"") + " ", true),
        ("optionals missing", features.replacingOccurrences(of: #""close_15m_ago":null,"#, with: "").replacingOccurrences(of: #","vwap":null"#, with: ""), true),
        ("numbers in other forms", features.replacingOccurrences(of: "501.5", with: "5.015e2").replacingOccurrences(of: "0.0031", with: "31E-4"), true),
        ("an escaped ticker", features.replacingOccurrences(of: #""ticker":"SPY","volume"#, with: #""ticker":"\u0053PY","volume"#), false),
        ("an unknown key", features.replacingOccurrences(of: #""sma20":500"#, with: #""sma20":500,"ema9":1"#), false),
        ("a key twice", bar.replacingOccurrences(of: #""volume":3456"#, with: #""volume":3456,"volume":1"#), false),
        ("an integer with a fraction", bar.replacingOccurrences(of: #""volume":3456"#, with: #""volume":3456.0"#), false),
        ("an index too large", features.replacingOccurrences(of: #""session_bar_index":31"#, with: #""session_bar_index":99999999999999999999"#), false),
        ("a required field null", bar.replacingOccurrences(of: #""close":501.5"#, with: #""close":null"#), false),
        ("a required field missing", features.replacingOccurrences(of: #""slope_lookback":5,"#, with: ""), false),
        ("a bad date", features.replacingOccurrences(of: "2024-03-04\"", with: "2024-3-4\""), false),
        ("a number out of range", bar.replacingOccurrences(of: "500.25", with: "1e999"), false),
        ("a string for a number", bar.replacingOccurrences(of: "500.25", with: "\"500.25\""), false),
        ("trailing bytes", bar + "}", false),
    ]

    @Test("plain, odd and broken spellings: where the reader answers, JSONDecoder's answer; the odd ones left to it",
          arguments: variants)
    func variantsAgree(_ v: (String, String, Bool)) {
        let bytes = Array(v.1.utf8)
        let isBar = v.1.hasPrefix(#"{"close""#)
        let (direct, reference) = isBar ? Self.readings(Bar.self, bytes) : Self.readings(FeatureVector.self, bytes)
        #expect((direct != nil) == v.2, "\(v.0): read directly")
        if let direct { #expect(direct == reference, "\(v.0)") }
    }

    @Test("strings beyond ASCII: valid UTF-8 is read as JSONDecoder reads it, a broken sequence is refused by both")
    func stringsBeyondASCII() {
        func bar(ticker: [UInt8]) -> [UInt8] { Array(Self.bar.utf8).split(separator: UInt8(ascii: "S"), maxSplits: 1).joined(separator: ticker).map { $0 } }
        let plain = bar(ticker: Array("S".utf8))
        #expect(plain == Array(Self.bar.utf8))
        for (label, ticker, valid) in [("Ü", [0xC3, 0x9C] as [UInt8], true), ("a lone 0xFF", [0xFF], false), ("a cut sequence", [0xC3], false)] {
            let (direct, reference) = Self.readings(Bar.self, bar(ticker: ticker))
            #expect((direct != nil) == valid, "\(label): read directly")
            #expect((reference != nil) == valid, "\(label): JSONDecoder")
            #expect(direct == reference, "\(label)")
        }
    }

    @Test("a bar envelope decodes to the same envelope or the same refusal either way, in the topic's decoder")
    func envelopesAgree() throws {
        let decoder = Topics.decoder(for: Topics.bars)
        let good = try Envelope(id: "bar-1", eventTime: Timestamp(iso8601: "2024-03-04T15:01:00Z")!, causationId: nil, source: "market-feed",
                                payload: try JSONDecoder().decode(Bar.self, from: Data(Self.bar.utf8))).encoded()
        #expect(decoder.readDirectly(good) != nil)
        let text = String(decoding: good, as: UTF8.self)
        for bytes in [good, Array(text.replacingOccurrences(of: "502", with: "499").utf8),     // high below low: invalid
                      Array(text.replacingOccurrences(of: #""version":1"#, with: #""version":2"#).utf8),
                      Array(text.replacingOccurrences(of: #""type":"bar""#, with: #""type":"features""#).utf8)] {
            func outcome(_ direct: Bool) -> String {
                do { return "ok " + String(decoding: try decoder.decode(bytes, direct: direct).encoded(), as: UTF8.self) } catch { return "\(error)" }
            }
            #expect(outcome(true) == outcome(false))
        }
    }
}

@Suite("Messages kept in snapshots")
struct SnapshotMessagesTests {
    struct Held: Codable, Equatable { var chains: [String: OptionChain]?; var count: Int }
    struct Only: Codable, Equatable { var chains: [String: OptionChain]? }

    @Test("chains added to a snapshot by their wire JSON read back as JSONEncoder's whole document does, a chain the wire writer declines included")
    func chainsAddedByWire() throws {
        var odd = Fx.chain()
        odd.underlying = "Q\"Q"   // a quote: the wire writer declines it, JSONEncoder writes it
        let chains = ["SPY": Fx.chain(), "Q\"Q": odd]
        let spliced = try SnapshotCoding.encode(Held(chains: nil, count: 3), adding: "chains", chains)
        let whole = try SnapshotCoding.encode(Held(chains: chains, count: 3))
        #expect(spliced == whole, "\"chains\" sorts before \"count\": JSONEncoder's own bytes, the chains written by the wire writer")
        #expect(try SnapshotCoding.decode(Held.self, spliced) == Held(chains: chains, count: 3))
        #expect(try SnapshotCoding.decode(Held.self, whole) == (try SnapshotCoding.decode(Held.self, spliced)), "one schema: a snapshot written before reads the same")
        #expect(try SnapshotCoding.encode(Held(chains: nil, count: 3), adding: "chains", chains) == spliced, "stable bytes")
        #expect(try SnapshotCoding.decode(Only.self, try SnapshotCoding.encode(Only(chains: nil), adding: "chains", chains)) == Only(chains: chains))
        #expect(try SnapshotCoding.decode(Held.self, try SnapshotCoding.encode(Held(chains: nil, count: 1), adding: "chains", [String: OptionChain]())) == Held(chains: [:], count: 1))
    }
}
