/// The shell that creates every topic on a real cluster (`deploy/docker-compose.yml`'s `topics` service), written
/// from `Topics.all` so the deploy file cannot drift from the code: `opsctl topics --compose` prints it, and a test
/// holds the compose file to it byte for byte.
extension Topics {
    public static func composeCreateScript(bootstrap: String = "kafka:9092", indent: String = "        ") -> String {
        func loop(_ specs: [Spec], config: String?) -> [String] {
            var lines = ["for spec in \\"]
            lines += specs.map { "    \($0.name):\($0.partitions) \\" }
            lines += ["    ; do",
                      "  /opt/kafka/bin/kafka-topics.sh --bootstrap-server \(bootstrap) --create --if-not-exists \\",
                      "    --topic \"$${spec%%:*}\" --partitions \"$${spec##*:}\" --replication-factor 1" + (config.map { " --config \($0)" } ?? ""),
                      "done"]
            return lines
        }
        var lines = ["set -e"]
        lines += loop(all.filter { !$0.compacted }, config: nil)
        lines += ["# Compacted: kept by key, not by age (a parameter change has its own key, so the whole history stays; a",
                  "# snapshot's key is its consumer group, so the latest of each stays)."]
        lines += loop(all.filter(\.compacted), config: "cleanup.policy=compact")
        return lines.map { indent + $0 }.joined(separator: "\n") + "\n"
    }
}
