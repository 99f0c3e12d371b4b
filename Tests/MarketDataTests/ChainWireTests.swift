import Foundation
import MarketData
@testable import OpsModel
import Testing

/// Option chains read from their bytes (`DirectWire`) against JSONDecoder's reading of the same bytes: where the
/// direct reader answers it must answer exactly what JSONDecoder does, and anything it does not read goes to
/// JSONDecoder, so every outcome — the envelope, or the refusal and its reason — is the same either way.
@Suite("Option chains read from their bytes")
struct ChainWireTests {
    static let decoder = Topics.decoder(for: Topics.chains)

    /// What a decode gives: the envelope re-encoded (every field, every bit of every number), or the refusal.
    static func outcome(_ bytes: [UInt8], direct: Bool) -> String {
        let e: AnyEnvelope
        do { e = try decoder.decode(bytes, direct: direct) } catch { return "refused \(error.kind) \(error.reason)" }
        return "ok " + ((try? e.encoded()).map { String(decoding: $0, as: UTF8.self) } ?? "(not encodable)")
    }

    static func envelope(_ chain: OptionChain, producedAt: Timestamp? = Timestamp(iso8601: "2026-12-04T05:00:00.123Z")) throws -> [UInt8] {
        try Envelope(id: chain.id, eventTime: chain.asOf, causationId: nil, source: "market-feed", payload: chain, producedAt: producedAt).encoded()
    }

    static func synthetic(contracts limit: Int? = nil) -> [OptionChain] {
        let at = Timestamp(iso8601: "2024-03-04T15:00:00Z")!
        return [("SPY", 512.37), ("AAPL", 175.1), ("TSLA", 9.99)].enumerated().map { i, u in
            var c = ChainSynthesizer().chain(underlying: u.0, price: u.1, at: at, baseVolatility: 0.2 + 0.1 * Double(i), seed: UInt64(7 + i))
            if let limit { c.contracts = Array(c.contracts.prefix(limit)) }
            return c
        }
    }

    @Test("synthetic chains: read directly, the same envelope as JSONDecoder's, with and without produced_at")
    func syntheticChainsAgree() throws {
        for chain in Self.synthetic() {
            for producedAt in [Timestamp(iso8601: "2026-12-04T05:00:00.123Z"), nil] {
                let bytes = try Self.envelope(chain, producedAt: producedAt)
                #expect(Self.decoder.readDirectly(bytes) != nil, "the direct reader reads what we write")
                let direct = Self.outcome(bytes, direct: true)
                #expect(direct.hasPrefix("ok "))
                #expect(direct == Self.outcome(bytes, direct: false))
            }
        }
    }

    /// The writer writes JSONEncoder's bytes, or declines (then JSONEncoder writes them).
    static func writtenAsJSONEncoderDoes(_ chain: OptionChain) throws -> Bool {
        let reference = try JSONText.encodePayload(chain, direct: false)
        guard let direct = DirectWire.encode(chain) else { return false }
        #expect(direct == reference, "\(chain.underlying) at \(chain.asOf.iso8601)")
        return true
    }

    @Test("chains are written as JSONEncoder writes them: synthetic ones, random quotes with nulls and odd numbers, a real one")
    func chainsWrittenAsJSONEncoderDoes() throws {
        for chain in Self.synthetic() { #expect(try Self.writtenAsJSONEncoderDoes(chain)) }
        var rng = SplitMix64(seed: 2026)
        func number() -> Double {
            switch rng.next() % 6 {
            case 0: return Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)   // any finite positive
            case 1: return Double(rng.next() % 100_000) / 100
            case 2: return -Double(rng.next() % 1000) / 1e6
            case 3: return 0
            case 4: return 1e-7 * Double(rng.next() % 1000)
            default: return Double(rng.next() % 1_000_000_000)
            }
        }
        func maybe() -> Double? { rng.next() % 3 == 0 ? nil : number() }
        var written = 0
        for i in 0..<300 {
            let base = Self.synthetic(contracts: 6)[i % 3]
            var chain = base
            chain.underlyingPrice = number()
            chain.contracts = base.contracts.map { q in
                var q = q
                q.bid = number(); q.ask = number(); q.strike = number(); q.last = maybe()
                q.iv = maybe(); q.delta = maybe(); q.gamma = maybe(); q.theta = maybe(); q.vega = maybe()
                q.volume = Int64(bitPattern: rng.next()); q.openInterest = Int64(rng.next() % 100_000)
                return q
            }
            if i % 50 == 7 { chain.underlying = "BRK\"B" }
            if try Self.writtenAsJSONEncoderDoes(chain) { written += 1 }
        }
        #expect(written == 294, "declines only the underlying JSONEncoder escapes")
    }

