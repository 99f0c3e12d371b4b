import Foundation
import OpsModel

/// A one-line progress display on a terminal.
public final class ProgressLine: @unchecked Sendable {
    let label: String
    let enabled: Bool
    var lastPercent = -1
    public init(label: String, enabled: Bool) { self.label = label; self.enabled = enabled }

    public func update(_ done: Int, _ total: Int, _ t: Timestamp) {
        guard enabled, total > 0 else { return }
        let pct = done * 100 / total
        guard pct != lastPercent else { return }
        lastPercent = pct
        let local = NewYorkTime.local(t)
        let hm = String(format: "%02d:%02d", local.secondOfDay / 3600, local.secondOfDay / 60 % 60)
        FileHandle.standardError.write(Data("\r[\(label)] \(local.date) \(hm) ET  \(done)/\(total) minutes  \(pct)%   ".utf8))
    }

    public func finish() { if enabled { FileHandle.standardError.write(Data("\n".utf8)) } }
}
