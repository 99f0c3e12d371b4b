import OpsModel
import Testing
@testable import OpsRuntime

@Suite("Feed pacing")
struct PacingTests {
    @Test func parsesTheSpeedFlag() {
        #expect(Pacing("max") == .max)
        #expect(Pacing("realtime") == .realtime && Pacing("1x") == .realtime)
        #expect(Pacing("60x") == .factor(60))
        #expect(Pacing("warp") == nil && Pacing("0x") == nil && Pacing("-5x") == nil && Pacing("x") == nil)
    }

    @Test func waitsFollowEventTimeAndCapLongGaps() {
        #expect(Pacing.max.wait(forEventSeconds: 60) == 0)
        #expect(Pacing.realtime.wait(forEventSeconds: 60) == 60)
        #expect(Pacing.factor(60).wait(forEventSeconds: 60) == 1)
        #expect(Pacing.realtime.wait(forEventSeconds: 17 * 3600) == 0, "a night is not slept through")
        #expect(Pacing.factor(60).wait(forEventSeconds: 17 * 3600) == 0)
        #expect(Pacing.factor(300).wait(forEventSeconds: 365 * 86_400) == 0, "a year of daily IV history is not paced")
        #expect(Pacing.realtime.wait(forEventSeconds: 3_599) == 3_599, "a quiet hour inside a session is")
    }

    @Test("--pace-from: minutes up to it go at once, the first after it waits only for the time past it")
    func paceFrom() {
        let at = { (m: Int64) in Timestamp(ms: 1_709_562_600_000 + m * 60_000) }
        let from = at(20)
        #expect(Pacing.realtime.wait(from: at(0), to: at(1), paceFrom: from) == 0)
        #expect(Pacing.realtime.wait(from: at(19), to: at(20), paceFrom: from) == 0, "the minute at it is not waited for")
        #expect(Pacing.realtime.wait(from: at(20), to: at(21), paceFrom: from) == 60)
        #expect(Pacing.factor(60).wait(from: at(25), to: at(26), paceFrom: from) == 1)
        #expect(Pacing.realtime.wait(from: at(10), to: at(22), paceFrom: from) == 120, "only the time past it")
        #expect(Pacing.realtime.wait(from: at(0), to: at(1), paceFrom: nil) == 60, "without it every minute is paced")
        #expect(Pacing.max.wait(from: at(20), to: at(21), paceFrom: from) == 0)
    }
}
