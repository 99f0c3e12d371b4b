import Foundation
import Testing
import OpsModel
@testable import DispatchCore

@Suite("Liquidity")
struct LiquidityTests {
    static let farExpiration = Fx.date("2026-02-15")
    static let before = Fx.time("2026-02-10T15:00:00Z")

    func check(_ bid: Double, _ ask: Double, expiration: CivilDate = farExpiration, asOf: Timestamp = before,
               volume: Int64? = 1_000, openInterest: Int64? = 5_000, params: TradingParams = Fx.params) -> LiquidityCheck {
        Liquidity.check(bid: bid, ask: ask, expiration: expiration, asOf: asOf, volume: volume, openInterest: openInterest, params: params)
    }

    @Test("seed test 3: bid 2.50 / ask 2.55 is valid with a 1.98% spread measured on the mid")
    func seedSpread() throws {
        let c = check(2.50, 2.55)
        #expect(c.valid)
        #expect(c.reason == "OK")
        let spread = try #require(c.spreadPct)
        #expect(abs(spread - 1.980198) < 1e-5)
        #expect(String(format: "%.2f", spread) == "1.98")
        #expect(abs(c.mid - 2.525) < 1e-12)
        #expect(c.gates.map(\.gate) == Liquidity.gateOrder)
        #expect(c.gates.allSatisfy { $0.passed })
        #expect(c.failedGate == nil)
    }

    @Test("a wide spread fails with the seed's wording")
    func wideSpread() {
        let c = check(1.00, 1.25)
        #expect(!c.valid)
        #expect(c.reason == "Spread too wide: 22.2% > 10.0%")
        #expect(c.failedGate == "spread")
    }

    @Test("mid, not bid, is the denominator: 9.98% on the mid passes where the bid would say 10.5%")
    func midDenominator() throws {
        let c = check(1.00, 1.105)
        #expect(c.valid)
        #expect(try #require(c.spreadPct) < 10)
        #expect((1.105 - 1.00) / 1.00 * 100 > 10)
    }

    @Test("a spread exactly at max_spread_pct passes despite binary noise; just above fails")
    func spreadAtLimit() {
        let bid = 0.95, ask = 1.05
        let raw: Double = (ask - bid) / ((bid + ask) / 2) * 100
        #expect(raw > 10.0) // the binary noise this guards against
        #expect(check(0.95, 1.05).valid)
        #expect(check(0.95, 1.0501).reason.hasPrefix("Spread too wide"))
    }

    @Test("premium floor: mid 0.29 fails, 0.30 exactly and 0.31 pass")
    func premiumFloor() {
        let low = check(0.28, 0.30)
        #expect(!low.valid)
        #expect(low.reason == "Premium too low: $0.29 < $0.30 (likely worthless)")
        #expect(low.failedGate == "premium")
        #expect(check(0.29, 0.31).valid)
        let ok = check(0.30, 0.32)
        #expect(ok.valid)
        #expect(abs(ok.mid - 0.31) < 1e-12)
    }

    @Test("bid or ask at or below 0 (or not finite) is no valid market", arguments: [
        (0.0, 1.0, "No valid bid/ask prices (bid=0.0, ask=1.0)"),
        (1.0, 0.0, "No valid bid/ask prices (bid=1.0, ask=0.0)"),
        (0.0, 0.0, "No valid bid/ask prices (bid=0.0, ask=0.0)"),
        (-0.5, 1.0, "No valid bid/ask prices (bid=-0.5, ask=1.0)"),
        (Double.nan, 1.0, "No valid bid/ask prices (bid=nan, ask=1.0)"),
        (1.0, Double.infinity, "No valid bid/ask prices (bid=1.0, ask=inf)"),
    ])
    func noMarket(_ bid: Double, _ ask: Double, _ reason: String) {
        let c = check(bid, ask)
        #expect(!c.valid)
        #expect(c.reason == reason)
        #expect(c.spreadPct == nil)
        #expect(c.mid == 0)
        #expect(c.gates.map(\.gate) == Liquidity.gateOrder)
        #expect(c.gates.map(\.passed) == [false, false, false, true, true, true])
    }

    @Test("a crossed quote is refused at the bid/ask gate")
    func crossed() {
        let c = check(1.10, 1.00)
        #expect(!c.valid)
        #expect(c.failedGate == "bid_ask")
        #expect(c.reason.hasPrefix("Crossed bid/ask prices"))
    }

    @Test("a contract is expired the day after its expiration")
    func expiredNextDay() {
        let c = check(2.50, 2.55, expiration: Fx.date("2024-03-08"), asOf: Fx.ny("2024-03-09", 10, 0))
        #expect(!c.valid)
        #expect(c.failedGate == "expiration")
        #expect(c.reason == "Contract expired (trading ended 2024-03-08 16:00 New York (2024-03-08T21:00:00Z); as of 2024-03-09T15:00:00Z)")
    }

