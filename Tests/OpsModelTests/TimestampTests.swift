import Foundation
import Testing
import OpsModel

@Suite("Timestamp")
struct TimestampTests {
    @Test("formats whole seconds without a fraction and milliseconds with exactly three digits")
    func formatting() {
        #expect(Timestamp(ms: 0).iso8601 == "1970-01-01T00:00:00Z")
        #expect(Timestamp(ms: 1_708_439_460_000).iso8601 == "2024-02-20T14:31:00Z")
        #expect(Timestamp(ms: 1_708_439_460_123).iso8601 == "2024-02-20T14:31:00.123Z")
        #expect(Timestamp(ms: 1_708_439_460_005).iso8601 == "2024-02-20T14:31:00.005Z")
        #expect(Timestamp(ms: 1_708_439_460_050).iso8601 == "2024-02-20T14:31:00.050Z")
        #expect(Timestamp(ms: 1_708_439_460_900).iso8601 == "2024-02-20T14:31:00.900Z")
        #expect(Timestamp(seconds: 1_708_439_460).iso8601 == "2024-02-20T14:31:00Z")
        #expect(Timestamp(ms: -1).iso8601 == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(ms: -1000).iso8601 == "1969-12-31T23:59:59Z")
        #expect(Timestamp(ms: -2_208_988_800_000).iso8601 == "1900-01-01T00:00:00Z")
        #expect(Timestamp(ms: -2_077_704_000_000).iso8601 == "1904-02-29T12:00:00Z")
        #expect(Timestamp(ms: 951_868_800_000 - 1).iso8601 == "2000-02-29T23:59:59.999Z")
        #expect(Timestamp(ms: 4_133_980_799_000).iso8601 == "2100-12-31T23:59:59Z")
        #expect(Timestamp(ms: 1_708_439_460_000).description == "2024-02-20T14:31:00Z")
    }

    @Test("parses Z, numeric offsets, a space for T, lower case and surrounding blanks",
          arguments: [
              "2024-02-20T14:31:00Z",
              "2024-02-20T14:31Z",
              "2024-02-20T14:31:00+00:00",
              "2024-02-20T14:31:00-00:00",
              "2024-02-20T14:31:00+0000",
              "2024-02-20T09:31:00-05:00",
              "2024-02-20T10:31:00-0400",
              "2024-02-20T10:31-04:00",
              "2024-02-20T20:01:00+05:30",
              "2024-02-20 14:31:00Z",
              "2024-02-20 09:31:00-05:00",
              "2024-02-20t14:31:00z",
              "  2024-02-20T14:31:00Z\n",
              "2024-02-20T14:31:00.000Z",
          ])
    func parsesZones(_ text: String) {
        #expect(Timestamp(iso8601: text) == Timestamp(ms: 1_708_439_460_000), "\(text)")
    }

    @Test("parses fractional seconds, truncating below a millisecond",
          arguments: [
              ("2024-02-20T14:31:00.5Z", Int64(500)),
              ("2024-02-20T14:31:00.05Z", 50),
              ("2024-02-20T14:31:00.123Z", 123),
              ("2024-02-20T14:31:00.1239Z", 123),
              ("2024-02-20T14:31:00.123456789Z", 123),
              ("2024-02-20T14:31:00,25Z", 250),
              ("2024-02-20T09:31:00.007-05:00", 7),
              ("2024-02-20 10:31:00.999-0400", 999),
          ])
    func parsesFractions(_ text: String, _ milli: Int64) {
        #expect(Timestamp(iso8601: text) == Timestamp(ms: 1_708_439_460_000 + milli), "\(text)")
    }

    @Test("an offset moves the instant across a day, month and year boundary")
    func offsetsCrossDays() {
        #expect(Timestamp(iso8601: "2024-02-29T23:30:00-05:00")?.iso8601 == "2024-03-01T04:30:00Z")
        #expect(Timestamp(iso8601: "2024-01-01T00:30:00+01:00")?.iso8601 == "2023-12-31T23:30:00Z")
        #expect(Timestamp(iso8601: "1970-01-01T00:00:00+00:01")?.ms == -60_000)
    }

    @Test("rejects zone-less times: naive local times must go through NewYorkTime",
          arguments: ["2024-02-20T14:31:00", "2024-02-20 14:31", "2024-02-20T14:31:00.123", "2024-02-20T14:31"])
    func rejectsZoneless(_ text: String) {
        #expect(Timestamp(iso8601: text) == nil, "\(text)")
        #expect(LocalDateTime(parsing: text) != nil, "\(text) is a valid zone-less local time")
    }

    @Test("rejects garbage",
          arguments: [
              "", "   ", "hello", "1708439460000", "2024-02-20", "2024-02-20T", "2024-02-20T14", "2024-02-20T14:Z",
              "24-02-20T14:31:00Z", "2024-2-20T14:31:00Z", "2024/02/20T14:31:00Z", "2024-02-20X14:31:00Z",
              "2024-02-20T1:31:00Z", "2024-02-20T14:3:00Z", "2024-02-20T14:31:0Z", "2024-02-20T14:31:00.Z",
              "2024-02-20T14:31:00ZZ", "2024-02-20T14:31:00 Z", "2024-02-20T14:31:00UTC", "2024-02-20T14:31:00EST",
              "2024-02-20T24:00:00Z", "2024-02-20T25:00:00Z", "2024-02-20T14:60:00Z", "2024-02-20T14:31:60Z",
              "2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z",
              "2024-04-31T00:00:00Z", "2024-02-20T14:31:00+5", "2024-02-20T14:31:00+05", "2024-02-20T14:31:00+24:00",
              "2024-02-20T14:31:00+05:60", "2024-02-20T14:31:00+05:00:00", "2024-02-20T14:31:00+ab:cd",
              "2024-02-20T14:31:00-", "2024-02-20T14:31:00+", "2024-02-20T-1:31:00Z", "2024-02-20T14:+1:00Z",
          ])
    func rejectsGarbage(_ text: String) {
        #expect(Timestamp(iso8601: text) == nil, "\(text)")
    }

