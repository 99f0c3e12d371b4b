import Foundation

// `bench [section…]`: throughput figures of the pipeline's hot paths, one section each, next to their goals. With
// arguments, only the sections whose name contains one of them run (`bench greeks`). Run it from a release build:
// `make bench`. A section is a `BenchSection` in its own file, listed here.
let sections: [BenchSection] = [
    GreeksBench.section,
]

let arguments = CommandLine.arguments.dropFirst().map { $0.lowercased() }
if arguments.contains(where: { $0 == "-h" || $0 == "--help" }) {
    print("usage: bench [section…]   sections: \(sections.map(\.name).joined(separator: ", "))")
    exit(0)
}
let chosen = sections.filter { section in arguments.isEmpty || arguments.contains { section.name.contains($0) } }
guard !chosen.isEmpty else {
    FileHandle.standardError.write(Data("bench: no section matches \(arguments.joined(separator: " ")); sections: \(sections.map(\.name).joined(separator: ", "))\n".utf8))
    exit(2)
}
#if DEBUG
print("note: a debug build; figures are far below a release build's (make bench builds with -c release)")
#endif
for section in chosen {
    print("\(section.name): \(section.summary)")
    for line in section.run() { print("  " + line) }
}
// Reading the sums the timed loops kept also keeps the optimizer from dropping those loops.
if !Sink.value.isFinite { print("warning: a benchmarked result was not finite (checksum \(Sink.value))") }
