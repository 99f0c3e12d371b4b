/// Bar intervals the pipeline understands, with their length in minutes.
public enum BarInterval: String, Codable, Sendable, CaseIterable {
    case m1 = "1m", m5 = "5m", m15 = "15m", m30 = "30m", h1 = "1h"
    public var minutes: Int {
        switch self { case .m1: 1; case .m5: 5; case .m15: 15; case .m30: 30; case .h1: 60 }
    }
}

/// One OHLCV bar. `start` is the bar's opening instant, `end` = start + interval; the envelope's event time is
/// `end`, the moment the bar is known.
public struct Bar: Payload {
    public static let messageType = "bar"
    public static let version = 1

    public var ticker: String
    public var interval: String
    public var start: Timestamp
    public var end: Timestamp
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Int64
    @Nullable public var vwap: Double?
    @Nullable public var trades: Int64?

    public init(ticker: String, interval: BarInterval = .m1, start: Timestamp, open: Double, high: Double, low: Double,
                close: Double, volume: Int64, vwap: Double? = nil, trades: Int64? = nil) {
        self.ticker = ticker
        self.interval = interval.rawValue
        self.start = start
        self.end = start + Minutes(interval.minutes)
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.vwap = vwap
        self.trades = trades
    }

    public var partitionKey: String { ticker }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        try Validate.ticker(ticker)
        guard let iv = BarInterval(rawValue: interval) else {
            throw .invalid("unknown interval '\(interval)' (known: \(BarInterval.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard end.ms - start.ms == Int64(iv.minutes) * 60_000 else { throw .invalid("bar end \(end) is not start \(start) + \(interval)") }
        guard eventTime == end else { throw .invalid("event_time \(eventTime) must equal the bar end \(end)") }
        for (name, v) in [("open", open), ("high", high), ("low", low), ("close", close)] {
            try Validate.price(v, name)
            guard v > 0 else { throw .invalid("\(name) \(v) must be > 0") }
        }
        guard high >= low else { throw .invalid("high \(high) < low \(low)") }
        guard high >= open, high >= close else { throw .invalid("high \(high) below open \(open) or close \(close)") }
        guard low <= open, low <= close else { throw .invalid("low \(low) above open \(open) or close \(close)") }
        guard volume >= 0 else { throw .invalid("negative volume \(volume)") }
        if let vwap { try Validate.price(vwap, "vwap"); guard vwap > 0 else { throw .invalid("vwap \(vwap) must be > 0") } }
        if let trades, trades < 0 { throw .invalid("negative trades \(trades)") }
    }

    public var id: String { DeterministicID.make("bar", ticker, interval, start.iso8601) }
}

public enum OptionRight: String, Codable, Sendable, CaseIterable {
    case call, put
}

/// One option contract's quote inside a chain snapshot.
public struct OptionQuote: Codable, Sendable, Equatable {
    public var symbol: String
    public var right: OptionRight
    public var strike: Double
    public var expiration: CivilDate
    public var bid: Double
    public var ask: Double
    @Nullable public var last: Double?
    public var volume: Int64
    public var openInterest: Int64
    @Nullable public var iv: Double?
    @Nullable public var delta: Double?
    @Nullable public var gamma: Double?
    @Nullable public var theta: Double?
    @Nullable public var vega: Double?

    enum CodingKeys: String, CodingKey {
        case symbol, right, strike, expiration, bid, ask, last, volume, iv, delta, gamma, theta, vega
        case openInterest = "open_interest"
    }

    public init(symbol: String, right: OptionRight, strike: Double, expiration: CivilDate, bid: Double, ask: Double,
                last: Double? = nil, volume: Int64, openInterest: Int64, iv: Double? = nil, delta: Double? = nil,
                gamma: Double? = nil, theta: Double? = nil, vega: Double? = nil) {
        self.symbol = symbol; self.right = right; self.strike = strike; self.expiration = expiration
        self.bid = bid; self.ask = ask; self.last = last; self.volume = volume; self.openInterest = openInterest
        self.iv = iv; self.delta = delta; self.gamma = gamma; self.theta = theta; self.vega = vega
    }

