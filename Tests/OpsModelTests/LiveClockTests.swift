import OpsModel
import Testing

@Suite("Live clock: wall time or a simulated session every process agrees on")
struct LiveClockTests {
    @Test("wall reads the wall; a spec starts at its instant at its anchor and runs at its speed")
    func readings() throws {
        #expect(LiveClock.wall.now(wallMs: 1234) == Timestamp(ms: 1234))
        let c = try LiveClock(spec: "2024-03-05T09:30:00-05:00@1000000x10", wallNowMs: 0)
        #expect(c.now(wallMs: 1_000_000) == Timestamp(iso8601: "2024-03-05T14:30:00Z"))
        #expect(c.now(wallMs: 1_006_000) == Timestamp(iso8601: "2024-03-05T14:31:00Z"))
        #expect(c.wallMs(forClockMs: 60_000) == 6_000)
        #expect(try LiveClock(spec: c.description, wallNowMs: 5) == c, "its description reproduces it in another process")
        let unanchored = try LiveClock(spec: "2024-03-05T09:30:00-05:00", wallNowMs: 777)
        #expect(unanchored.anchorWallMs == 777 && unanchored.speed == 1)
    }

    @Test("bad specs name what to type", arguments: ["2024-03-05T09:30:00", "2024-03-05T09:30:00Zx0", "2024-03-05T09:30:00Z@abc", "tomorrow"])
    func bad(spec: String) {
        #expect(throws: LiveClockError.self) { try LiveClock(spec: spec, wallNowMs: 0) }
    }
}

@Suite("End of data")
struct EndOfDataTests {
    @Test("the end-of-data watermark survives the wire and stays below distantFuture (so services forward it)")
    func encodable() {
        #expect(Timestamp(iso8601: Timestamp.endOfData.iso8601) == .endOfData)
        #expect(Timestamp.endOfData < .distantFuture)
    }
}
