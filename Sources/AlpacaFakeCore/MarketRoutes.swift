import Foundation
import OpsModel

/// Clock, calendar, option contracts, and the market-data routes (served on the same port).
extension FakeAlpaca {
    static func clockJSON(_ now: Timestamp) -> JSON {
        let open = FakeExchange.isOpen(now)
        let today = NewYorkTime.date(of: now)
        var d = today
        if let s = MarketCalendar.session(today), now >= s.open { d = MarketCalendar.tradingDay(after: today) }
        let nextOpen = MarketCalendar.session(MarketCalendar.tradingDay(onOrAfter: d))!.open
        let closeDay = open ? today : MarketCalendar.tradingDay(onOrAfter: d)
        return .obj(("timestamp", .string(Wire.newYork(now, fraction: true))), ("is_open", .bool(open)),
                    ("next_open", .string(Wire.newYork(nextOpen))),
                    ("next_close", .string(Wire.newYork(MarketCalendar.close(of: closeDay)))))
    }

    func calendar(_ r: FakeRequest, now: Timestamp) -> FakeReply {
        let start = r.param("start").flatMap { CivilDate(iso: $0.prefix(10)) } ?? NewYorkTime.date(of: now)
        let end = r.param("end").flatMap { CivilDate(iso: $0.prefix(10)) } ?? start.adding(days: 30)
        var days = [JSON](), d = start
        while d <= end, days.count < 5000 {
            if let close = MarketCalendar.closeMinute(of: d) {
                let hhmm = "\(Wire.two(close / 60)):\(Wire.two(close % 60))"
                days.append(.obj(("date", .string(d.iso)), ("open", .string("09:30")), ("close", .string(hhmm)),
                                 ("session_open", .string("0400")), ("session_close", .string(close < 960 ? "1700" : "2000")),
                                 ("settlement_date", .string(MarketCalendar.tradingDay(after: d).iso))))
            }
            d = d.adding(days: 1)
        }
        return FakeReply(status: 200, body: .array(days))
    }

    static func page<T>(_ items: [T], token: String?, limit: Int) -> (page: ArraySlice<T>, next: JSON) {
        let start = token.flatMap { Data(base64Encoded: $0) }.flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0
        let from = min(max(0, start), items.count), to = min(items.count, from + limit)
        let next: JSON = to < items.count ? .string(Data(String(to).utf8).base64EncodedString()) : .null
        return (items[from..<to], next)
    }

