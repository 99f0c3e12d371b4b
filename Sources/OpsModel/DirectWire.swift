#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The messages every minute carries — bars, feature vectors, watermarks, option chains — read from and written to
/// their bytes without JSONDecoder and JSONEncoder. A service spends most of a busy minute in their generic machinery
/// (metadata lookups, a dictionary per object, boxed containers): with 500 tickers the feature-computer's minute was
/// ≈ 40% encoding feature vectors and ≈ 25% decoding bars. The reader accepts a strict subset of JSON — the shape our
/// own writer produces: no escapes in strings, plain numbers, each key once, no key it does not know — and answers nil
/// on anything else, so `EnvelopeDecoder` falls back to JSONDecoder, which stays the reference for what a message means
/// and for every error's wording. The writer writes what JSONEncoder with sorted keys writes, byte for byte, and
/// declines (JSONEncoder then writes) a string it would have to escape or a number JSON cannot hold. Tests hold both
/// side by side with Foundation's on real, synthetic, random and damaged messages.
public protocol DirectlyRead: Payload {
    /// The payload from its plain spelling; nil for anything else (JSONDecoder then decides).
    static func readJSON(_ r: inout JSONBytesReader) -> Self?
}

public protocol DirectlyWritten: Payload {
    /// Writes what JSONEncoder (sorted keys, slashes unescaped) writes; false where it declines (JSONEncoder then writes).
    func writeJSON(_ w: inout JSONBytesWriter) -> Bool
}

enum DirectWire {
    typealias Reader = @Sendable (inout JSONBytesReader) -> (any Payload)?

    /// A reader per accepted type that has one.
    static func readers(_ accepted: [String: any Payload.Type]) -> [String: Reader] {
        var out = [String: Reader]()
        for (name, type) in accepted {
            if let t = type as? any DirectlyRead.Type { out[name] = { r in t.readJSON(&r) } }
        }
        return out
    }

    /// The envelope, before the checks every envelope goes through; nil when the bytes are anything but the plain
    /// shape or the type has no reader (then JSONDecoder decides).
    static func decode(_ bytes: [UInt8], readers: [String: Reader]) -> AnyEnvelope? {
        var r = JSONBytesReader(bytes)
        guard let e = r.envelope(readers), r.atEnd() else { return nil }
        return e
    }

    /// The payload's bytes, or nil where the writer declines.
    static func encode(_ p: any Payload) -> [UInt8]? {
        guard let d = p as? any DirectlyWritten else { return nil }
        var w = JSONBytesWriter()
        return d.writeJSON(&w) ? w.bytes : nil
    }
}

/// 10^0 … 10^22, each exact in a Double (a literal: no lazy initialization on every read).
private let exactPowersOfTen: [Double] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                          1e18, 1e19, 1e20, 1e21, 1e22]

/// A forward-only reader over JSON bytes for `DirectWire`; every method answers nil (or false) at the first byte outside
/// the subset it reads.
public struct JSONBytesReader {
    private let b: [UInt8]
    private var i = 0