    @Test("a real chain (TDA SPY 2020-01-29, 462 contracts with nulls and greeks): the same either way",
          .enabled(if: CSVSharedData.available, CSVSharedData.skipMessage))
    func realChainsAgree() throws {
        var read = 0
        for file in ["options/tda_SPY_chain_2020-01-29_flat.csv"] {
            let (url, text) = try CSVSharedData.text(file)
            let chains = try ChainCSV.parse(text, file: url.lastPathComponent).chains
            #expect(!chains.isEmpty, "\(file)")
            for chain in chains {
                let bytes = try Self.envelope(chain)
                #expect(Self.decoder.readDirectly(bytes) != nil, "\(chain.underlying)")
                #expect(Self.outcome(bytes, direct: true) == Self.outcome(bytes, direct: false), "\(chain.underlying)")
                #expect(try Self.writtenAsJSONEncoderDoes(chain))
                read += 1
            }
        }
        #expect(read == 1)
    }

    static let hand = #"{"type":"option_chain","version":1,"id":"x","event_time":"2024-03-04T15:00:00Z","causation_id":null,"source":"s","payload":{"as_of":"2024-03-04T15:00:00Z","contracts":[{"ask":1.25,"bid":1.2,"delta":null,"expiration":"2024-03-15","gamma":0.01,"iv":0.2,"last":null,"open_interest":10,"right":"call","strike":500,"symbol":"SPY240315C00500000","theta":-0.05,"vega":0.1,"volume":3}],"underlying":"SPY","underlying_price":501.5},"produced_at":null}"#

