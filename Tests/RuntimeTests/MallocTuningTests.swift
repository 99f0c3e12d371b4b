import Testing
@testable import OpsRuntime

@Suite("glibc malloc settings of a service")
struct MallocTuningTests {
    @Test("applied at startup on Linux; an operator's GLIBC_TUNABLES wins")
    func appliedUnlessTheEnvironmentSaysOtherwise() {
        #if os(Linux)
        #expect(MallocTuning.apply(environment: [:]) == .applied)
        #else
        #expect(MallocTuning.apply(environment: [:]) == .unsupported)
        #endif
        #expect(MallocTuning.apply(environment: ["GLIBC_TUNABLES": "glibc.malloc.arena_max=2"]) == .leftToEnvironment)
    }
}
