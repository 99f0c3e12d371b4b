import Foundation

/// A message type that travels inside an `Envelope`.
///
/// `validate` is where a service refuses what must never reach a core (NaN or negative prices, bid > ask, …);
/// a payload that fails it goes to the dead-letter topic with the reason, never to the core (invariant 6).
public protocol Payload: Codable, Sendable, Equatable {
    /// The envelope `type` field, e.g. `bar`.
    static var messageType: String { get }
    /// The schema version this code writes and reads.
    static var version: Int { get }
    /// The Kafka key: the thing whose order must be kept (ticker, account id, position id).
    var partitionKey: String { get }
    /// Checks the payload, and its agreement with the envelope's event time.
    func validate(eventTime: Timestamp) throws(MessageError)
}

/// Why a message was refused. The kind says which family of failure; the reason says what exactly.
public struct MessageError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case malformed        // not JSON, truncated, missing or mistyped fields
        case unknownType = "unknown_type"
        case unknownVersion = "unknown_version"
        case invalid          // parsed, but fails validation
        case conflict         // same id as an applied message, different content
        case late             // event time at or behind what its partition already promised
    }
    public var kind: Kind
    public var reason: String
    public init(_ kind: Kind, _ reason: String) { self.kind = kind; self.reason = reason }
    public var description: String { "\(kind.rawValue): \(reason)" }

    public static func invalid(_ reason: String) -> MessageError { MessageError(.invalid, reason) }
}

/// The one envelope every topic carries:
/// `{"type","version","id","event_time","causation_id","source","payload"[,"produced_at"]}`.
public struct Envelope<P: Payload>: Sendable, Equatable {
    public var id: String
    public var eventTime: Timestamp
    public var causationId: String?
    public var source: String
    public var payload: P
    /// Wall-clock time of production: metadata only, never read by a core, excluded from determinism checks.
    public var producedAt: Timestamp?

    public init(id: String, eventTime: Timestamp, causationId: String?, source: String, payload: P, producedAt: Timestamp? = nil) {
        self.id = id
        self.eventTime = eventTime
        self.causationId = causationId
        self.source = source
        self.payload = payload
        self.producedAt = producedAt
    }

    public var type: String { P.messageType }
    public var version: Int { P.version }

    public func erased() -> AnyEnvelope {
        AnyEnvelope(type: P.messageType, version: P.version, id: id, eventTime: eventTime, causationId: causationId,
                    source: source, payload: payload, producedAt: producedAt)
    }

    /// The bytes on the topic. Field order is fixed and payload keys are sorted, so equal envelopes are equal bytes.
    public func encoded() throws -> [UInt8] { try erased().encoded() }
}

/// An envelope whose payload type is known only at run time (a topic may carry several types).
public struct AnyEnvelope: Sendable {
    public var type: String
    public var version: Int
    public var id: String
    public var eventTime: Timestamp
    public var causationId: String?
    public var source: String
    public var payload: any Payload
    public var producedAt: Timestamp?

    public func typed<P: Payload>(_: P.Type = P.self) -> Envelope<P>? {
        guard let p = payload as? P else { return nil }
        return Envelope(id: id, eventTime: eventTime, causationId: causationId, source: source, payload: p, producedAt: producedAt)
    }

    public var partitionKey: String { payload.partitionKey }