    static let variants: [(String, String)] = [
        ("as written", hand),
        ("whitespace everywhere", " " + hand.replacingOccurrences(of: "\":", with: "\" : ").replacingOccurrences(of: ",\"", with: " ,\n\t\"")
            .replacingOccurrences(of: "[{", with: "[ {\r\n").replacingOccurrences(of: "}]", with: "} ]") + "\n"),
        ("optionals missing", hand.replacingOccurrences(of: #""delta":null,"#, with: "").replacingOccurrences(of: #","produced_at":null"#, with: "")),
        ("numbers in every form", hand.replacingOccurrences(of: "1.25", with: "125E-2").replacingOccurrences(of: "0.01", with: "1e-2")
            .replacingOccurrences(of: "-0.05", with: "-5.0e-2").replacingOccurrences(of: "501.5", with: "5.015e+2")),
        ("minus zero", hand.replacingOccurrences(of: "\"gamma\":0.01", with: "\"gamma\":-0")),
        ("payload before type", hand.replacingOccurrences(of: #""type":"option_chain","#, with: "").replacingOccurrences(of: #","produced_at":null"#, with: #","type":"option_chain""#)),
        ("an escaped symbol", hand.replacingOccurrences(of: "SPY240315", with: #"\u0053PY240315"#)),
        ("an unknown key", hand.replacingOccurrences(of: #""volume":3"#, with: #""volume":3,"exchange":"X""#)),
        ("a key twice", hand.replacingOccurrences(of: #""volume":3"#, with: #""volume":3,"volume":4"#)),
        ("an integer with a fraction", hand.replacingOccurrences(of: #""volume":3"#, with: #""volume":3.0"#)),
        ("an integer too large", hand.replacingOccurrences(of: #""volume":3"#, with: #""volume":9223372036854775808"#)),
        ("a number out of range", hand.replacingOccurrences(of: "501.5", with: "1e400")),
        ("a leading zero", hand.replacingOccurrences(of: "501.5", with: "0501.5")),
        ("a required field null", hand.replacingOccurrences(of: #""bid":1.2"#, with: #""bid":null"#)),
        ("a required field missing", hand.replacingOccurrences(of: #""bid":1.2,"#, with: "")),
        ("a bad right", hand.replacingOccurrences(of: #""call""#, with: #""cal""#)),
        ("a bad date", hand.replacingOccurrences(of: "2024-03-15", with: "2024-3-15")),
        ("a day past the month's end", hand.replacingOccurrences(of: "2024-03-15", with: "2024-02-30")),
        ("a put", hand.replacingOccurrences(of: #""call""#, with: #""put""#).replacingOccurrences(of: "C00500000", with: "P00500000")),
        ("a right in capitals", hand.replacingOccurrences(of: #""call""#, with: #""CALL""#)),
        ("another version", hand.replacingOccurrences(of: #""version":1"#, with: #""version":2"#)),
        ("an empty id", hand.replacingOccurrences(of: #""id":"x""#, with: #""id":"""#)),
        ("a symbol that disagrees", hand.replacingOccurrences(of: "C00500000", with: "P00500000")),
        ("trailing bytes", hand + "x"),
        ("a watermark", #"{"type":"watermark","version":1,"id":"w","event_time":"2024-03-04T15:00:00Z","causation_id":null,"source":"market-feed","payload":{"covers":[{"of":1,"partitions":[0],"topic":"source:market-feed"}],"producer":"market-feed"}}"#),
    ]

    @Test("plain, odd and broken spellings: the same envelope or the same refusal either way", arguments: variants)
    func variantsAgree(_ v: (String, String)) {
        let bytes = Array(v.1.utf8)
        #expect(Self.outcome(bytes, direct: true) == Self.outcome(bytes, direct: false), "\(v.0)")
    }

    @Test("the direct reader reads our plain spellings and leaves the odd ones to JSONDecoder")
    func whatItReads() {
        let reads = Dictionary(uniqueKeysWithValues: Self.variants.map { ($0.0, Self.decoder.readDirectly(Array($0.1.utf8)) != nil) })
        for name in ["as written", "whitespace everywhere", "optionals missing", "numbers in every form", "minus zero", "a symbol that disagrees",
                     "a watermark", "a put"] {
            #expect(reads[name] == true, "\(name)")
        }
        for name in ["payload before type", "an escaped symbol", "an unknown key", "a key twice", "an integer with a fraction",
                     "an integer too large", "a number out of range", "a leading zero", "a required field null", "trailing bytes"] {
            #expect(reads[name] == false, "\(name)")
        }
    }

    @Test("numbers read without a string (Clinger's fast path) are bit for bit what Double(String) reads: 40,000 random decimals and the edges")
    func numbersMatchTheTextReading() {
        var rng = SplitMix64(seed: 4_12_2026)
        func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(rng.next() % 10)) }) }
        var texts = ["0", "-0", "0.0", "-0.0", "0.1", "0.2", "0.3", "1.005", "4.35", "512.35", "9007199254740992", "9007199254740993",
                     "900719925474099.3", "1234567890123456", "12345678901234567", "0.0000000000000000000001", "0.00000000000000000000001",
                     "1e22", "1.5E-7", "123.4500000000000000", "99999999999999.99", "0.30000000000000004", "2.2250738585072014e-308"]
        for _ in 0..<40_000 {
            let whole = rng.next() % 4 == 0 ? "0" : String(1 + rng.next() % 9) + digits(Int(rng.next() % 9))
            let fraction = rng.next() % 5 == 0 ? "" : "." + digits(1 + Int(rng.next() % 18))
            texts.append((rng.next() % 3 == 0 ? "-" : "") + whole + fraction)
        }
        var fast = 0
        for text in texts {
            let bytes = Array(text.utf8)
            var reader = JSONBytesReader(bytes)
            #expect(reader.double()?.bitPattern == Double(text)?.bitPattern, "\(text)")
            if let v = JSONBytesReader(bytes).exactDouble(0..<bytes.count) {
                fast += 1
                #expect(v.bitPattern == Double(text)?.bitPattern, "fast path: \(text)")
            }
        }
        #expect(fast > 20_000, "the fast path answers for most of them (\(fast) of \(texts.count))")
    }

    @Test("3,000 damaged copies of a chain (a byte changed, dropped or doubled): every outcome the same either way")
    func damagedCopiesAgree() throws {
        let bytes = try Self.envelope(Self.synthetic(contracts: 6)[0])
        var rng = SplitMix64(seed: 20261204)
        let alphabet = Array(#"""\0129-+.eE,:{}[]n "#.utf8) + [0x00, 0x1F, 0xC3, 0xFF]
        var directReads = 0
        for _ in 0..<3000 {
            var b = bytes
            let at = Int(rng.next() % UInt64(b.count))
            switch rng.next() % 3 {
            case 0: b[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            case 1: b.remove(at: at)
            default: b.insert(b[at], at: at)
            }
            if Self.decoder.readDirectly(b) != nil { directReads += 1 }
            let direct = Self.outcome(b, direct: true)
            let reference = Self.outcome(b, direct: false)
            #expect(direct == reference, "damaged at byte \(at): \(String(decoding: b, as: UTF8.self).prefix(300))")
            if direct != reference { break }
        }
        #expect(directReads > 100, "many damaged copies are still plain chains the direct reader takes (\(directReads))")
    }
}
