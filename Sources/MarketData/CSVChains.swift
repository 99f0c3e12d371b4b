import Foundation
import OpsModel

/// The option-chain CSV layouts `ChainCSV` reads, detected from the header.
public enum ChainCSVFormat: String, Sendable, CaseIterable {
    /// The TD Ameritrade flat export: one row per contract of ONE snapshot of one underlying,
    /// `occ_symbol,tda_symbol,expiry,type,strike,bid,ask,last,mark,volume,open_interest,iv_pct,delta,gamma,theta,
    /// vega,rho,theo_value,days_to_exp,quote_time_utc,trade_time_utc,underlying_price,interest_rate_pct`
    /// (only the columns in `ChainCSV.tdaColumns` are needed; the others are ignored).
    case tdaFlat
    /// The pipeline's own layout: `underlying,as_of,underlying_price,symbol,right,strike,expiration,bid,ask,last,
    /// volume,open_interest,iv,delta,gamma,theta,vega`, one row per contract, any number of snapshots
    /// (one per (underlying, as_of)). `as_of` is ISO-8601 with a zone; `right` is `call`/`put` (or `C`/`P`);
    /// `expiration` is `YYYY-MM-DD`; `iv` is a fraction (0.25 = 25 %); `last`, `iv` and the greeks may be empty.
    case generic
}

/// What `ChainCSV` found in one file.
public struct ChainCSVResult: Sendable, Equatable {
    public var format: ChainCSVFormat
    /// Snapshots ascending by (as_of, underlying); each passes `OptionChain.validate(eventTime: asOf)`.
    /// Contracts keep the file's order.
    public var chains: [OptionChain]
    /// Rows that failed parsing or contract validation, in line order.
    public var rejected: [RejectedRow]

    public init(format: ChainCSVFormat, chains: [OptionChain], rejected: [RejectedRow]) {
        self.format = format; self.chains = chains; self.rejected = rejected
    }

    public var events: [MarketEvent] { chains.map(MarketEvent.chain) }
}

/// Parses option-chain snapshots. A contract row that does not parse or fails the `OptionQuote` checks of
/// `OptionChain.validate` (symbol disagreeing with its fields, bid > ask, negative prices, |delta| > 1, the same
/// symbol twice in a snapshot, …) goes to `rejected` with its line and reason and is left out of the chain;
/// the rest of the file is still read. Only an empty file or an unknown header throws.
public enum ChainCSV {
    /// The columns of the TDA flat export that are read.
    public static let tdaColumns = ["occ_symbol", "expiry", "type", "strike", "bid", "ask", "last", "volume",
                                    "open_interest", "iv_pct", "delta", "gamma", "theta", "vega", "quote_time_utc",
                                    "underlying_price"]
    public static let genericColumns = ["underlying", "as_of", "underlying_price", "symbol", "right", "strike",
                                        "expiration", "bid", "ask", "last", "volume", "open_interest", "iv", "delta",
                                        "gamma", "theta", "vega"]

    public static func detectFormat(header: [String]) -> ChainCSVFormat? {
        detect(CSVHeader(CSVRow(line: 1, fields: header, raw: header.joined(separator: ","))))
    }

    static func detect(_ h: CSVHeader) -> ChainCSVFormat? {
        if h.matches(required: genericColumns) { return .generic }
        if !h.hasDuplicates, h.contains(tdaColumns) { return .tdaFlat }
        return nil
    }

    /// Parses either format, detected from the header.
    public static func parse(_ text: String, file: String) throws(CSVError) -> ChainCSVResult {
        try parse(CSVReader(text: text), file: file)
    }

    public static func parse(contentsOf url: URL) throws(CSVError) -> ChainCSVResult {
        try parse(CSVReader(contentsOf: url), file: url.path)
    }

    static func parse(_ reader: CSVReader, file: String) throws(CSVError) -> ChainCSVResult {
        let (header, rows) = try csvHeaderAndRows(reader, file: file)
        switch detect(header) {
        case .tdaFlat: return try tda(header, rows, file: file)
        case .generic: return try generic(header, rows, file: file)
        case nil:
            throw CSVError(.unknownHeader, file: file, line: header.line,
                           "header '\(header.text)' is not a known option-chain format; expected the TDA flat export "
                           + "(with \(tdaColumns.joined(separator: ","))) or '\(genericColumns.joined(separator: ","))' "
                           + "(see docs/data-formats.md)")
        }
    }

