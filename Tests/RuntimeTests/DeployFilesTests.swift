import Foundation
import OpsModel
import Testing
import TestSupport

/// No Docker engine runs here, so the deploy files are checked as text against the code they deploy.
@Suite("Deploy files")
struct DeployFilesTests {
    static func read(_ path: String) throws -> String {
        try String(contentsOf: TestPaths.packageRoot.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func composeCreatesEveryTopicWithItsPartitionCount() throws {
        let compose = try Self.read("deploy/docker-compose.yml")
        // The topics service's script is the one `opsctl topics --compose` prints from Topics.all, byte for byte.
        #expect(compose.contains("      - |\n" + Topics.composeCreateScript() + "\n"),
                "deploy/docker-compose.yml's topics script is out of date: paste the output of `opsctl topics --compose`")
        let script = Topics.composeCreateScript()
        for spec in Topics.all {
            #expect(script.contains("    \(spec.name):\(spec.partitions) \\"), "\(spec.name) with \(spec.partitions) partitions")
        }
        // The compacted topics are created in their own loop, with cleanup.policy=compact; the others are not.
        let lines = script.split(separator: "\n")
        for spec in Topics.all {
            let at = lines.firstIndex { $0.hasSuffix(" \(spec.name):\(spec.partitions) \\") }
            let loop = at.map { lines[$0...].prefix { !$0.hasSuffix("done") }.joined(separator: "\n") } ?? ""
            #expect(loop.contains("cleanup.policy=compact") == spec.compacted, "\(spec.name) compacted: \(spec.compacted)")
        }
        #expect(compose.contains("KAFKA_PROCESS_ROLES: broker,controller"), "Kafka in KRaft mode")
        for exe in ["feature-computer", "watchlist-engine", "market-feed", "opsctl\", \"record"] {
            #expect(compose.contains("[\"\(exe)"), "\(exe) runs as its own container")
        }
    }

    @Test func dockerfileUsesALibrdkafkaNewerThan2_2AndBuildsEveryExecutable() throws {
        let dockerfile = try Self.read("deploy/Dockerfile")
        #expect(dockerfile.contains("FROM ubuntu:24.04"), "Ubuntu 24.04 ships librdkafka 2.3")
        for product in ["opsctl", "market-feed", "feature-computer", "watchlist-engine"] {
            #expect(dockerfile.contains("--product \(product)"))
            #expect(dockerfile.contains(".build/release/\(product) "), "\(product) is copied into the image")
        }
    }
}
