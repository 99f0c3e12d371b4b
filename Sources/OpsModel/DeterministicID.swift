import Crypto

/// Deterministic message ids: derived from the inputs that produced a message, never from a clock or a counter,
/// so a re-run (or a retry after a crash) produces the same id and consumers can drop what they already applied.
public enum DeterministicID {
    /// `prefix-` followed by the first 24 hex digits (96 bits) of SHA-256 over the parts joined by `|`.
    public static func make(_ prefix: String, _ parts: String...) -> String {
        make(prefix, parts: parts)
    }

    public static func make(_ prefix: String, parts: [String]) -> String {
        var message = [UInt8]()
        message.reserveCapacity(parts.reduce(prefix.utf8.count) { $0 + $1.utf8.count + 1 })
        message += prefix.utf8
        message.append(UInt8(ascii: "|"))
        for (i, p) in parts.enumerated() {
            if i > 0 { message.append(UInt8(ascii: "|")) }
            message += p.utf8
        }
        let digest = Crypto.SHA256.hash(data: message)
        var id = [UInt8]()
        id.reserveCapacity(prefix.utf8.count + 25)
        id += prefix.utf8
        id.append(UInt8(ascii: "-"))
        appendHex(digest.prefix(12), to: &id)
        return String(decoding: id, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func appendHex(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        for b in bytes {
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 15)])
        }
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        appendHex(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// SHA-256 for ids and content fingerprints (swift-crypto: BoringSSL's, with the CPU's SHA instructions where it has them).
public enum SHA256 {
    public static func hash(_ message: [UInt8]) -> [UInt8] { Array(Crypto.SHA256.hash(data: message)) }

    public static func hex(_ message: [UInt8]) -> String { DeterministicID.hex(hash(message)) }
}
