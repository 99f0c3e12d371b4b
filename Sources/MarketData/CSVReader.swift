import Foundation

/// One record of a CSV file.
public struct CSVRow: Sendable, Equatable {
    /// 1-based line number where the record starts (a quoted field may span several lines).
    public var line: Int
    /// The fields, unquoted and unescaped, otherwise as written (no trimming).
    public var fields: [String]
    /// The record's text exactly as in the file, without its line break: what a dead-letter entry carries.
    public var raw: String
    /// Set when the record is malformed (a quoted field never closed, text after a closing quote); a parser
    /// rejects such a row with this reason instead of guessing.
    public var problem: String?

    public init(line: Int, fields: [String], raw: String, problem: String? = nil) {
        self.line = line; self.fields = fields; self.raw = raw; self.problem = problem
    }
}

/// A small RFC-4180 reader.
///
/// - Fields are separated by `,`; a field that starts with `"` is quoted: it may contain `,`, line breaks and
///   `""` (an escaped quote). A `"` inside an unquoted field is kept literally.
/// - Records end with CRLF, LF or a lone CR. A leading UTF-8 byte-order mark is skipped.
/// - Empty lines (including the usual one after the last line break) yield no row, but are counted, so line
///   numbers always match the file as an editor shows it.
/// - The reader never fails on content: a malformed record is yielded with `problem` set.
public struct CSVReader: Sequence, Sendable {
    let bytes: [UInt8]

    public init(text: String) {
        self.bytes = Array(text.utf8)
    }

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Reads a whole file. `file` in errors is the URL's path.
    public init(contentsOf url: URL) throws(CSVError) {
        do {
            let data = try Data(contentsOf: url)
            self.bytes = [UInt8](data)
        } catch {
            throw CSVError(.unreadable, file: url.path, line: nil,
                           "cannot read the file (\(error.localizedDescription)); check the path and permissions")
        }
    }

    /// All rows at once.
    public var rows: [CSVRow] { Array(self) }

    public func makeIterator() -> Iterator { Iterator(bytes: bytes) }

    public struct Iterator: IteratorProtocol {
        let bytes: [UInt8]
        var i: Int
        var line = 1

        init(bytes: [UInt8]) {
            self.bytes = bytes
            self.i = (bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) ? 3 : 0
        }

        static let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

        public mutating func next() -> CSVRow? {
            while i < bytes.count {
                if let row = record() { return row }
            }
            return nil
        }

        /// Reads one record starting at `i`; nil for an empty line.
        mutating func record() -> CSVRow? {
            let n = bytes.count
            let startLine = line
            let start = i
            var end = n
            var fields = [String]()
            var field = [UInt8]()
            var atFieldStart = true
            var inQuotes = false
            var afterClosingQuote = false
            var problem: String?
            var quoteOpenedOnLine = line

            scan: while i < n {
                let b = bytes[i]
                if inQuotes {
                    if b == Self.quote {
                        if i + 1 < n, bytes[i + 1] == Self.quote {
                            field.append(Self.quote)
                            i += 2
                        } else {
                            inQuotes = false
                            afterClosingQuote = true
                            i += 1
                        }
                        continue
                    }
                    if b == Self.lf || (b == Self.cr && !(i + 1 < n && bytes[i + 1] == Self.lf)) { line += 1 }
                    field.append(b)
                    i += 1
                    continue
                }
                switch b {
                case Self.comma:
                    fields.append(String(decoding: field, as: UTF8.self))
                    field.removeAll(keepingCapacity: true)
                    atFieldStart = true
                    afterClosingQuote = false
                    i += 1
                case Self.lf, Self.cr:
                    end = i
                    i += (b == Self.cr && i + 1 < n && bytes[i + 1] == Self.lf) ? 2 : 1
                    line += 1
                    break scan
                case Self.quote where atFieldStart:
                    inQuotes = true
                    quoteOpenedOnLine = line
                    atFieldStart = false
                    i += 1
                default:
                    if afterClosingQuote, problem == nil {
                        problem = "text after the closing quote of field \(fields.count + 1)"
                    }
                    field.append(b)
                    atFieldStart = false
                    i += 1
                }
            }
            if inQuotes {
                problem = "quoted field \(fields.count + 1) opened on line \(quoteOpenedOnLine) is never closed"
            }
            if end == start, fields.isEmpty, field.isEmpty, !inQuotes { return nil }
            fields.append(String(decoding: field, as: UTF8.self))
            let raw = String(decoding: bytes[start..<end], as: UTF8.self)
            return CSVRow(line: startLine, fields: fields, raw: raw, problem: problem)
        }
    }
}
