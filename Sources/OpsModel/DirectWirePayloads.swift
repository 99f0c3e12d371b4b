/// The messages read and written by `DirectWire`: each reads its plain spelling (nil for anything else) and writes its
/// keys in JSONEncoder's sorted order. A field added to one of these types must be added here too: the round-trip tests
/// fail until it is (the reader refuses an unknown key, the writer's bytes differ from JSONEncoder's).

extension OptionChain: DirectlyRead, DirectlyWritten {
    public static func readJSON(_ r: inout JSONBytesReader) -> OptionChain? { r.optionChain() }

    /// The feed writes a chain of a hundred-odd quotes every few minutes per ticker: through JSONEncoder that was three
    /// quarters of its CPU (a profile of `opsctl up --sessions 10`).
    public func writeJSON(_ w: inout JSONBytesWriter) -> Bool {
        w.object { w in
            w.key("as_of"); guard w.timestamp(asOf) else { return false }
            w.key("contracts"); guard w.array(contracts, { w, q in q.writeJSON(&w) }) else { return false }
            w.key("underlying"); guard w.string(underlying) else { return false }
            w.key("underlying_price"); return w.double(underlyingPrice)
        }
    }
}

extension OptionQuote {
    func writeJSON(_ w: inout JSONBytesWriter) -> Bool {
        w.object { w in
            w.key("ask"); guard w.double(ask) else { return false }
            w.key("bid"); guard w.double(bid) else { return false }
            w.key("delta"); guard w.double(delta) else { return false }
            w.key("expiration"); guard w.string(expiration.iso) else { return false }
            w.key("gamma"); guard w.double(gamma) else { return false }
            w.key("iv"); guard w.double(iv) else { return false }
            w.key("last"); guard w.double(last) else { return false }
            w.key("open_interest"); w.int(openInterest)
            w.key("right"); guard w.string(right.rawValue) else { return false }
            w.key("strike"); guard w.double(strike) else { return false }
            w.key("symbol"); guard w.string(symbol) else { return false }
            w.key("theta"); guard w.double(theta) else { return false }
            w.key("vega"); guard w.double(vega) else { return false }
            w.key("volume"); w.int(volume); return true
        }
    }
}

extension Bar: DirectlyRead, DirectlyWritten {
    public static func readJSON(_ r: inout JSONBytesReader) -> Bar? {
        var ticker: String?, interval: String?, start: Timestamp?, end: Timestamp?
        var open: Double?, high: Double?, low: Double?, close: Double?, volume: Int64?
        var vwap: Double?, trades: Int64?
        let seen = r.object { r, key in
            switch true {
            case r.text(key, is: "close"): close = r.double(); return close == nil ? nil : 1
            case r.text(key, is: "end"): end = r.timestamp(); return end == nil ? nil : 2
            case r.text(key, is: "high"): high = r.double(); return high == nil ? nil : 4
            case r.text(key, is: "interval"): interval = r.string(); return interval == nil ? nil : 8
            case r.text(key, is: "low"): low = r.double(); return low == nil ? nil : 16
            case r.text(key, is: "open"): open = r.double(); return open == nil ? nil : 32
            case r.text(key, is: "start"): start = r.timestamp(); return start == nil ? nil : 64
            case r.text(key, is: "ticker"): ticker = r.string(); return ticker == nil ? nil : 128
            case r.text(key, is: "volume"): volume = r.int64(); return volume == nil ? nil : 256
            case r.text(key, is: "trades"): return r.optional(&trades) { $0.int64() } ? 512 : nil
            case r.text(key, is: "vwap"): return r.optional(&vwap) { $0.double() } ? 1024 : nil
            default: return nil
            }
        }
        guard seen != nil, let ticker, let interval, let start, let end, let open, let high, let low, let close, let volume else { return nil }
        var bar = Bar(ticker: ticker, start: start, open: open, high: high, low: low, close: close, volume: volume, vwap: vwap, trades: trades)
        // As decoded, not as derived: validation judges what was sent.
        bar.interval = interval
        bar.end = end
        return bar
    }