    // MARK: TDA flat export

    /// Parses a TD Ameritrade flat chain export into ONE snapshot.
    ///
    /// - underlying: the OCC root of the contracts (the most frequent one; rows with another root are rejected).
    /// - underlying price: the `underlying_price` column (the same on every row of an export; the value of the
    ///   row with the latest quote time is used).
    /// - as_of: the latest `quote_time_utc` (naive UTC, microseconds) of the contracts kept, truncated to the whole
    ///   second. The snapshot is known once its last quote is in, so it is stamped no earlier than the bulk of its
    ///   quotes; truncating (rather than rounding up) keeps it in the same second and minute as those quotes
    ///   (an export at 21:14:56.374–21:15:00.001 is stamped 21:15:00, not 21:15:01 after the 21:15 bar), gives a
    ///   stable whole-second id, and the at most 999 ms it stamps early is far below the 1-minute bar
    ///   resolution that consumers join on.
    /// - iv: `iv_pct` / 100. TDA writes −999, NaN or 0 when it has no volatility; any value that is missing, not
    ///   finite or ≤ 0 becomes nil. (TDA's floor of exactly 5.0 % for deep in-the-money contracts is kept.)
    /// - last: 0 means "no trade" and becomes nil.
    /// - greeks: as given, per share; −999/NaN become nil. TDA's vega is per 1 volatility POINT (the price change
    ///   for iv +1 %, i.e. ∂V/∂σ ÷ 100) and theta is per calendar day: on the 2020-01-29 SPY export they match
    ///   Black–Scholes with T = (days_to_exp + 1) / 365, e.g. the 326 call expiring 2020-01-31 (iv 15.252 %) has
    ///   vega 0.118 = S·φ(d1)·√T / 100.
    public static func parseTDAFlat(_ text: String, file: String) throws(CSVError) -> ChainCSVResult {
        let (header, rows) = try csvHeaderAndRows(CSVReader(text: text), file: file)
        guard !header.hasDuplicates, header.contains(tdaColumns) else {
            let missing = tdaColumns.filter { header.index[$0] == nil }
            throw CSVError(.unknownHeader, file: file, line: header.line,
                           "not a TDA flat chain export: missing column(s) \(missing.joined(separator: ", "))"
                           + (header.hasDuplicates ? " or a column appears twice" : "") + " (see docs/data-formats.md)")
        }
        return try tda(header, rows, file: file)
    }

    struct TDARow {
        var row: CSVRow
        var quote: OptionQuote
        var root: String
        var quoteTime: Timestamp
        var underlyingPrice: Double
    }

    static func tda(_ header: CSVHeader, _ rows: ArraySlice<CSVRow>, file: String) throws(CSVError) -> ChainCSVResult {
        var rejected = [RejectedRow]()
        var parsed = [TDARow]()
        for row in rows {
            do throws(CSVRowProblem) {
                parsed.append(try tdaRow(CSVFields.make(row, header)))
            } catch {
                rejected.append(row.rejected(file, error.reason))
            }
        }
        guard !parsed.isEmpty else {
            return ChainCSVResult(format: .tdaFlat, chains: [], rejected: rejected.sorted { $0.line < $1.line })
        }

        // The underlying: the most frequent root, ties to the one seen first.
        var counts = [String: Int]()
        var order = [String]()
        for p in parsed {
            if counts[p.root] == nil { order.append(p.root) }
            counts[p.root, default: 0] += 1
        }
        var underlying = order[0]
        for root in order where counts[root, default: 0] > counts[underlying, default: 0] { underlying = root }

        var kept = [TDARow]()
        var lineOfSymbol = [String: Int]()
        for p in parsed {
            if p.root != underlying {
                rejected.append(p.row.rejected(file, "root '\(p.root)' of \(p.quote.symbol) is not the file's underlying '\(underlying)'"))
                continue
            }
            if let reason = contractProblem(p.quote, underlying: underlying) {
                rejected.append(p.row.rejected(file, reason))
                continue
            }
            if let first = lineOfSymbol[p.quote.symbol] {
                rejected.append(p.row.rejected(file, "contract '\(p.quote.symbol)' already read on line \(first)"))
                continue
            }
            lineOfSymbol[p.quote.symbol] = p.row.line
            kept.append(p)
        }
        rejected.sort { $0.line < $1.line }
        guard let latest = kept.max(by: { ($0.quoteTime, $0.row.line) < ($1.quoteTime, $1.row.line) }) else {
            return ChainCSVResult(format: .tdaFlat, chains: [], rejected: rejected)
        }
        let asOf = Timestamp(ms: latest.quoteTime.ms - ((latest.quoteTime.ms % 1000) + 1000) % 1000)
        let chain = OptionChain(underlying: underlying, underlyingPrice: latest.underlyingPrice, asOf: asOf,
                                contracts: kept.map(\.quote))
        try check(chain, file: file)
        return ChainCSVResult(format: .tdaFlat, chains: [chain], rejected: rejected)
    }

