import Foundation

/// Where tests find things: the package root, the shared data beside it, the built executables.
public enum TestPaths {
    /// The package root: the first directory above this file holding Package.swift.
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// `../shared/data` beside the package, or `OPS_SHARED_DATA`.
    public static let sharedData: URL = {
        if let env = ProcessInfo.processInfo.environment["OPS_SHARED_DATA"] { return URL(fileURLWithPath: env) }
        return packageRoot.appendingPathComponent("../shared/data").standardized
    }()

    /// True when the shared data is present; tests that need it are `.enabled(if:)` on this and skip otherwise.
    public static var hasSharedData: Bool { FileManager.default.fileExists(atPath: sharedData.appendingPathComponent("bars").path) }

    public static func shared(_ relative: String) -> URL { sharedData.appendingPathComponent(relative) }

    /// The directory of the built executables (the test bundle sits beside them).
    public static let binDir: URL = {
        if let env = ProcessInfo.processInfo.environment["OPS_BIN_DIR"] { return URL(fileURLWithPath: env) }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // swift test runs <bin>/ops-pipelinePackageTests.xctest
        while dir.path != "/", !FileManager.default.fileExists(atPath: dir.appendingPathComponent("opsctl").path) {
            dir.deleteLastPathComponent()
        }
        return dir
    }()
}