    public func writeJSON(_ w: inout JSONBytesWriter) -> Bool {
        w.object { w in
            w.key("close"); guard w.double(close) else { return false }
            w.key("end"); guard w.timestamp(end) else { return false }
            w.key("high"); guard w.double(high) else { return false }
            w.key("interval"); guard w.string(interval) else { return false }
            w.key("low"); guard w.double(low) else { return false }
            w.key("open"); guard w.double(open) else { return false }
            w.key("start"); guard w.timestamp(start) else { return false }
            w.key("ticker"); guard w.string(ticker) else { return false }
            w.key("trades"); w.int(trades)
            w.key("volume"); w.int(volume)
            w.key("vwap"); return w.double(vwap)
        }
    }
}

extension FeatureVector: DirectlyRead, DirectlyWritten {
    public static func readJSON(_ r: inout JSONBytesReader) -> FeatureVector? {
        var ticker: String?, interval: String?, sessionDate: CivilDate?, sessionBarIndex: Int64?, slopeLookback: Int64?, bar: Bar?
        var gap: Int64?, sma20: Double?, distance: Double?, slope: Double?, volumeRatio: Double?, close5: Double?, close15: Double?
        var ret1: Double?, ret5: Double?, ret15: Double?, atr14: Double?, sentiment: Double?, sentimentTime: Timestamp?
        var atmIv: Double?, chainTime: Timestamp?, ivPercentile: Double?, ivRank: Double?
        let seen = r.object { r, key in
            switch true {
            case r.text(key, is: "atm_iv"): return r.optional(&atmIv) { $0.double() } ? 1 : nil
            case r.text(key, is: "atr14"): return r.optional(&atr14) { $0.double() } ? 2 : nil
            case r.text(key, is: "bar"): bar = Bar.readJSON(&r); return bar == nil ? nil : 4
            case r.text(key, is: "chain_time"): return r.optional(&chainTime) { $0.timestamp() } ? 8 : nil
            case r.text(key, is: "close_15m_ago"): return r.optional(&close15) { $0.double() } ? 16 : nil
            case r.text(key, is: "close_5m_ago"): return r.optional(&close5) { $0.double() } ? 32 : nil
            case r.text(key, is: "distance_sma20"): return r.optional(&distance) { $0.double() } ? 64 : nil
            case r.text(key, is: "gap_minutes"): return r.optional(&gap) { $0.int64() } ? 128 : nil
            case r.text(key, is: "interval"): interval = r.string(); return interval == nil ? nil : 256
            case r.text(key, is: "iv_percentile"): return r.optional(&ivPercentile) { $0.double() } ? 512 : nil
            case r.text(key, is: "iv_rank"): return r.optional(&ivRank) { $0.double() } ? 1 << 10 : nil
            case r.text(key, is: "ret_15m"): return r.optional(&ret15) { $0.double() } ? 1 << 11 : nil
            case r.text(key, is: "ret_1m"): return r.optional(&ret1) { $0.double() } ? 1 << 12 : nil
            case r.text(key, is: "ret_5m"): return r.optional(&ret5) { $0.double() } ? 1 << 13 : nil
            case r.text(key, is: "sentiment_score"): return r.optional(&sentiment) { $0.double() } ? 1 << 14 : nil
            case r.text(key, is: "sentiment_time"): return r.optional(&sentimentTime) { $0.timestamp() } ? 1 << 15 : nil
            case r.text(key, is: "session_bar_index"): sessionBarIndex = r.int64(); return sessionBarIndex == nil ? nil : 1 << 16
            case r.text(key, is: "session_date"): sessionDate = r.civilDate(); return sessionDate == nil ? nil : 1 << 17
            case r.text(key, is: "slope_lookback"): slopeLookback = r.int64(); return slopeLookback == nil ? nil : 1 << 18
            case r.text(key, is: "sma20"): return r.optional(&sma20) { $0.double() } ? 1 << 19 : nil
            case r.text(key, is: "sma20_slope"): return r.optional(&slope) { $0.double() } ? 1 << 20 : nil
            case r.text(key, is: "ticker"): ticker = r.string(); return ticker == nil ? nil : 1 << 21
            case r.text(key, is: "volume_ratio"): return r.optional(&volumeRatio) { $0.double() } ? 1 << 22 : nil
            default: return nil
            }
        }
        guard seen != nil, let ticker, let interval, let sessionDate, let index = sessionBarIndex.flatMap({ Int(exactly: $0) }),
              let lookback = slopeLookback.flatMap({ Int(exactly: $0) }), let bar else { return nil }
        var gapMinutes: Int?
        if let gap { guard let g = Int(exactly: gap) else { return nil }; gapMinutes = g }
        return FeatureVector(ticker: ticker, interval: interval, sessionDate: sessionDate, sessionBarIndex: index, gapMinutes: gapMinutes,
                             bar: bar, sma20: sma20, distanceSma20: distance, sma20Slope: slope, slopeLookback: lookback,
                             volumeRatio: volumeRatio, close5mAgo: close5, close15mAgo: close15, ret1m: ret1, ret5m: ret5, ret15m: ret15,
                             atr14: atr14, sentimentScore: sentiment, sentimentTime: sentimentTime, atmIv: atmIv, chainTime: chainTime,
                             ivPercentile: ivPercentile, ivRank: ivRank)
    }

