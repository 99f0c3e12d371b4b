/// The feature vector the feature-computer emits for every regular-session bar of a ticker.
/// Every value that cannot be computed yet (warm-up, a missing minute, a session start) is null, never 0.
public struct FeatureVector: Payload {
    public static let messageType = "features"
    public static let version = 1

    public var ticker: String
    public var interval: String
    /// The New York trading date the bar belongs to; windows restart each session.
    public var sessionDate: CivilDate
    /// 0 for the session's first bar.
    public var sessionBarIndex: Int
    /// Minutes missing just before this bar (0 when contiguous); null on the session's first bar.
    @Nullable public var gapMinutes: Int?
    public var bar: Bar
    @Nullable public var sma20: Double?
    /// (close − SMA20) / SMA20.
    @Nullable public var distanceSma20: Double?
    /// (SMA20 − SMA20 `slopeLookback` bars ago) / (that older SMA20) / slopeLookback: a fraction per bar.
    @Nullable public var sma20Slope: Double?
    public var slopeLookback: Int
    /// volume ÷ mean volume of the previous 20 bars of the session.
    @Nullable public var volumeRatio: Double?
    @Nullable public var close5mAgo: Double?
    @Nullable public var close15mAgo: Double?
    @Nullable public var ret1m: Double?
    @Nullable public var ret5m: Double?
    @Nullable public var ret15m: Double?
    /// Wilder's ATR(14), seeded by the simple mean of the session's first 14 true ranges.
    @Nullable public var atr14: Double?
    /// Latest sentiment score of the session at or before the bar's end, and its time.
    @Nullable public var sentimentScore: Double?
    @Nullable public var sentimentTime: Timestamp?
    /// Implied volatility of the at-the-money contract (nearest strike, nearest expiry ≥ 7 days:
    /// `OptionChain.atmImpliedVolatility`) of the latest chain of the session at or before the bar's end, and that
    /// chain's time.
    @Nullable public var atmIv: Double?
    @Nullable public var chainTime: Timestamp?
    /// IV percentile (0–100) of `atm_iv` against the ticker's daily ATM IVs (`iv_daily`) of the last 252 sessions
    /// before the bar's session: the percent of those days whose daily ATM IV is strictly below the current one.
    /// Null without a current `atm_iv` or with fewer than 20 such days (never 0 for "unknown").
    @Nullable public var ivPercentile: Double?
    /// IV Rank (0–100) of `atm_iv` over the same days: (current − min) / (max − min) × 100, clamped to [0, 100] (the
    /// current session is not in the window, so today can sit outside it); null when max == min, without a current
    /// `atm_iv`, or with fewer than 20 days.
    @Nullable public var ivRank: Double?

    enum CodingKeys: String, CodingKey {
        case ticker, interval, bar, sma20
        case sessionDate = "session_date", sessionBarIndex = "session_bar_index", gapMinutes = "gap_minutes"
        case distanceSma20 = "distance_sma20", sma20Slope = "sma20_slope", slopeLookback = "slope_lookback"
        case volumeRatio = "volume_ratio", close5mAgo = "close_5m_ago", close15mAgo = "close_15m_ago"
        case ret1m = "ret_1m", ret5m = "ret_5m", ret15m = "ret_15m", atr14
        case sentimentScore = "sentiment_score", sentimentTime = "sentiment_time", atmIv = "atm_iv", chainTime = "chain_time"
        case ivPercentile = "iv_percentile", ivRank = "iv_rank"
    }

    public init(ticker: String, interval: String, sessionDate: CivilDate, sessionBarIndex: Int, gapMinutes: Int?, bar: Bar,
                sma20: Double?, distanceSma20: Double?, sma20Slope: Double?, slopeLookback: Int, volumeRatio: Double?,
                close5mAgo: Double?, close15mAgo: Double?, ret1m: Double?, ret5m: Double?, ret15m: Double?, atr14: Double?,
                sentimentScore: Double? = nil, sentimentTime: Timestamp? = nil, atmIv: Double? = nil, chainTime: Timestamp? = nil,
                ivPercentile: Double? = nil, ivRank: Double? = nil) {
        self.ticker = ticker; self.interval = interval; self.sessionDate = sessionDate; self.sessionBarIndex = sessionBarIndex
        self.gapMinutes = gapMinutes; self.bar = bar; self.sma20 = sma20; self.distanceSma20 = distanceSma20
        self.sma20Slope = sma20Slope; self.slopeLookback = slopeLookback; self.volumeRatio = volumeRatio
        self.close5mAgo = close5mAgo; self.close15mAgo = close15mAgo; self.ret1m = ret1m; self.ret5m = ret5m
        self.ret15m = ret15m; self.atr14 = atr14; self.sentimentScore = sentimentScore; self.sentimentTime = sentimentTime
        self.atmIv = atmIv; self.chainTime = chainTime; self.ivPercentile = ivPercentile; self.ivRank = ivRank
    }

