import OpsModel

/// A CSV file that cannot be parsed at all (as opposed to single bad rows, which become `RejectedRow`s).
///
/// `description` names the file, the line when there is one, what is wrong and what to do about it, e.g.
/// `data.csv:1: cannot determine the ticker: …; pass --ticker SYMBOL`.
public struct CSVError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The file cannot be read.
        case unreadable
        /// The file has no header line.
        case empty
        /// The header matches none of the known formats.
        case unknownHeader = "unknown_header"
        /// The ticker cannot be determined (no argument, no column, no ticker in the file name).
        case noTicker = "no_ticker"
        /// An argument is invalid (e.g. a ticker that is not a valid symbol).
        case invalidArgument = "invalid_argument"
        /// The parsed rows do not form a valid message (should not happen: bad rows are rejected one by one).
        case inconsistent
    }

    public var kind: Kind
    public var file: String
    public var line: Int?
    public var message: String

    public init(_ kind: Kind, file: String, line: Int?, _ message: String) {
        self.kind = kind; self.file = file; self.line = line; self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// A row that could not be turned into a valid message, kept so the caller can publish it to a dead-letter
/// topic: nothing in a file is silently lost.
public struct RejectedRow: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based line where the row starts.
    public var line: Int
    /// The row's text as in the file.
    public var raw: String
    /// Why it was rejected, e.g. `high 1.0 < low 2.0` or `open: 'abc' is not a number`.
    public var reason: String

    public init(file: String, line: Int, raw: String, reason: String) {
        self.file = file; self.line = line; self.raw = raw; self.reason = reason
    }

    public var description: String { "\(file):\(line): \(reason): \(raw)" }
}

// MARK: - Internal helpers shared by the CSV parsers

/// Why one row failed; becomes a `RejectedRow`.
struct CSVRowProblem: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// A header's column names (trimmed, lower-cased) and their positions.
struct CSVHeader {
    let names: [String]
    let index: [String: Int]
    /// The header's line in the file.
    let line: Int

    init(_ row: CSVRow) {
        line = row.line
        names = row.fields.map { String($0.csvTrimmed).lowercased() }
        var index = [String: Int]()
        for (i, n) in names.enumerated() where index[n] == nil { index[n] = i }
        self.index = index
    }

    var nameSet: Set<String> { Set(names) }
    var hasDuplicates: Bool { index.count != names.count }
    var text: String { names.joined(separator: ",") }

    /// True when the header has all `required` columns, no column twice, and nothing outside required ∪ optional.
    func matches(required: [String], optional: [String] = []) -> Bool {
        let set = nameSet
        return !hasDuplicates && set.isSuperset(of: required) && set.isSubset(of: Set(required + optional))
    }

    /// True when the header has all `required` columns (others are ignored).
    func contains(_ required: [String]) -> Bool { nameSet.isSuperset(of: required) }
}

/// Typed access to one row's fields through its header.
struct CSVFields {
    let row: CSVRow
    let header: CSVHeader

    /// Checks the row's shape; call before reading fields.
    static func make(_ row: CSVRow, _ header: CSVHeader) throws(CSVRowProblem) -> CSVFields {
        if let problem = row.problem { throw CSVRowProblem("malformed CSV: \(problem)") }
        guard row.fields.count == header.names.count else {
            throw CSVRowProblem("expected \(header.names.count) fields (\(header.text)), found \(row.fields.count)")
        }
        return CSVFields(row: row, header: header)
    }

    /// The trimmed text of a column, or nil when the header has no such column.
    func text(_ name: String) -> Substring? {
        guard let i = header.index[name] else { return nil }
        return row.fields[i].csvTrimmed
    }

    func required(_ name: String) throws(CSVRowProblem) -> Substring {
        guard let t = text(name) else { throw CSVRowProblem("no '\(name)' column") }
        guard !t.isEmpty else { throw CSVRowProblem("\(name) is empty") }
        return t
    }

