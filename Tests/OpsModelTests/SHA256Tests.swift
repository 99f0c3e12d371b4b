import Testing
import OpsModel

@Suite("SHA256 and DeterministicID")
struct SHA256Tests {
    @Test("FIPS 180-4 / NIST test vectors")
    func fipsVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8))
            == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    @Test("one million 'a' (about 0.25 s in a debug build)")
    func millionA() {
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the 55/56/64-byte padding boundaries: one block vs. two, length field placement.
    /// Expected digests were computed with coreutils `sha256sum` over n bytes of 'a'.
    @Test("padding boundaries", arguments: [
        (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
        (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
        (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
    ])
    func paddingBoundaries(_ count: Int, _ digest: String) {
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: count)) == digest)
    }

    @Test("hash returns 32 bytes matching hex")
    func rawBytes() {
        let h = SHA256.hash(Array("abc".utf8))
        #expect(h.count == 32)
        #expect(h.prefix(4) == [0xba, 0x78, 0x16, 0xbf])
        #expect(h.suffix(2) == [0x15, 0xad])
    }

    /// Expected ids: `printf 'bar|SPY|1m|2024-02-20T14:30:00Z' | sha256sum`, first 24 hex digits. If these change,
    /// every id in the pipeline changes and consumers stop recognising re-delivered messages.
    @Test("ids are prefix-hex24 of SHA-256 over prefix|parts (pinned)")
    func pinnedIDs() {
        #expect(DeterministicID.make("bar", "SPY", "1m", "2024-02-20T14:30:00Z") == "bar-447df734a184f1f1f5760022")
        #expect(Fx.bar().id == "bar-447df734a184f1f1f5760022")
        #expect(Fx.chain().id == "chain-8e6c985c3918accf31de6a80")
        #expect(Fx.sentiment().id(at: Fx.end) == "sentiment-512ef2699d96c4e116f33f31")
        #expect(Watermark.id(producer: "market-feed", topic: Topics.bars, partition: 2, time: Fx.end) == "wm-5685e94a5e006aaf82d67653")
        #expect(Fx.deadLetter().id == "dlq-80731eb691c3e5551f3c3855")
        #expect(DeterministicID.make("x") == "x-a10629cfa782abfe970abb6e") // "x|" — no parts still appends the separator
    }

    @Test("ids are stable, formatted, and sensitive to every part")
    func stableAndFormatted() {
        let a = DeterministicID.make("feat", "SPY", "2024-02-20T14:31:00Z")
        #expect(a == DeterministicID.make("feat", "SPY", "2024-02-20T14:31:00Z"))
        #expect(a == DeterministicID.make("feat", parts: ["SPY", "2024-02-20T14:31:00Z"]))
        #expect(a.hasPrefix("feat-"))
        let hex = a.dropFirst("feat-".count)
        #expect(hex.count == 24)
        #expect(hex.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(a != DeterministicID.make("feat", "QQQ", "2024-02-20T14:31:00Z"))
        #expect(a != DeterministicID.make("feat", "SPY", "2024-02-20T14:32:00Z"))
        #expect(a != DeterministicID.make("bar", "SPY", "2024-02-20T14:31:00Z"))
        #expect(DeterministicID.make("p", "ab", "c") != DeterministicID.make("p", "a", "bc"))
        var seen = Set<String>()
        for i in 0..<2_000 { seen.insert(DeterministicID.make("n", String(i))) }
        #expect(seen.count == 2_000)
    }
}