    init(_ bytes: [UInt8]) { b = bytes }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), minus = UInt8(ascii: "-")

    private mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func take(_ c: UInt8) -> Bool {
        skipSpace()
        guard i < b.count, b[i] == c else { return false }
        i += 1
        return true
    }

    mutating func atEnd() -> Bool { skipSpace(); return i == b.count }

    /// The byte range of a string's contents, when it holds no escape and no control character.
    mutating func stringRange() -> Range<Int>? {
        guard take(Self.quote) else { return nil }
        let start = i
        while i < b.count {
            let c = b[i]
            if c == Self.quote { i += 1; return start..<(i - 1) }
            if c == Self.backslash || c < 0x20 { return nil }
            i += 1
        }
        return nil
    }

    mutating func string() -> String? {
        guard let r = stringRange() else { return nil }
        return b.withUnsafeBufferPointer { all in
            let s = UnsafeBufferPointer(rebasing: all[r])
            // ASCII (every id, ticker, symbol and date we write) is valid UTF-8 as it stands; the generic validating
            // initializer looked up its metadata on every call (a tenth of a chain's decode).
            if s.allSatisfy({ $0 < 0x80 }) { return String(decoding: s, as: UTF8.self) }
            return String(validating: s, as: UTF8.self)
        }
    }

    mutating func timestamp() -> Timestamp? { string().flatMap { Timestamp(iso8601: $0) } }

    /// `YYYY-MM-DD` read from the bytes (a chain has one per contract): no String on the way.
    mutating func civilDate() -> CivilDate? { stringRange().flatMap { CivilDate(isoBytes: b[$0]) } }

    /// `"call"` or `"put"`, compared as bytes.
    mutating func optionRight() -> OptionRight? {
        guard let r = stringRange() else { return nil }
        return text(r, is: "call") ? .call : text(r, is: "put") ? .put : nil
    }

    /// `null`, consumed; false (nothing consumed) for anything else.
    mutating func null() -> Bool {
        skipSpace()
        guard i + 4 <= b.count, b[i] == UInt8(ascii: "n"), b[i + 1] == UInt8(ascii: "u"), b[i + 2] == UInt8(ascii: "l"),
              b[i + 3] == UInt8(ascii: "l") else { return false }
        i += 4
        return true
    }

    private func digit(_ k: Int) -> Bool { k < b.count && b[k] >= 0x30 && b[k] <= 0x39 }

    /// A number by JSON's grammar: its range and whether it is a plain integer.
    private mutating func number() -> (Range<Int>, integral: Bool)? {
        skipSpace()
        let start = i
        if i < b.count, b[i] == Self.minus { i += 1 }
        guard digit(i) else { return nil }
        if b[i] == 0x30 { i += 1 } else { while digit(i) { i += 1 } }
        var integral = true
        if i < b.count, b[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            guard digit(i) else { return nil }
            while digit(i) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            integral = false
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == Self.minus { i += 1 }
            guard digit(i) else { return nil }
            while digit(i) { i += 1 }
        }
        return (start..<i, integral)
    }

    /// A finite Double (correctly rounded, as JSONDecoder's).
    mutating func double() -> Double? {
        guard let (r, _) = number() else { return nil }
        if let v = exactDouble(r) { return v }
        guard let v = Double(String(decoding: b[r], as: UTF8.self)), v.isFinite else { return nil }
        return v
    }

    /// Clinger's fast path: a number whose digits make an integer m ≤ 2^53 and whose decimal exponent e has |e| ≤ 22
    /// is m × 10^e or m / 10^−e with both operands exact, so one IEEE operation rounds it correctly — the value
    /// `Double(String)` gives, without building a string. Nil (the caller parses the text) for anything else.
    func exactDouble(_ r: Range<Int>) -> Double? {
        // In place, without bounds checks (`number` has checked the grammar of every byte in `r`): a quarter of a
        // chain's decode was this loop.
        b.withUnsafeBufferPointer { p -> Double? in
            var k = r.lowerBound
            let negative = p[k] == Self.minus
            if negative { k += 1 }
            var m: UInt64 = 0, digits = 0, scale = 0, inFraction = false
            while k < r.upperBound {
                let c = p[k]
                if c == UInt8(ascii: ".") { inFraction = true } else if c &- 0x30 < 10 {
                    if m == 0, c == 0x30 { if inFraction { scale -= 1 } } else {
                        digits += 1
                        guard digits <= 16 else { return nil }
                        m = m &* 10 &+ UInt64(c &- 0x30)
                        if inFraction { scale -= 1 }
                    }
                } else { return nil }   // an exponent: the text path reads it
                k += 1
            }
            guard m <= 1 << 53, scale >= -22 else { return nil }
            let v = scale == 0 ? Double(m) : Double(m) / exactPowersOfTen[-scale]
            return negative ? -v : v
        }
    }

    /// An integer written as one (no fraction, no exponent) that fits.
    mutating func int64() -> Int64? {
        guard let (r, integral) = number(), integral else { return nil }
        var k = r.lowerBound
        let negative = b[k] == Self.minus
        if negative { k += 1 }
        var v: Int64 = 0
        while k < r.upperBound {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(b[k] - 0x30)) : m.addingReportingOverflow(Int64(b[k] - 0x30))
            guard !o1, !o2 else { return nil }
            v = s
            k += 1
        }
        return v
    }

    /// `null` (nil) or a value `read` reads: false when neither.
    mutating func optional<T>(_ into: inout T?, _ read: (inout JSONBytesReader) -> T?) -> Bool {
        if null() { into = nil; return true }
        guard let v = read(&self) else { return false }
        into = v
        return true
    }

    /// An array of values `read` reads.
    mutating func array<T>(_ read: (inout JSONBytesReader) -> T?) -> [T]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var out = [T]()
        if take(UInt8(ascii: "]")) { return out }
        repeat {
            guard let x = read(&self) else { return nil }
            out.append(x)
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? out : nil
    }

    /// Reads an object's members: `member` is called with each key's bytes and must read its value (false: give up).
    /// Each key may appear once (`seen` keeps the bits `member` returns).
    mutating func object(_ member: (inout JSONBytesReader, Range<Int>) -> UInt32?) -> UInt32? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var seen: UInt32 = 0
        if take(UInt8(ascii: "}")) { return seen }
        repeat {
            guard let k = stringRange(), take(UInt8(ascii: ":")) else { return nil }
            guard let bit = member(&self, k), seen & bit == 0 else { return nil }
            seen |= bit
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}")) ? seen : nil
    }
}