    /// A finite number.
    func double(_ name: String) throws(CSVRowProblem) -> Double {
        let t = try required(name)
        return try Self.finite(t, name)
    }

    /// Empty or absent → nil; otherwise a finite number.
    func optionalDouble(_ name: String) throws(CSVRowProblem) -> Double? {
        guard let t = text(name), !t.isEmpty else { return nil }
        return try Self.finite(t, name)
    }

    /// A whole number, also written as an integral float (`3952.0`).
    func wholeNumber(_ name: String) throws(CSVRowProblem) -> Int64 {
        let t = try required(name)
        return try Self.whole(t, name)
    }

    func optionalWholeNumber(_ name: String) throws(CSVRowProblem) -> Int64? {
        guard let t = text(name), !t.isEmpty else { return nil }
        return try Self.whole(t, name)
    }

    /// An ISO-8601 instant with a zone (`Z` or `±HH:MM`).
    func instant(_ name: String) throws(CSVRowProblem) -> Timestamp {
        let t = try required(name)
        guard let ts = Timestamp(iso8601: String(t)) else {
            if LocalDateTime(parsing: String(t)) != nil {
                throw CSVRowProblem("\(name) '\(t)' has no zone: write it with Z or ±HH:MM")
            }
            throw CSVRowProblem("\(name) '\(t)' is not an ISO-8601 time with a zone")
        }
        return ts
    }

    static func finite(_ t: Substring, _ name: String) throws(CSVRowProblem) -> Double {
        guard let v = Double(t) else { throw CSVRowProblem("\(name): '\(t)' is not a number") }
        guard v.isFinite else { throw CSVRowProblem("\(name): '\(t)' is not a finite number") }
        return v
    }

    static func whole(_ t: Substring, _ name: String) throws(CSVRowProblem) -> Int64 {
        if let v = Int64(t) { return v }
        guard let d = Double(t), d.isFinite else { throw CSVRowProblem("\(name): '\(t)' is not a number") }
        guard d == d.rounded(.towardZero) else { throw CSVRowProblem("\(name): '\(t)' is not a whole number") }
        guard abs(d) < 9.0e18 else { throw CSVRowProblem("\(name): '\(t)' is out of range") }
        return Int64(d)
    }

    /// `call`/`put`, also `C`/`P` and any case.
    static func right(_ t: Substring, _ name: String) throws(CSVRowProblem) -> OptionRight {
        switch t.lowercased() {
        case "call", "c": return .call
        case "put", "p": return .put
        default: throw CSVRowProblem("\(name): '\(t)' is not call or put")
        }
    }

    static func date(_ t: Substring, _ name: String) throws(CSVRowProblem) -> CivilDate {
        guard let d = CivilDate(iso: t) else { throw CSVRowProblem("\(name): '\(t)' is not a YYYY-MM-DD date") }
        return d
    }
}

extension CSVRow {
    func rejected(_ file: String, _ reason: String) -> RejectedRow {
        RejectedRow(file: file, line: line, raw: raw, reason: reason)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var csvTrimmed: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}

/// Writing CSV fields.
enum CSVText {
    /// Quotes a field when it contains a comma, a quote or a line break.
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacing("\"", with: "\"\"") + "\""
    }

    static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") + "\n" }

    static func number(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
}

/// Splits a file's rows into its header (the first non-empty record) and the data rows.
func csvHeaderAndRows(_ reader: CSVReader, file: String) throws(CSVError) -> (header: CSVHeader, rows: ArraySlice<CSVRow>) {
    let rows = reader.rows
    guard let first = rows.first else {
        throw CSVError(.empty, file: file, line: nil, "the file is empty: expected a header line (see docs/data-formats.md)")
    }
    if let problem = first.problem {
        throw CSVError(.unknownHeader, file: file, line: first.line, "malformed header: \(problem)")
    }
    return (CSVHeader(first), rows.dropFirst())
}