    @Test("0DTE: valid through 16:00:00 New York on the expiration day, invalid after")
    func zeroDTE() {
        let exp = Fx.date("2024-03-06")
        #expect(check(2.50, 2.55, expiration: exp, asOf: Fx.ny("2024-03-06", 9, 31)).valid) // the seed's UTC-midnight test would refuse this
        #expect(check(2.50, 2.55, expiration: exp, asOf: Fx.ny("2024-03-06", 15, 59)).valid)
        #expect(check(2.50, 2.55, expiration: exp, asOf: Fx.ny("2024-03-06", 16, 0)).valid)
        #expect(!check(2.50, 2.55, expiration: exp, asOf: Fx.ny("2024-03-06", 16, 0).adding(ms: 1)).valid)
        #expect(!check(2.50, 2.55, expiration: exp, asOf: Fx.ny("2024-03-06", 16, 1)).valid)
    }

    /// (expiration, last valid UTC instant): the cut-off is 20:00Z in daylight time and 21:00Z in standard time,
    /// on both sides of the March and November changes.
    @Test("the 16:00 cut-off follows New York DST in March and November", arguments: [
        ("2024-03-08", "2024-03-08T21:00:00Z"), // Friday before DST starts (10 March): EST
        ("2024-03-11", "2024-03-11T20:00:00Z"), // Monday after: EDT
        ("2024-03-15", "2024-03-15T20:00:00Z"),
        ("2024-11-01", "2024-11-01T20:00:00Z"), // Friday before DST ends (3 November): EDT
        ("2024-11-04", "2024-11-04T21:00:00Z"), // Monday after: EST
        ("2024-11-08", "2024-11-08T21:00:00Z"),
        ("2025-03-07", "2025-03-07T21:00:00Z"),
        ("2025-03-10", "2025-03-10T20:00:00Z"),
    ])
    func dstCutoff(_ expiration: String, _ lastValid: String) {
        let exp = Fx.date(expiration)
        let end = Fx.time(lastValid)
        #expect(Liquidity.tradingEnds(expiration: exp) == end)
        #expect(check(2.50, 2.55, expiration: exp, asOf: end).valid)
        #expect(check(2.50, 2.55, expiration: exp, asOf: end - Minutes(1)).valid)
        #expect(!check(2.50, 2.55, expiration: exp, asOf: end + Minutes(1)).valid)
        #expect(NewYorkTime.local(end).secondOfDay == 16 * 3600)
    }

    @Test("open interest and volume floors (Phase 2), missing figures counting as 0")
    func floors() {
        let p = Fx.phase2
        #expect(check(2.50, 2.55, volume: 200, openInterest: 500, params: p).valid)
        let oi = check(2.50, 2.55, volume: 200, openInterest: 499, params: p)
        #expect(oi.reason == "Open interest too low: 499 < 500")
        let vol = check(2.50, 2.55, volume: 199, openInterest: 500, params: p)
        #expect(vol.reason == "Volume too low: 199 < 200")
        let none = check(2.50, 2.55, volume: nil, openInterest: nil, params: p)
        #expect(none.reason == "Open interest too low: 0 (not reported) < 500")
        #expect(none.gates.filter { !$0.passed }.map(\.gate) == ["open_interest", "volume"])
    }

    @Test("with the floors at 0 missing open interest and volume pass")
    func floorsOff() {
        var off = TradingParams()
        off.liquidityThresholds.minOpenInterest = 0
        off.liquidityThresholds.minVolume = 0
        let c = check(2.50, 2.55, volume: nil, openInterest: nil, params: off)
        #expect(c.valid)
        #expect(c.gates[4].detail.contains("check off"))
    }

    @Test("the reason is the first failure in gate order, and every failure is listed")
    func firstFailureOrder() {
        let c = check(0.20, 0.25, expiration: Fx.date("2024-03-08"), asOf: Fx.ny("2024-03-09", 10, 0),
                      volume: 1, openInterest: 1, params: Fx.phase2)
        #expect(c.failedGate == "spread")
        #expect(c.reason.hasPrefix("Spread too wide"))
        #expect(c.gates.filter { !$0.passed }.map(\.gate) == ["spread", "premium", "expiration", "open_interest", "volume"])

        let expiredAndThin = check(2.50, 2.55, expiration: Fx.date("2024-03-08"), asOf: Fx.ny("2024-03-09", 10, 0),
                                   volume: 1, openInterest: 1, params: Fx.phase2)
        #expect(expiredAndThin.failedGate == "expiration")
    }

    @Test("the OptionQuote form agrees with the field form")
    func quoteForm() {
        let q = Fx.quote(.call, 500, "2024-03-08", bid: 0.28, ask: 0.30, volume: 7, openInterest: 9)
        let asOf = Fx.ny("2024-03-06", 10, 0)
        #expect(Liquidity.check(q, asOf: asOf, params: Fx.phase2)
                == Liquidity.check(bid: 0.28, ask: 0.30, expiration: q.expiration, asOf: asOf, volume: 7, openInterest: 9, params: Fx.phase2))
    }
}
