import OpsModel

/// Shared fixtures: seed-default params and option quotes with valid OCC symbols.
enum Fx {
    static let params = TradingParams()

    static func date(_ iso: String) -> CivilDate { CivilDate(iso: iso)! }
    static func time(_ iso: String) -> Timestamp { Timestamp(iso8601: iso)! }
    /// A New York wall-clock instant.
    static func ny(_ iso: String, _ hour: Int, _ minute: Int, _ second: Int = 0) -> Timestamp {
        NewYorkTime.utc(date: date(iso), hour: hour, minute: minute, second: second)
    }

    static func quote(_ right: OptionRight, _ strike: Double, _ expiration: String, bid: Double = 2.51, ask: Double = 2.53,
                      volume: Int64 = 1_000, openInterest: Int64 = 5_000, root: String = "SPY") -> OptionQuote {
        let exp = date(expiration)
        return OptionQuote(symbol: OCCSymbol(root: root, expiration: exp, right: right, strike: strike).description, right: right,
                           strike: strike, expiration: exp, bid: bid, ask: ask, volume: volume, openInterest: openInterest)
    }

    static func chain(_ price: Double, at asOf: Timestamp, _ contracts: [OptionQuote], underlying: String = "SPY") -> OptionChain {
        OptionChain(underlying: underlying, underlyingPrice: price, asOf: asOf, contracts: contracts)
    }

    /// Params with the Phase 2 open-interest and volume floors.
    static var phase2: TradingParams {
        var p = TradingParams()
        p.liquidityThresholds.minOpenInterest = 500
        p.liquidityThresholds.minVolume = 200
        return p
    }
}
