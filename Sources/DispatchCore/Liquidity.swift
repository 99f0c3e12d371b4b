import Foundation
import OpsModel

/// The verdict of `Liquidity.check`: valid or the first failure, with every gate's own result for the audit.
public struct LiquidityCheck: Sendable, Equatable {
    public var valid: Bool
    /// "OK", or the first failed gate's detail (the seed's wording, e.g. `Spread too wide: 12.3% > 10.0%`).
    public var reason: String
    /// (bid + ask) / 2; 0 when bid/ask are not valid prices.
    public var mid: Double
    /// (ask − bid) / mid × 100; nil when bid/ask are not valid prices.
    public var spreadPct: Double?
    /// Every gate in order (bid_ask, spread, premium, expiration, open_interest, volume), passed or not.
    public var gates: [GateResult]

    public init(valid: Bool, reason: String, mid: Double, spreadPct: Double?, gates: [GateResult]) {
        self.valid = valid; self.reason = reason; self.mid = mid; self.spreadPct = spreadPct; self.gates = gates
    }

    /// The name of the first failed gate, nil when valid.
    public var failedGate: String? { gates.first { !$0.passed }?.gate }
}

/// Seed 000 Phase 1, Step 3 (with the Phase 2 open-interest and volume floors, off at 0): is a contract liquid
/// enough to trade.
///
/// In order, the first failure being the reason:
/// 1. `bid_ask`: bid and ask are finite prices above 0 (and not crossed) — `No valid bid/ask prices (bid=0.0, ask=1.2)`.
/// 2. `spread`: (ask − bid) / mid × 100 at most `max_spread_pct` — `Spread too wide: 12.3% > 10.0%`. The seed's fix:
///    the denominator is the mid, not the bid.
/// 3. `premium`: mid at least `min_premium` — `Premium too low: $0.29 < $0.30 (likely worthless)`.
/// 4. `expiration`: the contract still trades: `asOf` is not after 16:00 New York time on its expiration date (at
///    16:00:00.000 exactly it is still valid). The seed compared UTC midnight with the wall clock, which expired a
///    0DTE contract at 19:00/20:00 New York the day before.
/// 5. `open_interest` and 6. `volume`: at least `min_open_interest` / `min_volume` when those are above 0 (a
///    missing figure counts as 0).
///
/// The spread and premium comparisons are made on values rounded to 1e-6 (percent, dollars), so binary noise
/// cannot fail a quote exactly at a limit: 0.95/1.05 is a 10% spread, not 10.000000000000009%.
public enum Liquidity {
    public static let gateOrder = ["bid_ask", "spread", "premium", "expiration", "open_interest", "volume"]

    /// `explain: false` leaves every gate's detail empty (the verdicts and numbers are the same): for screening a
    /// chain's contracts, where only the chosen one's texts are kept.
    public static func check(bid: Double, ask: Double, expiration: CivilDate, asOf: Timestamp, volume: Int64?,
                             openInterest: Int64?, params: TradingParams, explain: Bool = true) -> LiquidityCheck {
        let limits = params.liquidityThresholds
        var gates: [GateResult] = []
        func gate(_ name: String, _ passed: Bool, _ detail: @autoclosure () -> String) -> GateResult {
            GateResult(gate: name, passed: passed, detail: explain ? detail() : "")
        }

        // 1. bid/ask
        let pricesValid = bid.isFinite && ask.isFinite && bid > 0 && ask > 0
        let crossed = pricesValid && bid > ask
        if !pricesValid {
            gates.append(gate("bid_ask", false, "No valid bid/ask prices (bid=\(bid), ask=\(ask))"))
        } else if crossed {
            gates.append(gate("bid_ask", false, "Crossed bid/ask prices (bid=\(bid) > ask=\(ask))"))
        } else {
            gates.append(gate("bid_ask", true, "bid=\(bid), ask=\(ask)"))
        }

        // 2. spread and 3. premium (need prices)
        var mid = 0.0
        var spreadPct: Double? = nil
        if pricesValid {
            mid = (bid + ask) / 2
            let spread = (ask - bid) / mid * 100
            spreadPct = spread
            if micro(spread) > micro(limits.maxSpreadPct) {
                gates.append(gate("spread", false, "Spread too wide: \(Fmt.fixed(spread, 1))% > \(limits.maxSpreadPct)%"))
            } else {
                gates.append(gate("spread", true, "Spread \(Fmt.fixed(spread, 2))% ≤ \(limits.maxSpreadPct)%"))
            }
            if micro(mid) < micro(limits.minPremium) {
                gates.append(gate("premium", false, "Premium too low: $\(Fmt.fixed(mid, 2)) < $\(Fmt.fixed(limits.minPremium, 2)) (likely worthless)"))
            } else {
                gates.append(gate("premium", true, "Premium $\(Fmt.fixed(mid, 2)) ≥ $\(Fmt.fixed(limits.minPremium, 2))"))
            }
        } else {
            gates.append(gate("spread", false, "Spread not measurable without valid bid/ask"))
            gates.append(gate("premium", false, "Premium not measurable without valid bid/ask"))
        }

        // 4. expiration
        let ends = tradingEnds(expiration: expiration)
        func endsText() -> String { "\(expiration.iso) 16:00 New York (\(ends.iso8601))" }
        if asOf > ends {
            gates.append(gate("expiration", false, "Contract expired (trading ended \(endsText()); as of \(asOf.iso8601))"))
        } else {
            gates.append(gate("expiration", true, "Trades until \(endsText())"))
        }

        // 5. open interest and 6. volume
        gates.append(floorGate("open_interest", label: "Open interest", value: openInterest, minimum: limits.minOpenInterest,
                               key: "min_open_interest", explain: explain))
        gates.append(floorGate("volume", label: "Volume", value: volume, minimum: limits.minVolume, key: "min_volume", explain: explain))

        let firstFailure = gates.first { !$0.passed }
        return LiquidityCheck(valid: firstFailure == nil, reason: firstFailure?.detail ?? "OK", mid: mid, spreadPct: spreadPct, gates: gates)
    }

    /// The check of one quote of a chain.
    public static func check(_ quote: OptionQuote, asOf: Timestamp, params: TradingParams) -> LiquidityCheck {
        check(bid: quote.bid, ask: quote.ask, expiration: quote.expiration, asOf: asOf, volume: quote.volume,
              openInterest: quote.openInterest, params: params)
    }

    /// The last instant a contract expiring on `expiration` trades: 16:00 New York time that day, DST-aware.
    public static func tradingEnds(expiration: CivilDate) -> Timestamp {
        NewYorkTime.utc(date: expiration, hour: 16, minute: 0)
    }

    static func floorGate(_ gate: String, label: String, value: Int64?, minimum: Int, key: String, explain: Bool = true) -> GateResult {
        func result(_ passed: Bool, _ detail: (String) -> String) -> GateResult {
            GateResult(gate: gate, passed: passed, detail: explain ? detail(value.map(String.init) ?? "0 (not reported)") : "")
        }
        guard minimum > 0 else { return result(true) { "\(label) \($0), check off (\(key) 0)" } }
        if (value ?? 0) < Int64(minimum) { return result(false) { "\(label) too low: \($0) < \(minimum)" } }
        return result(true) { "\(label) \($0) ≥ \(minimum)" }
    }

    /// A value in millionths, rounded, for comparisons free of binary noise.
    static func micro(_ v: Double) -> Double { (v * 1_000_000).rounded() }
}
