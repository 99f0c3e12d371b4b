import Foundation

/// Charts as inline SVG: readable with no JavaScript and no network, sized by a viewBox so they scale with the page.
public enum SVGChart {
    public struct Series: Sendable {
        public var name: String
        public var color: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, color: String, points: [(x: Double, y: Double)]) { self.name = name; self.color = color; self.points = points }
    }

    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    static let (width, height) = (760.0, 260.0)
    static let (left, right, top, bottom) = (78.0, 12.0, 14.0, 34.0)

    /// Lines over a shared x axis (`xLabel` names an x value); `fill` shades each line down to zero (a drawdown).
    public static func lines(_ series: [Series], title: String, yFormat: (Double) -> String, xLabel: (Double) -> String, fill: Bool = false) -> String {
        let all = series.flatMap(\.points)
        guard let x0 = all.map(\.x).min(), let x1 = all.map(\.x).max(), let yLo = all.map(\.y).min(), let yHi = all.map(\.y).max() else {
            return empty(title)
        }
        let ticks = niceTicks(lo: fill ? min(yLo, 0) : yLo, hi: fill ? max(yHi, 0) : yHi)
        let (ylo, yhi) = (ticks.first!, ticks.last!)
        func px(_ x: Double) -> Double { left + (x1 == x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - left - right) }
        func py(_ y: Double) -> Double { top + (yhi == ylo ? 0.5 : (yhi - y) / (yhi - ylo)) * (height - top - bottom) }
        var svg = open(title) + yAxis(ticks, py: py, format: yFormat)
        for i in 0..<5 {
            let x = x0 + (x1 - x0) * Double(i) / 4
            let anchor = i == 0 ? "start" : i == 4 ? "end" : "middle"
            svg += "<text x=\"\(r(px(x)))\" y=\"\(r(height - 12))\" text-anchor=\"\(anchor)\" class=\"tick\">\(escape(xLabel(x)))</text>"
        }
        for s in series where !s.points.isEmpty {
            let path = thin(s.points).map { "\(r(px($0.x))),\(r(py($0.y)))" }.joined(separator: " ")
            if fill {
                svg += "<polygon points=\"\(r(px(s.points.first!.x))),\(r(py(0))) \(path) \(r(px(s.points.last!.x))),\(r(py(0)))\" fill=\"\(s.color)\" fill-opacity=\"0.25\" stroke=\"none\"/>"
            }
            svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.5\"><title>\(escape(s.name))</title></polyline>"
        }
        return svg + legend(series.map { ($0.name, $0.color) }) + "</svg>"
    }

    /// Horizontal bars, one per label, positive to the right of zero and negative to the left.
    public static func bars(_ items: [(label: String, value: Double)], title: String, format: (Double) -> String) -> String {
        guard !items.isEmpty else { return empty(title) }
        let rowH = 22.0, h = top + Double(items.count) * rowH + 10
        let lo = min(0, items.map(\.value).min()!), hi = max(0, items.map(\.value).max()!)
        let labelW = 170.0, valueW = 110.0
        func px(_ v: Double) -> Double { labelW + (hi == lo ? 0 : (v - lo) / (hi - lo)) * (width - labelW - valueW) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(r(width)) \(r(h))\" role=\"img\" aria-label=\"\(escape(title))\">"
        svg += "<title>\(escape(title))</title>"
        for (i, item) in items.enumerated() {
            let y = top + Double(i) * rowH
            let (a, b) = (px(min(0, item.value)), px(max(0, item.value)))
            let color = item.value < 0 ? "#d62728" : "#2ca02c"
            svg += "<text x=\"\(r(labelW - 6))\" y=\"\(r(y + 15))\" text-anchor=\"end\" class=\"tick\">\(escape(item.label))</text>"
            svg += "<rect x=\"\(r(a))\" y=\"\(r(y + 3))\" width=\"\(r(max(b - a, 1)))\" height=\"\(r(rowH - 6))\" fill=\"\(color)\"><title>\(escape(item.label)): \(escape(format(item.value)))</title></rect>"
            svg += "<text x=\"\(r(b + 6))\" y=\"\(r(y + 15))\" class=\"tick\">\(escape(format(item.value)))</text>"
        }
        svg += "<line x1=\"\(r(px(0)))\" y1=\"\(r(top))\" x2=\"\(r(px(0)))\" y2=\"\(r(h - 10))\" stroke=\"#444\"/>"
        return svg + "</svg>"
    }

    /// Round steps (1, 2, 5 × 10ⁿ) spanning [lo, hi], about five of them.
    static func niceTicks(lo: Double, hi: Double) -> [Double] {
        guard hi > lo else { return [lo - 1, lo, lo + 1] }
        let raw = (hi - lo) / 5
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw }!
        let start = floor(lo / step) * step
        // + 0 turns a −0 tick into 0 (no "-0.0%" label).
        return stride(from: start, through: ceil(hi / step) * step + step / 2, by: step).map { ($0 / step).rounded() * step + 0 }
    }

    /// At most ~1,000 points a line: every k-th, keeping the last (a year of minutes stays a small file).
    static func thin(_ p: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
        guard p.count > 1000 else { return p }
        let k = (p.count + 999) / 1000
        var out = stride(from: 0, to: p.count, by: k).map { p[$0] }
        if out.last!.x != p.last!.x { out.append(p.last!) }
        return out
    }

    static func open(_ title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(r(width)) \(r(height))\" role=\"img\" aria-label=\"\(escape(title))\"><title>\(escape(title))</title>"
    }

    static func yAxis(_ ticks: [Double], py: (Double) -> Double, format: (Double) -> String) -> String {
        ticks.map { t in
            "<line x1=\"\(r(left))\" y1=\"\(r(py(t)))\" x2=\"\(r(width - right))\" y2=\"\(r(py(t)))\" stroke=\"#ddd\"/>"
                + "<text x=\"\(r(left - 6))\" y=\"\(r(py(t) + 4))\" text-anchor=\"end\" class=\"tick\">\(escape(format(t)))</text>"
        }.joined()
    }

    static func legend(_ items: [(String, String)]) -> String {
        guard items.count > 1 else { return "" }
        return items.enumerated().map { i, item in
            let x = left + 8 + Double(i % 4) * 160, y = top + 10 + Double(i / 4) * 14
            return "<rect x=\"\(r(x))\" y=\"\(r(y - 8))\" width=\"10\" height=\"3\" fill=\"\(item.1)\"/><text x=\"\(r(x + 14))\" y=\"\(r(y - 4))\" class=\"tick\">\(escape(item.0))</text>"
        }.joined()
    }

    static func empty(_ title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(r(width)) 40\" role=\"img\" aria-label=\"\(escape(title))\"><text x=\"10\" y=\"24\" class=\"tick\">\(escape(title)): no data</text></svg>"
    }

    static func r(_ v: Double) -> String { FixedFormatShort.string(v) }

    public static func escape(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            default: o.append(c)
            }
        }
        return o
    }
}

/// One decimal, no trailing `.0`: coordinates stay short.
enum FixedFormatShort {
    static func string(_ v: Double) -> String {
        let t = (v * 10).rounded() / 10
        return t == t.rounded() ? String(Int(t)) : String(format: "%.1f", t)
    }
}