    public func writeJSON(_ w: inout JSONBytesWriter) -> Bool {
        w.object { w in
            w.key("atm_iv"); guard w.double(atmIv) else { return false }
            w.key("atr14"); guard w.double(atr14) else { return false }
            w.key("bar"); guard bar.writeJSON(&w) else { return false }
            w.key("chain_time"); guard w.timestamp(chainTime) else { return false }
            w.key("close_15m_ago"); guard w.double(close15mAgo) else { return false }
            w.key("close_5m_ago"); guard w.double(close5mAgo) else { return false }
            w.key("distance_sma20"); guard w.double(distanceSma20) else { return false }
            w.key("gap_minutes"); w.int(gapMinutes.map(Int64.init))
            w.key("interval"); guard w.string(interval) else { return false }
            w.key("iv_percentile"); guard w.double(ivPercentile) else { return false }
            w.key("iv_rank"); guard w.double(ivRank) else { return false }
            w.key("ret_15m"); guard w.double(ret15m) else { return false }
            w.key("ret_1m"); guard w.double(ret1m) else { return false }
            w.key("ret_5m"); guard w.double(ret5m) else { return false }
            w.key("sentiment_score"); guard w.double(sentimentScore) else { return false }
            w.key("sentiment_time"); guard w.timestamp(sentimentTime) else { return false }
            w.key("session_bar_index"); w.int(Int64(sessionBarIndex))
            w.key("session_date"); guard w.string(sessionDate.iso) else { return false }
            w.key("slope_lookback"); w.int(Int64(slopeLookback))
            w.key("sma20"); guard w.double(sma20) else { return false }
            w.key("sma20_slope"); guard w.double(sma20Slope) else { return false }
            w.key("ticker"); guard w.string(ticker) else { return false }
            w.key("volume_ratio"); return w.double(volumeRatio)
        }
    }
}

extension Watermark: DirectlyRead, DirectlyWritten {
    public static func readJSON(_ r: inout JSONBytesReader) -> Watermark? {
        var producer: String?, covers: [Coverage]?
        let seen = r.object { r, key in
            switch true {
            case r.text(key, is: "covers"): covers = r.array { $0.coverage() }; return covers == nil ? nil : 1
            case r.text(key, is: "producer"): producer = r.string(); return producer == nil ? nil : 2
            default: return nil
            }
        }
        guard seen != nil, let producer, let covers else { return nil }
        return Watermark(producer: producer, covers: covers)
    }

    public func writeJSON(_ w: inout JSONBytesWriter) -> Bool {
        w.object { w in
            w.key("covers")
            guard w.array(covers, { w, c in
                w.object { w in
                    w.key("of"); w.int(Int64(c.of))
                    w.key("partitions"); _ = w.array(c.partitions) { w, p in w.int(Int64(p)); return true }
                    w.key("topic"); return w.string(c.topic)
                }
            }) else { return false }
            w.key("producer"); return w.string(producer)
        }
    }
}

extension JSONBytesReader {
    mutating func coverage() -> Watermark.Coverage? {
        var topic: String?, partitions: [Int32]?, of: Int32?
        let seen = object { r, key in
            switch true {
            case r.text(key, is: "of"): of = r.int64().flatMap { Int32(exactly: $0) }; return of == nil ? nil : 1
            case r.text(key, is: "partitions"): partitions = r.array { $0.int64().flatMap { Int32(exactly: $0) } }; return partitions == nil ? nil : 2
            case r.text(key, is: "topic"): topic = r.string(); return topic == nil ? nil : 4
            default: return nil
            }
        }
        guard seen != nil, let topic, let partitions, let of else { return nil }
        return Watermark.Coverage(topic: topic, partitions: partitions, of: of)
    }
}