    /// Found while writing these tests: the offset parser dropped every ':' and then read two-character
    /// prefixes with `Int64(_:)`, which accepts a sign, and the date parser read its fields with `Int(_:)` too.
    @Test("rejects signs and stray colons inside offsets and date fields",
          arguments: [
              "2024-02-20T14:31:00+-1:00", "2024-02-20T14:31:00++100", "2024-02-20T14:31:00-+0100",
              "2024-02-20T14:31:00+0:500", "2024-02-20T14:31:00+05:0:0", "2024-02-20T14:31:00+:0500",
              "2024-+2-20T14:31:00Z", "2024-02-+1T14:31:00Z", "+024-02-20T14:31:00Z",
          ])
    func rejectsSignedFields(_ text: String) {
        #expect(Timestamp(iso8601: text) == nil, "\(text)")
    }

    @Test("round-trips pre-1970 times, leap days and century edges exactly",
          arguments: [
              "1969-12-31T23:59:59.999Z", "1900-01-01T00:00:00Z", "1900-02-28T23:59:59.999Z", "1900-03-01T00:00:00Z",
              "1904-02-29T12:00:00Z", "1960-06-15T08:07:06.050Z", "1970-01-01T00:00:00.001Z",
              "2000-02-29T23:59:59.001Z", "2024-02-29T00:00:00Z", "2100-02-28T23:59:59Z", "2100-03-01T00:00:00Z",
              "2099-12-31T23:59:59.999Z",
          ])
    func roundTripsEdges(_ text: String) throws {
        let t = try #require(Timestamp(iso8601: text))
        #expect(t.iso8601 == text)
        #expect(Timestamp(iso8601: t.iso8601) == t)
    }

    @Test("round-trips 20,000 pseudo-random instants between 1900 and 2100")
    func roundTripsRandom() throws {
        var rng = SplitMix64(seed: 0x715E_57A4)
        let lo: Int64 = -2_208_988_800_000, hi: Int64 = 4_133_980_799_999
        for i in 0..<20_000 {
            var ms = Int64.random(in: lo...hi, using: &rng)
            if i % 3 == 0 { ms -= ((ms % 1000) + 1000) % 1000 } // also whole seconds
            let t = Timestamp(ms: ms)
            let text = t.iso8601
            #expect(text.count == (ms % 1000 == 0 ? 20 : 24), "\(text)")
            let back = Timestamp(iso8601: text)
            #expect(back == t, "\(ms) -> \(text) -> \(back?.ms ?? -1)")
            if back != t { return }
        }
    }

    @Test("whole-second formatting agrees with Foundation's ISO8601DateFormatter")
    func agreesWithFoundation() {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        var rng = SplitMix64(seed: 42)
        for _ in 0..<3_000 {
            let s = Int64.random(in: -2_208_988_800...4_133_980_799, using: &rng)
            let ours = Timestamp(seconds: s).iso8601
            let theirs = f.string(from: Date(timeIntervalSince1970: TimeInterval(s)))
            #expect(ours == theirs)
            if ours != theirs { return }
        }
    }

    @Test("arithmetic and ordering")
    func arithmetic() {
        let t = Timestamp(ms: 1_708_439_460_000)
        #expect((t + Minutes(5)).iso8601 == "2024-02-20T14:36:00Z")
        #expect((t - Minutes(31)).iso8601 == "2024-02-20T14:00:00Z")
        #expect((t + Minutes(-1)) == t - Minutes(1))
        #expect(t.adding(ms: 1).iso8601 == "2024-02-20T14:31:00.001Z")
        #expect(t < t.adding(ms: 1))
        #expect(Timestamp(ms: -5) < Timestamp(ms: 0))
        #expect(Timestamp.distantPast < Timestamp(ms: -2_208_988_800_000))
        #expect(Timestamp.distantFuture > Timestamp(ms: 4_133_980_799_999))
        #expect([Timestamp(ms: 3), Timestamp(ms: -1), Timestamp(ms: 2)].sorted().map(\.ms) == [-1, 2, 3])
    }

    @Test("Codable as an ISO-8601 string; a zone-less string does not decode")
    func codable() throws {
        let t = Timestamp(ms: 1_708_439_460_250)
        let data = try JSONEncoder().encode([t])
        #expect(String(decoding: data, as: UTF8.self) == "[\"2024-02-20T14:31:00.250Z\"]")
        #expect(try JSONDecoder().decode([Timestamp].self, from: data) == [t])
        #expect(try JSONDecoder().decode([Timestamp].self, from: Data("[\"2024-02-20T09:31:00.25-05:00\"]".utf8)) == [t])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([Timestamp].self, from: Data("[\"2024-02-20T14:31:00\"]".utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([Timestamp].self, from: Data("[1708439460000]".utf8))
        }
    }
}
