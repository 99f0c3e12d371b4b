import Foundation
import OpsModel

/// What an exit rule sees: one open position at an input that concerns it (a chain of its underlying, or a bar of
/// a stock position's ticker).
public struct ExitContext: Sendable {
    public var position: OpenPosition
    /// The mark per share (an option's mid to the nearest cent, a bar's close); nil when the option is not quoted
    /// (missing from the chain, or no usable ask).
    public var markCents: Cents?
    /// The position's contract as quoted in the chain; nil when it is missing from the chain, and for stock.
    public var quote: OptionQuote?
    /// The input's event time.
    public var time: Timestamp
    /// `time` on the New York wall clock.
    public var newYork: LocalDateTime
    /// The close of `time`'s New York session in minutes after midnight (`MarketCalendar`: 16:00, 13:00 on an
    /// early close; 16:00 on a day the market is closed).
    public var closeMinute: Int
    /// The underlying's price at this input (the chain's underlying price, a bar's close); nil when unknown.
    public var underlyingPrice: Double?
    /// The latest signal on the position's underlying in its direction, if any (its event time).
    public var lastSignalInDirection: Timestamp?

    public init(position: OpenPosition, markCents: Cents?, quote: OptionQuote?, time: Timestamp, underlyingPrice: Double? = nil,
                lastSignalInDirection: Timestamp? = nil) {
        self.position = position; self.markCents = markCents; self.quote = quote; self.time = time
        self.newYork = NewYorkTime.local(time)
        self.closeMinute = MarketCalendar.closeMinute(of: newYork.date) ?? MarketCalendar.closeMinute
        self.underlyingPrice = underlyingPrice; self.lastSignalInDirection = lastSignalInDirection
    }

    /// Calendar days to expiration (nil for shares).
    public var daysLeft: Int? { position.expiration.map { newYork.date.days(until: $0) } }
}

/// A rule's verdict that the position must be exited now, in whole or in part.
public struct ExitSignal: Sendable, Equatable {
    /// The short rule name: the position event's `exit_reason` (`stop_loss`).
    public var rule: String
    /// The rule with its numbers, for the exit order's `reason`
    /// (`stop_loss: mark $1.20 ≤ $1.50 (entry $2.50 − 40%)`).
    public var detail: String
    /// How many to sell; nil: everything still held.
    public var quantity: Int?
    /// A roll's close leg: the id both legs share.
    public var rollId: String?
    public init(rule: String, detail: String, quantity: Int? = nil, rollId: String? = nil) {
        self.rule = rule; self.detail = detail; self.quantity = quantity; self.rollId = rollId
    }
}

/// One exit rule: a small pure function from an open position to an exit signal or nil.
///
/// The position-manager evaluates its rules in order at every input that concerns a position with no exit being
/// worked, and the first signal wins. Rules run only when a sell could be placed (an option quoted with a bid > 0;
/// a stock bar), except those with `runsWithoutBid` (the expiration rule): a position must not outlive its
/// expiration just because its contract stopped being quoted. Memory across inputs (the high-water mark, whether a
/// partial exit was taken) lives on `OpenPosition`, derived from the topics.
public struct ExitRule: Sendable {
    public var name: String
    /// Also evaluated when the option has no bid or is missing from the chain (its exit then waits for a bid, or
    /// for the expiry settlement).
    public var runsWithoutBid: Bool
    public var evaluate: @Sendable (ExitContext) -> ExitSignal?

    public init(name: String, runsWithoutBid: Bool = false, evaluate: @escaping @Sendable (ExitContext) -> ExitSignal?) {
        self.name = name; self.runsWithoutBid = runsWithoutBid; self.evaluate = evaluate
    }

    /// The option rules of seed 000 Phases 1–4 from `params`, in priority order: the stop (premium or underlying
    /// style, then breakeven after a partial exit), the trailing stop, the target (a partial exit when on), the roll,
    /// the 21-DTE time exit, the day-trade close, the expiration.
    public static func standard(_ params: TradingParams) -> [ExitRule] {
        let x = params.exits
        var rules = [stop(x)]
        if x.partialExit { rules.append(breakevenStop()) }
        if x.trailingStop { rules.append(trailingStop(activation: x.trailActivationPct, trail: x.trailPct)) }
        rules.append(target(x))
        if params.roll.enabled { rules.append(roll(params.roll)) }
        if x.timeExitDte > 0 { rules.append(timeExit(dte: x.timeExitDte)) }
        rules += [dayTradeClose(minutesBeforeClose: x.dayTradeExitMinutesBeforeClose),
                  expiration(minutesBeforeClose: x.expirationExitMinutesBeforeClose)]
        return rules
    }

