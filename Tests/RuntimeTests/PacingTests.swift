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
}
