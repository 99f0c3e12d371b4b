/// A ticker's at-the-money implied volatility for one session: the ATM IV (`OptionChain.atmImpliedVolatility`) of
/// the session's last chain at or before its close. The feature-computer ranks the current ATM IV against a year
/// of these (IV percentile, IV Rank). Event time = the close of `date` (13:00 New York on an early close), so a
/// consumer ordering by event time never sees a day's value before that day is over.
public struct DailyImpliedVolatility: Payload {
    public static let messageType = "iv_daily"
    public static let version = 1

    public var ticker: String
    /// The New York trading date of the session.
    public var date: CivilDate
    /// A fraction (0.18 = 18 %).
    public var atmIv: Double

    enum CodingKeys: String, CodingKey {
        case ticker, date
        case atmIv = "atm_iv"
    }

    public init(ticker: String, date: CivilDate, atmIv: Double) {
        self.ticker = ticker; self.date = date; self.atmIv = atmIv
    }

    public var partitionKey: String { ticker }

    /// The close of `date`: the moment the day's value is known.
    public var eventTime: Timestamp { MarketCalendar.close(of: date) }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        try Validate.ticker(ticker)
        guard MarketCalendar.isTradingDay(date) else { throw .invalid("\(date) is not an NYSE trading day") }
        guard eventTime == self.eventTime else {
            throw .invalid("event_time \(eventTime) must be the close of \(date) (\(self.eventTime))")
        }
        try Validate.price(atmIv, "atm_iv")
        // Above 1000 % is a unit mistake (percent written where a fraction belongs), not a market.
        guard atmIv > 0, atmIv <= 10 else { throw .invalid("atm_iv \(atmIv) must be a fraction in (0, 10]") }
    }

    public var id: String { DeterministicID.make("iv_daily", ticker, date.iso) }
}

extension OptionChain {
    /// The chain's at-the-money implied volatility: the IV at the strike nearest the underlying (the lower one on a
    /// tie), on the nearest expiry at least 7 New York calendar days out (so the day's value is not a 0DTE's
    /// pin-driven IV), the mean of call and put when both have one; nil when the chain has no such quote.
    /// The one definition used by the feature-computer (`atm_iv`) and by the feed's daily values (`iv_daily`).
    public var atmImpliedVolatility: Double? {
        let today = NewYorkTime.date(of: asOf)
        let eligible = contracts.filter { today.days(until: $0.expiration) >= 7 && $0.iv != nil }
        guard let expiry = eligible.map(\.expiration).min() else { return nil }
        let atExpiry = eligible.filter { $0.expiration == expiry }
        guard let strike = atExpiry.map(\.strike).min(by: {
            let a = abs($0 - underlyingPrice), b = abs($1 - underlyingPrice)
            return a != b ? a < b : $0 < $1
        }) else { return nil }
        let ivs = atExpiry.filter { $0.strike == strike }.compactMap(\.iv)
        return ivs.isEmpty ? nil : ivs.reduce(0, +) / Double(ivs.count)
    }
}

/// One chain snapshot's at-the-money implied volatility (`OptionChain.atmImpliedVolatility`), published by the
/// source next to the chain at the chain's time. The feature-computer needs only this number from a chain, and it is
/// on every bar's way to a decision: reading it here instead of the 20 KB chain keeps a chain minute's features as
/// quick as any other minute's (the chain readers that need quotes decode chains at the same instant on 2 cores).
/// Published only for a chain that has such a quote.
public struct ChainImpliedVolatility: Payload {
    public static let messageType = "atm_iv"
    public static let version = 1

    public var ticker: String
    /// A fraction (0.18 = 18 %).
    public var atmIv: Double

    enum CodingKeys: String, CodingKey {
        case ticker
        case atmIv = "atm_iv"
    }

    public init(ticker: String, atmIv: Double) {
        self.ticker = ticker; self.atmIv = atmIv
    }

    /// The chain's value; nil when it has no at-the-money IV.
    public init?(_ chain: OptionChain) {
        guard let iv = chain.atmImpliedVolatility else { return nil }
        self.init(ticker: chain.underlying, atmIv: iv)
    }

    public var partitionKey: String { ticker }

    /// A contract's IV is any finite number ≥ 0 (`OptionQuote`), so the mean of two is too.
    public func validate(eventTime: Timestamp) throws(MessageError) {
        try Validate.ticker(ticker)
        try Validate.price(atmIv, "atm_iv")
        guard atmIv >= 0 else { throw .invalid("negative atm_iv \(atmIv)") }
    }

    public func id(at t: Timestamp) -> String { DeterministicID.make("atm_iv", ticker, t.iso8601) }
}