    public var partitionKey: String { ticker }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        try bar.validate(eventTime: eventTime)
        for (name, v) in [("sma20", sma20), ("distance_sma20", distanceSma20), ("sma20_slope", sma20Slope),
                          ("volume_ratio", volumeRatio), ("ret_1m", ret1m), ("ret_5m", ret5m), ("ret_15m", ret15m),
                          ("atr14", atr14), ("atm_iv", atmIv), ("sentiment_score", sentimentScore)] {
            if let v { try Validate.price(v, name) }
        }
        for (name, v) in [("iv_percentile", ivPercentile), ("iv_rank", ivRank)] {
            if let v { try Validate.price(v, name); guard (0...100).contains(v) else { throw .invalid("\(name) \(v) outside [0, 100]") } }
        }
    }
}

/// What a service could not use, with the original bytes and why (invariant 6: bad input never stops the
/// pipeline and is never lost).
public struct DeadLetter: Payload {
    public static let messageType = "dead_letter"
    public static let version = 1

    public var topic: String
    public var partition: Int32
    public var offset: Int64
    @Nullable public var key: String?
    /// The original bytes, base64.
    public var originalBase64: String
    /// The original bytes as text when they are valid UTF-8, for people reading the topic.
    @Nullable public var originalText: String?
    public var errorKind: String
    public var reason: String
    /// The service that refused it.
    public var service: String

    enum CodingKeys: String, CodingKey {
        case topic, partition, offset, key, reason, service
        case originalBase64 = "original_base64", originalText = "original_text", errorKind = "error_kind"
    }

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, original: [UInt8], error: MessageError, service: String) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key.map { String(decoding: $0, as: UTF8.self) }
        self.originalBase64 = Base64.encode(original)
        self.originalText = String(validating: original, as: UTF8.self)
        self.errorKind = error.kind.rawValue
        self.reason = error.reason
        self.service = service
    }

    public var partitionKey: String { "\(topic)/\(partition)" }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        guard MessageError.Kind(rawValue: errorKind) != nil else { throw .invalid("unknown error_kind \(errorKind)") }
        guard Base64.decode(originalBase64) != nil else { throw .invalid("original_base64 is not base64") }
    }

    /// The same refusal of the same input always gets the same id.
    public var id: String { DeterministicID.make("dlq", service, topic, String(partition), String(offset)) }
}

/// A promise carried in-band on every partition of a topic: "the producer has emitted everything with event
/// time ≤ this envelope's event time that is derived from the listed input partitions". A consumer that joins
/// several partitions or topics releases an event only when every input partition has promised past it
/// (invariant 2).
public struct Watermark: Payload {
    public static let messageType = "watermark"
    public static let version = 1

    public struct Coverage: Codable, Sendable, Equatable, Hashable {
        /// An input topic of the producer (or `source:<name>` for a source that has no input topic).
        public var topic: String
        public var partitions: [Int32]
        /// How many partitions that topic has, so a consumer knows when it has heard about all of them.
        public var of: Int32
        public init(topic: String, partitions: [Int32], of: Int32) { self.topic = topic; self.partitions = partitions; self.of = of }
    }

    public var producer: String
    public var covers: [Coverage]

    public init(producer: String, covers: [Coverage]) { self.producer = producer; self.covers = covers }

    public var partitionKey: String { producer }

    public func validate(eventTime: Timestamp) throws(MessageError) {
        guard !producer.isEmpty else { throw .invalid("watermark without producer") }
        guard !covers.isEmpty else { throw .invalid("watermark covers nothing") }
        for c in covers {
            guard c.of > 0, c.partitions.allSatisfy({ $0 >= 0 && $0 < c.of }) else {
                throw .invalid("watermark coverage of \(c.topic) has partitions outside 0..<\(c.of)")
            }
        }
    }

    public static func id(producer: String, topic: String, partition: Int32, time: Timestamp) -> String {
        DeterministicID.make("wm", producer, topic, String(partition), time.iso8601)
    }
}

/// RFC 4648 base64 without line breaks.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], 61, 61]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], 61]
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var lookup = [Int](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { lookup[Int(c)] = i }
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out = [UInt8]()
        var i = 0
        while i < chars.count {
            var n: UInt32 = 0
            var pad = 0
            for j in 0..<4 {
                let c = chars[i + j]
                if c == 61 { pad += 1; n <<= 6; continue }
                guard pad == 0, lookup[Int(c)] >= 0 else { return nil }
                n = n << 6 | UInt32(lookup[Int(c)])
            }
            // At most two '=', and only in the last group.
            guard pad <= 2, pad == 0 || i + 4 == chars.count else { return nil }
            out.append(UInt8(n >> 16 & 255))
            if pad < 2 { out.append(UInt8(n >> 8 & 255)) }
            if pad < 1 { out.append(UInt8(n & 255)) }
            i += 4
        }
        return out
    }
}