extension JSONBytesReader {
    /// Whether the bytes at `k` (a key's range as `object` hands it to its member, or a string's) are `s`: compared in
    /// place, without a slice of the bytes (which retained them once per key: a chain has 14 keys a contract).
    func text(_ k: Range<Int>, is s: StaticString) -> Bool {
        guard k.count == s.utf8CodeUnitCount else { return false }
        return b.withUnsafeBufferPointer { all in memcmp(all.baseAddress! + k.lowerBound, s.utf8Start, k.count) == 0 }
    }
}

extension JSONBytesReader {
    /// The envelope: its header keys, then (after `type` named it) a payload of a type `readers` has.
    mutating func envelope(_ readers: [String: DirectWire.Reader]) -> AnyEnvelope? {
        var type: String?, version: Int?, id: String?, eventTime: Timestamp?, causation: String?, source: String?
        var producedAt: Timestamp?, payload: (any Payload)?
        let seen = object { r, key in
            switch true {
            case r.text(key, is: "type"): type = r.string(); return type == nil ? nil : 1
            case r.text(key, is: "version"): version = r.int64().flatMap { Int(exactly: $0) }; return version == nil ? nil : 2
            case r.text(key, is: "id"): id = r.string(); return id == nil ? nil : 4
            case r.text(key, is: "event_time"): eventTime = r.timestamp(); return eventTime == nil ? nil : 8
            case r.text(key, is: "causation_id"):
                if r.null() { return 16 }
                causation = r.string(); return causation == nil ? nil : 16
            case r.text(key, is: "source"): source = r.string(); return source == nil ? nil : 32
            case r.text(key, is: "produced_at"):
                if r.null() { return 64 }
                producedAt = r.timestamp(); return producedAt == nil ? nil : 64
            case r.text(key, is: "payload"):
                // Read only once the type said what it is.
                guard let type, let read = readers[type] else { return nil }
                payload = read(&r); return payload == nil ? nil : 128
            default: return nil
            }
        }
        guard seen != nil, let type, let version, let id, let eventTime, let source, let payload else { return nil }
        return AnyEnvelope(type: type, version: version, id: id, eventTime: eventTime, causationId: causation, source: source,
                           payload: payload, producedAt: producedAt)
    }

    mutating func optionChain() -> OptionChain? {
        var underlying: String?, price: Double?, asOf: Timestamp?, contracts: [OptionQuote]?
        let seen = object { r, key in
            switch true {
            case r.text(key, is: "underlying"): underlying = r.string(); return underlying == nil ? nil : 1
            case r.text(key, is: "underlying_price"): price = r.double(); return price == nil ? nil : 2
            case r.text(key, is: "as_of"): asOf = r.timestamp(); return asOf == nil ? nil : 4
            case r.text(key, is: "contracts"): contracts = r.quotes(); return contracts == nil ? nil : 8
            default: return nil
            }
        }
        guard seen != nil, let underlying, let price, let asOf, let contracts else { return nil }
        return OptionChain(underlying: underlying, underlyingPrice: price, asOf: asOf, contracts: contracts)
    }

    mutating func quotes() -> [OptionQuote]? { array { $0.quote() } }

