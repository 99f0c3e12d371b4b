import Foundation

/// Checks HTTP requests against an OpenAPI 3 document (Alpaca's official `trading-api.json`): the path and method
/// exist, every query parameter is declared (and within its enum), and a JSON body has only declared properties of
/// the declared types and enums, with the required ones present. A subset of OpenAPI, enough to catch a client
/// that drifts from the contract.
public struct OpenAPIRequestCheck {
    let doc: [String: Any]

    public init(specFile: URL) throws {
        guard let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: specFile)) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        self.doc = doc
    }

    /// Problems with one request; empty when it conforms.
    public func problems(method: String, path: String, query: [String: String] = [:], body: Data? = nil) -> [String] {
        guard let (template, item) = match(path) else { return ["\(method) \(path): no such path in the spec"] }
        guard let op = item[method.lowercased()] as? [String: Any] else { return ["\(method) \(template): method not in the spec"] }
        var out = [String]()
        let params = (((item["parameters"] as? [[String: Any]]) ?? []) + ((op["parameters"] as? [[String: Any]]) ?? [])).map(resolve)
        let queryParams = Dictionary(params.filter { ($0["in"] as? String) == "query" }.compactMap { p in (p["name"] as? String).map { ($0, p) } },
                                     uniquingKeysWith: { a, _ in a })
        for (name, value) in query {
            guard let p = queryParams[name] else { out.append("\(method) \(template): query parameter '\(name)' not in the spec"); continue }
            if let schema = p["schema"] as? [String: Any], let e = resolve(schema)["enum"] as? [String], !e.contains(value) {
                out.append("\(method) \(template): query \(name)=\(value) not one of \(e)")
            }
        }
        for p in queryParams.values where (p["required"] as? Bool) == true {
            if let name = p["name"] as? String, query[name] == nil { out.append("\(method) \(template): required query parameter '\(name)' missing") }
        }
        if let body {
            let schema = ((((op["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any])
            guard let schema else { return out + ["\(method) \(template): sends a body the spec does not take"] }
            guard let value = try? JSONSerialization.jsonObject(with: body) else { return out + ["\(method) \(template): body is not JSON"] }
            out += check(value, against: schema, at: "body")
        }
        return out
    }

    func match(_ path: String) -> (String, [String: Any])? {
        guard let paths = doc["paths"] as? [String: Any] else { return nil }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        for (template, item) in paths {
            let t = template.split(separator: "/", omittingEmptySubsequences: false)
            guard t.count == parts.count else { continue }
            if zip(t, parts).allSatisfy({ $0.hasPrefix("{") && $0.hasSuffix("}") ? !$1.isEmpty : $0 == $1 }) {
                return (template, item as? [String: Any] ?? [:])
            }
        }
        return nil
    }

    func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String, ref.hasPrefix("#/") else { return schema }
        var node: Any? = doc
        for key in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(key)] }
        return resolve(node as? [String: Any] ?? [:])
    }

    func check(_ value: Any, against raw: [String: Any], at where_: String) -> [String] {
        let schema = resolve(raw)
        var out = [String]()
        if let e = schema["enum"] as? [String] {
            if let s = value as? String, !e.contains(s) { out.append("\(where_): '\(s)' not one of \(e)") }
        }
        switch schema["type"] as? String {
        case "string": if !(value is String) { out.append("\(where_): expected a string, got \(value)") }
        case "boolean": if !(value is Bool) { out.append("\(where_): expected a boolean") }
        case "array": if !(value is [Any]) { out.append("\(where_): expected an array") }
        case "object", nil:
            guard let object = value as? [String: Any], let props = schema["properties"] as? [String: Any] else { break }
            for (k, v) in object {
                guard let p = props[k] as? [String: Any] else { out.append("\(where_): property '\(k)' not in the spec"); continue }
                if !(v is NSNull) { out += check(v, against: p, at: "\(where_).\(k)") }
            }
            for r in (schema["required"] as? [String]) ?? [] where object[r] == nil { out.append("\(where_): required '\(r)' missing") }
        default: break
        }
        return out
    }
}