    /// Written out, field by field with concrete types: the synthesized decoder goes through `Nullable` and a
    /// generic lookup per field, and every service that reads chains decodes hundreds of quotes a chain
    /// (`opsctl bench decode`). Same keys, same rules: an optional may be `null` or missing.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        symbol = try c.decode(String.self, forKey: .symbol)
        let rightText = try c.decode(String.self, forKey: .right)
        guard let right = OptionRight(rawValue: rightText) else {
            throw DecodingError.dataCorruptedError(forKey: .right, in: c, debugDescription: "not call or put: \(rightText)")
        }
        self.right = right
        strike = try c.decode(Double.self, forKey: .strike)
        let expirationText = try c.decode(String.self, forKey: .expiration)
        guard let expiration = CivilDate(iso: expirationText) else {
            throw DecodingError.dataCorruptedError(forKey: .expiration, in: c, debugDescription: "not a YYYY-MM-DD date: \(expirationText)")
        }
        self.expiration = expiration
        bid = try c.decode(Double.self, forKey: .bid)
        ask = try c.decode(Double.self, forKey: .ask)
        last = try c.decodeIfPresent(Double.self, forKey: .last)
        volume = try c.decode(Int64.self, forKey: .volume)
        openInterest = try c.decode(Int64.self, forKey: .openInterest)
        iv = try c.decodeIfPresent(Double.self, forKey: .iv)
        delta = try c.decodeIfPresent(Double.self, forKey: .delta)
        gamma = try c.decodeIfPresent(Double.self, forKey: .gamma)
        theta = try c.decodeIfPresent(Double.self, forKey: .theta)
        vega = try c.decodeIfPresent(Double.self, forKey: .vega)
    }

    /// (ask + bid) / 2.
    public var mid: Double { (bid + ask) / 2 }

    public func validate(underlying: String) throws(MessageError) { _ = try validated(underlying: underlying) }

    /// Validates and returns the parsed symbol.
    func validated(underlying: String) throws(MessageError) -> OCCSymbol {
        guard let occ = OCCSymbol(symbol) else { throw .invalid("contract '\(symbol)': not an OCC option symbol") }
        guard occ.root == underlying, occ.right == right, occ.expiration == expiration,
              abs(occ.strike - strike) < 0.0005 else {
            throw .invalid("contract '\(symbol)': symbol disagrees with its fields (\(underlying) \(expiration) \(right.rawValue) \(strike))")
        }
        try Self.nonNegative(bid, "bid", symbol)
        try Self.nonNegative(ask, "ask", symbol)
        try Self.nonNegative(strike, "strike", symbol)
        try validateRest()
        return occ
    }

    /// A finite price at or above zero (written out per field: a chain checks hundreds of quotes).
    private static func nonNegative(_ v: Double, _ name: StaticString, _ symbol: String) throws(MessageError) {
        try Validate.price(v, "\(symbol) \(name)")
        guard v >= 0 else { throw .invalid("contract '\(symbol)': negative \(name) \(v)") }
    }

    private func validateRest() throws(MessageError) {
        guard strike > 0 else { throw .invalid("contract '\(symbol)': strike must be > 0") }
        if ask > 0, bid > ask { throw .invalid("contract '\(symbol)': bid \(bid) > ask \(ask)") }
        if ask == 0, bid > 0 { throw .invalid("contract '\(symbol)': bid \(bid) with no ask") }
        guard volume >= 0 else { throw .invalid("contract '\(symbol)': negative volume \(volume)") }
        guard openInterest >= 0 else { throw .invalid("contract '\(symbol)': negative open interest \(openInterest)") }
        if let last { try Validate.price(last, "\(symbol) last"); guard last >= 0 else { throw .invalid("contract '\(symbol)': negative last") } }
        if let iv { try Validate.price(iv, "\(symbol) iv"); guard iv >= 0 else { throw .invalid("contract '\(symbol)': negative iv") } }
        if let delta { try Validate.price(delta, "\(symbol) delta") }
        if let gamma { try Validate.price(gamma, "\(symbol) gamma") }
        if let theta { try Validate.price(theta, "\(symbol) theta") }
        if let vega { try Validate.price(vega, "\(symbol) vega") }
        if let delta, abs(delta) > 1.0000001 { throw .invalid("contract '\(symbol)': |delta| \(delta) > 1") }
    }
}

