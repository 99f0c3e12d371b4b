import Foundation
import Kafka
import Logging
import OpsModel
import OpsRuntime

/// What operators published during a recorded run — halts and resumes on the control topic, trading-parameter changes
/// on the params topic — read back from the recording to publish before a replay's services start: each applies at
/// its recorded event time, so the replay makes the decisions the recorded run made (and says why in the same words).
struct OperatorInputs {
    var control = [AnyEnvelope]()
    var params = [AnyEnvelope]()
    /// The recorded bytes by envelope id: republished as they were (same ids).
    var bytes = [String: [UInt8]]()

    var isEmpty: Bool { control.isEmpty && params.isEmpty }

    /// Reads `DIR/ops.control…jsonl` and `DIR/ops.params…jsonl` when present; each command or change once (a params
    /// change is recorded once per partition).
    init(recording dir: String) throws {
        for topic in [Topics.control, Topics.params] {
            let path = "\(dir)/\(topic).jsonl"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            for line in try RecordedLine.readAll(path) {
                guard let env = line.envelope, bytes[env.id] == nil else { continue }
                bytes[env.id] = Array(line.text.utf8)
                if env.payload is OperatorControl { control.append(env) } else if env.payload is ParamsChange { params.append(env) }
            }
        }
    }

    /// The records, laid out as `opsctl halt` and `opsctl params set` lay them out.
    func records(paramsPartitions: Int32) -> [ProducerRecord] {
        var out = [ProducerRecord]()
        for env in control {
            guard let c = env.payload as? OperatorControl, let b = bytes[env.id] else { continue }
            out.append(ProducerRecord(topic: Topics.control, key: Array(c.partitionKey.utf8), value: b))
        }
        for env in params {
            guard let c = env.payload as? ParamsChange, let b = bytes[env.id] else { continue }
            out += ParamsSet.records(c, bytes: b, partitions: paramsPartitions)
        }
        return out
    }

    /// Publishes them; returns what to tell the operator.
    func publish(client: KafkaClientConfig, logger: Logger) throws -> String? {
        guard !isEmpty else { return nil }
        let producer = try KafkaProducer(config: KafkaProducerConfig(client: client), logger: logger)
        defer { producer.close() }
        let n = Int32(try producer.partitionCount(topic: Topics.params))
        try producer.sendRetrying(records(paramsPartitions: n), logger: logger)
        return "replayed \(control.count) operator command(s) on \(Topics.control) and \(params.count) parameter change(s) on \(Topics.params) from the recording"
    }
}