    func contractJSON(_ q: OptionQuote, time: Timestamp) -> JSON {
        let occ = OCCSymbol(q.symbol)
        let root = occ?.root ?? ""
        let strike = Wire.decimal(Decimal(string: String(q.strike)) ?? 0, places: 3)
        let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][q.expiration.month - 1]
        let name = "\(root) \(month) \(Wire.two(q.expiration.day)) \(q.expiration.year) \(strike) \(q.right == .call ? "Call" : "Put")"
        return .obj([
            ("id", .string(Wire.uuid("asset:" + q.symbol))), ("symbol", .string(q.symbol)), ("name", .string(name)),
            ("status", .string("active")), ("tradable", .bool(true)), ("expiration_date", .string(q.expiration.iso)),
            ("root_symbol", .string(root)), ("underlying_symbol", .string(root)),
            ("underlying_asset_id", .string(Wire.uuid("asset:" + root))), ("type", .string(q.right.rawValue)),
            ("style", .string("american")), ("strike_price", .string(strike)), ("multiplier", .string("100")),
            ("size", .string("100")), ("open_interest", .string(String(q.openInterest))),
            ("open_interest_date", .string(NewYorkTime.date(of: time).iso)),
            ("close_price", .str(q.last.map { Wire.price(FakeExchange.cents($0)) })),
            ("close_price_date", .str(q.last.map { _ in NewYorkTime.date(of: time).iso })),
        ])
    }

    func contracts(_ r: FakeRequest, now: Timestamp) -> FakeReply {
        let today = NewYorkTime.date(of: now)
        let underlyings = r.param("underlying_symbols").map { Set($0.split(separator: ",").map(String.init)) }
        let exact = r.param("expiration_date").flatMap { CivilDate(iso: $0) }
        var gte = r.param("expiration_date_gte").flatMap { CivilDate(iso: $0) }
        var lte = r.param("expiration_date_lte").flatMap { CivilDate(iso: $0) }
        if exact == nil && gte == nil && lte == nil {
            // Alpaca's default: contracts expiring before the coming weekend.
            lte = today.adding(days: today.weekday == 6 ? 6 : today.weekday == 0 ? 5 : 5 - today.weekday)
        }
        gte = max(gte ?? today, today)
        let type = r.param("type"), root = r.param("root_symbol")
        let kLow = r.param("strike_price_gte").flatMap(Double.init), kHigh = r.param("strike_price_lte").flatMap(Double.init)
        if let status = r.param("status"), status != "active" {
            return FakeReply(status: 200, body: .obj(("option_contracts", .array([])), ("next_page_token", .null)))
        }
        let all = exchange.market.contracts(at: now).values.filter { c in
            let q = c.quote, occ = OCCSymbol(q.symbol)
            return underlyings.map { $0.contains(occ?.root ?? "") } ?? true && root.map { $0 == occ?.root } ?? true
                && exact.map { q.expiration == $0 } ?? true && gte.map { q.expiration >= $0 } ?? true
                && lte.map { q.expiration <= $0 } ?? true && type.map { $0 == q.right.rawValue } ?? true
                && kLow.map { q.strike >= $0 } ?? true && kHigh.map { q.strike <= $0 } ?? true
        }.sorted { ($0.quote.expiration, $0.quote.symbol) < ($1.quote.expiration, $1.quote.symbol) }
        let limit = min(10_000, max(1, r.param("limit").flatMap { Int($0) } ?? 100))
        let (page, next) = Self.page(all, token: r.param("page_token"), limit: limit)
        return FakeReply(status: 200, body: .obj(("option_contracts", .array(page.map { contractJSON($0.quote, time: $0.time) })),
                                                 ("next_page_token", next)))
    }

    func stockBars(_ r: FakeRequest, now: Timestamp) -> FakeReply {
        guard (r.param("timeframe") ?? "1Min") == "1Min" || r.param("timeframe") == "1T" else {
            return FakeReply(status: 422, body: Wire.error(42210000, "invalid timeframe"))
        }
        guard let symbolsText = r.param("symbols"), !symbolsText.isEmpty else {
            return FakeReply(status: 422, body: Wire.error(42210000, "symbols is required"))
        }
        let symbols = symbolsText.split(separator: ",").map(String.init).sorted()
        let start = r.param("start").flatMap(Self.time) ?? NewYorkTime.utc(date: NewYorkTime.date(of: now), hour: 0, minute: 0)
        let end = r.param("end").flatMap(Self.time) ?? now
        let all = symbols.flatMap { s in exchange.market.bars(s, from: start, to: end, now: now) }
        let limit = min(10_000, max(1, r.param("limit").flatMap { Int($0) } ?? 1000))
        let (page, next) = Self.page(all, token: r.param("page_token"), limit: limit)
        var grouped: [(String, JSON)] = []
        for s in symbols {
            let bars = page.filter { $0.ticker == s }
            if !bars.isEmpty { grouped.append((s, .array(bars.map(Self.barJSON)))) }
        }
        return FakeReply(status: 200, body: .obj(("bars", .obj(grouped)), ("next_page_token", next)))
    }

    static func barJSON(_ b: Bar) -> JSON {
        .obj([("t", .string(Wire.utc(b.start))), ("o", .number(b.open)), ("h", .number(b.high)), ("l", .number(b.low)),
              ("c", .number(b.close)), ("v", .int(b.volume)), ("n", .int(b.trades ?? 0)), ("vw", .number(b.vwap ?? b.close))])
    }

    func snapshots(_ r: FakeRequest, underlying: String, now: Timestamp) -> FakeReply {
        guard let chain = exchange.market.latestChain(underlying, at: now) else {
            return FakeReply(status: 200, body: .obj(("snapshots", .obj([])), ("next_page_token", .null)))
        }
        let type = r.param("type")
        let exact = r.param("expiration_date").flatMap { CivilDate(iso: $0) }
        let gte = r.param("expiration_date_gte").flatMap { CivilDate(iso: $0) }
        let lte = r.param("expiration_date_lte").flatMap { CivilDate(iso: $0) }
        let kLow = r.param("strike_price_gte").flatMap(Double.init), kHigh = r.param("strike_price_lte").flatMap(Double.init)
        let list = chain.contracts.filter { q in
            type.map { $0 == q.right.rawValue } ?? true && exact.map { q.expiration == $0 } ?? true
                && gte.map { q.expiration >= $0 } ?? true && lte.map { q.expiration <= $0 } ?? true
                && kLow.map { q.strike >= $0 } ?? true && kHigh.map { q.strike <= $0 } ?? true
        }.sorted { $0.symbol < $1.symbol }
        let limit = min(1000, max(1, r.param("limit").flatMap { Int($0) } ?? 100))
        let (page, next) = Self.page(list, token: r.param("page_token"), limit: limit)
        let items = page.map { q in (q.symbol, snapshotJSON(q, chainTime: chain.asOf, now: now)) }
        return FakeReply(status: 200, body: .obj(("snapshots", .obj(items)), ("next_page_token", next)))
    }

    func snapshotJSON(_ q: OptionQuote, chainTime: Timestamp, now: Timestamp) -> JSON {
        let scripted = exchange.scripted[q.symbol]
        let bid = scripted.map { Double($0.bid) / 100 } ?? q.bid, ask = scripted.map { Double($0.ask) / 100 } ?? q.ask
        let t = Wire.micros(scripted?.time ?? chainTime)
        var fields: [(String, JSON)] = [("latestQuote", .obj([("ap", .number(ask)), ("as", .int(10)), ("ax", .string("C")),
                                                               ("bp", .number(bid)), ("bs", .int(10)), ("bx", .string("C")),
                                                               ("c", .string("A")), ("t", .string(t))]))]
        if let last = q.last {
            fields.append(("latestTrade", .obj([("c", .string("I")), ("p", .number(last)), ("s", .int(1)),
                                                ("t", .string(Wire.micros(chainTime))), ("x", .string("C"))])))
        }
        // The day's bar carries the contract's volume so far (snapshots have no open interest: that is the contracts list).
        let price: Double = q.last ?? (q.bid + q.ask) / 2
        let day: [(String, JSON)] = [("c", .number(price)), ("h", .number(price)), ("l", .number(price)), ("o", .number(price)),
                                     ("t", .string(Wire.micros(chainTime))), ("v", .int(q.volume)), ("n", .int(q.volume / 10)),
                                     ("vw", .number(price))]
        fields.append(("dailyBar", .obj(day)))
        if let d = q.delta {
            fields.append(("greeks", .obj([("delta", .number(d)), ("gamma", .number(q.gamma ?? 0)), ("rho", .number(0)),
                                           ("theta", .number(q.theta ?? 0)), ("vega", .number(q.vega ?? 0))])))
        }
        if let iv = q.iv { fields.append(("impliedVolatility", .number(iv))) }
        return .obj(fields)
    }
}
