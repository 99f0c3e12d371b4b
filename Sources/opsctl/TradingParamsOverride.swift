import ArgumentParser
import Foundation
import OpsModel
import Pipeline

/// `opsctl up --params FILE --param KEY=VALUE…`: one set of trading parameters for every trading service. The file
/// (default: the usual config/trading_params.json, else the built-in values) with each `--param` applied on top is
/// validated like a service would at startup (a bad key or value fails naming it), written to a temporary file and
/// handed to each service as `--set trading_params=PATH`.
struct TradingParamsOverride {
    var file: String?
    var settings: [String]

    /// The merged JSON and the parameters it loads as; nil when there is nothing to override.
    func resolve() throws -> (json: Data, params: TradingParams)? {
        guard file != nil || !settings.isEmpty else { return nil }
        var root: [String: Any] = [:]
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("--params \(file): no such file") }
            guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw ValidationError("--params \(file): not a JSON object") }
            root = obj
        } else if let base = try? TradingParams.load(configured: nil), let data = try? JSONEncoder().encode(base),
                  let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            root = obj
        }
        for kv in settings {
            guard let eq = kv.firstIndex(of: "="), eq != kv.startIndex else {
                throw ValidationError("--param expects KEY=VALUE with a dotted key, e.g. --param risk.max_daily_loss=250; got '\(kv)'")
            }
            let path = kv[..<eq].split(separator: ".").map(String.init)
            let text = String(kv[kv.index(after: eq)...])
            let value: Any = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text
            root = TradingParams.setting(root, path: path[...], to: value)
        }
        let json = try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
        do {
            return (json, try TradingParams.load(json: json, origin: file.map { "--params \($0) with --param" } ?? "--param"))
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// `SERVICE:trading_params=PATH` for every trading service, or nothing without overrides. `tag` keeps the files of
    /// runs in one process apart (a sweep's combinations).
    func serviceSettings(tag: String = "") throws -> [String] {
        guard let (json, _) = try resolve() else { return [] }
        let path = NSTemporaryDirectory() + "ops-trading-params-\(getpid())\(tag.isEmpty ? "" : "-" + tag).json"
        guard FileManager.default.createFile(atPath: path, contents: json) else { throw ValidationError("cannot write \(path)") }
        return ServiceGraph.tradingParamsServices.map { "\($0):trading_params=\(path)" }
    }
}