    public func encoded() throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(512)
        out.append(contentsOf: #"{"type":"#.utf8); JSONText.append(type, to: &out)
        out.append(contentsOf: #","version":"#.utf8); out.append(contentsOf: String(version).utf8)
        out.append(contentsOf: #","id":"#.utf8); JSONText.append(id, to: &out)
        out.append(contentsOf: #","event_time":"#.utf8); JSONText.append(eventTime.iso8601, to: &out)
        out.append(contentsOf: #","causation_id":"#.utf8)
        if let causationId { JSONText.append(causationId, to: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: #","source":"#.utf8); JSONText.append(source, to: &out)
        out.append(contentsOf: #","payload":"#.utf8)
        do {
            out.append(contentsOf: try JSONText.encodePayload(payload))
        } catch {
            throw MessageError.invalid("payload does not encode as JSON: \(error)")
        }
        if let producedAt { out.append(contentsOf: #","produced_at":"#.utf8); JSONText.append(producedAt.iso8601, to: &out) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The same envelope with `produced_at` removed: what determinism checks compare.
    public func withoutWallClock() -> AnyEnvelope { var e = self; e.producedAt = nil; return e }
}

/// Decodes envelopes for one topic, which accepts a known set of payload types.
public struct EnvelopeDecoder: Sendable {
    /// Held in a class so a decode hands it to `Whole` through the JSONDecoder's userInfo without copying.
    private let acceptedTypes: AcceptedTypes
    public var accepted: [String: any Payload.Type] { acceptedTypes.map }
    /// The accepted types that are read from their bytes first (`DirectWire`), JSONDecoder deciding what that cannot read.
    private let directReaders: [String: DirectWire.Reader]

    public init(accepting types: [any Payload.Type]) {
        var map = [String: any Payload.Type]()
        for t in types { map[t.messageType] = t }
        acceptedTypes = AcceptedTypes(map)
        directReaders = DirectWire.readers(map)
    }

    static let acceptedKey = CodingUserInfoKey(rawValue: "ops.envelope.accepted")!

    final class AcceptedTypes: Sendable {
        let map: [String: any Payload.Type]
        init(_ map: [String: any Payload.Type]) { self.map = map }
    }

    struct Header: Decodable {
        var type: String
        var version: Int
        var id: String
        var event_time: Timestamp
        var causation_id: String?
        var source: String
        var produced_at: Timestamp?
    }

    /// Which part of a message failed, so the reason names the envelope or the payload.
    enum Failure: Error {
        case header(Error)
        case refused(MessageError)
        case payload(type: String, Error)
    }

    /// The header and the payload in one pass over the bytes: the header names the payload's type, which is then
    /// decoded from the same parsed document (a 20 KB option chain is scanned once, not twice).
    struct Whole: Decodable {
        var header: Header
        var payload: any Payload

        enum Keys: String, CodingKey { case payload }

        init(from decoder: Decoder) throws {
            do { header = try Header(from: decoder) } catch { throw Failure.header(error) }
            let accepted = (decoder.userInfo[EnvelopeDecoder.acceptedKey] as? AcceptedTypes)?.map ?? [:]
            guard let type = accepted[header.type] else {
                throw Failure.refused(MessageError(.unknownType, "type '\(header.type)' is not accepted on this topic (accepted: \(accepted.keys.sorted().joined(separator: ", ")))"))
            }
            guard header.version == type.version else {
                throw Failure.refused(MessageError(.unknownVersion, "\(header.type) version \(header.version) is unknown (this build reads version \(type.version))"))
            }
            guard !header.id.isEmpty else { throw Failure.refused(MessageError(.malformed, "envelope: empty id")) }
            guard !header.source.isEmpty else { throw Failure.refused(MessageError(.malformed, "envelope: empty source")) }
            do {
                payload = try type.decodePayload(from: decoder.container(keyedBy: Keys.self), forKey: .payload)
            } catch {
                throw Failure.payload(type: header.type, error)
            }
        }
    }

    /// Parses, checks type and version, decodes and validates. Every failure is a `MessageError` with a reason.
    public func decode(_ bytes: [UInt8]) throws(MessageError) -> AnyEnvelope { try decode(bytes, direct: true) }

    /// `direct`: a message may be read from its bytes (tests turn it off to compare with JSONDecoder's reading).
    func decode(_ bytes: [UInt8], direct: Bool) throws(MessageError) -> AnyEnvelope {
        if direct, let e = readDirectly(bytes), e.version == acceptedTypes.map[e.type]?.version, !e.id.isEmpty, !e.source.isEmpty {
            try e.payload.validate(eventTime: e.eventTime)
            return e
        }
        let whole: Whole
        do {
            // A decoder per call: one shared across threads crashed in swift-foundation (its userInfo is not safe to read
            // concurrently), and it is cheap beside the parse.
            let json = JSONDecoder()
            json.userInfo[Self.acceptedKey] = acceptedTypes
            whole = try json.decode(Whole.self, from: Data(bytes))
        } catch Failure.refused(let e) {
            throw e
        } catch Failure.payload(let type, let error) {
            throw MessageError(.malformed, "\(type) payload: \(JSONText.describe(error))")
        } catch Failure.header(let error) {
            throw MessageError(.malformed, "envelope: \(JSONText.describe(error))")
        } catch {
            throw MessageError(.malformed, "envelope: \(JSONText.describe(error))")
        }
        let header = whole.header
        try whole.payload.validate(eventTime: header.event_time)
        return AnyEnvelope(type: header.type, version: header.version, id: header.id, eventTime: header.event_time,
                           causationId: header.causation_id, source: header.source, payload: whole.payload, producedAt: header.produced_at)
    }
}

extension EnvelopeDecoder {
    /// The envelope as `DirectWire` reads it (nil: JSONDecoder decides); tests compare it with JSONDecoder's reading.
    func readDirectly(_ bytes: [UInt8]) -> AnyEnvelope? {
        directReaders.isEmpty ? nil : DirectWire.decode(bytes, readers: directReaders)
    }
}

extension Payload {
    static func decodePayload<K: CodingKey>(from container: KeyedDecodingContainer<K>, forKey key: K) throws -> any Payload {
        try container.decode(Self.self, forKey: key)
    }
}

/// Small JSON text helpers: strings escaped by hand, payloads through JSONEncoder with sorted keys
/// (JSONEncoder's unsorted key order is hash-seeded per process, which would break byte-for-byte determinism).
public enum JSONText {
    public static func string(_ s: String) -> [UInt8] {
        var out = [UInt8]()
        append(s, to: &out)
        return out
    }

    /// `s` as a JSON string literal, appended.
    public static func append(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for u in s.utf8 {
            switch u {
            case UInt8(ascii: "\""): out += [92, 34]
            case UInt8(ascii: "\\"): out += [92, 92]
            case 0x0A: out += [92, UInt8(ascii: "n")]
            case 0x0D: out += [92, UInt8(ascii: "r")]
            case 0x09: out += [92, UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(u >> 4)], hex[Int(u & 15)]]
            default: out.append(u)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func encodePayload(_ p: any Payload) throws -> [UInt8] { try encodePayload(p, direct: true) }

    /// `direct`: the messages every minute carries are written without JSONEncoder, the same bytes (`DirectWire`);
    /// tests turn it off to compare.
    static func encodePayload(_ p: any Payload, direct: Bool) throws -> [UInt8] {
        if direct, let bytes = DirectWire.encode(p) { return bytes }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try enc.encode(p))
    }

    public static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let ctx):
            return "missing field '\(path(ctx.codingPath + [key]))'"
        case DecodingError.typeMismatch(let type, let ctx):
            return "field '\(path(ctx.codingPath))' is not \(type)"
        case DecodingError.valueNotFound(let type, let ctx):
            return "field '\(path(ctx.codingPath))' is null, expected \(type)"
        case DecodingError.dataCorrupted(let ctx):
            let under = (ctx.underlyingError as NSError?)?.localizedDescription
            let p = path(ctx.codingPath)
            return (p.isEmpty ? "not valid JSON" : "field '\(p)': \(ctx.debugDescription)") + (under.map { " (\($0))" } ?? "")
        default:
            return "\(error)"
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }
}

/// An optional that is written as an explicit `null` rather than left out, so every consumer (and the JSON
/// Schema) sees that a value could not be computed yet, and a missing key still reads as nil.
@propertyWrapper
public struct Nullable<T: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var wrappedValue: T?
    public init(wrappedValue: T?) { self.wrappedValue = wrappedValue }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        wrappedValue = c.decodeNil() ? nil : try c.decode(T.self)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let v = wrappedValue { try c.encode(v) } else { try c.encodeNil() }
    }
}

extension KeyedDecodingContainer {
    public func decode<T>(_ type: Nullable<T>.Type, forKey key: Key) throws -> Nullable<T> {
        try decodeIfPresent(type, forKey: key) ?? Nullable(wrappedValue: nil)
    }
}