/// A snapshot of an underlying's option chain at one instant (the envelope's event time).
public struct OptionChain: Payload {
    public static let messageType = "option_chain"
    public static let version = 1

    public var underlying: String
    public var underlyingPrice: Double
    public var asOf: Timestamp
    public var contracts: [OptionQuote]

    enum CodingKeys: String, CodingKey {
        case underlying, contracts
        case underlyingPrice = "underlying_price"
        case asOf = "as_of"
    }

    public init(underlying: String, underlyingPrice: Double, asOf: Timestamp, contracts: [OptionQuote]) {
        self.underlying = underlying; self.underlyingPrice = underlyingPrice; self.asOf = asOf; self.contracts = contracts
    }

    public var partitionKey: String { underlying }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        try Validate.ticker(underlying)
        try Validate.price(underlyingPrice, "underlying_price")
        guard underlyingPrice > 0 else { throw .invalid("underlying_price \(underlyingPrice) must be > 0") }
        guard eventTime == asOf else { throw .invalid("event_time \(eventTime) must equal as_of \(asOf)") }
        var seen = Set<UInt64>(minimumCapacity: contracts.count)
        for i in contracts.indices {
            // Keyed by the parsed symbol (its root is the underlying, checked), so the padded and compact spellings
            // of one contract collide.
            let occ = try contracts[i].validated(underlying: underlying)
            guard seen.insert(occ.contractKey).inserted else { throw .invalid("contract '\(contracts[i].symbol)' appears twice") }
        }
    }

    public var id: String { DeterministicID.make("chain", underlying, asOf.iso8601) }
}

/// A sentiment score for a ticker, in [-1, 1] (negative bearish), from some named source.
public struct SentimentScore: Payload {
    public static let messageType = "sentiment"
    public static let version = 1

    public var ticker: String
    public var score: Double
    public var source: String
    @Nullable public var articles: Int?

    public init(ticker: String, score: Double, source: String, articles: Int? = nil) {
        self.ticker = ticker; self.score = score; self.source = source; self.articles = articles
    }

    public var partitionKey: String { ticker }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        try Validate.ticker(ticker)
        try Validate.price(score, "score")
        guard (-1...1).contains(score) else { throw .invalid("score \(score) outside [-1, 1]") }
        guard !source.isEmpty else { throw .invalid("empty sentiment source") }
        if let articles, articles < 0 { throw .invalid("negative articles \(articles)") }
    }

    public func id(at t: Timestamp) -> String { DeterministicID.make("sentiment", ticker, source, t.iso8601) }
}

/// Shared validation rules.
public enum Validate {
    /// The name is only built for the error (a chain validates thousands of these).
    public static func price(_ v: Double, _ name: @autoclosure () -> String) throws(MessageError) {
        guard v.isFinite else { throw .invalid("\(name()) is not a finite number (\(v))") }
    }

    /// 1–10 characters of A–Z, digits, '.', '/' or '-', starting with a letter.
    public static func ticker(_ t: String) throws(MessageError) {
        let ok = (1...10).contains(t.utf8.count) && t.utf8.first.map { $0 >= 65 && $0 <= 90 } == true
            && t.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 47 || $0 == 45 }
        guard ok else { throw .invalid("ticker '\(t)' is not a valid symbol") }
    }
}