    /// The rules for stock positions (stock fallback): the stop and target on the share price (`exits.stock_*_pct`,
    /// or ATR multiples in the underlying style), then the day-trade close. Shares do not expire, roll or trail.
    public static func stock(_ params: TradingParams) -> [ExitRule] {
        let x = params.exits
        let pct = [stopLoss(fraction: x.stockStopLossPct), profitTarget(fraction: x.stockProfitTargetPct)]
        let price = x.style == "underlying"
            ? [UnderlyingExit.stop(x, fallback: pct[0]), UnderlyingExit.target(x, partial: false, fraction: 0, fallback: pct[1])]
            : pct
        return price + [dayTradeClose(minutesBeforeClose: x.dayTradeExitMinutesBeforeClose)]
    }

    /// `stop_loss` in the configured style; after a partial exit the breakeven stop takes over.
    static func stop(_ x: TradingParams.ExitParams) -> ExitRule {
        let premium = stopLoss(fraction: x.stopLossPct)
        let rule = x.style == "underlying" ? UnderlyingExit.stop(x, fallback: premium) : premium
        return ExitRule(name: rule.name) { c in c.position.partialTaken ? nil : rule.evaluate(c) }
    }

    /// `profit_target` in the configured style, or `partial_exit` (seed 000 #20) when on and more than one is held.
    static func target(_ x: TradingParams.ExitParams) -> ExitRule {
        let premium = PartialExit.premiumTarget(x)
        let rule = x.style == "underlying"
            ? UnderlyingExit.target(x, partial: x.partialExit, fraction: x.partialFraction, fallback: premium) : premium
        return ExitRule(name: rule.name) { c in c.position.partialTaken ? nil : rule.evaluate(c) }
    }

    // MARK: price rules

    /// `stop_loss` when mark ≤ entry × (1 − fraction). Exact: the comparison is against the largest whole cent at
    /// or below entry × (1 − fraction), computed in decimal (see `stopLossThresholdCents`).
    public static func stopLoss(fraction: Double) -> ExitRule {
        let f = Exact.decimal(fraction)
        let pct = Exact.percentText(f)
        return ExitRule(name: "stop_loss") { c in
            let entry = c.position.entryPriceCents
            let threshold = stopLossThresholdCents(entryCents: entry, fraction: f)
            guard let mark = c.markCents, mark <= threshold else { return nil }
            return ExitSignal(rule: "stop_loss", detail: "stop_loss: mark \(Money.dollars(mark)) ≤ \(Money.dollars(threshold)) (entry \(Money.dollars(entry)) − \(pct)%)")
        }
    }

    /// `profit_target` when mark ≥ entry × (1 + fraction). Exact: against the smallest whole cent at or above it.
    public static func profitTarget(fraction: Double) -> ExitRule {
        let f = Exact.decimal(fraction)
        let pct = Exact.percentText(f)
        return ExitRule(name: "profit_target") { c in
            let entry = c.position.entryPriceCents
            let threshold = profitTargetThresholdCents(entryCents: entry, fraction: f)
            guard let mark = c.markCents, mark >= threshold else { return nil }
            return ExitSignal(rule: "profit_target", detail: "profit_target: mark \(Money.dollars(mark)) ≥ \(Money.dollars(threshold)) (entry \(Money.dollars(entry)) + \(pct)%)")
        }
    }

    /// ⌊entry × (1 − fraction)⌋ in cents (never below 0): for a whole-cent mark, mark ≤ entry × (1 − fraction)
    /// exactly when mark ≤ this. `fraction` is read as the decimal it prints as (0.4 is 4/10, not the binary double).
    public static func stopLossThresholdCents(entryCents: Cents, fraction: Double) -> Cents {
        stopLossThresholdCents(entryCents: entryCents, fraction: Exact.decimal(fraction))
    }