    static func tdaRow(_ f: CSVFields) throws(CSVRowProblem) -> TDARow {
        let symbol = String(try f.required("occ_symbol"))
        guard let occ = OCCSymbol(symbol) else { throw CSVRowProblem("occ_symbol '\(symbol)' is not an OCC option symbol") }
        let quote = OptionQuote(
            symbol: symbol,
            right: try CSVFields.right(try f.required("type"), "type"),
            strike: try f.double("strike"),
            expiration: try CSVFields.date(try f.required("expiry"), "expiry"),
            bid: try f.double("bid"),
            ask: try f.double("ask"),
            last: try tdaValue(f, "last").flatMap { $0 == 0 ? nil : $0 },
            volume: try f.wholeNumber("volume"),
            openInterest: try f.wholeNumber("open_interest"),
            iv: try tdaValue(f, "iv_pct").flatMap { $0 > 0 ? $0 / 100 : nil },
            delta: try tdaValue(f, "delta"),
            gamma: try tdaValue(f, "gamma"),
            theta: try tdaValue(f, "theta"),
            vega: try tdaValue(f, "vega"))
        let timeText = String(try f.required("quote_time_utc"))
        let quoteTime: Timestamp
        if let local = LocalDateTime(parsing: timeText) {
            quoteTime = Timestamp(ms: local.msSinceEpochAsIfUTC)
        } else if let t = Timestamp(iso8601: timeText) {
            quoteTime = t
        } else {
            throw CSVRowProblem("quote_time_utc '\(timeText)' is not a YYYY-MM-DDTHH:MM:SS[.ffffff] UTC time")
        }
        let price = try f.double("underlying_price")
        guard price > 0 else { throw CSVRowProblem("underlying_price \(price) must be > 0") }
        return TDARow(row: f.row, quote: quote, root: occ.root, quoteTime: quoteTime, underlyingPrice: price)
    }

    static let tdaMissingWords: Set<String> = ["nan", "-nan", "n/a", "na", "null", "none", "-", "--"]

    /// A TDA number where −999, NaN and the like mean "missing" (nil); other text is an error.
    static func tdaValue(_ f: CSVFields, _ name: String) throws(CSVRowProblem) -> Double? {
        guard let t = f.text(name), !t.isEmpty, !tdaMissingWords.contains(t.lowercased()) else { return nil }
        guard let v = Double(t) else { throw CSVRowProblem("\(name): '\(t)' is not a number") }
        guard v.isFinite, v > -999 + 1e-9 else { return nil }
        return v
    }

    // MARK: Generic

    /// Parses the generic chain format (see `ChainCSVFormat.generic`): one snapshot per (underlying, as_of),
    /// sorted by (as_of, underlying). Within a snapshot every row must carry the same `underlying_price` (a row that
    /// disagrees with the first one kept is rejected) and a symbol at most once.
    public static func parseGeneric(_ text: String, file: String) throws(CSVError) -> ChainCSVResult {
        let (header, rows) = try csvHeaderAndRows(CSVReader(text: text), file: file)
        guard header.matches(required: genericColumns) else {
            throw CSVError(.unknownHeader, file: file, line: header.line,
                           "header '\(header.text)' is not the generic chain format '\(genericColumns.joined(separator: ","))' "
                           + "(see docs/data-formats.md)")
        }
        return try generic(header, rows, file: file)
    }

    struct SnapshotKey: Hashable {
        var underlying: String
        var asOfMs: Int64
    }

    struct Snapshot {
        var underlyingPrice: Double
        var priceLine: Int
        var contracts: [OptionQuote] = []
        var lineOfSymbol: [String: Int] = [:]
    }

