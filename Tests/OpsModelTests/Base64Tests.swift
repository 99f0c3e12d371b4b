import Foundation
import Testing
import OpsModel

@Suite("Base64")
struct Base64Tests {
    @Test("RFC 4648 §10 vectors", arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ])
    func rfcVectors(_ plain: String, _ encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test("every byte value and the full alphabet, against Foundation")
    func allBytes() {
        let bytes = (0...255).map(UInt8.init)
        let ours = Base64.encode(bytes)
        #expect(ours == Data(bytes).base64EncodedString())
        #expect(Base64.decode(ours) == bytes)
        #expect(Base64.encode([0xfb, 0xff, 0xbf]) == "+/+/")
        #expect(Base64.decode("+/+/") == [0xfb, 0xff, 0xbf])
    }

    @Test("pseudo-random round trips of lengths 0–300 agree with Foundation")
    func randomRoundTrips() {
        var rng = SplitMix64(seed: 0xB64)
        for length in 0...300 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Base64.encode(bytes)
            #expect(text == Data(bytes).base64EncodedString(), "length \(length)")
            #expect(Base64.decode(text) == bytes, "length \(length)")
        }
    }

    @Test("decode rejects wrong lengths, foreign characters and whitespace", arguments: [
        "Z", "Zg", "Zg=", "Zm9vY", "Zm9v!A==", "Zm9v\n", " Zm9v", "Zm9v ", "Zm-_", "Zm9v\u{e9}A=", "Zg=a", "Z=g=",
    ])
    func rejectsBadInput(_ text: String) {
        #expect(Base64.decode(text) == nil, "\(text)")
    }

    /// Found while writing these tests: padding was accepted in a middle group ("AA==AAAA" decoded to 4 bytes)
    /// and a group of three or four '=' decoded to a zero byte.
    @Test("decode rejects misplaced or excessive padding", arguments: [
        "Zg==Zm9v", "Zm8=Zm9v", "A===", "====", "Zm9v====", "Zg==Zg==",
    ])
    func rejectsBadPadding(_ text: String) {
        #expect(Base64.decode(text) == nil, "\(text)")
    }
}
