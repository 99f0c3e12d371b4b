import Foundation
import OpsModel

/// Alpaca's market-data contract: stock bars (REST and the `v2/iex|sip` stream), option snapshots, option contracts
/// (the only source of open interest), and how they become our `Bar` and `OptionChain`.
extension Alpaca {
    /// A 1-minute bar as REST and the stream send it: `t` is the bar's start.
    public struct WireBar: Codable, Sendable, Equatable {
        public var t: String
        public var o: Double
        public var h: Double
        public var l: Double
        public var c: Double
        public var v: Double
        public var n: Double?
        public var vw: Double?
    }

    /// `GET /v2/stocks/bars`.
    public struct BarsPage: Codable, Sendable {
        public var bars: [String: [WireBar]]?
        public var nextPageToken: String?
        enum CodingKeys: String, CodingKey { case bars, nextPageToken = "next_page_token" }
    }

    /// One message of the stock stream (`T` = "b" for a bar; "success", "error", "subscription" for control).
    public struct StreamMessage: Codable, Sendable {
        public var T: String
        public var S: String?
        public var o: Double?
        public var h: Double?
        public var l: Double?
        public var c: Double?
        public var v: Double?
        public var t: String?
        public var n: Double?
        public var vw: Double?
        public var msg: String?
        public var code: Int?

        public var bar: (ticker: String, bar: WireBar)? {
            guard T == "b", let S, let o, let h, let l, let c, let v, let t else { return nil }
            return (S, WireBar(t: t, o: o, h: h, l: l, c: c, v: v, n: n, vw: vw))
        }
    }

    /// `GET /v1beta1/options/snapshots/{underlying}`.
    public struct SnapshotsPage: Codable, Sendable {
        public struct Quote: Codable, Sendable { public var ap: Double?; public var bp: Double?; public var t: String? }
        public struct Trade: Codable, Sendable { public var p: Double?; public var s: Double? }
        public struct DayBar: Codable, Sendable { public var v: Double? }
        public struct Greeks: Codable, Sendable {
            public var delta: Double?; public var gamma: Double?; public var theta: Double?; public var vega: Double?; public var rho: Double?
        }
        public struct Snapshot: Codable, Sendable {
            public var latestQuote: Quote?
            public var latestTrade: Trade?
            public var dailyBar: DayBar?
            public var greeks: Greeks?
            public var impliedVolatility: Double?
        }
        public var snapshots: [String: Snapshot]?
        public var nextPageToken: String?
        enum CodingKeys: String, CodingKey { case snapshots, nextPageToken = "next_page_token" }
    }

    /// `GET /v2/options/contracts`.
    public struct ContractsPage: Codable, Sendable {
        public struct Contract: Codable, Sendable {
            public var symbol: String
            public var openInterest: WireDecimal?
            enum CodingKeys: String, CodingKey { case symbol, openInterest = "open_interest" }
        }
        public var optionContracts: [Contract]?
        public var nextPageToken: String?
        enum CodingKeys: String, CodingKey { case optionContracts = "option_contracts", nextPageToken = "next_page_token" }
    }

    /// Our bar from Alpaca's (bar-start stamps, 1 minute); nil for a malformed one.
    public static func bar(ticker: String, _ w: WireBar) -> Bar? {
        guard let start = timestamp(w.t), [w.o, w.h, w.l, w.c].allSatisfy({ $0.isFinite && $0 > 0 }), w.l <= w.h, w.v >= 0 else { return nil }
        return Bar(ticker: ticker, start: start, open: w.o, high: w.h, low: w.l, close: w.c, volume: Int64(w.v),
                   vwap: w.vw, trades: w.n.map { Int64($0) })
    }

