import Foundation
import OpsModel

/// The causal chain of a trade (or of a signal that never came), step by step in event-time order: bar and features,
/// the watchlist, the signal's rules, each decision's gates, candidates and sizing, the orders with their events and
/// fills, the position's marks and exit, the P&L. Every step keeps the message it was read from.
public struct Explanation: Sendable {
    public struct Step: Sendable {
        /// bar, features, watchlist, signal, evaluation, decision, order, order_event, fill, position, marks, result.
        public var stage: String
        public var time: Timestamp
        public var title: String
        public var lines: [String]
        public var topic: String?
        public var envelope: AnyEnvelope?

        public init(stage: String, time: Timestamp, title: String, lines: [String] = [], topic: String? = nil, envelope: AnyEnvelope? = nil) {
            self.stage = stage; self.time = time; self.title = title; self.lines = lines; self.topic = topic; self.envelope = envelope
        }
    }

    public var query: String
    public var headline: String
    public var steps: [Step]

    /// For a person: a header, then each step with its New York time, its lines indented and its message id.
    public var text: String {
        var out = ["explain \(query)", headline, ""]
        for s in steps {
            out.append("\(Self.newYork(s.time))  \(s.stage.padding(toLength: 11, withPad: " ", startingAt: 0)) \(s.title)")
            out += s.lines.map { "      " + $0 }
            if let e = s.envelope { out.append("      id \(e.id)" + (s.topic.map { " on \($0)" } ?? "")) }
        }
        return out.joined(separator: "\n")
    }

    /// For a machine: the same steps, each with the whole message it came from under `message`.
    public var json: String {
        let steps: [[String: Any]] = steps.map { s in
            var o: [String: Any] = ["stage": s.stage, "time": s.time.iso8601, "new_york": Self.newYork(s.time), "title": s.title, "lines": s.lines]
            if let topic = s.topic { o["topic"] = topic }
            if let e = s.envelope {
                o["id"] = e.id
                if let bytes = try? e.encoded(), let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) { o["message"] = obj }
            }
            return o
        }
        let root: [String: Any] = ["query": query, "headline": headline, "steps": steps]
        let data = (try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// `2024-03-04 09:45 ET` (seconds when not zero).
    public static func newYork(_ t: Timestamp) -> String {
        let l = NewYorkTime.local(t)
        let h = l.secondOfDay / 3600, m = l.secondOfDay / 60 % 60, s = l.secondOfDay % 60
        return "\(l.date.iso) \(pad(h)):\(pad(m))\(s == 0 ? "" : ":" + pad(s)) ET"
    }

    /// `09:45` New York.
    public static func clock(_ t: Timestamp) -> String {
        let l = NewYorkTime.local(t)
        return "\(pad(l.secondOfDay / 3600)):\(pad(l.secondOfDay / 60 % 60))"
    }

    private static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

/// An id (or a ticker and time) the record cannot explain, with where it looked.
public struct ExplainError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