    mutating func quote() -> OptionQuote? {
        var symbol: String?, right: OptionRight?, strike: Double?, expiration: CivilDate?, bid: Double?, ask: Double?
        var volume: Int64?, openInterest: Int64?
        var last: Double?, iv: Double?, delta: Double?, gamma: Double?, theta: Double?, vega: Double?
        let seen = object { r, key in
            switch true {
            case r.text(key, is: "symbol"): symbol = r.string(); return symbol == nil ? nil : 1
            case r.text(key, is: "right"): right = r.optionRight(); return right == nil ? nil : 2
            case r.text(key, is: "strike"): strike = r.double(); return strike == nil ? nil : 4
            case r.text(key, is: "expiration"): expiration = r.civilDate(); return expiration == nil ? nil : 8
            case r.text(key, is: "bid"): bid = r.double(); return bid == nil ? nil : 16
            case r.text(key, is: "ask"): ask = r.double(); return ask == nil ? nil : 32
            case r.text(key, is: "volume"): volume = r.int64(); return volume == nil ? nil : 64
            case r.text(key, is: "open_interest"): openInterest = r.int64(); return openInterest == nil ? nil : 128
            case r.text(key, is: "last"): return r.optional(&last) { $0.double() } ? 256 : nil
            case r.text(key, is: "iv"): return r.optional(&iv) { $0.double() } ? 512 : nil
            case r.text(key, is: "delta"): return r.optional(&delta) { $0.double() } ? 1024 : nil
            case r.text(key, is: "gamma"): return r.optional(&gamma) { $0.double() } ? 2048 : nil
            case r.text(key, is: "theta"): return r.optional(&theta) { $0.double() } ? 4096 : nil
            case r.text(key, is: "vega"): return r.optional(&vega) { $0.double() } ? 8192 : nil
            default: return nil
            }
        }
        guard seen != nil, let symbol, let right, let strike, let expiration, let bid, let ask, let volume, let openInterest else { return nil }
        return OptionQuote(symbol: symbol, right: right, strike: strike, expiration: expiration, bid: bid, ask: ask, last: last,
                           volume: volume, openInterest: openInterest, iv: iv, delta: delta, gamma: gamma, theta: theta, vega: vega)
    }
}

/// Writes JSON as JSONEncoder with `.sortedKeys` and `.withoutEscapingSlashes` does: no whitespace, a Double as its
/// shortest round-tripping description without a trailing `.0`, explicit nulls. Callers write an object's keys in
/// sorted order (bytewise, as JSONEncoder sorts them); the tests compare with JSONEncoder's bytes.
public struct JSONBytesWriter {
    public private(set) var bytes: [UInt8] = []
    private var first = true

    init() { bytes.reserveCapacity(512) }

    /// An object; `body` writes its members with `key` and a value, and answers false to decline.
    mutating func object(_ body: (inout JSONBytesWriter) -> Bool) -> Bool {
        bytes.append(UInt8(ascii: "{"))
        let outer = first
        first = true
        defer { first = outer }
        guard body(&self) else { return false }
        bytes.append(UInt8(ascii: "}"))
        return true
    }

    /// An array of `items`, each written by `item`.
    mutating func array<T>(_ items: [T], _ item: (inout JSONBytesWriter, T) -> Bool) -> Bool {
        bytes.append(UInt8(ascii: "["))
        for (i, x) in items.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            guard item(&self, x) else { return false }
        }
        bytes.append(UInt8(ascii: "]"))
        return true
    }

    mutating func key(_ k: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    /// False for a string JSONEncoder would escape (a quote, a backslash, a control character).
    mutating func string(_ s: String) -> Bool {
        bytes.append(UInt8(ascii: "\""))
        for u in s.utf8 {
            guard u >= 0x20, u != UInt8(ascii: "\""), u != UInt8(ascii: "\\") else { return false }
            bytes.append(u)
        }
        bytes.append(UInt8(ascii: "\""))
        return true
    }

    /// False for NaN and infinities (JSONEncoder refuses them).
    mutating func double(_ v: Double) -> Bool {
        guard v.isFinite else { return false }
        var text = v.description
        text.withUTF8 { t in
            let n = t.count >= 2 && t[t.count - 2] == UInt8(ascii: ".") && t[t.count - 1] == 0x30 ? t.count - 2 : t.count
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: t[..<n]))
        }
        return true
    }

    mutating func int(_ v: Int64) { bytes.append(contentsOf: String(v).utf8) }

    mutating func null() { bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")]) }

    mutating func double(_ v: Double?) -> Bool {
        guard let v else { null(); return true }
        return double(v)
    }

    mutating func int(_ v: Int64?) {
        guard let v else { null(); return }
        int(v)
    }

    mutating func timestamp(_ t: Timestamp) -> Bool { string(t.iso8601) }

    mutating func timestamp(_ t: Timestamp?) -> Bool {
        guard let t else { null(); return true }
        return timestamp(t)
    }
}