    static func generic(_ header: CSVHeader, _ rows: ArraySlice<CSVRow>, file: String) throws(CSVError) -> ChainCSVResult {
        var rejected = [RejectedRow]()
        var snapshots = [SnapshotKey: Snapshot]()
        for row in rows {
            do throws(CSVRowProblem) {
                let f = try CSVFields.make(row, header)
                let underlying = String(try f.required("underlying"))
                let asOf = try f.instant("as_of")
                let price = try f.double("underlying_price")
                guard price > 0 else { throw CSVRowProblem("underlying_price \(price) must be > 0") }
                let quote = OptionQuote(
                    symbol: String(try f.required("symbol")),
                    right: try CSVFields.right(try f.required("right"), "right"),
                    strike: try f.double("strike"),
                    expiration: try CSVFields.date(try f.required("expiration"), "expiration"),
                    bid: try f.double("bid"),
                    ask: try f.double("ask"),
                    last: try f.optionalDouble("last"),
                    volume: try f.wholeNumber("volume"),
                    openInterest: try f.wholeNumber("open_interest"),
                    iv: try f.optionalDouble("iv"),
                    delta: try f.optionalDouble("delta"),
                    gamma: try f.optionalDouble("gamma"),
                    theta: try f.optionalDouble("theta"),
                    vega: try f.optionalDouble("vega"))
                do throws(MessageError) { try Validate.ticker(underlying) } catch { throw CSVRowProblem(error.reason) }
                if let reason = contractProblem(quote, underlying: underlying) { throw CSVRowProblem(reason) }
                let key = SnapshotKey(underlying: underlying, asOfMs: asOf.ms)
                var snap = snapshots[key] ?? Snapshot(underlyingPrice: price, priceLine: row.line)
                if snap.underlyingPrice != price {
                    throw CSVRowProblem("underlying_price \(price) differs from \(snap.underlyingPrice) on line \(snap.priceLine) "
                                        + "for the \(underlying) snapshot at \(asOf)")
                }
                if let first = snap.lineOfSymbol[quote.symbol] {
                    throw CSVRowProblem("contract '\(quote.symbol)' already read on line \(first) for the \(underlying) "
                                        + "snapshot at \(asOf)")
                }
                snap.lineOfSymbol[quote.symbol] = row.line
                snap.contracts.append(quote)
                snapshots[key] = snap
            } catch {
                rejected.append(row.rejected(file, error.reason))
            }
        }
        var chains = [OptionChain]()
        for key in snapshots.keys.sorted(by: { ($0.asOfMs, $0.underlying) < ($1.asOfMs, $1.underlying) }) {
            let snap = snapshots[key]!
            let chain = OptionChain(underlying: key.underlying, underlyingPrice: snap.underlyingPrice,
                                    asOf: Timestamp(ms: key.asOfMs), contracts: snap.contracts)
            try check(chain, file: file)
            chains.append(chain)
        }
        return ChainCSVResult(format: .generic, chains: chains, rejected: rejected)
    }

    /// Writes chains in the generic format (header included); `parseGeneric` reads it back.
    public static func renderGeneric(_ chains: [OptionChain]) -> String {
        var out = CSVText.line(genericColumns)
        for c in chains {
            for q in c.contracts {
                out += CSVText.line([c.underlying, c.asOf.iso8601, "\(c.underlyingPrice)", q.symbol, q.right.rawValue,
                                     "\(q.strike)", q.expiration.iso, "\(q.bid)", "\(q.ask)", CSVText.number(q.last),
                                     "\(q.volume)", "\(q.openInterest)", CSVText.number(q.iv), CSVText.number(q.delta),
                                     CSVText.number(q.gamma), CSVText.number(q.theta), CSVText.number(q.vega)])
            }
        }
        return out
    }

    // MARK: Shared

    /// The contract checks of `OptionChain.validate`, run on a one-contract chain (the quote's own validation is
    /// internal to OpsModel). nil when the contract is fine.
    static func contractProblem(_ quote: OptionQuote, underlying: String) -> String? {
        let probe = OptionChain(underlying: underlying, underlyingPrice: 1, asOf: Timestamp(ms: 0), contracts: [quote])
        do throws(MessageError) {
            try probe.validate(eventTime: probe.asOf)
            return nil
        } catch {
            return error.reason
        }
    }

    static func check(_ chain: OptionChain, file: String) throws(CSVError) {
        do throws(MessageError) {
            try chain.validate(eventTime: chain.asOf)
        } catch {
            throw CSVError(.inconsistent, file: file, line: nil,
                           "the \(chain.underlying) chain at \(chain.asOf) does not validate: \(error.reason); please report this file")
        }
    }
}