    /// ⌈entry × (1 + fraction)⌉ in cents: for a whole-cent mark, mark ≥ entry × (1 + fraction) exactly when
    /// mark ≥ this.
    public static func profitTargetThresholdCents(entryCents: Cents, fraction: Double) -> Cents {
        profitTargetThresholdCents(entryCents: entryCents, fraction: Exact.decimal(fraction))
    }

    static func stopLossThresholdCents(entryCents: Cents, fraction: Decimal) -> Cents {
        let x = Decimal(entryCents) * (1 - fraction)
        return x > 0 ? Exact.rounded(x, .down) : 0
    }

    static func profitTargetThresholdCents(entryCents: Cents, fraction: Decimal) -> Cents {
        let x = Decimal(entryCents) * (1 + fraction)
        return x > 0 ? Exact.rounded(x, .up) : 0
    }

    // MARK: time rules

    /// `day_trade_close` for a day trade at or after (the session's close − minutes) New York time (15:50; 12:50 on
    /// a 13:00 early close), or on any New York date after the one it was opened on (a day trade left open
    /// overnight is overdue).
    public static func dayTradeClose(minutesBeforeClose minutes: Int) -> ExitRule {
        ExitRule(name: "day_trade_close") { c in
            guard c.position.strategy == .dayTrade else { return nil }
            let cutoff = c.closeMinute * 60 - minutes * 60
            let now = Exact.clock(c.newYork.secondOfDay)
            if c.newYork.secondOfDay >= cutoff {
                return ExitSignal(rule: "day_trade_close", detail: "day_trade_close: \(now) New York ≥ \(Exact.clock(cutoff)) (\(closeText(c)) − \(minutes) min)")
            }
            let openedOn = NewYorkTime.date(of: c.position.openedAt)
            if c.newYork.date > openedOn {
                return ExitSignal(rule: "day_trade_close", detail: "day_trade_close: opened \(openedOn), still open \(c.newYork.date) \(now) New York")
            }
            return nil
        }
    }

    /// `expiration` on the contract's expiration date at or after (the session's close − minutes) New York time,
    /// or any time after that date. Runs without a bid: the position must go, by a sell when one can be placed,
    /// otherwise by the expiry settlement at the close.
    public static func expiration(minutesBeforeClose minutes: Int) -> ExitRule {
        ExitRule(name: "expiration", runsWithoutBid: true) { c in
            guard let expires = c.position.expiration else { return nil }
            let today = c.newYork.date
            let cutoff = c.closeMinute * 60 - minutes * 60
            let now = Exact.clock(c.newYork.secondOfDay)
            if today > expires {
                return ExitSignal(rule: "expiration", detail: "expiration: expired \(expires), now \(today) \(now) New York")
            }
            if today == expires, c.newYork.secondOfDay >= cutoff {
                return ExitSignal(rule: "expiration", detail: "expiration: expires \(expires), \(now) New York ≥ \(Exact.clock(cutoff)) (\(closeText(c)) − \(minutes) min)")
            }
            return nil
        }
    }

    /// `16:00`, or `early close 13:00`.
    static func closeText(_ c: ExitContext) -> String {
        let close = Exact.clock(c.closeMinute * 60)
        return c.closeMinute == MarketCalendar.closeMinute ? close : "early close \(close)"
    }
}

/// Exact decimal helpers for thresholds (no binary floating point on money).
enum Exact {
    /// The decimal a double prints as (`0.4` → 4/10), as `Money.fraction` reads fractions.
    static func decimal(_ d: Double) -> Decimal { Decimal(string: String(d)) ?? Decimal(d) }

    /// A non-negative decimal to whole cents: `.down` floors, `.up` ceils, `.plain` rounds half up.
    static func rounded(_ x: Decimal, _ mode: NSDecimalNumber.RoundingMode) -> Cents {
        var v = x, r = Decimal()
        NSDecimalRound(&r, &v, 0, mode)
        return Cents(truncating: r as NSDecimalNumber)
    }

    /// 0.4 → "40", 0.425 → "42.5".
    static func percentText(_ f: Decimal) -> String { "\(f * 100)" }

    /// Seconds after midnight as `HH:MM`, or `HH:MM:SS` when the seconds are not zero.
    static func clock(_ secondOfDay: Int) -> String {
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let s = max(0, secondOfDay)
        let hm = "\(two(s / 3600)):\(two(s / 60 % 60))"
        return s % 60 == 0 ? hm : hm + ":\(two(s % 60))"
    }
}