    /// A chain from one underlying's snapshots: every contract with a two-sided quote, open interest from the day's
    /// contract list (0 when unknown), volume from the day's bar.
    public static func chain(underlying: String, price: Double, at t: Timestamp, snapshots: [String: SnapshotsPage.Snapshot],
                             openInterest: [String: Int64]) -> OptionChain {
        var quotes = [OptionQuote]()
        for symbol in snapshots.keys.sorted() {
            guard let s = snapshots[symbol], let occ = OCCSymbol(symbol), let q = s.latestQuote,
                  let bid = q.bp, let ask = q.ap, bid >= 0, ask > 0, bid <= ask else { continue }
            quotes.append(OptionQuote(symbol: occ.description, right: occ.right, strike: occ.strike, expiration: occ.expiration,
                                      bid: bid, ask: ask, last: s.latestTrade?.p, volume: Int64(s.dailyBar?.v ?? 0),
                                      openInterest: openInterest[occ.description] ?? 0, iv: s.impliedVolatility,
                                      delta: s.greeks?.delta, gamma: s.greeks?.gamma, theta: s.greeks?.theta, vega: s.greeks?.vega))
        }
        return OptionChain(underlying: underlying, underlyingPrice: price, asOf: t, contracts: quotes)
    }
}

/// The feed's lateness rule for live bars: the watermark follows the clock less `lateness`, only forwards; a bar
/// that ends before the watermark already published is late (dead-lettered and counted), never published behind it.
public struct LiveWatermark: Sendable, Equatable {
    public let latenessMs: Int64
    public private(set) var published: Timestamp = .distantPast

    public init(latenessMs: Int64) { self.latenessMs = latenessMs }

    /// The watermark to publish at `now`, or nil when it would not move.
    public mutating func advance(now: Timestamp) -> Timestamp? {
        let w = now.adding(ms: -latenessMs)
        guard w > published else { return nil }
        published = w
        return w
    }

    /// Whether an item of event time `t` may still be published.
    public func admits(_ t: Timestamp) -> Bool { t >= published }
}

/// `/v2/calendar` against the built-in NYSE calendar: each day whose open or close differs (or that one of them
/// does not list as a session). The broker's calendar wins; the differences are for a loud log line.
public enum CalendarCheck {
    public static func differences(alpaca days: [Alpaca.CalendarDay], from: CivilDate, to: CivilDate) -> [String] {
        var listed = [CivilDate: Alpaca.CalendarDay]()
        for d in days { if let date = CivilDate(iso: d.date) { listed[date] = d } }
        var out = [String]()
        var d = from
        while d <= to {
            let ours = MarketCalendar.session(d).map { (NewYorkTime.local($0.open), NewYorkTime.local($0.close)) }
            switch (listed[d], ours) {
            case (nil, nil): break
            case (nil, .some): out.append("\(d): the built-in calendar has a session, Alpaca none")
            case (.some(let a), nil): out.append("\(d): Alpaca has a session \(a.open)–\(a.close), the built-in calendar none")
            case (.some(let a), .some(let o)):
                let mine = (hm(o.0.secondOfDay), hm(o.1.secondOfDay))
                if a.open != mine.0 || a.close != mine.1 { out.append("\(d): Alpaca \(a.open)–\(a.close), built-in \(mine.0)–\(mine.1)") }
            }
            d = d.adding(days: 1)
        }
        return out
    }

    static func hm(_ secondOfDay: Int) -> String {
        let h = secondOfDay / 3600, m = secondOfDay / 60 % 60
        return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
    }

    /// A session's (open, close) from Alpaca's calendar day, in UTC.
    public static func session(_ day: Alpaca.CalendarDay) -> (open: Timestamp, close: Timestamp)? {
        guard let date = CivilDate(iso: day.date), let o = minutes(day.open), let c = minutes(day.close) else { return nil }
        return (NewYorkTime.utc(date: date, hour: o / 60, minute: o % 60), NewYorkTime.utc(date: date, hour: c / 60, minute: c % 60))
    }

    static func minutes(_ hhmm: String) -> Int? {
        let p = hhmm.split(separator: ":")
        guard p.count >= 2, let h = Int(p[0]), let m = Int(p[1]) else { return nil }
        return h * 60 + m
    }
}
